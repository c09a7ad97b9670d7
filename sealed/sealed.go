// Package sealed keeps members' personal data out of the event log in the
// clear. It wraps an event store: on append, every personal text of a
// domain event (see domain.Personal) is sealed under the key of the member
// it belongs to; on read, sealed texts are opened again, so that every
// reader above the wrapper (deciders, read models, the notifier, exports)
// sees plain events. A text of an erased member, whose key is gone, reads
// as "".
//
// Event types, IDs, times and the program's list values stay readable in
// the stored log, and the log's hash chain covers the sealed bytes, so
// verify passes without any key and keeps passing after an erasure.
//
// Sealing is deterministic (the same text of the same member seals to the
// same bytes), because the engines compare a retried append's data with
// what they stored.
package sealed

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/follow"
)

// Keys seals and opens texts; *keyring.Keyring is one (through Keyring).
type Keys interface {
	// Seal returns text sealed under member's key ("" stays "").
	Seal(ctx context.Context, member uuid.UUID, text string) (string, error)
	// Open returns a sealed text in the clear; erased reports that its
	// member's key was erased, and text is then "".
	Open(ctx context.Context, sealed string) (text string, erased bool, err error)
	// IsSealed reports whether s is a sealed text.
	IsSealed(s string) bool
	// Forget drops what is cached of member's key: another instance may
	// have erased it.
	Forget(member uuid.UUID)
}

// forgetErased drops the cached key of a member whose erasure rec
// records, so that this instance stops opening their texts even when
// another instance erased them.
func (s *Store) forgetErased(rec *eventstore.RecordedEvent) {
	if rec.Type != erasedType {
		return
	}
	var e struct {
		MemberID uuid.UUID `json:"memberId"`
	}
	if json.Unmarshal(rec.Data, &e) == nil && e.MemberID != uuid.Nil {
		s.keys.Forget(e.MemberID)
	}
}

var erasedType = domain.MemberErased{}.EventType()

// Store is an event store whose personal texts are sealed at rest.
type Store struct {
	eventstore.Store
	keys Keys
	// marker is how a sealed text starts inside stored JSON.
	marker []byte
	prefix string
}

var _ eventstore.Store = (*Store)(nil)

// Wrap seals the personal texts of events appended to s and opens them in
// events read from it. prefix is how every sealed text starts (a control
// character first, which no member's text may hold).
func Wrap(s eventstore.Store, keys Keys, prefix string) *Store {
	m, err := json.Marshal(prefix)
	if err != nil || len(m) < 2 {
		panic(fmt.Sprintf("sealed: prefix %q", prefix))
	}
	return &Store{Store: s, keys: keys, marker: m[1 : len(m)-1], prefix: prefix}
}

// Unwrap returns the wrapped store, for the commands that need the engine
// itself (backup, copy).
func (s *Store) Unwrap() eventstore.Store { return s.Store }

// Append implements eventstore.Store: it seals the events' personal texts
// and appends them.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	var sealed []eventstore.EventData
	for i, ev := range events {
		if !domain.IsPersonal(ev.Type) {
			continue
		}
		data, err := s.SealData(ctx, ev.Type, ev.SchemaVersion, ev.Data)
		if err != nil {
			return eventstore.AppendResult{}, err
		}
		if sealed == nil {
			sealed = append([]eventstore.EventData(nil), events...)
		}
		sealed[i].Data = data
	}
	if sealed != nil {
		events = sealed
	}
	return s.Store.Append(ctx, stream, expected, events...)
}

// SealData returns an event's JSON with its personal texts sealed. Texts
// that are sealed already stay as they are, so sealing twice changes
// nothing.
func (s *Store) SealData(ctx context.Context, typ string, schemaVersion int, data json.RawMessage) (json.RawMessage, error) {
	if bytes.Contains(data, s.marker) || schemaVersion != domain.SchemaVersion {
		// Sealed already (a copy of a sealed log, or a retry), or not of
		// a shape this program writes.
		return data, nil
	}
	ev, err := decode(typ, schemaVersion, data)
	if err != nil {
		return nil, fmt.Errorf("seal event: %w", err)
	}
	p, ok := ev.(domain.Personal)
	if !ok {
		return data, nil
	}
	var failed error
	out := p.MapPersonal(func(owner uuid.UUID, text string) string {
		if failed != nil || text == "" {
			return text
		}
		if owner == uuid.Nil {
			failed = fmt.Errorf("seal %s: a personal text without its member", typ)
			return text
		}
		sealedText, err := s.keys.Seal(ctx, owner, text)
		if err != nil {
			failed = fmt.Errorf("seal %s for member %s: %w", typ, owner, err)
			return text
		}
		return sealedText
	})
	if failed != nil {
		return nil, failed
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("seal %s: %w", typ, err)
	}
	return b, nil
}

// decode decodes an event to seal with the fast decoder the read models
// use, and with domain.Decode, the reference, for what the fast one leaves
// to it. The fast decoder is tested to read whatever it accepts exactly as
// the reference does.
func decode(typ string, schemaVersion int, data []byte) (domain.Event, error) {
	if ev, ok := follow.FastDecode(typ, schemaVersion, data); ok {
		return ev, nil
	}
	return domain.Decode(typ, schemaVersion, data)
}

