package command

import (
	"context"
	"fmt"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
)

// RevealPersonalData records, before a staff member or the operator is
// shown members' personal data in bulk, who asked and why. The caller
// shows the data only once this returns without error, so that nothing is
// shown that is not on record.
func (s *Service) RevealPersonalData(ctx context.Context, req Request, reason, scope string) (Result, error) {
	req = req.normalized()
	evs, err := domain.DecideRevealPersonalData(domain.RevealPersonalData{Actor: req.Actor, Reason: reason, Scope: scope, At: s.clock.Now()})
	if err != nil {
		return Result{}, err
	}
	data, err := s.envelope(first(req, "reveal"), domain.PrivacyStream, evs)
	if err != nil {
		return Result{}, err
	}
	res, err := s.store.Append(ctx, domain.PrivacyStream, eventstore.Any(), data...)
	if err != nil {
		return Result{}, fmt.Errorf("record the reason to show personal data: %w", err)
	}
	return Result{Position: res.LastPosition}, nil
}
