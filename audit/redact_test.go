package audit

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/mentorship/mentorship/eventstore"
)

func TestSessionSummary(t *testing.T) {
	cases := []struct {
		name, data, want string
	}{
		{
			"as the domain writes it",
			`{"matchId":"m","sessionId":"s","authorId":"a","details":{"date":"2026-03-09","minutes":45,"notes":"secret","value":5},"at":"2026-03-10T09:00:00Z"}`,
			`{"matchId":"m","sessionId":"s","authorId":"a","details":{"date":"2026-03-09","minutes":45},"at":"2026-03-10T09:00:00Z"}`,
		},
		{
			"indented, notes that look like JSON, fields in another order",
			"{\n  \"at\": \"t\",\n  \"details\": {\n    \"notes\": \"a \\\"quoted\\\" {\\\"value\\\":1} } ] \\\\\",\n    \"value\": 5,\n    \"date\": \"d\"\n  },\n  \"matchId\": \"m\"\n}",
			`{"matchId":"m","details":{"date":"d"},"at":"t"}`,
		},
		{
			"unknown fields of any shape are dropped",
			`{"matchId":"m","mood":{"private":[1,{"x":"y"},[],{}],"deep":true},"details":{"date":"d","reflection":["secret"],"value":null}}`,
			`{"matchId":"m","details":{"date":"d"}}`,
		},
		{"null fields count as absent", `{"matchId":null,"details":null,"at":"t"}`, `{"details":{},"at":"t"}`},
		{"an empty object", `{}`, `{"details":{}}`},
		{"a repeated field keeps the last value", `{"matchId":"a","matchId":"b"}`, `{"matchId":"b","details":{}}`},
		{"a key in other case is not kept", `{"MatchId":"m","details":{"Minutes":5}}`, `{"details":{}}`},
		{"an ID that is not a string", `{"matchId":{"notes":"secret"}}`, ``},
		{"minutes that are not a number", `{"details":{"minutes":"60 and secret notes"}}`, ``},
		{"minutes that are not a JSON number", `{"details":{"minutes":-}}`, ``},
		{"a string with a bad escape", `{"matchId":"\q"}`, ``},
		{"a string with a short unicode escape", `{"matchId":"\u12"}`, ``},
		{"a string with a unicode escape", `{"matchId":"\u00e9\n"}`, `{"matchId":"\u00e9\n","details":{}}`},
		{"a date that is not a string", `{"details":{"date":["secret"]}}`, ``},
		{"details that are not an object", `{"details":"secret"}`, ``},
		{"not an object", `["secret"]`, ``},
		{"trailing bytes", `{} "secret"`, ``},
		{"cut short", `{"matchId":"m","details":{"notes":"sec`, ``},
		{"nested too deep", `{"x":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`, ``},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev := eventstore.RecordedEvent{Type: "SessionEdited", Data: []byte(tc.data)}
			got, redacted := exportData(&ev)
			want := tc.want
			if want == "" {
				want = "null"
			}
			if string(got) != want || !redacted {
				t.Fatalf("got %s (redacted %v), want %s", got, redacted, want)
			}
		})
	}
}

func TestOtherEventsAreExportedAsStored(t *testing.T) {
	data := []byte(`{"matchId":"m","note":"staff note","details":{"notes":"kept"}}`)
	ev := eventstore.RecordedEvent{Type: "MatchEnded", Data: data}
	if got, redacted := exportData(&ev); string(got) != string(data) || redacted {
		t.Fatalf("got %s (redacted %v)", got, redacted)
	}
}

// FuzzSessionSummary checks that whatever session data holds, the summary
// is JSON with only the kept fields, holding only strings and numbers.
func FuzzSessionSummary(f *testing.F) {
	f.Add(`{"matchId":"m","sessionId":"s","authorId":"a","details":{"date":"2026-03-09","minutes":45,"notes":"secret","value":5},"at":"t"}`)
	f.Add(`{"details":{"notes":"\"},\"value\":{","date":"d"}}`)
	f.Add(`{"a":[{"b":[1,2,{"c":null}]}],"details":{}}`)
	f.Add(`{"matchId":null,"details":{"minutes":1e400,"date":null},"at":"t","at":"u"}`)
	f.Fuzz(func(t *testing.T, data string) {
		out, ok := sessionSummary([]byte(data))
		// On valid JSON without escapes (which the scanner leaves
		// undecoded in keys) or deep nesting, encoding/json must agree.
		if json.Valid([]byte(data)) && !strings.Contains(data, `\\`) && strings.Count(data, "[")+strings.Count(data, "{") < maxDepth {
			want, wantOK := referenceSummary([]byte(data))
			if ok != wantOK {
				t.Fatalf("summary of %q: ok %v, encoding/json says %v", data, ok, wantOK)
			}
			if ok {
				if got := decodeNumbers(t, out); !reflect.DeepEqual(got, want) {
					t.Fatalf("summary of %q is %s, encoding/json says %v", data, out, want)
				}
			}
		}
		if !ok {
			return
		}
		summary, isObject := decodeNumbers(t, out).(map[string]any)
		if !isObject {
			t.Fatalf("summary of %q is not an object: %s", data, out)
		}
		for k, v := range summary {
			switch k {
			case "matchId", "sessionId", "authorId", "at":
				if _, ok := v.(string); !ok {
					t.Fatalf("summary of %q keeps %s = %v", data, k, v)
				}
			case "details":
				for dk, dv := range v.(map[string]any) {
					_, isString := dv.(string)
					_, isNumber := dv.(json.Number)
					if !(dk == "date" && isString) && !(dk == "minutes" && isNumber) {
						t.Fatalf("summary of %q keeps details.%s = %v", data, dk, dv)
					}
				}
			default:
				t.Fatalf("summary of %q keeps %s", data, k)
			}
		}
	})
}

// referenceSummary is sessionSummary written with encoding/json.
func referenceSummary(data []byte) (any, bool) {
	var top map[string]json.RawMessage
	if json.Unmarshal(data, &top) != nil || top == nil {
		return nil, false
	}
	out := map[string]any{}
	for _, k := range []string{"matchId", "sessionId", "authorId", "at"} {
		if v, ok := top[k]; ok && string(v) != "null" {
			var s string
			if json.Unmarshal(v, &s) != nil {
				return nil, false
			}
			out[k] = s
		}
	}
	details := map[string]any{}
	if v, ok := top["details"]; ok && string(v) != "null" {
		var d map[string]json.RawMessage
		if json.Unmarshal(v, &d) != nil || d == nil {
			return nil, false
		}
		if v, ok := d["date"]; ok && string(v) != "null" {
			var s string
			if json.Unmarshal(v, &s) != nil {
				return nil, false
			}
			details["date"] = s
		}
		if v, ok := d["minutes"]; ok && string(v) != "null" {
			var n json.Number
			if json.Unmarshal(v, &n) != nil || n == "" || v[0] == '"' {
				return nil, false
			}
			details["minutes"] = n
		}
	}
	out["details"] = details
	return out, true
}

// decodeNumbers decodes JSON keeping numbers as they are written.
func decodeNumbers(t *testing.T, b []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return v
}
