package graph

import (
	"context"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Operation labels that stand for more than one name.
const (
	// OperationAnonymous labels operations sent without a name.
	OperationAnonymous = "anonymous"
	// OperationOther labels operations whose name is not a safe label
	// (too long, or not a GraphQL name) and, once MaxOperationNames names
	// are known, every new name.
	OperationOther = "other"
	// MaxOperationNames is how many distinct operation names the metrics
	// keep series for. Names are chosen by clients, so without a cap a
	// client could create series without end.
	MaxOperationNames = 200
	// maxOperationNameLen bounds the length of a name kept as a label.
	maxOperationNameLen = 64
)

// The outcomes of an operation.
const (
	// OutcomeOK is an operation answered without errors (a mutation's
	// userErrors are part of its answer, not errors).
	OutcomeOK = "ok"
	// OutcomeError is an operation answered with GraphQL errors.
	OutcomeError = "error"
	// OutcomeRejected is an operation refused before it ran: it did not
	// parse or validate, or it was over a limit.
	OutcomeRejected = "rejected"
)

var safeOperationName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Metrics counts GraphQL operations by name, type and outcome, times them,
// and counts subscriptions by transport. It is a gqlgen extension: add it
// with HandlerOptions.Metrics.
type Metrics struct {
	operations    *prometheus.CounterVec
	duration      *prometheus.HistogramVec
	subscriptions *prometheus.CounterVec
	active        *prometheus.GaugeVec
	rateLimited   *prometheus.CounterVec

	mu    sync.Mutex
	names map[string]struct{}
}

var (
	_ graphql.HandlerExtension     = (*Metrics)(nil)
	_ graphql.OperationInterceptor = (*Metrics)(nil)
	_ graphql.ResponseInterceptor  = (*Metrics)(nil)
)

// NewMetrics registers the GraphQL metrics with reg. rateLimited, when
// set, counts the subscriptions refused for holding too many open, under
// the limit "subscriptions".
func NewMetrics(reg prometheus.Registerer, rateLimited *prometheus.CounterVec) *Metrics {
	m := &Metrics{
		operations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mentorship_graphql_operations_total",
			Help: "GraphQL operations by name (anonymous, or other beyond the first names seen), type and outcome (ok, error, rejected).",
		}, []string{"operation", "type", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "mentorship_graphql_operation_duration_seconds",
			Help:    "Time from the start of a query or mutation to its answer, by operation name and type.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"operation", "type"}),
		subscriptions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mentorship_graphql_subscriptions_started_total",
			Help: "GraphQL subscriptions started, by transport (graphql-transport-ws, graphql-ws, sse).",
		}, []string{"transport"}),
		active: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mentorship_graphql_subscriptions_active",
			Help: "GraphQL subscriptions open on this instance, by transport.",
		}, []string{"transport"}),
		names:       make(map[string]struct{}),
		rateLimited: rateLimited,
	}
	reg.MustRegister(m.operations, m.duration, m.subscriptions, m.active)
	return m
}

// ExtensionName names the extension for gqlgen.
func (*Metrics) ExtensionName() string { return "Metrics" }

// Validate accepts every schema.
func (*Metrics) Validate(graphql.ExecutableSchema) error { return nil }

