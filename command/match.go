package command

import (
	"context"
	"errors"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/refusal"
)

// MatchIDFor derives the match ID of a request from its command ID, so that
// a mentee who sends the same request twice gets one match. Command IDs
// must therefore be unique across members: the API scopes the client's
// mutation ID by the signed-in member before it becomes a command ID.
func MatchIDFor(commandID string) uuid.UUID {
	return domain.EventID("match-id", commandID)
}

// RequestMatch asks a mentor for a match on behalf of a mentee. It first
// takes one of the mentee's request slots on the mentee's stream (where
// "one pending request at a time" is decided), then records the request on
// the new match stream. It returns the new match's ID.
func (s *Service) RequestMatch(ctx context.Context, req Request, mentorID uuid.UUID, message string) (uuid.UUID, Result, error) {
	req = req.normalized()
	var res Result
	matchID := MatchIDFor(req.CommandID)
	cmd := domain.RequestMatch{MatchID: matchID, Actor: req.Actor, MentorID: mentorID, Message: message, At: s.clock.Now()}
	pos, err := update(ctx, s, memberAgg, domain.MemberStream(req.Actor.ID), first(req, "reserve"), func(m domain.Member) ([]domain.Event, error) {
		mentor, err := s.mentorFor(ctx, cmd)
		if err != nil {
			return nil, err
		}
		return domain.DecideMember(s.program, m, domain.ReserveRequestSlot{Request: cmd, Mentor: mentor})
	})
	res.add(pos)
	if err != nil {
		return uuid.Nil, res, err
	}
	pos, err = s.recordRequest(ctx, req, cmd)
	res.add(pos)
	return matchID, res, err
}

// mentorFor loads the requested mentor, unless the request is refused on
// its own (a mentee asking for themselves, a missing mentor ID).
func (s *Service) mentorFor(ctx context.Context, cmd domain.RequestMatch) (domain.Member, error) {
	if cmd.MentorID == uuid.Nil || cmd.MentorID == cmd.Actor.ID {
		return domain.Member{}, nil
	}
	return s.Member(ctx, cmd.MentorID)
}

// recordRequest is the second step of a request: the match stream. It is
// idempotent, so Reconcile may run it again after a crash.
func (s *Service) recordRequest(ctx context.Context, req Request, cmd domain.RequestMatch) (eventstore.Position, error) {
	return s.decideOnMatch(ctx, req, "request", cmd.MatchID, cmd)
}

// AcceptMatch accepts a pending match on behalf of its mentor. It first
// reserves a unit of the mentor's capacity on the mentor's stream (where the
// capacity rule is decided), then records the acceptance on the match
// stream. When the match was cancelled or declined in between, the
// reservation is released again and the match's refusal is returned.
func (s *Service) AcceptMatch(ctx context.Context, req Request, matchID uuid.UUID) (Result, error) {
	req = req.normalized()
	var res Result
	cmd := domain.AcceptMatch{MatchID: matchID, Actor: req.Actor, At: s.clock.Now()}
	match, _, _, err := load(ctx, s, matchAgg, domain.MatchStream(matchID))
	if err != nil {
		return res, err
	}
	pos, err := update(ctx, s, memberAgg, domain.MemberStream(req.Actor.ID), first(req, "reserve"), func(m domain.Member) ([]domain.Event, error) {
		return domain.DecideMember(s.program, m, domain.ReserveCapacitySlot{Accept: cmd, Match: match})
	})
	res.add(pos)
	if err != nil {
		return res, err
	}
	pos, err = s.onMatchThenSync(ctx, req, "accept", matchID, cmd)
	res.add(pos)
	return res, err
}

// DeclineMatch declines a pending match on behalf of its mentor.
func (s *Service) DeclineMatch(ctx context.Context, req Request, matchID uuid.UUID, reason, message string) (Result, error) {
	req = req.normalized()
	cmd := domain.DeclineMatch{MatchID: matchID, Actor: req.Actor, Reason: reason, Message: message, At: s.clock.Now()}
	pos, err := s.onMatchThenSync(ctx, req, "decline", matchID, cmd)
	return Result{Position: pos}, err
}

// CancelMatch withdraws a pending request on behalf of its mentee.
func (s *Service) CancelMatch(ctx context.Context, req Request, matchID uuid.UUID) (Result, error) {
	req = req.normalized()
	cmd := domain.CancelMatch{MatchID: matchID, Actor: req.Actor, At: s.clock.Now()}
	pos, err := s.onMatchThenSync(ctx, req, "cancel", matchID, cmd)
	return Result{Position: pos}, err
}

// RequestNudge asks staff to reach out to the mentor of a request that has
// waited out the response window.
func (s *Service) RequestNudge(ctx context.Context, req Request, matchID uuid.UUID) (Result, error) {
	req = req.normalized()
	cmd := domain.RequestNudge{MatchID: matchID, Actor: req.Actor, At: s.clock.Now()}
	return s.onMatch(ctx, req, "nudge-request", matchID, cmd)
}

