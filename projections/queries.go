package projections

import (
	"cmp"
	"errors"
	"iter"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
)

// The query functions below compute answers from views, whatever store
// holds them, so that every read-model store answers alike.

// SortSessions orders meeting logs by session date, then log time.
func SortSessions(out []SessionView) {
	slices.SortFunc(out, func(a, b SessionView) int {
		if a.Details.Date.Before(b.Details.Date) {
			return -1
		}
		if b.Details.Date.Before(a.Details.Date) {
			return 1
		}
		return a.LoggedAt.Compare(b.LoggedAt)
	})
}

// SumCPD sums an author's logged minutes, in total, per match and for
// sessions dated from..to inclusive (zero dates leave that end open), and
// counts the sessions that have no length yet.
func SumCPD(sessions []SessionView, from, to domain.Date) CPD {
	c := CPD{ByMatch: map[uuid.UUID]int{}}
	for _, s := range sessions {
		c.TotalMinutes += s.Details.Minutes
		c.ByMatch[s.MatchID] += s.Details.Minutes
		d := s.Details.Date
		inRange := (from.IsZero() || !d.Before(from)) && (to.IsZero() || !d.After(to))
		if inRange {
			c.InRangeMinutes += s.Details.Minutes
		}
		if s.Details.Minutes == 0 {
			c.WithoutLength++
			if inRange {
				c.InRangeWithoutLength++
			}
		}
	}
	return c
}

// ResourcesFor returns the live resources for a role's audience (all for
// staff), newest first.
func ResourcesFor(resources iter.Seq[*ResourceView], role domain.Role) []ResourceView {
	var out []ResourceView
	for r := range resources {
		if r.Retired || (role != domain.RoleStaff && !r.Audience.Includes(role)) {
			continue
		}
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b ResourceView) int {
		return cmp.Or(b.PublishedAt.Compare(a.PublishedAt), cmp.Compare(a.ID.String(), b.ID.String()))
	})
	return out
}

// QueueOf computes the staff queue at now from every match.
func QueueOf(matches iter.Seq[*MatchView], program domain.Program, now time.Time, pendingDays int) StaffQueue {
	var q StaffQueue
	for m := range matches {
		switch m.Status {
		case domain.StatusPending:
			if now.Sub(m.RequestedAt) > time.Duration(pendingDays)*24*time.Hour {
				q.PendingOlderThan = append(q.PendingOlderThan, m.clone())
			}
			if m.NudgeRequested {
				q.NudgeRequests = append(q.NudgeRequests, m.clone())
			}
		case domain.StatusActive:
			if m.SessionCount == 0 && !now.Before(program.FirstMeetingReminderAt(m.AcceptedAt)) {
				q.NoFirstSession = append(q.NoFirstSession, m.clone())
			}
			if end := program.TermEnd(m.AcceptedAt); !now.After(end) && end.Sub(now) <= 30*24*time.Hour {
				q.EndingSoon = append(q.EndingSoon, m.clone())
			}
			if m.EndAsk != nil {
				q.EndRequests = append(q.EndRequests, m.clone())
			}
		}
	}
	byAge := func(a, b *MatchView) int {
		return cmp.Or(a.RequestedAt.Compare(b.RequestedAt), cmp.Compare(a.ID.String(), b.ID.String()))
	}
	for _, l := range [][]*MatchView{q.PendingOlderThan, q.NudgeRequests, q.NoFirstSession, q.EndingSoon, q.EndRequests} {
		slices.SortFunc(l, byAge)
	}
	return q
}

// DashboardOf computes the counters at now from every match and meeting
// log; pos is the read model's position.
func DashboardOf(matches iter.Seq[*MatchView], sessions iter.Seq[*SessionView], program domain.Program, now time.Time, pos eventstore.Position) Dashboard {
	d := Dashboard{Position: pos}
	var responses []float64
	accepted := 0
	for m := range matches {
		switch m.Status {
		case domain.StatusPending:
			d.Pending++
		case domain.StatusActive:
			d.Active++
		case domain.StatusDeclined:
			d.Declined++
		case domain.StatusCancelled:
			d.Cancelled++
		case domain.StatusEnded:
			d.Ended++
		}
		if !m.AcceptedAt.IsZero() {
			accepted++
			responses = append(responses, m.AcceptedAt.Sub(m.RequestedAt).Hours()/24)
		} else if m.Status == domain.StatusDeclined {
			responses = append(responses, m.ClosedAt.Sub(m.RequestedAt).Hours()/24)
		}
	}
	if answered := accepted + d.Declined; answered > 0 {
		d.AcceptanceRate = float64(accepted) / float64(answered)
		d.DeclineRate = float64(d.Declined) / float64(answered)
	}
	if len(responses) > 0 {
		slices.Sort(responses)
		mid := len(responses) / 2
		d.MedianDaysToResponse = responses[mid]
		if len(responses)%2 == 0 {
			d.MedianDaysToResponse = (responses[mid-1] + responses[mid]) / 2
		}
	}
	today := program.Today(now)
	for s := range sessions {
		if s.Details.Date.Year() == today.Year() && s.Details.Date.Month() == today.Month() {
			d.SessionsThisMonth++
			d.MinutesThisMonth += s.Details.Minutes
		}
	}
	return d
}

// ErrUnavailable marks a read that a shared read-model store could not
// answer (Redis down or too slow). Every read of the reader interfaces
// returns an error so that such a store can say so; the in-memory store
// never fails. The API answers an error wrapping ErrUnavailable as
// UNAVAILABLE rather than as a wrong "not found".
var ErrUnavailable = errors.New("read models unavailable")

// MemberReader is what the API reads of members. Every read-model store
// implements it and passes projections/readmodeltest. A read that fails
// returns an error and nothing else: a missing member is (nil, false, nil).
type MemberReader interface {
	Member(id uuid.UUID) (*MemberView, bool, error)
	MembersByID(ids []uuid.UUID) ([]*MemberView, error)
	SearchMentors(q SearchQuery) (SearchResult, error)
	// Scan returns the members keep accepts, in no order; it reads every
	// member, for staff's directory and for recommendations.
	Scan(keep func(*MemberView) bool) ([]*MemberView, error)
}

// MatchReader is what the API reads of matches, sessions and resources.
// Like MemberReader, every read returns an error when the store fails.
type MatchReader interface {
	Match(id uuid.UUID) (*MatchView, bool, error)
	MatchesByID(ids []uuid.UUID) ([]*MatchView, error)
	MatchesOf(member uuid.UUID, group MatchGroup) ([]*MatchView, error)
	SessionsOf(author, match uuid.UUID) ([]SessionView, error)
	Session(id uuid.UUID) (SessionView, bool, error)
	CPDSummary(author uuid.UUID, from, to domain.Date) (CPD, error)
	Resources(role domain.Role) ([]ResourceView, error)
	Resource(id uuid.UUID) (ResourceView, bool, error)
	Document(id uuid.UUID) (DocumentView, *MatchView, bool, error)
	Queue(program domain.Program, now time.Time, pendingDays int) (StaffQueue, error)
	Dashboard(program domain.Program, now time.Time) (Dashboard, error)
}

var (
	_ MemberReader = (*Members)(nil)
	_ MatchReader  = (*Matches)(nil)
)

// OpenMatches counts a member's pending and active matches.
func OpenMatches(r MatchReader, member uuid.UUID) (int, error) {
	pending, err := r.MatchesOf(member, PendingMatches)
	if err != nil {
		return 0, err
	}
	active, err := r.MatchesOf(member, ActiveMatches)
	return len(pending) + len(active), err
}
