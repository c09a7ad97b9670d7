package audit

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
)

// Filter selects the events of an export. Every set field narrows it; the
// zero Filter selects the whole log.
type Filter struct {
	// Match keeps the events of this match's stream.
	Match uuid.UUID
	// Member keeps the events that name this member: those of the
	// member's own stream and those whose data names the member in one of
	// the fields listed in memberFields (as mentee, mentor, author, staff
	// member, ...).
	Member uuid.UUID
	// Types keeps the events of these type names.
	Types []string
	// From and To keep the events whose occurred-at time t satisfies
	// From <= t < To; a nil bound is open. They are pointers so that a
	// bound at the zero time is not taken for no bound.
	From, To *time.Time
}

// memberFields are the top-level data fields in which events name a member.
var memberFields = []string{
	"memberId", "menteeId", "mentorId", "authorId", "staffId",
	"requestedBy", "uploaderId", "removedBy", "publishedBy", "retiredBy",
}

// Query is a filter and a format as text, as they come from a URL's query
// or from command-line flags, so that both are checked alike.
type Query struct {
	// Format is "ndjson" (the default when empty) or "csv".
	Format string
	// Match and Member are UUIDs, or empty.
	Match, Member string
	// Types are event type names; each entry may be a comma-separated
	// list.
	Types []string
	// From and To are RFC 3339 times, or empty.
	From, To string
}

// Parse checks q and returns the format and filter it asks for. Its errors
// are meant for the person who wrote the query.
func (q Query) Parse() (Format, Filter, error) {
	var f Filter
	format, err := ParseFormat(q.Format)
	if err != nil {
		return "", f, err
	}
	if f.Match, err = parseID("match", q.Match); err != nil {
		return "", f, err
	}
	if f.Member, err = parseID("member", q.Member); err != nil {
		return "", f, err
	}
	known := domain.EventTypes()
	for _, list := range q.Types {
		for t := range strings.SplitSeq(list, ",") {
			t = strings.TrimSpace(t)
			if t == "" {
				continue
			}
			if _, ok := slices.BinarySearch(known, t); !ok {
				return "", f, fmt.Errorf("type: unknown event type %q (known types: %s)", t, strings.Join(known, ", "))
			}
			if !slices.Contains(f.Types, t) {
				f.Types = append(f.Types, t)
			}
		}
	}
	if f.From, err = parseTime("from", q.From); err != nil {
		return "", f, err
	}
	if f.To, err = parseTime("to", q.To); err != nil {
		return "", f, err
	}
	if f.From != nil && f.To != nil && !f.From.Before(*f.To) {
		return "", f, fmt.Errorf("from (%s) must be before to (%s)", q.From, q.To)
	}
	return format, f, nil
}

// parseID reads a match's or member's ID as the log stores it (a UUID)
// or as the GraphQL API gives it out (a global ID of the kind named: a
// Match or a Member).
func parseID(name, s string) (uuid.UUID, error) {
	if s == "" {
		return uuid.Nil, nil
	}
	id, err := uuid.Parse(s)
	if err != nil {
		id, err = globalID(name, s)
	}
	if err != nil || id == uuid.Nil {
		return uuid.Nil, fmt.Errorf("%s: %q is not an ID (a UUID such as 0b5d3a4c-7f57-4a53-9a0e-2f0d8f3a1c11, or the %s's ID in the API)", name, s, name)
	}
	return id, nil
}

// globalID reads a GraphQL global ID, base64url of "Kind:UUID", of the
// kind the parameter name says.
func globalID(name, s string) (uuid.UUID, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return uuid.Nil, err
	}
	kind, raw, ok := strings.Cut(string(b), ":")
	if !ok || !strings.EqualFold(kind, name) {
		return uuid.Nil, fmt.Errorf("not a %s ID", name)
	}
	return uuid.Parse(raw)
}

// parseTime reads a bound: nil when s is empty.
func parseTime(name, s string) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return nil, fmt.Errorf("%s: %q is not an RFC 3339 time (such as 2026-01-31T00:00:00Z)", name, s)
	}
	return &t, nil
}

// matcher is a Filter prepared for testing many events.
type matcher struct {
	f            Filter
	matchStream  string
	memberStream string
	memberText   []byte
	types        map[string]bool
}

func newMatcher(f Filter) *matcher {
	m := &matcher{f: f}
	if f.Match != uuid.Nil {
		m.matchStream = domain.MatchStream(f.Match)
	}
	if f.Member != uuid.Nil {
		m.memberStream = domain.MemberStream(f.Member)
		m.memberText = []byte(f.Member.String())
	}
	if len(f.Types) > 0 {
		m.types = make(map[string]bool, len(f.Types))
		for _, t := range f.Types {
			m.types[t] = true
		}
	}
	return m
}

func (m *matcher) match(ev *eventstore.RecordedEvent) bool {
	if m.matchStream != "" && ev.Stream != m.matchStream {
		return false
	}
	if m.types != nil && !m.types[ev.Type] {
		return false
	}
	at := ev.Metadata.OccurredAt
	if m.f.From != nil && at.Before(*m.f.From) {
		return false
	}
	if m.f.To != nil && !at.Before(*m.f.To) {
		return false
	}
	if m.memberStream != "" && ev.Stream != m.memberStream && !m.names(ev.Data) {
		return false
	}
	return true
}

// names reports whether data names the member in one of memberFields. The
// store holds IDs as lowercase text (as uuid.UUID marshals them), so data
// without that text is rejected before any parsing.
func (m *matcher) names(data []byte) bool {
	if !bytes.Contains(data, m.memberText) {
		return false
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(data, &fields) != nil {
		return false
	}
	for _, name := range memberFields {
		var s string
		if v, ok := fields[name]; ok && json.Unmarshal(v, &s) == nil {
			if id, err := uuid.Parse(s); err == nil && id == m.f.Member {
				return true
			}
		}
	}
	return false
}
