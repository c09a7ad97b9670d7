package domain

import (
	"encoding/json"
	"slices"
)

// auditKept names, for each event type that holds personal data, the
// fields of its data an auditor sees: identifiers, roles, display names,
// reasons, counts and times, never contact details, login emails,
// biographies, free text or file names. The lists name what to keep
// rather than what to drop, so that a personal field a later version
// adds stays out until someone decides otherwise. Session events are
// summarised for everyone (only their author reads the notes) by the
// readers of the log themselves.
var auditKept = map[string][]string{
	MemberRegistered{}.EventType():  {"memberId", "role", "name", "capacity", "accepting", "at"},
	ProfileUpdated{}.EventType():    {"memberId", "at"},
	RequestSlotTaken{}.EventType():  {"memberId", "matchId", "mentorId", "at"},
	MatchRequested{}.EventType():    {"matchId", "menteeId", "mentorId", "at"},
	MatchDeclined{}.EventType():     {"matchId", "menteeId", "mentorId", "reason", "at"},
	MentorNudged{}.EventType():      {"matchId", "menteeId", "mentorId", "staffId", "at"},
	MatchEnded{}.EventType():        {"matchId", "menteeId", "mentorId", "reason", "requestedBy", "staffId", "at"},
	MatchEndRequested{}.EventType(): {"matchId", "menteeId", "mentorId", "requestedBy", "reason", "at"},
	DocumentAdded{}.EventType():     {"matchId", "documentId", "uploaderId", "size", "contentType", "sha256", "version", "at"},
	DocumentRemoved{}.EventType():   {"matchId", "documentId", "removedBy", "uploaderId", "version", "at"},
	// A closure request's note is for staff, like a request's message.
	AccountClosureRequested{}.EventType(): {"memberId", "at"},
}

// AuditView returns what an auditor may see of an event's stored data, and
// whether that differs from the data. A profile keeps its display name.
// Data of such a type that is not a JSON object is withheld whole (JSON
// null).
func AuditView(eventType string, data []byte) ([]byte, bool) {
	kept, ok := auditKept[eventType]
	if !ok {
		return data, false
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return []byte("null"), true
	}
	for k := range fields {
		if !slices.Contains(kept, k) {
			delete(fields, k)
		}
	}
	if eventType == (ProfileUpdated{}).EventType() {
		var p struct {
			Profile struct {
				Name string `json:"name"`
			} `json:"profile"`
		}
		if json.Unmarshal(data, &p) == nil {
			fields["profile"], _ = json.Marshal(map[string]string{"name": p.Profile.Name})
		}
	}
	out, err := json.Marshal(fields)
	if err != nil {
		return []byte("null"), true
	}
	return out, true
}