// RequestMatchEnd records a partner asking staff to end an active match
// early, with a reason and an optional note.
func (s *Service) RequestMatchEnd(ctx context.Context, req Request, matchID uuid.UUID, reason, note string) (Result, error) {
	req = req.normalized()
	cmd := domain.RequestMatchEnd{MatchID: matchID, Actor: req.Actor, Reason: reason, Note: note, At: s.clock.Now()}
	return s.onMatch(ctx, req, "end-request", matchID, cmd)
}

// NudgeMentor records staff reaching out to the mentor of a pending match.
func (s *Service) NudgeMentor(ctx context.Context, req Request, matchID uuid.UUID, note string) (Result, error) {
	req = req.normalized()
	cmd := domain.NudgeMentor{MatchID: matchID, Actor: req.Actor, Note: note, At: s.clock.Now()}
	return s.onMatch(ctx, req, "nudge", matchID, cmd)
}

// EndMatch ends an active match early on behalf of staff.
func (s *Service) EndMatch(ctx context.Context, req Request, matchID uuid.UUID, reason string, requestedBy uuid.UUID, note string) (Result, error) {
	req = req.normalized()
	cmd := domain.EndMatch{MatchID: matchID, Actor: req.Actor, Reason: reason, RequestedBy: requestedBy, Note: note, At: s.clock.Now()}
	pos, err := s.onMatchThenSync(ctx, req, "end", matchID, cmd)
	return Result{Position: pos}, err
}

// LogSession records a meeting log by a partner of an active match.
func (s *Service) LogSession(ctx context.Context, req Request, matchID, sessionID uuid.UUID, details domain.SessionDetails) (Result, error) {
	req = req.normalized()
	cmd := domain.LogSession{MatchID: matchID, SessionID: sessionID, Actor: req.Actor, Details: details, At: s.clock.Now()}
	return s.onMatch(ctx, req, "session", matchID, cmd)
}

// EditSession replaces the details of a session its author logged.
func (s *Service) EditSession(ctx context.Context, req Request, matchID, sessionID uuid.UUID, details domain.SessionDetails) (Result, error) {
	req = req.normalized()
	cmd := domain.EditSession{MatchID: matchID, SessionID: sessionID, Actor: req.Actor, Details: details, At: s.clock.Now()}
	return s.onMatch(ctx, req, "session-edit", matchID, cmd)
}

// AddDocument records a document a partner uploaded to an active match.
func (s *Service) AddDocument(ctx context.Context, req Request, cmd domain.AddDocument) (Result, error) {
	req = req.normalized()
	cmd.Actor, cmd.At = req.Actor, s.clock.Now()
	// The document ID is derived from the command ID, and the match
	// refuses the same ID with other bytes (DOCUMENT_EXISTS).
	st := first(req, "document")
	st.ownRetries = true
	pos, err := s.decideOnMatchAs(ctx, st, cmd.MatchID, cmd)
	return Result{Position: pos}, err
}

// RemoveDocument removes one version of a match's document.
func (s *Service) RemoveDocument(ctx context.Context, req Request, matchID, documentID uuid.UUID) (Result, error) {
	req = req.normalized()
	cmd := domain.RemoveDocument{MatchID: matchID, DocumentID: documentID, Actor: req.Actor, At: s.clock.Now()}
	return s.onMatch(ctx, req, "document-remove", matchID, cmd)
}

// Match loads a match's current state from its stream.
func (s *Service) Match(ctx context.Context, id uuid.UUID) (domain.Match, error) {
	m, _, _, err := load(ctx, s, matchAgg, domain.MatchStream(id))
	return m, err
}

func (s *Service) onMatch(ctx context.Context, req Request, name string, matchID uuid.UUID, cmd domain.MatchCommand) (Result, error) {
	pos, err := s.decideOnMatch(ctx, req, name, matchID, cmd)
	return Result{Position: pos}, err
}

// decideOnMatch decides a command on the match stream, as step name of req.
func (s *Service) decideOnMatch(ctx context.Context, req Request, name string, matchID uuid.UUID, cmd domain.MatchCommand) (eventstore.Position, error) {
	return s.decideOnMatchAs(ctx, first(req, name), matchID, cmd)
}

// decideOnMatchAs decides a command on the match stream as step st.
func (s *Service) decideOnMatchAs(ctx context.Context, st step, matchID uuid.UUID, cmd domain.MatchCommand) (eventstore.Position, error) {
	return update(ctx, s, matchAgg, domain.MatchStream(matchID), st, func(m domain.Match) ([]domain.Event, error) {
		return domain.DecideMatch(s.program, m, cmd)
	})
}

// onMatchThenSync decides a command on the match stream and then brings
// both partners' slots in line with the match. The slots are synced even
// when the match refused the command: a refused accept leaves a capacity
// reservation to release.
func (s *Service) onMatchThenSync(ctx context.Context, req Request, name string, matchID uuid.UUID, cmd domain.MatchCommand) (eventstore.Position, error) {
	pos, err := s.decideOnMatch(ctx, req, name, matchID, cmd)
	var refused *refusal.Error
	if err != nil && !errors.As(err, &refused) {
		return pos, err
	}
	syncPos, syncErr := s.syncSlots(ctx, req, matchID)
	if syncErr != nil {
		return max(pos, syncPos), syncErr
	}
	return max(pos, syncPos), err
}
