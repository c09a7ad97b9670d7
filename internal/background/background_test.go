package background

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

func TestRestartStartsOverUntilTheContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	runs := 0
	err := Restart(ctx, zerolog.Nop(), "loop", time.Millisecond, func(context.Context) error {
		runs++
		if runs == 3 {
			cancel()
		}
		return errors.New("store unavailable")
	})
	if err != nil || runs != 3 {
		t.Fatalf("returned %v after %d runs, want nil after 3", err, runs)
	}
}