// operationLabel is the label of an operation name: the name itself while
// it is safe and one of the first MaxOperationNames seen, "anonymous" for
// none, "other" otherwise.
func (m *Metrics) operationLabel(name string) string {
	if name == "" {
		return OperationAnonymous
	}
	if len(name) > maxOperationNameLen || !safeOperationName.MatchString(name) ||
		name == OperationAnonymous || name == OperationOther {
		return OperationOther
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.names[name]; ok {
		return name
	}
	if len(m.names) >= MaxOperationNames {
		return OperationOther
	}
	m.names[name] = struct{}{}
	return name
}

// operationName is the name the client gave the operation, or that of
// the document's only operation.
func operationName(oc *graphql.OperationContext) string {
	if oc.OperationName != "" {
		return oc.OperationName
	}
	if oc.Operation != nil {
		return oc.Operation.Name
	}
	return ""
}

type observedKey struct{}

// InterceptOperation counts an operation at its first answer, and times
// queries and mutations to it. A subscription is counted once, and also
// by transport while it stays open.
func (m *Metrics) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	if oc.Operation == nil {
		return next(ctx)
	}
	name, typ := m.operationLabel(operationName(oc)), string(oc.Operation.Operation)
	start := time.Now()
	subscription := typ == "subscription"
	transport := transportFrom(ctx)
	if subscription {
		m.subscriptions.WithLabelValues(transport).Inc()
		m.active.WithLabelValues(transport).Inc()
	}
	h := next(context.WithValue(ctx, observedKey{}, true))
	var first, ended sync.Once
	return func(ctx context.Context) *graphql.Response {
		resp := h(ctx)
		first.Do(func() {
			outcome := OutcomeOK
			if resp != nil && len(resp.Errors) > 0 {
				outcome = OutcomeError
			}
			m.operations.WithLabelValues(name, typ, outcome).Inc()
			if subscription && m.rateLimited != nil && resp != nil && slices.ContainsFunc(resp.Errors, func(e *gqlerror.Error) bool {
				return e.Extensions["code"] == CodeRateLimited
			}) {
				m.rateLimited.WithLabelValues("subscriptions").Inc()
			}
			if !subscription {
				m.duration.WithLabelValues(name, typ).Observe(time.Since(start).Seconds())
			}
		})
		if subscription && resp == nil {
			ended.Do(func() { m.active.WithLabelValues(transport).Dec() })
		}
		return resp
	}
}

// InterceptResponse counts the operations refused before they ran, whose
// answer gqlgen writes without calling InterceptOperation.
func (m *Metrics) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if ctx.Value(observedKey{}) != nil {
		return next(ctx)
	}
	resp := next(ctx)
	name, typ := OperationAnonymous, "unknown"
	if graphql.HasOperationContext(ctx) {
		oc := graphql.GetOperationContext(ctx)
		name = m.operationLabel(operationName(oc))
		if oc.Operation != nil {
			typ = string(oc.Operation.Operation)
		}
	}
	m.operations.WithLabelValues(name, typ, OutcomeRejected).Inc()
	return resp
}

type transportKey struct{}

// withTransport notes on the request which GraphQL transport carries it,
// for the subscription counts: the WebSocket subprotocol, sse, or http.
func withTransport(r *http.Request) *http.Request {
	t := "http"
	switch {
	case strings.EqualFold(r.Header.Get("Upgrade"), "websocket"):
		t = "graphql-ws"
		for _, p := range strings.Split(r.Header.Get("Sec-WebSocket-Protocol"), ",") {
			if strings.TrimSpace(p) == "graphql-transport-ws" {
				t = "graphql-transport-ws"
			}
		}
	case acceptsEventStream(r.Header.Get("Accept")):
		t = "sse"
	}
	return r.WithContext(context.WithValue(r.Context(), transportKey{}, t))
}

func acceptsEventStream(accept string) bool {
	for _, part := range strings.Split(accept, ",") {
		if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mt == "text/event-stream" {
			return true
		}
	}
	return false
}

func transportFrom(ctx context.Context) string {
	if t, ok := ctx.Value(transportKey{}).(string); ok {
		return t
	}
	return "http"
}

// observe adds the metrics and the tracing that opts ask for to the
// GraphQL server through use, and notes each request's transport for the
// metrics; with neither it returns next unchanged.
func observe(opts HandlerOptions, use func(graphql.HandlerExtension), next http.Handler) http.Handler {
	if opts.Tracing {
		use(tracer{})
	}
	if opts.Metrics == nil {
		return next
	}
	use(opts.Metrics)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, withTransport(r))
	})
}
