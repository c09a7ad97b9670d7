package audit

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"testing"
	"unicode/utf8"
)

// FuzzCSVField checks the hand-written CSV fields against encoding/csv.
func FuzzCSVField(f *testing.F) {
	for _, s := range []string{"", "plain", "a,b", `say "hi"`, "two\nlines", "cr\r", " lead", "\u00a0nbsp", `\.`, `{"a":"b,c"}`, "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var want bytes.Buffer
		w := csv.NewWriter(&want)
		if err := w.Write([]string{s}); err != nil {
			t.Skip("encoding/csv refuses it too")
		}
		w.Flush()
		got := append(appendCSVField(nil, s), '\n')
		if !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("field %q: wrote %q, encoding/csv writes %q", s, got, want.Bytes())
		}
		if gotBytes := append(appendCSVField(nil, []byte(s)), '\n'); !bytes.Equal(gotBytes, got) {
			t.Fatalf("field %q: bytes and string differ: %q, %q", s, gotBytes, got)
		}
	})
}

// FuzzJSONString checks that hand-written JSON strings decode to what was
// written, on one line.
func FuzzJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", `"quoted" \ back`, "tab\tbell\x07\x00", "line\nbreak\r", "é ü 😀", "\u2028\u2029", "\xff\xfe bad", "<&>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := appendString(nil, s)
		if bytes.ContainsAny(b, "\r\n") {
			t.Fatalf("%q: the JSON string spans lines: %s", s, b)
		}
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%q: %s is not a JSON string: %v", s, b, err)
		}
		if utf8.ValidString(s) && got != s {
			t.Fatalf("%q: decodes to %q", s, got)
		}
		if !utf8.ValidString(got) {
			t.Fatalf("%q: decodes to invalid UTF-8 %q", s, got)
		}
	})
}
