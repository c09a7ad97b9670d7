package graph

import (
	"context"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/rs/zerolog"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/mentorship/mentorship/auth"
	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/graph/model"
	"github.com/mentorship/mentorship/projections"
	"github.com/mentorship/mentorship/refusal"
)

// Error codes of GraphQL errors, in extensions.code.
const (
	CodeUnauthenticated = "UNAUTHENTICATED"
	CodeForbidden       = "FORBIDDEN"
	CodeBadUserInput    = "BAD_USER_INPUT"
	CodeNotFound        = "NOT_FOUND"
	CodeInternal        = "INTERNAL"
	CodeConflict        = "CONFLICT"
	CodeUnavailable     = "UNAVAILABLE"
	// CodeValidationFailed is gqlgen's code for a document the schema
	// refuses, which the limits use for a fragment that spreads itself.
	CodeValidationFailed = "GRAPHQL_VALIDATION_FAILED"
)

// apiError is an expected failure with its code and a message safe to show.
type apiError struct {
	code, msg string
}

func (e *apiError) Error() string { return e.msg }

var (
	errUnauthenticated = &apiError{CodeUnauthenticated, "sign in first"}
	errNotBearer       = &apiError{CodeUnauthenticated, "send the token as Authorization: Bearer <token>"}
	errForbidden       = &apiError{CodeForbidden, "you may not do this"}
	errNotFound        = &apiError{CodeNotFound, "not found"}
)

func badInput(msg string) error { return &apiError{CodeBadUserInput, msg} }

// ErrorPresenter maps every error to a GraphQL error in one place: expected
// failures keep their message and code; anything else becomes INTERNAL
// with a generic message, logged with the request's correlation ID.
func ErrorPresenter(log zerolog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gerr := graphql.DefaultErrorPresenter(ctx, err)
		if gerr.Extensions == nil {
			gerr.Extensions = map[string]any{}
		}
		if id := requestIDFrom(ctx); id != "" {
			gerr.Extensions["correlationId"] = id
		}
		if gerr.Err == nil {
			// gqlgen's own errors about the request: parse and validation
			// errors carry their code; the others (a body that is not
			// JSON, an unknown operation name) are the client's as well.
			if _, ok := gerr.Extensions["code"]; !ok {
				gerr.Extensions["code"] = CodeBadUserInput
			}
			if gerr.Message == "operation  not found" {
				// gqlgen's words for a document of several operations
				// sent without operationName.
				gerr.Message = "the document holds more than one operation: name the one to run in operationName"
			}
			gerr.Message = shortMessage(gerr.Message)
			return gerr
		}
		var api *apiError
		ref, refused := refusal.As(err)
		switch {
		case errors.As(err, &api):
			gerr.Message, gerr.Extensions["code"] = api.msg, api.code
		case errors.Is(err, model.ErrBadID), errors.Is(err, projections.ErrTooManyWords), errors.Is(err, projections.ErrBadCursor):
			gerr.Message, gerr.Extensions["code"] = unwrapMessage(err), CodeBadUserInput
		case errors.Is(err, projections.ErrNotFound):
			gerr.Message, gerr.Extensions["code"] = "not found", CodeNotFound
		case errors.Is(err, command.ErrContention):
			gerr.Message, gerr.Extensions["code"] = command.ErrContention.Error(), CodeConflict
		case errors.Is(err, command.ErrErasureUnfinished):
			logFor(ctx, log).Error().Err(err).Str("correlation_id", requestIDFrom(ctx)).Msg("an erasure step failed")
			gerr.Message, gerr.Extensions["code"] = command.ErrErasureUnfinished.Error(), CodeUnavailable
		case errors.Is(err, auth.ErrUnavailable):
			logFor(ctx, log).Warn().Err(err).Str("correlation_id", requestIDFrom(ctx)).Msg("the accounts store cannot be reached")
			gerr.Message, gerr.Extensions["code"] = "signing up and in cannot be done now; try again", CodeUnavailable
		case errors.Is(err, eventstore.ErrUnavailable):
			logFor(ctx, log).Warn().Err(err).Str("correlation_id", requestIDFrom(ctx)).Msg("the store cannot save changes")
			gerr.Message, gerr.Extensions["code"] = "the server cannot save changes now; try again", CodeUnavailable
		case errors.Is(err, projections.ErrUnavailable):
			logFor(ctx, log).Warn().Err(err).Str("correlation_id", requestIDFrom(ctx)).Msg("read models unavailable")
			gerr.Message, gerr.Extensions["code"] = "the read models are unavailable; try again", CodeUnavailable
		case errors.Is(err, context.DeadlineExceeded):
			gerr.Message, gerr.Extensions["code"] = "the server is busy; the change was saved but may not show yet", CodeUnavailable
		case refused:
			gerr.Message, gerr.Extensions["code"] = ref.Message, refusalCode(ref.Code)
			if ref.Field != "" {
				gerr.Extensions["field"] = ref.Field
			}
		case isArgumentError(ctx, gerr):
			gerr.Extensions["code"] = CodeBadUserInput
		default:
			if code, ok := gerr.Extensions["code"]; ok && code != "" && gerr.Err != nil && isGQLError(err) {
				gerr.Message = shortMessage(gerr.Message)
				return gerr
			}
			logFor(ctx, log).Error().Err(err).Str("correlation_id", requestIDFrom(ctx)).Str("path", gerr.Path.String()).Msg("internal error")
			gerr.Message, gerr.Extensions["code"] = "internal error", CodeInternal
		}
		gerr.Message = shortMessage(gerr.Message)
		return gerr
	}
}

