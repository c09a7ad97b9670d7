package graph

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/rs/zerolog"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// codedWriter holds back an error response that a gqlgen transport writes
// by itself (a mutation over GET, a multipart form it cannot read), whose
// errors carry no extensions.code, so that every error the API answers
// has a code and the request's correlation ID like those of the error
// presenter. Successful responses, and streams, pass straight through.
type codedWriter struct {
	http.ResponseWriter
	req    *http.Request
	status int
	held   bytes.Buffer
	// tooLarge is set when the body went over its cap, which the
	// transport reports as a form it could not parse.
	tooLarge *limitedBody
}

func (w *codedWriter) WriteHeader(status int) {
	if status >= http.StatusBadRequest && w.status == 0 {
		w.status = status
		return
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *codedWriter) Write(b []byte) (int, error) {
	if w.status != 0 {
		return w.held.Write(b)
	}
	return w.ResponseWriter.Write(b)
}

// Flush lets streaming transports (SSE) flush through the wrapper and
// through whatever wraps it in turn: http.ResponseController follows the
// Unwrap methods of the server's own writers down to the connection.
func (w *codedWriter) Flush() {
	if w.status == 0 {
		_ = http.NewResponseController(w.ResponseWriter).Flush()
	}
}

// Unwrap gives http.ResponseController the underlying writer.
func (w *codedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// finish writes the held error response, each error with a code.
func (w *codedWriter) finish() {
	if w.status == 0 {
		return
	}
	if w.tooLarge != nil && w.tooLarge.over != nil {
		writeTooLarge(w.ResponseWriter, w.req, w.tooLarge.over.Limit)
		return
	}
	var body struct {
		Errors gqlerror.List `json:"errors"`
	}
	if err := json.Unmarshal(w.held.Bytes(), &body); err != nil || len(body.Errors) == 0 {
		body.Errors = gqlerror.List{{Message: http.StatusText(w.status)}}
	}
	code := CodeBadUserInput
	if w.status >= http.StatusInternalServerError {
		code = CodeInternal
	}
	id := requestIDFrom(w.req.Context())
	for _, e := range body.Errors {
		e.Message = shortMessage(e.Message)
		if e.Extensions == nil {
			e.Extensions = map[string]any{}
		}
		if _, ok := e.Extensions["code"]; !ok {
			e.Extensions["code"] = code
		}
		if _, ok := e.Extensions["correlationId"]; !ok && id != "" {
			e.Extensions["correlationId"] = id
		}
	}
	if code == CodeInternal {
		zerolog.Ctx(w.req.Context()).Error().Int("status", w.status).Str("correlation_id", id).Msg("transport error")
	}
	out, _ := json.Marshal(body)
	w.ResponseWriter.Header().Set("Content-Type", errorContentType(w.req))
	w.ResponseWriter.Header().Del("Content-Length")
	w.ResponseWriter.WriteHeader(w.status)
	_, _ = w.ResponseWriter.Write(out)
}

// limitedBody caps a request body and remembers that the cap was hit, so
// that a chunked upload over it is answered as too large whatever the
// reader that met the cap made of it.
type limitedBody struct {
	io.ReadCloser
	over *http.MaxBytesError
}

func newLimitedBody(w http.ResponseWriter, body io.ReadCloser, limit int64) *limitedBody {
	return &limitedBody{ReadCloser: http.MaxBytesReader(w, body, limit)}
}

func (b *limitedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	var over *http.MaxBytesError
	if errors.As(err, &over) {
		b.over = over
	}
	return n, err
}

// errNotUTF8 refuses a request whose text is not UTF-8: a JSON decoder
// would silently turn the bad bytes into U+FFFD and store them.
var errNotUTF8 = badInput("the request is not valid UTF-8 text")

// safeMultipart is gqlgen's multipart transport, which panics on a map
// whose paths the operations' variables do not have (an index past a
// list's end, a path through a string); such a form is the client's
// mistake, answered 422 like the transport's other refusals.
type safeMultipart struct{ transport.MultipartForm }

func (t safeMultipart) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	defer func() {
		if p := recover(); p != nil {
			WriteError(w, r, http.StatusUnprocessableEntity, badInput("the form's map names a path that its operations' variables do not have"))
		}
	}()
	t.MultipartForm.Do(w, r, exec)
}
