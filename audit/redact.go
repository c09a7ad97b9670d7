package audit

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
)

// withheld is the data of a private event that cannot be summarised.
var withheld = []byte("null")

// exportData returns the data an export may carry for ev, and whether it
// differs from the stored data. Session events keep their identifiers,
// their time and, of their details, the session's date and length:
//
//	{"matchId":..,"sessionId":..,"authorId":..,"details":{"date":..,"minutes":..},"at":..}
//
// The summary names the fields to keep rather than the ones to drop, so
// that a private field a later schema version adds stays out of exports
// until someone decides otherwise, and kept fields must hold a plain
// string (a number for minutes), so nothing can travel inside them. Data
// that does not read as such an object is withheld entirely (JSON null).
//
// The summary is cut out of the stored JSON by hand: encoding/json takes
// several microseconds per event, which made redaction cost more than
// reading the log.
func exportData(ev *eventstore.RecordedEvent) ([]byte, bool) {
	// The private events hold what only their author may read: a session
	// log's notes and perceived value. One of another shape is withheld.
	if !domain.Is[domain.PrivateEvent](ev.Type) {
		return ev.Data, false
	}
	out, ok := sessionSummary(ev.Data)
	if !ok {
		return withheld, true
	}
	return out, true
}

// The fields a session summary keeps.
const (
	fMatchID = iota
	fSessionID
	fAuthorID
	fAt
	fDate
	fMinutes
	nFields
)

var topFields = map[string]int{"matchId": fMatchID, "sessionId": fSessionID, "authorId": fAuthorID, "at": fAt}

var detailFields = map[string]int{"date": fDate, "minutes": fMinutes}

// sessionSummary builds the summary of session data. It reports false
// when data is not a JSON object of the expected shape. A null field
// counts as absent.
func sessionSummary(data []byte) ([]byte, bool) {
	var kept [nFields][]byte
	s := jsonScanner{b: data}
	ok := s.object(func(key []byte) bool {
		if s.null() {
			return true
		}
		if i, found := topFields[string(key)]; found {
			kept[i] = s.str()
			return kept[i] != nil
		}
		if string(key) == "details" {
			return s.object(func(key []byte) bool {
				i, found := detailFields[string(key)]
				switch {
				case !found:
					return s.skip()
				case s.null():
					return true
				case i == fMinutes:
					kept[i] = s.number()
				default:
					kept[i] = s.str()
				}
				return kept[i] != nil
			})
		}
		return s.skip()
	})
	if !ok || !s.end() {
		return nil, false
	}
	out := make([]byte, 0, 192)
	out = append(out, '{')
	out = appendField(out, "matchId", kept[fMatchID])
	out = appendField(out, "sessionId", kept[fSessionID])
	out = appendField(out, "authorId", kept[fAuthorID])
	out = append(out, `"details":{`...)
	out = appendField(out, "date", kept[fDate])
	out = appendField(out, "minutes", kept[fMinutes])
	out = bytes.TrimSuffix(out, []byte(","))
	out = append(out, "},"...)
	out = appendField(out, "at", kept[fAt])
	out = bytes.TrimSuffix(out, []byte(","))
	return append(out, '}'), true
}

// appendField appends "name":value, when there is a value.
func appendField(b []byte, name string, value []byte) []byte {
	if value == nil {
		return b
	}
	b = append(b, '"')
	b = append(b, name...)
	b = append(b, `":`...)
	b = append(b, value...)
	return append(b, ',')
}

// jsonScanner walks JSON that the store has already checked to be valid;
// it still fails safe on anything unexpected rather than trusting that.
type jsonScanner struct {
	b     []byte
	i     int
	depth int
}

// maxDepth bounds nesting, so that no input can run the scanner's
// recursion deep.
const maxDepth = 64

// null consumes a null, if that is what comes next.
func (s *jsonScanner) null() bool {
	s.ws()
	if bytes.HasPrefix(s.b[s.i:], []byte("null")) {
		s.i += 4
		return true
	}
	return false
}

func (s *jsonScanner) ws() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\t' || s.b[s.i] == '\n' || s.b[s.i] == '\r') {
		s.i++
	}
}

// end reports whether only white space is left.
func (s *jsonScanner) end() bool {
	s.ws()
	return s.i == len(s.b)
}

// object walks an object, calling member with each key (without quotes or
// unescaping) positioned at its value; member must consume the value.
func (s *jsonScanner) object(member func(key []byte) bool) bool {
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '{' || s.depth >= maxDepth {
		return false
	}
	s.depth++
	defer func() { s.depth-- }()
	s.i++
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		return true
	}
	for {
		key := s.str()
		if key == nil {
			return false
		}
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return false
		}
		s.i++
		if !member(key[1 : len(key)-1]) {
			return false
		}
		s.ws()
		if s.i >= len(s.b) {
			return false
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case '}':
			s.i++
			return true
		default:
			return false
		}
	}
}

// str consumes a string and returns it with its quotes, or nil.
func (s *jsonScanner) str() []byte {
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil
	}
	start := s.i
	for s.i++; s.i < len(s.b); s.i++ {
		switch c := s.b[s.i]; {
		case c == '\\':
			if !s.escape() {
				return nil
			}
		case c == '"':
			s.i++
			return s.b[start:s.i]
		case c < 0x20:
			return nil
		}
	}
	return nil
}

// escape checks the escape sequence after the backslash at s.i and leaves
// s.i on its last byte.
func (s *jsonScanner) escape() bool {
	if s.i+1 >= len(s.b) {
		return false
	}
	s.i++
	switch s.b[s.i] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return true
	case 'u':
		if s.i+4 >= len(s.b) {
			return false
		}
		for _, c := range s.b[s.i+1 : s.i+5] {
			if strings.IndexByte("0123456789abcdefABCDEF", c) < 0 {
				return false
			}
		}
		s.i += 4
		return true
	}
	return false
}

// number consumes a number and returns it, or nil.
func (s *jsonScanner) number() []byte {
	s.ws()
	start := s.i
	for s.i < len(s.b) && strings.IndexByte("0123456789+-.eE", s.b[s.i]) >= 0 {
		s.i++
	}
	if s.i == start || !json.Valid(s.b[start:s.i]) {
		return nil
	}
	return s.b[start:s.i]
}

// skip consumes any value.
func (s *jsonScanner) skip() bool {
	s.ws()
	if s.i >= len(s.b) {
		return false
	}
	switch s.b[s.i] {
	case '"':
		return s.str() != nil
	case '{':
		return s.object(func([]byte) bool { return s.skip() })
	case '[':
		if s.depth >= maxDepth {
			return false
		}
		s.depth++
		defer func() { s.depth-- }()
		s.i++
		s.ws()
		if s.i < len(s.b) && s.b[s.i] == ']' {
			s.i++
			return true
		}
		for {
			if !s.skip() {
				return false
			}
			s.ws()
			if s.i >= len(s.b) {
				return false
			}
			s.i++
			switch s.b[s.i-1] {
			case ',':
			case ']':
				return true
			default:
				return false
			}
		}
	}
	start := s.i
	for s.i < len(s.b) && strings.IndexByte(",}] \t\r\n", s.b[s.i]) < 0 {
		s.i++
	}
	return s.i > start
}
