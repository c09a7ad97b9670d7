// Package background runs the server's long-lived loops (the email outbox,
// the process managers) so that a transient failure of the store or a
// file pauses them instead of ending them.
package background

import (
	"context"
	"time"

	"github.com/rs/zerolog"
)

// Restart calls run until ctx ends. When run returns while ctx is still
// live, the failure is logged and run starts over after pause. It returns
// nil once ctx ends.
func Restart(ctx context.Context, log zerolog.Logger, what string, pause time.Duration, run func(context.Context) error) error {
	for {
		err := run(ctx)
		if ctx.Err() != nil {
			return nil
		}
		log.Error().Err(err).Msg(what + " interrupted; starting over")
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(pause):
		}
	}
}
