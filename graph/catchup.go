package graph

import (
	"context"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// errCatchingUp answers a request that came before the read models had
// read the log the server started with.
var errCatchingUp = &apiError{CodeUnavailable, "the server has just started and is still reading its log; try again shortly"}

// CatchingUp holds every request to next until the read models have
// applied the log as it stood when the server started, which wait
// reports (nil once they have). A server listens while they catch up, so
// that /readyz can say how far they are, but an answer from read models
// halfway through the log would show a program that never was: members
// without their matches, a mentor's capacity before its requests. A
// request waits up to bound for them, and is then answered 503
// UNAVAILABLE with Retry-After, having changed nothing. Once they have
// caught up, the check is one atomic load. A CORS preflight, which
// reads nothing, passes at once.
func CatchingUp(next http.Handler, bound time.Duration, wait func(context.Context) error) http.Handler {
	var caughtUp atomic.Bool
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A CORS preflight reads nothing.
		if !caughtUp.Load() && r.Method != http.MethodOptions {
			ctx, cancel := context.WithTimeout(r.Context(), bound)
			err := wait(ctx)
			cancel()
			if err != nil {
				w.Header().Set("Retry-After", strconv.Itoa(max(1, int(bound/time.Second))))
				WriteError(w, r, http.StatusServiceUnavailable, errCatchingUp)
				return
			}
			caughtUp.Store(true)
		}
		next.ServeHTTP(w, r)
	})
}
