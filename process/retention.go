package process

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/refusal"
)

// The retention rule (domain.Program.RetentionYears) erases a mentee or
// mentor that many years after the latest of their registration, their
// last sign-in and the last time one of their matches let go of them (a
// slot released: a match ended, a request declined or cancelled), unless
// one of their matches is pending or active. The manager follows, per
// member, what the member's stream says (registration, MemberSignedIn,
// slots taken and released) plus the requests pending with a mentor, which
// only the match streams show, and calls EraseUnderRetention once the
// member falls due.
//
// The member's stream decides the erasure, and the read models count the
// member's open matches, so a manager that is behind the log (the member
// signed in a moment ago, a request was just made) is refused rather than
// obeyed. The events it has yet to read move the member's due time on. A
// refusal can also come from read models a moment behind the manager (a
// request just cancelled), which no later event corrects, so a refused
// member is tried again after RetryAfter, then twice as long after each
// refusal, up to a day: never every tick, and any news of the member
// starts over from their new due time. An erasure whose erase steps failed
// is recorded; the manager tries it again after RetryAfter until the steps
// finish, as staff would.
// Once the manager learns MemberErased it forgets the member, so the rule
// fires once per member, and a restart or a second manager that fires it
// again finds the member erased and records nothing.
//
// Sign-ins come from the log: the accounts service records a member's
// first sign-in of each day on the member's stream (see domain.RecordSignIn).
// A member whose sessions last (at most the accounts service's session age,
// 30 days) without a new sign-in counts from the last sign-in.

// retentionBatch bounds the erasures one run makes. Each erasure runs every
// erase step (the read models' snapshots, the accounts file, ...), so when
// the rule is first turned on and many members fall due at once, the
// manager works through them a batch per run and applies the log between
// batches, instead of holding everything else back until all are done.
const retentionBatch = 16

// maxRecheck bounds the wait before a refused member is tried again.
const maxRecheck = 24 * time.Hour

// member is what the manager knows of a mentee or mentor for the retention
// rule.
type member struct {
	// since is the registration or the last slot released, whichever
	// is later, and signedIn the last recorded sign-in (zero when none).
	since, signedIn time.Time
	// slots counts the slots the member holds, and asked the pending
	// requests made to the member as a mentor.
	slots, asked int32

	// What a run did, which is not saved. waiting is set once the rule
	// ran, until the next event about the member; refusals counts the
	// refusals since that event; unfinished is set after an erasure
	// whose steps failed; retryAt is the least due time after a failure
	// or a refusal; erased is set once MemberErased of an unfinished
	// erasure is read. scheduled is the due time of the member's live
	// timer (zero for none): the schedule holds one per member, however
	// often the member signs in.
	waiting, unfinished, erased bool
	refusals                    int
	retryAt, scheduled          time.Time
}

// due returns when the rule falls due for the member, and false when it
// does not as things stand.
func (mb *member) due(p domain.Program) (time.Time, bool) {
	if mb.unfinished {
		return mb.retryAt, true
	}
	if mb.waiting || mb.erased || mb.slots > 0 || mb.asked > 0 {
		return time.Time{}, false
	}
	at, ok := p.RetentionDue(mb.since, mb.signedIn)
	if ok && at.Before(mb.retryAt) {
		at = mb.retryAt
	}
	return at, ok
}

// retentionRelevant reports whether events of type typ concern the
// retention rule and no other rule of the manager.
func retentionRelevant(typ string) bool {
	return domain.Is[domain.RetentionEvent](typ)
}

// learnMember updates what the manager knows of the members with ev. It
// runs before the matches learn ev, so a match's status is the one before
// the event.
func (m *Manager) learnMember(ev domain.Event) {
	if m.members == nil {
		return
	}
	switch e := ev.(type) {
	case domain.MemberRegistered:
		if _, ok := m.members[e.MemberID]; !ok && (e.Role == domain.RoleMentee || e.Role == domain.RoleMentor) {
			m.members[e.MemberID] = &member{since: e.At}
			m.touch(e.MemberID)
		}
	case domain.MemberSignedIn:
		if mb, ok := m.members[e.MemberID]; ok {
			mb.signedIn = later(mb.signedIn, e.At)
			m.touch(e.MemberID)
		}
	case domain.MemberErased:
		if mb, ok := m.members[e.MemberID]; ok {
			if mb.unfinished {
				mb.erased = true
			} else {
				delete(m.members, e.MemberID)
			}
		}
	case domain.RequestSlotTaken:
		m.hold(e.MemberID, 1, time.Time{})
	case domain.CapacitySlotReserved:
		m.hold(e.MemberID, 1, time.Time{})
	case domain.RequestSlotReleased:
		m.hold(e.MemberID, -1, e.At)
	case domain.CapacitySlotReleased:
		m.hold(e.MemberID, -1, e.At)
	case domain.MatchRequested:
		m.ask(e.MentorID, 1)
	case domain.MatchAccepted:
		m.answered(e.MatchID, e.MentorID)
	case domain.MatchDeclined:
		m.answered(e.MatchID, e.MentorID)
	case domain.MatchCancelled:
		m.answered(e.MatchID, e.MentorID)
	}
}

