package audit

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"

	"github.com/rs/zerolog"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/graph"
	"github.com/mentorship/mentorship/refusal"
)

// HandlerOptions tune Handler.
type HandlerOptions struct {
	// PageSize is how many events each read of the store asks for, and so
	// how many at most go out between flushes (2048 when 0).
	PageSize int
	// Log, when set up, gets a line for every export: who asked, for
	// what, and how it ended. The zero Logger logs nothing.
	Log zerolog.Logger
	// Reveal records a staff member's reason to be shown the personal
	// fields, with the export's query as its scope, before they are shown
	// (command.Service.RevealPersonalData). Without it no export shows
	// personal fields.
	Reveal func(ctx context.Context, actor domain.Actor, reason, scope string) error
}

// parameters are the query parameters Handler accepts.
var parameters = []string{"format", "match", "member", "type", "from", "to", "reason"}

// Handler serves GET /audit/export: the export of Export, with its format
// and filter taken from the query parameters format (ndjson or csv),
// match, member, type (repeated or comma-separated), from and to (RFC 3339
// times on occurred-at, to exclusive). It expects graph.Authenticate in
// front of it and serves auditors and staff only: 401 without a signed-in
// actor, 403 for other roles, 400 for bad parameters. The response is an
// attachment that is flushed page by page as the export goes; a failure
// after the first bytes went out aborts the response, so that a client
// never takes a cut-off export for a whole one.
//
// Everyone, staff included, is shown the audit view of events: IDs, roles,
// display names, times, actors, statuses, reasons and counts, without
// contact details, login emails, biographies, messages, notes or file
// names. A staff member who needs those adds reason=<why>: the reason is
// recorded as an event first (403 for auditors, 400 for an empty or
// multi-line reason), then the export shows them.
func Handler(store eventstore.Store, opts HandlerOptions) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		actor, values, ok := graph.ExportRequest(w, r, "events", parameters)
		if !ok {
			return
		}
		q := Query{
			Format: values.Get("format"),
			Match:  values.Get("match"),
			Member: values.Get("member"),
			Types:  values["type"],
			From:   values.Get("from"),
			To:     values.Get("to"),
		}
		format, filter, err := q.Parse()
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		personal := values.Has("reason")
		if personal {
			if opts.Reveal == nil {
				http.Error(w, "this server does not show personal data in exports", http.StatusForbidden)
				return
			}
			err := opts.Reveal(r.Context(), actor, values.Get("reason"), scopeOf(values))
			var derr *refusal.Error
			switch {
			case errors.As(err, &derr) && derr.Code == domain.CodeStaffOnly:
				http.Error(w, "only staff may be shown personal data, with a reason", http.StatusForbidden)
				return
			case errors.As(err, &derr):
				http.Error(w, derr.Field+": "+derr.Message, http.StatusBadRequest)
				return
			case err != nil:
				opts.Log.Warn().Err(err).Str("actor", actor.ID.String()).Msg("the reason to show personal data could not be recorded")
				http.Error(w, "the reason could not be recorded, so personal data is not shown; try again later", http.StatusServiceUnavailable)
				return
			}
		}

		h := w.Header()
		h.Set("Content-Type", format.contentType())
		h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="mentorship-events.%s"`, format))
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		out := &sentWriter{w: w}
		rc := http.NewResponseController(w)
		stats, err := Export(r.Context(), store, out, format, filter, Options{
			PageSize: opts.PageSize,
			Personal: personal,
			Flush: func() error {
				if err := rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
					return err
				}
				return nil
			},
		})
		// The request's logger carries its request ID.
		log := zerolog.Ctx(r.Context())
		if log.GetLevel() == zerolog.Disabled {
			log = &opts.Log
		}
		logged := log.Info()
		if err != nil {
			logged = log.Warn().Err(err)
		}
		logged.Str("actor", actor.ID.String()).Str("role", string(actor.Role)).Bool("personal", personal).
			Str("query", scopeOf(values)).Uint64("events", stats.Events).Uint64("head", uint64(stats.Head)).
			Msg("audit export")
		switch {
		case err == nil:
			if !out.sent {
				// An empty NDJSON export writes nothing; answer 200 all
				// the same.
				w.WriteHeader(http.StatusOK)
			}
		case !out.sent:
			h.Del("Content-Disposition")
			http.Error(w, "the export failed; try again later", http.StatusInternalServerError)
		default:
			panic(http.ErrAbortHandler)
		}
	})
}

// sentWriter notes whether anything reached the response, after which its
// status can no longer change.
type sentWriter struct {
	w    http.ResponseWriter
	sent bool
}

func (s *sentWriter) Write(p []byte) (int, error) {
	if len(p) > 0 {
		s.sent = true
	}
	return s.w.Write(p)
}

// scopeOf is what an export asks for, without its reason (free text that
// may quote a member), to record and to log.
func scopeOf(values url.Values) string {
	scope := maps.Clone(values)
	delete(scope, "reason")
	return scope.Encode()
}
