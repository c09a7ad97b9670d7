// Package otel traces an event store with OpenTelemetry: a span for each
// append and each read, under the caller's span, so that a request's trace
// reaches the store.
package otel

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/tracing"
)

// Store wraps an event store and traces its appends and reads.
type Store struct {
	eventstore.Store
	engine string
}

var _ eventstore.Store = (*Store)(nil)

// Wrap traces s; engine names it in the spans (embedded, kurrentdb).
func Wrap(s eventstore.Store, engine string) *Store {
	return &Store{Store: s, engine: engine}
}

func (w *Store) start(ctx context.Context, name string, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	return tracing.Tracer().Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(append(attrs, attribute.String("db.system.name", w.engine))...))
}

// Append implements eventstore.Store.
func (w *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.EventData) (res eventstore.AppendResult, err error) {
	ctx, span := w.start(ctx, "eventstore.append", attribute.String("mentorship.stream", stream), attribute.Int("mentorship.events", len(events)))
	defer func() {
		if err == nil {
			span.SetAttributes(attribute.Int64("mentorship.position.last", int64(res.LastPosition)))
		}
		tracing.End(span, err)
	}()
	return w.Store.Append(ctx, stream, expected, events...)
}

// ReadStream implements eventstore.Store.
func (w *Store) ReadStream(ctx context.Context, stream string, opts eventstore.ReadStreamOptions) (recs []eventstore.RecordedEvent, err error) {
	ctx, span := w.start(ctx, "eventstore.read_stream", attribute.String("mentorship.stream", stream))
	defer func() {
		span.SetAttributes(attribute.Int("mentorship.events", len(recs)))
		failed := err
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			// A stream not written yet is an answer, not a failure.
			span.SetAttributes(attribute.Bool("mentorship.stream.found", false))
			failed = nil
		}
		tracing.End(span, failed)
	}()
	return w.Store.ReadStream(ctx, stream, opts)
}

// ReadAll implements eventstore.Store.
func (w *Store) ReadAll(ctx context.Context, from eventstore.Position, limit int) (recs []eventstore.RecordedEvent, err error) {
	ctx, span := w.start(ctx, "eventstore.read_all", attribute.Int64("mentorship.position.from", int64(from)))
	defer func() {
		span.SetAttributes(attribute.Int("mentorship.events", len(recs)))
		tracing.End(span, err)
	}()
	return w.Store.ReadAll(ctx, from, limit)
}