// maxMessage is the longest error message answered: messages that quote
// what the client sent (a body that is not JSON, an ID that does not
// parse) would otherwise send a megabyte straight back.
const maxMessage = 300

// shortMessage cuts a message to maxMessage bytes, on a character boundary.
func shortMessage(msg string) string {
	if len(msg) <= maxMessage {
		return msg
	}
	cut := maxMessage
	for cut > 0 && !utf8.RuneStart(msg[cut]) {
		cut--
	}
	return msg[:cut] + "…"
}

// WriteError answers a request that never reaches the GraphQL server with
// a GraphQL error response: err as ErrorPresenter shows it, with the
// request's correlation ID, and the HTTP status.
func WriteError(w http.ResponseWriter, r *http.Request, status int, err error) {
	ctx := r.Context()
	gerr := ErrorPresenter(*zerolog.Ctx(ctx))(ctx, err)
	body, _ := json.Marshal(struct {
		Errors gqlerror.List `json:"errors"`
	}{gqlerror.List{gerr}})
	w.Header().Set("Content-Type", errorContentType(r))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// errorContentType is the media type of an error answered outside the
// GraphQL transports: application/graphql-response+json when the client
// accepts it (the GraphQL-over-HTTP media type, with which a client such
// as Apollo Client reads a 401's or a 413's errors as GraphQL errors with
// their extensions.code), application/json otherwise, as the transports
// choose for a successful answer.
func errorContentType(r *http.Request) string {
	for part := range strings.SplitSeq(r.Header.Get("Accept"), ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case "application/json":
			return "application/json"
		case "application/graphql-response+json":
			return "application/graphql-response+json"
		}
	}
	return "application/json"
}

// isArgumentError reports whether gerr is about an argument of the field
// ctx belongs to, a value that could not be read as its type (a Position
// that is not a number, a Time that is not RFC 3339): gqlgen puts the
// argument's name after the field's path.
func isArgumentError(ctx context.Context, gerr *gqlerror.Error) bool {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Field.Field == nil {
		return false
	}
	at := len(fc.Path())
	if len(gerr.Path) <= at {
		return false
	}
	name, ok := gerr.Path[at].(ast.PathName)
	return ok && fc.Field.Arguments.ForName(string(name)) != nil
}

func isGQLError(err error) bool {
	var g *gqlerror.Error
	return errors.As(err, &g)
}

// unwrapMessage returns the outermost message without wrapping prefixes of
// internal packages.
func unwrapMessage(err error) string {
	switch {
	case errors.Is(err, projections.ErrTooManyWords):
		return projections.ErrTooManyWords.Error()
	case errors.Is(err, projections.ErrBadCursor):
		return "invalid cursor"
	}
	// gqlgen wraps a resolver's error with the field's position and path
	// ("input:1:3: node …"), which the error's locations and path already
	// give: the message is the resolver's own.
	var g *gqlerror.Error
	if errors.As(err, &g) && g.Err != nil {
		return unwrapMessage(g.Err)
	}
	return err.Error()
}

// The refusals, whoever refused (the domain, the accounts service, the
// document uploads), reach clients here only: as a payload's userErrors
// { code field message } with the refusal's own code, or, raised as a
// GraphQL error, with the extensions.code of refusalCode and the field in
// extensions.field.

// refusalCode is the GraphQL error code of a refusal raised as an error: a
// token that signs nobody in is UNAUTHENTICATED, any other refusal is the
// client's input.
func refusalCode(code refusal.Code) string {
	switch code {
	case auth.CodeTokenInvalid, auth.CodeTokenExpired, auth.CodeTokenRevoked:
		return CodeUnauthenticated
	}
	return CodeBadUserInput
}

// userErrors turns a refusal into the payload's userErrors, or returns the
// error to be raised: any error that is not a refusal, and a refused token,
// which is no mistake in the input but a session to start again or a reset
// link to ask for again (UNAUTHENTICATED, with the refusal's message, which
// says which). A rate-limited refusal's message already says when to
// retry.
func userErrors(err error) ([]*model.UserError, error) {
	if err == nil {
		return []*model.UserError{}, nil
	}
	ref, ok := refusal.As(err)
	if !ok {
		return nil, err
	}
	if refusalCode(ref.Code) == CodeUnauthenticated {
		return nil, &apiError{CodeUnauthenticated, ref.Message}
	}
	return []*model.UserError{userError(ref)}, nil
}

// refused is the userErrors of a refusal the API makes itself, such as a
// document the caller may not see, answered as one that does not exist.
func refused(code refusal.Code, field, message string) []*model.UserError {
	return []*model.UserError{userError(&refusal.Error{Code: code, Field: field, Message: message})}
}

func userError(ref *refusal.Error) *model.UserError {
	ue := &model.UserError{Code: string(ref.Code), Message: ref.Message}
	if ref.Field != "" {
		f := ref.Field
		ue.Field = &f
	}
	return ue
}
