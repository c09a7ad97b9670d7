package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Target is a running server on a loopback address.
type Target struct {
	base   *url.URL
	client *http.Client
}

// NewTarget checks that rawURL names a server on a loopback address (the
// load generator never sends load elsewhere) and returns a Target whose
// HTTP client keeps up to conns connections open.
func NewTarget(rawURL string, conns int) (*Target, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("loadgen: %q is not an http URL such as http://127.0.0.1:8080", rawURL)
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("loadgen: %s is not a loopback address; load goes only to this machine", host)
	}
	u.Path, u.RawQuery, u.Fragment = strings.TrimRight(u.Path, "/"), "", ""
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns + 16,
		MaxIdleConnsPerHost: conns + 16,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	return &Target{base: u, client: &http.Client{Transport: tr, Timeout: time.Minute}}, nil
}

// URL returns the address of path on the server.
func (t *Target) URL(path string) string { return t.base.String() + path }

// wsURL returns the WebSocket address of the GraphQL endpoint.
func (t *Target) wsURL() string {
	u := *t.base
	u.Scheme = "ws"
	if t.base.Scheme == "https" {
		u.Scheme = "wss"
	}
	return u.String() + "/graphql"
}

// Close closes idle connections.
func (t *Target) Close() { t.client.CloseIdleConnections() }

// get fetches path and reads the whole answer; a status other than 200 is
// an error.
func (t *Target) get(ctx context.Context, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.URL(path), nil)
	if err != nil {
		return nil, err
	}
	res, err := t.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", path, res.Status)
	}
	return body, nil
}

// userError is a refusal in a mutation's payload.
type userError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// OpError is a failed operation: an HTTP or GraphQL error, or a refusal in
// the payload. Code is the refusal's or the error's code.
type OpError struct {
	Code    string
	Message string
}

// Error returns the code and the message.
func (e *OpError) Error() string { return e.Code + ": " + e.Message }

// graphql posts a query with token as the bearer (none when empty) and
// decodes its data into out, which may be nil. GraphQL errors and the
// first userErrors entry found in the payload become an *OpError.
func (t *Target) graphql(ctx context.Context, token, query string, vars map[string]any, out any) error {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.URL("/graphql"), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := t.client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	var resp struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Message    string `json:"message"`
			Extensions struct {
				Code string `json:"code"`
			} `json:"extensions"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(raw, &resp); err != nil {
		return &OpError{Code: "HTTP_" + strings.ReplaceAll(res.Status, " ", "_"), Message: truncate(string(raw))}
	}
	if len(resp.Errors) > 0 {
		code := resp.Errors[0].Extensions.Code
		if code == "" {
			code = "GRAPHQL_ERROR"
		}
		return &OpError{Code: code, Message: resp.Errors[0].Message}
	}
	if res.StatusCode != http.StatusOK {
		return &OpError{Code: "HTTP_" + strings.ReplaceAll(res.Status, " ", "_"), Message: truncate(string(raw))}
	}
	if ue := firstUserError(resp.Data); ue != nil {
		return &OpError{Code: ue.Code, Message: ue.Message}
	}
	if out != nil {
		return json.Unmarshal(resp.Data, out)
	}
	return nil
}

// firstUserError finds the first userErrors entry of a mutation's payload:
// data holds one field per mutation, each a payload.
func firstUserError(data json.RawMessage) *userError {
	if !bytes.Contains(data, []byte(`"userErrors":[{`)) {
		return nil
	}
	var fields map[string]struct {
		UserErrors []userError `json:"userErrors"`
	}
	if json.Unmarshal(data, &fields) != nil {
		return &userError{Code: "USER_ERROR", Message: truncate(string(data))}
	}
	for _, f := range fields {
		if len(f.UserErrors) > 0 {
			return &f.UserErrors[0]
		}
	}
	return nil
}

func truncate(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

// codeOf names an error for the error tally.
func codeOf(err error) string {
	var op *OpError
	switch {
	case errors.As(err, &op):
		return op.Code
	case errors.Is(err, context.DeadlineExceeded):
		return "TIMEOUT"
	case errors.Is(err, context.Canceled):
		return "CANCELLED"
	default:
		return "TRANSPORT"
	}
}

// WaitReady polls /readyz until the server is ready (its read models
// caught up with the log) or timeout passes.
func (t *Target) WaitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		_, err := t.get(ctx, "/readyz")
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("loadgen: the server was not ready within %v: %w", timeout, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
