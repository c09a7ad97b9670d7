package command

import (
	"context"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
)

// The program's own processes act through these, as the system actor. Each
// derives its command ID from the match (or the member) and the rule, so
// that running it twice, after a restart or a replay, records nothing new.

func systemRequest(rule string, id uuid.UUID) Request {
	cmd := rule + ":" + id.String()
	return Request{Actor: domain.SystemActor(), CommandID: cmd, CorrelationID: cmd}
}

// MarkResponseWindowElapsed records that a pending match's response window
// is over.
func (s *Service) MarkResponseWindowElapsed(ctx context.Context, matchID uuid.UUID) (Result, error) {
	req := systemRequest("window-elapsed", matchID)
	cmd := domain.MarkResponseWindowElapsed{MatchID: matchID, Actor: req.Actor, At: s.clock.Now()}
	return s.onMatch(ctx, req, "window", matchID, cmd)
}

// RemindFirstMeeting records that an active match's first-meeting reminder
// is due.
func (s *Service) RemindFirstMeeting(ctx context.Context, matchID uuid.UUID) (Result, error) {
	req := systemRequest("first-meeting", matchID)
	cmd := domain.RemindFirstMeeting{MatchID: matchID, Actor: req.Actor, At: s.clock.Now()}
	return s.onMatch(ctx, req, "reminder", matchID, cmd)
}

// CompleteTerm ends an active match at the end of its term and frees both
// partners' slots.
func (s *Service) CompleteTerm(ctx context.Context, matchID uuid.UUID) (Result, error) {
	req := systemRequest("term", matchID)
	cmd := domain.CompleteTerm{MatchID: matchID, Actor: req.Actor, At: s.clock.Now()}
	pos, err := s.onMatchThenSync(ctx, req, "term", matchID, cmd)
	return Result{Position: pos}, err
}

// RequestProfileReview asks both partners of an ended match to review their
// profiles.
func (s *Service) RequestProfileReview(ctx context.Context, matchID uuid.UUID) (Result, error) {
	req := systemRequest("profile-review", matchID)
	cmd := domain.RequestProfileReview{MatchID: matchID, Actor: req.Actor, At: s.clock.Now()}
	return s.onMatch(ctx, req, "review", matchID, cmd)
}

// EraseUnderRetention erases a member under the program's retention rule,
// through EraseMember, so that every erase step runs. The member's stream
// decides: it refuses (RETENTION_NOT_DUE) a member whom the rule does not
// make due, such as one who signed in since the caller looked, and
// MEMBER_HAS_OPEN_MATCH while a match is open; erasing an erased member
// records nothing and runs the steps again.
func (s *Service) EraseUnderRetention(ctx context.Context, memberID uuid.UUID) (Result, error) {
	return s.EraseMember(ctx, systemRequest("retention", memberID), memberID, s.program.RetentionReason())
}
