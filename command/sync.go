package command

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/refusal"
)

// syncSlots brings the slots that the match's partners hold for it in line
// with the match: a pending mentee slot becomes active after an accept, and
// slots are released once the match is over. Deciding it again decides
// nothing, so it is safe to repeat.
func (s *Service) syncSlots(ctx context.Context, req Request, matchID uuid.UUID) (eventstore.Position, error) {
	match, err := s.Match(ctx, matchID)
	if err != nil {
		return 0, err
	}
	if !match.Exists() {
		return 0, nil
	}
	var last eventstore.Position
	for _, memberID := range []uuid.UUID{match.MenteeID(), match.MentorID()} {
		st := step{req: req, name: "sync-" + memberID.String(), cause: req.CommandID}
		pos, err := update(ctx, s, memberAgg, domain.MemberStream(memberID), st, func(m domain.Member) ([]domain.Event, error) {
			if !m.Registered() {
				return nil, nil
			}
			return domain.DecideMember(s.program, m, domain.SyncSlot{MemberID: memberID, MatchID: matchID, Match: match, At: s.clock.Now()})
		})
		if err != nil {
			return last, fmt.Errorf("sync slot of %s for match %s: %w", memberID, matchID, err)
		}
		last = max(last, pos)
	}
	return last, nil
}

// Reconcile finishes or compensates what a crash may have cut short, given
// one event of the log. Every step it takes is idempotent, so it may see an
// event any number of times, and may race the command that wrote it:
//
//   - a mentee's request slot whose request never reached the match stream:
//     the request is recorded;
//   - a mentor's capacity reservation whose acceptance never reached the
//     match stream: the acceptance is recorded while the match is pending,
//     and the reservation released otherwise;
//   - a match accepted, declined, cancelled or ended: both partners' slots
//     follow it.
func (s *Service) Reconcile(ctx context.Context, rec eventstore.RecordedEvent) error {
	ev, err := domain.Decode(rec.Type, rec.SchemaVersion, rec.Data)
	if err != nil {
		return nil // not a domain event: nothing to finish
	}
	req := Request{Actor: domain.SystemActor(), CommandID: "reconcile:" + rec.ID.String(), CorrelationID: rec.Metadata.CorrelationID}
	switch e := ev.(type) {
	case domain.RequestSlotTaken:
		req.Actor = domain.Actor{ID: e.MemberID, Role: domain.RoleMentee}
		cmd := domain.RequestMatch{MatchID: e.MatchID, Actor: req.Actor, MentorID: e.MentorID, Message: e.Message, At: e.At}
		_, err := s.recordRequest(ctx, req, cmd)
		return err
	case domain.CapacitySlotReserved:
		match, err := s.Match(ctx, e.MatchID)
		if err != nil {
			return err
		}
		if match.Status() == domain.StatusPending {
			req.Actor = domain.Actor{ID: e.MemberID, Role: domain.RoleMentor}
			cmd := domain.AcceptMatch{MatchID: e.MatchID, Actor: req.Actor, At: e.At}
			_, err := s.onMatchThenSync(ctx, req, "accept", e.MatchID, cmd)
			return ignoreRefusal(err)
		}
		_, err = s.syncSlots(ctx, req, e.MatchID)
		return err
	case domain.MatchAccepted:
		_, err := s.syncSlots(ctx, req, e.MatchID)
		return err
	case domain.MatchDeclined:
		_, err := s.syncSlots(ctx, req, e.MatchID)
		return err
	case domain.MatchCancelled:
		_, err := s.syncSlots(ctx, req, e.MatchID)
		return err
	case domain.MatchEnded:
		_, err := s.syncSlots(ctx, req, e.MatchID)
		return err
	}
	return nil
}

// ignoreRefusal drops the domain's refusals: a process manager that finds
// its work refused has nothing left to do.
func ignoreRefusal(err error) error {
	if refusal.CodeOf(err) != "" {
		return nil
	}
	return err
}
