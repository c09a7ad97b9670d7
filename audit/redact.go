package audit

import (
	"encoding/json"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
)

// privateTypes are the event types that hold what only their author may
// read: a session log's notes and perceived value. Exports carry their
// date and length only.
var privateTypes = map[string]bool{
	domain.SessionLogged{}.EventType(): true,
	domain.SessionEdited{}.EventType(): true,
}

// sessionSummary is what an export keeps of a session event. It names the
// fields to keep rather than the ones to drop, so that a private field a
// later schema version adds stays out of exports until someone decides
// otherwise. Kept fields must hold plain strings and numbers, so nothing
// can travel inside them either.
type sessionSummary struct {
	MatchID   string `json:"matchId,omitempty"`
	SessionID string `json:"sessionId,omitempty"`
	AuthorID  string `json:"authorId,omitempty"`
	Details   struct {
		Date    string      `json:"date,omitempty"`
		Minutes json.Number `json:"minutes,omitempty"`
	} `json:"details"`
	At string `json:"at,omitempty"`
}

// exportData returns the data an export may carry for ev, and whether it
// differs from the stored data. The data of a private event that cannot
// be read as a session is withheld entirely (JSON null).
func exportData(ev *eventstore.RecordedEvent) (json.RawMessage, bool) {
	if !privateTypes[ev.Type] {
		return ev.Data, false
	}
	var s sessionSummary
	if err := json.Unmarshal(ev.Data, &s); err != nil {
		return json.RawMessage("null"), true
	}
	out, err := json.Marshal(s)
	if err != nil {
		return json.RawMessage("null"), true
	}
	return out, true
}
