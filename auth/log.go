package auth

import (
	"context"

	"github.com/rs/zerolog"
)

// logger is the logger of the request ctx belongs to, which carries its
// request ID, or the service's own outside a request.
func (s *Service) logger(ctx context.Context) *zerolog.Logger {
	if l := zerolog.Ctx(ctx); l.GetLevel() != zerolog.Disabled {
		return l
	}
	return &s.log
}
