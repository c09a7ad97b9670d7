package graph

import (
	"context"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/mentorship/mentorship/tracing"
)

// tracer is a gqlgen extension that gives each operation a span, and each
// root field (the query or mutation a client called) a span under it.
type tracer struct{}

var (
	_ graphql.HandlerExtension     = tracer{}
	_ graphql.OperationInterceptor = tracer{}
	_ graphql.RootFieldInterceptor = tracer{}
)

func (tracer) ExtensionName() string                   { return "Tracing" }
func (tracer) Validate(graphql.ExecutableSchema) error { return nil }

// spanName is a client's operation name fit for a span name: span names
// should not be unbounded, so an unsafe name is "other".
func spanName(name string) string {
	switch {
	case name == "":
		return OperationAnonymous
	case len(name) > maxOperationNameLen || !safeOperationName.MatchString(name):
		return OperationOther
	}
	return name
}

// InterceptOperation spans an operation until its last answer: the only
// one of a query or mutation, the end of a subscription.
func (tracer) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	if oc.Operation == nil {
		return next(ctx)
	}
	typ, name := string(oc.Operation.Operation), spanName(operationName(oc))
	ctx, span := tracing.Tracer().Start(ctx, "graphql."+typ+" "+name, trace.WithAttributes(
		attribute.String("graphql.operation.type", typ),
		attribute.String("graphql.operation.name", name),
	))
	h := next(ctx)
	var end sync.Once
	return func(ctx context.Context) *graphql.Response {
		resp := h(ctx)
		if resp != nil && len(resp.Errors) > 0 {
			span.SetStatus(codes.Error, resp.Errors[0].Message)
		}
		if resp == nil || typ != "subscription" {
			end.Do(func() { span.End() })
		}
		return resp
	}
}

// InterceptRootField spans the resolver of each root field.
func (tracer) InterceptRootField(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
	fc := graphql.GetRootFieldContext(ctx)
	if fc == nil {
		return next(ctx)
	}
	field := fc.Field.Name
	if fc.Field.ObjectDefinition != nil {
		field = fc.Field.ObjectDefinition.Name + "." + field
	}
	ctx, span := tracing.Tracer().Start(ctx, "graphql.resolve "+field, trace.WithAttributes(
		attribute.String("graphql.field.path", field),
	))
	defer span.End()
	return next(ctx)
}
