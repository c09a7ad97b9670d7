package graph

import (
	"context"

	"github.com/rs/zerolog"
)

// logFor returns the logger of the request ctx belongs to, which carries
// its request ID (and trace ID), or fallback outside a request.
func logFor(ctx context.Context, fallback zerolog.Logger) *zerolog.Logger {
	if l := zerolog.Ctx(ctx); l.GetLevel() != zerolog.Disabled {
		return l
	}
	return &fallback
}
