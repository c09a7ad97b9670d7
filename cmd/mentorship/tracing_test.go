package main

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace/noop"
)

// One trace runs from the HTTP request (continuing the caller's trace)
// through the GraphQL operation, its resolver and the command to the
// store's append, and the request's log lines carry its trace ID. The
// followers' batches have spans of their own.
func TestOneTraceFromHTTPToTheAppend(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	traceExporter = keptSpans{exp}
	t.Cleanup(func() {
		traceExporter = nil
		otel.SetTracerProvider(noop.NewTracerProvider())
	})
	logs := &syncBuffer{}
	ts := startServerLogging(t, "", logs, "--log-level", "info")

	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	code, res := postGraphQL(t, ts.URL, `mutation SignUp { registerMentee(input: {name: "Ada", email: "ada@example.org", password: "`+storyPassword+`"}) { token } }`, nil,
		http.Header{"Traceparent": {"00-" + traceID + "-00f067aa0ba902b7-01"}, "X-Request-Id": {"traced-1"}})
	if code != 200 || len(res.Errors) > 0 {
		t.Fatalf("sign-up: %d %+v", code, res.Errors)
	}
	ts.Stop(t)

	spans := exp.GetSpans()
	byID := map[string]tracetest.SpanStub{}
	for _, s := range spans {
		byID[s.SpanContext.SpanID().String()] = s
	}
	var appendSpan *tracetest.SpanStub
	for i, s := range spans {
		if s.Name == "eventstore.append" && s.SpanContext.TraceID().String() == traceID {
			appendSpan = &spans[i]
		}
	}
	if appendSpan == nil {
		t.Fatalf("no append span in the caller's trace among %d spans", len(spans))
	}
	var chain []string
	for s, ok := *appendSpan, true; ok; s, ok = byID[s.Parent.SpanID().String()] {
		if s.SpanContext.TraceID().String() != traceID {
			t.Errorf("span %s is in trace %s, want %s", s.Name, s.SpanContext.TraceID(), traceID)
		}
		chain = append(chain, s.Name)
	}
	want := []string{"eventstore.append", "command register", "graphql.resolve Mutation.registerMentee", "graphql.mutation SignUp", "POST /graphql"}
	if strings.Join(chain, " < ") != strings.Join(want, " < ") {
		t.Errorf("span chain %q, want %q", chain, want)
	}
	follower := false
	for _, s := range spans {
		if s.Name == "follow read_models" {
			follower = true
		}
	}
	if !follower {
		t.Error("no span of the read models' batches")
	}

	lines := 0
	for _, l := range parseLogLines(t, logs.String()) {
		if l.RequestID != "traced-1" {
			continue
		}
		lines++
		if !strings.Contains(l.raw, `"trace_id":"`+traceID+`"`) {
			t.Errorf("a request's line without its trace ID: %s", l.raw)
		}
	}
	if lines < 2 {
		t.Errorf("%d log lines of the request, want its own and the access line", lines)
	}
}

// keptSpans keeps the spans past the server's shutdown, which would
// reset an in-memory exporter.
type keptSpans struct{ *tracetest.InMemoryExporter }

func (keptSpans) Shutdown(context.Context) error { return nil }

// Without an OTLP endpoint nothing is traced: no span reaches a provider
// and the log lines carry no trace ID.
func TestTracingIsOffWithoutAnEndpoint(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	otel.SetTracerProvider(noop.NewTracerProvider())
	logs := &syncBuffer{}
	ts := startServerLogging(t, "", logs, "--log-level", "info")
	code, _ := postGraphQL(t, ts.URL, `{ version { version } }`, nil, nil)
	if code != 200 {
		t.Fatalf("query: %d", code)
	}
	ts.Stop(t)
	if strings.Contains(logs.String(), "trace_id") {
		t.Errorf("trace IDs logged with tracing off:\n%s", logs.String())
	}
	if len(exp.GetSpans()) != 0 {
		t.Error("spans recorded")
	}
}

// A protocol the exporter does not speak is refused at start.
func TestTracingRefusesAnUnsupportedProtocol(t *testing.T) {
	env := func(k string) string {
		return map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}[k]
	}
	err := run(t.Context(), []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir()}, env, strings.NewReader(""), &strings.Builder{}, &strings.Builder{})
	if err == nil || !strings.Contains(err.Error(), "http/protobuf") {
		t.Fatalf("serve with OTEL_EXPORTER_OTLP_PROTOCOL=grpc: %v", err)
	}
}