// hold counts a slot the member took (by 1) or released (by -1, at left).
func (m *Manager) hold(id uuid.UUID, by int32, left time.Time) {
	if mb, ok := m.members[id]; ok {
		mb.slots = max(mb.slots+by, 0)
		mb.since = later(mb.since, left)
		m.touch(id)
	}
}

// ask counts a pending request made to a mentor.
func (m *Manager) ask(id uuid.UUID, by int32) {
	if mb, ok := m.members[id]; ok {
		mb.asked = max(mb.asked+by, 0)
		m.touch(id)
	}
}

// answered uncounts the request of a match that was pending.
func (m *Manager) answered(matchID, mentor uuid.UUID) {
	if mt, ok := m.matches[matchID]; ok && mt.status == domain.StatusPending {
		m.ask(mentor, -1)
	}
}

// touch notes news of a member: a refused member is tried again once due,
// and a due time earlier than the member's live timer gets a timer of its
// own. A later one waits for the live timer, which moves on when it comes
// up, so that a member signing in every day adds nothing to the schedule.
func (m *Manager) touch(id uuid.UUID) {
	mb := m.members[id]
	mb.waiting, mb.refusals = false, 0
	at, ok := mb.due(m.program)
	if !ok || (!mb.scheduled.IsZero() && !at.Before(mb.scheduled)) {
		return
	}
	mb.scheduled = at
	heap.Push(&m.timers, timer{at: at, id: id, rule: ruleRetention})
}

// memberDue takes t, a retention timer off the schedule, and reports
// whether its member is due at now. A timer that is not the member's live
// one is dropped; the live one, when the member's due time moved on, is
// put back at the new time.
func (m *Manager) memberDue(t timer, now time.Time) bool {
	mb, ok := m.members[t.id]
	if !ok || !t.at.Equal(mb.scheduled) {
		return false
	}
	mb.scheduled = time.Time{}
	at, ok := mb.due(m.program)
	switch {
	case !ok:
		return false
	case at.After(now):
		mb.scheduled = at
		heap.Push(&m.timers, timer{at: at, id: t.id, rule: ruleRetention})
		return false
	}
	mb.scheduled = t.at
	return true
}

// retain erases a member who fell due, and notes the outcome. It returns
// an error only when trying again later may help.
func (m *Manager) retain(ctx context.Context, now time.Time, id uuid.UUID) error {
	mb := m.members[id]
	mb.scheduled = time.Time{}
	log := m.log.With().Str("member_id", id.String()).Str("rule", ruleRetention.String()).Logger()
	_, err := m.cmds.EraseUnderRetention(ctx, id)
	switch {
	case err == nil:
		mb.waiting, mb.unfinished = true, false
		if mb.erased {
			delete(m.members, id)
		}
		log.Info().Msg("time rule ran")
		return nil
	case !errors.Is(err, command.ErrErasureUnfinished) && refusal.CodeOf(err) != "":
		mb.refusals++
		wait := m.opts.RetryAfter
		for i := 1; i < mb.refusals && wait < maxRecheck; i++ {
			wait *= 2
		}
		mb.retryAt = now.Add(min(wait, maxRecheck))
		mb.scheduled = mb.retryAt
		heap.Push(&m.timers, timer{at: mb.retryAt, id: id, rule: ruleRetention})
		log.Info().Err(err).Time("retry_at", mb.retryAt).Msg("time rule refused; the manager or the read models are behind the log")
		return nil
	default:
		mb.unfinished = mb.unfinished || errors.Is(err, command.ErrErasureUnfinished)
		mb.retryAt, mb.scheduled = now.Add(m.opts.RetryAfter), now.Add(m.opts.RetryAfter)
		heap.Push(&m.timers, timer{at: mb.retryAt, id: id, rule: ruleRetention})
		log.Warn().Err(err).Time("retry_at", mb.retryAt).Msg("time rule failed; will retry")
		return fmt.Errorf("%s of member %s: %w", ruleRetention, id, err)
	}
}

// later returns the later of two times.
func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
