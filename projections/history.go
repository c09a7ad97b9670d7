package projections

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
)

// ErrNotFound is returned for a match with no history.
var ErrNotFound = errors.New("not found")

// HistoryEntry is one event of a match's history as auditors see it.
type HistoryEntry struct {
	Position   eventstore.Position
	Revision   eventstore.Revision
	Type       string
	ActorID    string
	ActorRole  string
	OccurredAt time.Time
	RecordedAt time.Time
	// Data is the event's public data as JSON. Session logs show the date
	// and length only: notes and the perceived value stay private to their
	// author.
	Data json.RawMessage
}

// publicSession is what the history shows of a meeting log.
type publicSession struct {
	MatchID   uuid.UUID   `json:"matchId"`
	SessionID uuid.UUID   `json:"sessionId"`
	AuthorID  uuid.UUID   `json:"authorId"`
	Date      domain.Date `json:"date"`
	Minutes   int         `json:"minutes,omitempty"`
	At        time.Time   `json:"at"`
}

// MatchHistory reads every event of a match in order.
func MatchHistory(ctx context.Context, store eventstore.Store, matchID uuid.UUID) ([]HistoryEntry, error) {
	recs, err := store.ReadStream(ctx, domain.MatchStream(matchID), eventstore.ReadStreamOptions{})
	if errors.Is(err, eventstore.ErrStreamNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("match history: %w", err)
	}
	out := make([]HistoryEntry, 0, len(recs))
	for _, rec := range recs {
		ev, err := domain.Decode(rec.Type, rec.SchemaVersion, rec.Data)
		if err != nil {
			return nil, fmt.Errorf("match history: %w", err)
		}
		data := json.RawMessage(rec.Data)
		switch e := ev.(type) {
		case domain.SessionLogged:
			data, err = json.Marshal(publicSession{e.MatchID, e.SessionID, e.AuthorID, e.Details.Date, e.Details.Minutes, e.At})
		case domain.SessionEdited:
			data, err = json.Marshal(publicSession{e.MatchID, e.SessionID, e.AuthorID, e.Details.Date, e.Details.Minutes, e.At})
		}
		if err != nil {
			return nil, err
		}
		out = append(out, HistoryEntry{Position: rec.Position, Revision: rec.Revision, Type: rec.Type,
			ActorID: rec.Metadata.ActorID, ActorRole: rec.Metadata.ActorRole,
			OccurredAt: rec.Metadata.OccurredAt, RecordedAt: rec.Metadata.RecordedAt, Data: data})
	}
	return out, nil
}

// AsOf selects a moment of history: a time (events that occurred at or
// before it) or a global position (events at or before it). The zero value
// means now. Time is a pointer so that the zero time, before every event,
// is not taken for no time at all.
type AsOf struct {
	// Time is nil for no limit in time.
	Time *time.Time
	// Position is 0 for no limit in the log.
	Position eventstore.Position
}

func (a AsOf) includes(rec eventstore.RecordedEvent) bool {
	if a.Position != 0 && rec.Position > a.Position {
		return false
	}
	if a.Time != nil && rec.Metadata.OccurredAt.After(*a.Time) {
		return false
	}
	return true
}

// MatchAsOf computes a match's state at a moment from its events, and the
// position of the last event included.
func MatchAsOf(ctx context.Context, store eventstore.Store, matchID uuid.UUID, at AsOf) (domain.Match, eventstore.Position, error) {
	recs, err := store.ReadStream(ctx, domain.MatchStream(matchID), eventstore.ReadStreamOptions{})
	if errors.Is(err, eventstore.ErrStreamNotFound) {
		return domain.Match{}, 0, ErrNotFound
	}
	if err != nil {
		return domain.Match{}, 0, fmt.Errorf("match as of: %w", err)
	}
	var m domain.Match
	var last eventstore.Position
	for _, rec := range recs {
		if !at.includes(rec) {
			break
		}
		ev, err := domain.Decode(rec.Type, rec.SchemaVersion, rec.Data)
		if err != nil {
			return m, 0, fmt.Errorf("match as of: %w", err)
		}
		m = domain.EvolveMatch(m, ev)
		// Only a MatchChange moves the match's position (the profile
		// review prompted after an end changes the partners), as in
		// the read models.
		if domain.Is[domain.MatchChange](rec.Type) {
			last = rec.Position
		}
	}
	if !m.Exists() {
		return m, 0, ErrNotFound
	}
	return m, last, nil
}

// PositionSeenBy is the position of the latest change of a match, up to
// upTo, that a partner of it may hear of: the other partner's private
// events (their sessions, logged or edited) are left out, as the
// subscriptions leave them out.
func PositionSeenBy(ctx context.Context, store eventstore.Store, matchID uuid.UUID, upTo eventstore.Position, partner uuid.UUID) (eventstore.Position, error) {
	recs, err := store.ReadStream(ctx, domain.MatchStream(matchID), eventstore.ReadStreamOptions{})
	if errors.Is(err, eventstore.ErrStreamNotFound) {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("position seen by a partner: %w", err)
	}
	var last eventstore.Position
	for _, rec := range recs {
		if rec.Position > upTo {
			break
		}
		if !domain.Is[domain.MatchChange](rec.Type) {
			continue
		}
		if domain.Is[domain.PrivateEvent](rec.Type) {
			ev, err := domain.Decode(rec.Type, rec.SchemaVersion, rec.Data)
			if err != nil {
				return 0, fmt.Errorf("position seen by a partner: %w", err)
			}
			if p, ok := ev.(domain.PrivateEvent); !ok || p.Author() != partner {
				continue
			}
		}
		last = rec.Position
	}
	return last, nil
}
