package command

import (
	"context"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
)

// PublishResource publishes a program resource on behalf of staff. It
// returns the resource's ID, derived from the command ID so that a retried
// publish does not publish twice.
func (s *Service) PublishResource(ctx context.Context, req Request, cmd domain.PublishResource) (uuid.UUID, Result, error) {
	req = req.normalized()
	cmd.ResourceID = domain.EventID("resource-id", req.CommandID)
	cmd.Actor, cmd.At = req.Actor, s.clock.Now()
	res, err := s.onResource(ctx, req, "publish", cmd.ResourceID, cmd)
	return cmd.ResourceID, res, err
}

// RetireResource withdraws a published resource on behalf of staff.
func (s *Service) RetireResource(ctx context.Context, req Request, id uuid.UUID) (Result, error) {
	req = req.normalized()
	cmd := domain.RetireResource{ResourceID: id, Actor: req.Actor, At: s.clock.Now()}
	return s.onResource(ctx, req, "retire", id, cmd)
}

func (s *Service) onResource(ctx context.Context, req Request, name string, id uuid.UUID, cmd domain.ResourceCommand) (Result, error) {
	pos, err := update(ctx, s, resourceAgg, domain.ResourceStream(id), first(req, name), func(r domain.Resource) ([]domain.Event, error) {
		return domain.DecideResource(s.program, r, cmd)
	})
	return Result{Position: pos}, err
}
