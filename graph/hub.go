package graph

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/projections"
)

// Change is a match event as subscribers hear of it.
type Change struct {
	Position   eventstore.Position
	Type       string
	MatchID    uuid.UUID
	MenteeID   uuid.UUID
	MentorID   uuid.UUID
	OccurredAt time.Time
	// Author, when set, is the only partner who hears of the change: a
	// session is private to whoever logged it.
	Author uuid.UUID
	// Status is the status the change moves its match to; "" when it
	// leaves the status as it was.
	Status domain.MatchStatus
}

// heardBy reports whether member hears of c among their own matches.
func (c Change) heardBy(member uuid.UUID) bool {
	if c.Author != uuid.Nil {
		return c.Author == member
	}
	return c.MenteeID == member || c.MentorID == member
}

// MatchLookup finds a match's partners for the changes whose events do not
// name both (documents); the matches read model is one.
type MatchLookup interface {
	Match(id uuid.UUID) (*projections.MatchView, bool, error)
}

// Hub is the in-process pub/sub of match changes. A subscriber that does
// not keep up is dropped rather than slowing everyone down: its channel is
// closed.
type Hub struct {
	mu      sync.RWMutex
	subs    map[*HubSubscription]struct{}
	pos     atomic.Uint64
	matches MatchLookup
}

// NewHub returns a hub whose notifier starts at position from: changes at
// or before it were published by an earlier process. matches, applied
// before the hub's notifier, names the partners of document changes; with
// nil they reach only those who follow the match itself.
func NewHub(from eventstore.Position, matches MatchLookup) *Hub {
	h := &Hub{subs: map[*HubSubscription]struct{}{}, matches: matches}
	h.pos.Store(uint64(from))
	return h
}

// HubSubscription receives the changes its filter keeps.
type HubSubscription struct {
	// C delivers the changes of a subscription made with Subscribe.
	C    <-chan Change
	keep func(Change) bool
	send func(Change) bool
	done func()
	hub  *Hub
	once sync.Once
}

// Subscribe registers a subscriber with a buffer of size changes.
func (h *Hub) Subscribe(keep func(Change) bool, size int) *HubSubscription {
	c := make(chan Change, size)
	s := h.Forward(keep, func(ch Change) bool {
		select {
		case c <- ch:
			return true
		default:
			return false
		}
	}, func() { close(c) })
	s.C = c
	return s
}

// Forward registers a subscriber that takes each change it keeps through
// send, with no goroutine of its own between the hub and it: send must not
// block, and returns false when the subscriber cannot take more, which
// drops it. done runs once, when the subscription ends (closed, or dropped
// for being slow); after it, send is not called again.
func (h *Hub) Forward(keep, send func(Change) bool, done func()) *HubSubscription {
	s, _ := h.Join(keep, send, done)
	return s
}

// Join registers a subscriber as Forward does and returns the hub's
// position at that moment: the subscriber hears of every change after it
// and of none at or before it, so that one catching up from the log reads
// up to it and joins without a gap or a duplicate.
func (h *Hub) Join(keep, send func(Change) bool, done func()) (*HubSubscription, eventstore.Position) {
	s := &HubSubscription{keep: keep, send: send, done: done, hub: h}
	h.mu.Lock()
	h.subs[s] = struct{}{}
	pos := eventstore.Position(h.pos.Load())
	h.mu.Unlock()
	return s, pos
}

// Close unregisters the subscriber.
func (s *HubSubscription) Close() {
	s.hub.mu.Lock()
	delete(s.hub.subs, s)
	s.hub.mu.Unlock()
	s.once.Do(s.done)
}

// Subscribers counts the current subscribers.
func (h *Hub) Subscribers() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.subs)
}

// publish hands c to the subscribers that keep it and moves the hub's
// position to c's under the same lock, so that Join sees either both or
// neither.
func (h *Hub) publish(c Change) {
	var slow []*HubSubscription
	h.mu.RLock()
	for s := range h.subs {
		if !s.keep(c) {
			continue
		}
		if !s.send(c) {
			slow = append(slow, s)
		}
	}
	h.pos.Store(uint64(c.Position))
	h.mu.RUnlock()
	for _, s := range slow {
		s.Close()
	}
}

// Notifier returns the projection that feeds the hub. Register it after the
// read models, so that subscribers who query on a change see it applied.
func (h *Hub) Notifier() projections.Projection { return notifier{h} }

type notifier struct{ h *Hub }

func (n notifier) Name() string { return "notifier" }

func (n notifier) Position() eventstore.Position { return eventstore.Position(n.h.pos.Load()) }

func (n notifier) Apply(events []projections.Event) error {
	for i := range events {
		ev := &events[i]
		if uint64(ev.Position) <= n.h.pos.Load() {
			continue
		}
		if c, ok := n.h.changeOf(ev); ok {
			n.h.publish(c)
			continue
		}
		n.h.pos.Store(uint64(ev.Position))
	}
	return nil
}

// changeOf picks the events subscribers hear of: the changes of a match,
// and the accounts' closure requests and erasures for the staff dashboard.
func (h *Hub) changeOf(ev *projections.Event) (Change, bool) {
	c := Change{Position: ev.Position, Type: ev.Type, OccurredAt: ev.Meta.OccurredAt}
	switch e := ev.Data.(type) {
	case domain.MatchChange:
		c.MatchID = e.MatchOf()
		if s, ok := e.(domain.StatusEvent); ok {
			c.Status = s.MatchStatus()
		}
		switch p := e.(type) {
		case domain.PrivateEvent:
			c.Author = p.Author()
		case domain.PartnerEvent:
			c.MenteeID, c.MentorID = p.Partners()
		default:
			// Documents name neither partner.
			c.MenteeID, c.MentorID = h.partners(c.MatchID)
		}
	case domain.ClosureEvent:
		// No match and no partner: only the dashboard, which shows the
		// staff queue's closure requests, hears of it.
	default:
		return c, false
	}
	return c, true
}

// partners looks a match's partners up. When a shared read model cannot
// answer, the change reaches only the match's own followers rather than
// stopping the feed.
func (h *Hub) partners(id uuid.UUID) (mentee, mentor uuid.UUID) {
	if h.matches == nil {
		return uuid.Nil, uuid.Nil
	}
	m, ok, err := h.matches.Match(id)
	if err != nil || !ok {
		return uuid.Nil, uuid.Nil
	}
	return m.MenteeID, m.MentorID
}