// ReadStream implements eventstore.Store.
func (s *Store) ReadStream(ctx context.Context, stream string, opts eventstore.ReadStreamOptions) ([]eventstore.RecordedEvent, error) {
	recs, err := s.Store.ReadStream(ctx, stream, opts)
	if err != nil {
		return recs, err
	}
	return s.openAll(ctx, recs)
}

// ReadAll implements eventstore.Store.
func (s *Store) ReadAll(ctx context.Context, from eventstore.Position, limit int) ([]eventstore.RecordedEvent, error) {
	recs, err := s.Store.ReadAll(ctx, from, limit)
	if err != nil {
		return recs, err
	}
	return s.openAll(ctx, recs)
}

// openAll opens the sealed texts of recs; the slice is copied only when a
// record changes, since engines may share it.
func (s *Store) openAll(ctx context.Context, recs []eventstore.RecordedEvent) ([]eventstore.RecordedEvent, error) {
	var out []eventstore.RecordedEvent
	for i := range recs {
		s.forgetErased(&recs[i])
		data, err := s.OpenData(ctx, recs[i].Data)
		if err != nil {
			return nil, fmt.Errorf("open event %s at %d: %w", recs[i].Type, recs[i].Position, err)
		}
		if out == nil && len(data) == len(recs[i].Data) && (len(data) == 0 || &data[0] == &recs[i].Data[0]) {
			continue
		}
		if out == nil {
			out = append([]eventstore.RecordedEvent(nil), recs...)
		}
		out[i].Data = data
	}
	if out == nil {
		return recs, nil
	}
	return out, nil
}

// OpenData returns data with every sealed text opened; data itself when it
// holds none. A text of an erased member becomes "".
func (s *Store) OpenData(ctx context.Context, data json.RawMessage) (json.RawMessage, error) {
	i := bytes.Index(data, s.marker)
	if i < 0 {
		return data, nil
	}
	out := make([]byte, 0, len(data))
	for i >= 0 {
		// A sealed text is a whole JSON string: the marker follows the
		// opening quote, and base64 runs to the closing one.
		start := i
		end := start + len(s.marker)
		for end < len(data) && isBase64URL(data[end]) {
			end++
		}
		if start == 0 || data[start-1] != '"' || (start >= 2 && data[start-2] == '\\') || end >= len(data) || data[end] != '"' {
			out = append(out, data[:end]...)
		} else {
			text, err := s.open(ctx, s.prefix+string(data[start+len(s.marker):end]))
			if err != nil {
				return nil, err
			}
			out = append(out, data[:start]...)
			out = appendJSONText(out, text)
		}
		data = data[end:]
		i = bytes.Index(data, s.marker)
	}
	return append(out, data...), nil
}

// open opens a sealed text, and again while the result is sealed (a text
// about both partners of a match is sealed for each).
func (s *Store) open(ctx context.Context, sealedText string) (string, error) {
	for range 4 {
		text, erased, err := s.keys.Open(ctx, sealedText)
		if err != nil {
			return "", err
		}
		if erased {
			return "", nil
		}
		if !s.keys.IsSealed(text) {
			return text, nil
		}
		sealedText = text
	}
	return "", fmt.Errorf("a text sealed more than four times")
}

func isBase64URL(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

// appendJSONText appends s escaped as the inside of a JSON string (no
// quotes): the escapes encoding/json reads back to s.
func appendJSONText(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return b
}

// SubscribeAll implements eventstore.Store: the subscription's events come
// with their texts opened.
func (s *Store) SubscribeAll(ctx context.Context, from eventstore.Position) (eventstore.Subscription, error) {
	inner, err := s.Store.SubscribeAll(ctx, from)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	sub := &subscription{inner: inner, events: make(chan eventstore.RecordedEvent, subscriptionBuffer), cancel: cancel, done: make(chan struct{})}
	go sub.run(ctx, s)
	return sub, nil
}

// subscriptionBuffer is how many opened events a subscription holds for
// its reader, as the engines' own subscriptions do: a reader that drains
// what arrived (eventstore.Drain) then applies a group commit's events in
// one batch rather than one at a time.
const subscriptionBuffer = 256

type subscription struct {
	inner  eventstore.Subscription
	events chan eventstore.RecordedEvent
	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

func (sub *subscription) run(ctx context.Context, s *Store) {
	defer close(sub.done)
	defer close(sub.events)
	defer sub.inner.Close()
	for rec := range sub.inner.Events() {
		s.forgetErased(&rec)
		data, err := s.OpenData(ctx, rec.Data)
		if err != nil {
			sub.err = fmt.Errorf("open event %s at %d: %w", rec.Type, rec.Position, err)
			return
		}
		rec.Data = data
		select {
		case sub.events <- rec:
		case <-ctx.Done():
			return
		}
	}
	sub.err = sub.inner.Err()
}

func (sub *subscription) Events() <-chan eventstore.RecordedEvent { return sub.events }

func (sub *subscription) Err() error {
	<-sub.done
	return sub.err
}

func (sub *subscription) Close() {
	sub.cancel()
	sub.inner.Close()
	<-sub.done
}
