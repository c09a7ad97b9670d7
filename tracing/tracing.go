// Package tracing sets up OpenTelemetry traces. The OTLP exporter runs
// only when OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
// is set; otherwise the global tracer provider stays OpenTelemetry's no-op
// one, whose spans cost next to nothing, and the server adds no tracing
// middleware at all. The standard OTEL_* variables apply: the exporter's
// headers, timeout, compression and certificates, OTEL_SERVICE_NAME and
// OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER and its argument, and
// OTEL_SDK_DISABLED.
package tracing

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// Name is the instrumentation scope of the project's spans.
const Name = "github.com/mentorship/mentorship"

// Tracer returns the project's tracer from the global provider, which
// Setup replaces when tracing is on; a tracer taken before then follows
// the replacement.
func Tracer() trace.Tracer { return otel.Tracer(Name) }

// Options tune Setup.
type Options struct {
	// Exporter, when set, receives the spans instead of the OTLP
	// exporter, synchronously (tests use tracetest's in-memory exporter).
	Exporter sdktrace.SpanExporter
	// Version is the service's version, a resource attribute.
	Version string
}

// Provider is the tracing the process runs with.
type Provider struct {
	tp *sdktrace.TracerProvider
}

// Enabled reports whether spans are exported; the server then adds its
// tracing middleware.
func (p *Provider) Enabled() bool { return p != nil && p.tp != nil }

// Shutdown exports the spans still buffered and stops exporting.
func (p *Provider) Shutdown(ctx context.Context) error {
	if !p.Enabled() {
		return nil
	}
	return p.tp.Shutdown(ctx)
}

// Setup turns tracing on when env configures an OTLP endpoint (or
// opts.Exporter is set), making it the global tracer provider with W3C
// trace context and baggage propagation. Without one it returns a
// disabled Provider and changes nothing.
func Setup(ctx context.Context, env func(string) string, opts Options) (*Provider, error) {
	if strings.EqualFold(strings.TrimSpace(env("OTEL_SDK_DISABLED")), "true") && opts.Exporter == nil {
		return &Provider{}, nil
	}
	endpoint := env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
	if endpoint == "" {
		endpoint = env("OTEL_EXPORTER_OTLP_ENDPOINT")
	}
	var spanOpt sdktrace.TracerProviderOption
	switch {
	case opts.Exporter != nil:
		spanOpt = sdktrace.WithSyncer(opts.Exporter)
	case endpoint == "":
		return &Provider{}, nil
	default:
		protocol := env("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
		if protocol == "" {
			protocol = env("OTEL_EXPORTER_OTLP_PROTOCOL")
		}
		if protocol != "" && protocol != "http/protobuf" {
			return nil, fmt.Errorf("tracing: OTEL_EXPORTER_OTLP_PROTOCOL=%q: only http/protobuf is supported", protocol)
		}
		// The exporter reads the endpoint and every other
		// OTEL_EXPORTER_OTLP_* variable itself.
		exp, err := otlptracehttp.New(ctx)
		if err != nil {
			return nil, fmt.Errorf("tracing: OTLP exporter for %s: %w", endpoint, err)
		}
		spanOpt = sdktrace.WithBatcher(exp)
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(
		semconv.ServiceVersion(opts.Version),
	))
	if err != nil && !errors.Is(err, resource.ErrPartialResource) && !errors.Is(err, resource.ErrSchemaURLConflict) {
		return nil, fmt.Errorf("tracing: resource: %w", err)
	}
	if env("OTEL_SERVICE_NAME") == "" && !strings.Contains(env("OTEL_RESOURCE_ATTRIBUTES"), "service.name=") {
		res, _ = resource.Merge(res, resource.NewSchemaless(semconv.ServiceName("mentorship")))
	}
	tp := sdktrace.NewTracerProvider(spanOpt, sdktrace.WithResource(res))
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	return &Provider{tp: tp}, nil
}

// End ends span, recording err as its status when it is not nil.
func End(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// Batch starts the span of a batch of events a follower of the log (the
// read models, the notifier, the process manager) handles, from position
// first to last.
func Batch(ctx context.Context, follower string, first, last uint64, events int) (context.Context, trace.Span) {
	return Tracer().Start(ctx, "follow "+follower, trace.WithAttributes(
		attribute.String("mentorship.follower", follower),
		attribute.Int64("mentorship.position.first", int64(first)),
		attribute.Int64("mentorship.position.last", int64(last)),
		attribute.Int("mentorship.events", events),
	))
}
