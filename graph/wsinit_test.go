package graph_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// A WebSocket keeps small buffers for as long as it is open; operations and
// answers many times their size still pass whole, and answer as over HTTP.
func TestWebSocketCarriesMessagesLargerThanItsBuffers(t *testing.T) {
	e := newEnv(t)
	// The comment makes the subscribe message tens of times the read
	// buffer; the schema's types make the answer tens of times the write
	// buffer.
	query := "# " + strings.Repeat("padding ", 2000) + "\n{ __schema { types { name description fields { name description } } } }"
	want := e.ok("", query, nil).Data
	c := e.dial("")
	c.conn.SetReadLimit(1 << 20)
	for _, id := range []string{"1", "2", "3"} {
		c.subscribe(id, query, nil)
		got := c.next(id)
		if !reflect.DeepEqual(got, want) {
			a, _ := json.Marshal(got)
			b, _ := json.Marshal(want)
			t.Fatalf("operation %s over the WebSocket answered %d bytes unlike the %d over HTTP", id, len(a), len(b))
		}
		if b, _ := json.Marshal(got); len(b) < 8<<10 {
			t.Fatalf("the answer is %d bytes, too small to test anything", len(b))
		}
	}
}
