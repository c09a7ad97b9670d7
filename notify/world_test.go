package notify

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/mentorship/mentorship/clock"
	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/eventstore/bolt"
	mailport "github.com/mentorship/mentorship/mail"
)

// world is the program on the real embedded store, driven by a seeded
// random walk of commands, so that every event is one the program's rules
// decide, with the time marks the process manager would append. Commands
// the rules refuse are part of the walk.
type world struct {
	t       *testing.T
	r       *rand.Rand
	ctx     context.Context
	store   eventstore.Store
	svc     *command.Service
	clock   *clock.Fake
	staff   domain.Actor
	mentees []domain.Actor
	mentors []domain.Actor
	matches []pair
}

// pair is a match the walk requested.
type pair struct {
	id             uuid.UUID
	mentee, mentor domain.Actor
}

func newWorld(t *testing.T, seed uint64) *world {
	t.Helper()
	// The history is test data: its store skips fsync.
	store, err := bolt.Open(t.TempDir(), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	w := &world{t: t, r: rand.New(rand.NewPCG(seed, 0x5eed)), ctx: context.Background(), store: store, clock: clock.NewFake(at)}
	if w.svc, err = command.New(store, domain.DefaultProgram(), w.clock, command.Options{}); err != nil {
		t.Fatal(err)
	}
	w.staff = domain.Actor{ID: uuid.New(), Role: domain.RoleStaff}
	if _, err := w.svc.RegisterMember(w.ctx, command.Request{Actor: domain.SystemActor()}, w.staff.ID, domain.RoleStaff, "Sam Staff", "sam@example.org"); err != nil {
		t.Fatal(err)
	}
	for i := range 12 {
		w.mentors = append(w.mentors, w.join(domain.RoleMentor, i))
	}
	for i := range 30 {
		w.mentees = append(w.mentees, w.join(domain.RoleMentee, i))
	}
	return w
}

func (w *world) join(role domain.Role, i int) domain.Actor {
	w.t.Helper()
	a := domain.Actor{ID: uuid.New(), Role: role}
	login := fmt.Sprintf("%s%d@members.example.org", role, i)
	if _, err := w.svc.RegisterMember(w.ctx, command.Request{Actor: a}, a.ID, role, fmt.Sprintf("%s %d", role, i), login); err != nil {
		w.t.Fatal(err)
	}
	w.profile(a)
	return a
}

// profile saves a new profile for a, with a name and contact details
// drawn anew, which later emails must quote.
func (w *world) profile(a domain.Actor) {
	w.t.Helper()
	n := w.r.IntN(1000)
	contact := domain.Contact{Email: fmt.Sprintf("c%d@home.example", n), PreferredMethod: domain.ContactEmail}
	if w.r.IntN(2) == 0 {
		contact.Phone, contact.PreferredMethod = fmt.Sprintf("+1 604 555 %04d", n), domain.ContactPhone
	}
	profile := domain.Profile{Name: fmt.Sprintf("Member %d", n), Contact: contact}
	if _, err := w.svc.UpdateProfile(w.ctx, command.Request{Actor: a}, a.ID, profile); err != nil {
		w.t.Fatal(err)
	}
}

// step runs one random command, or moves the clock.
func (w *world) step() {
	w.t.Helper()
	ctx, r := w.ctx, w.r
	pick := func(as []domain.Actor) domain.Actor { return as[r.IntN(len(as))] }
	var m pair
	if len(w.matches) > 0 {
		// Recent matches are picked more often, as they are the ones
		// still open.
		m = w.matches[len(w.matches)-1-min(r.IntN(len(w.matches)), r.IntN(12))]
	}
	switch k := r.IntN(40); {
	case k < 10:
		mentee, mentor := pick(w.mentees), pick(w.mentors)
		if id, _, err := w.svc.RequestMatch(ctx, command.Request{Actor: mentee}, mentor.ID, fmt.Sprintf("Hello %d", r.IntN(100))); err == nil {
			w.matches = append(w.matches, pair{id: id, mentee: mentee, mentor: mentor})
		}
	case k < 16 && m.id != uuid.Nil:
		_, _ = w.svc.AcceptMatch(ctx, command.Request{Actor: m.mentor}, m.id)
	case k < 18 && m.id != uuid.Nil:
		reasons := w.svc.Program().DeclineReasons
		_, _ = w.svc.DeclineMatch(ctx, command.Request{Actor: m.mentor}, m.id, reasons[r.IntN(len(reasons))], "Sorry")
	case k < 20 && m.id != uuid.Nil:
		_, _ = w.svc.CancelMatch(ctx, command.Request{Actor: m.mentee}, m.id)
	case k < 22 && m.id != uuid.Nil:
		_, _ = w.svc.RequestNudge(ctx, command.Request{Actor: m.mentee}, m.id)
		_, _ = w.svc.NudgeMentor(ctx, command.Request{Actor: w.staff}, m.id, "")
	case k < 23 && m.id != uuid.Nil:
		reasons := w.svc.Program().EndReasons
		requestedBy := m.mentee
		if r.IntN(2) == 0 {
			requestedBy = m.mentor
		}
		_, _ = w.svc.EndMatch(ctx, command.Request{Actor: w.staff}, m.id, reasons[r.IntN(len(reasons))], requestedBy.ID, "")
	case k < 27 && m.id != uuid.Nil:
		// The time rules, as the process manager runs them once due.
		_, _ = w.svc.MarkResponseWindowElapsed(ctx, m.id)
		_, _ = w.svc.RemindFirstMeeting(ctx, m.id)
		_, _ = w.svc.CompleteTerm(ctx, m.id)
		_, _ = w.svc.RequestProfileReview(ctx, m.id)
	case k < 31:
		w.profile(pick(append(w.mentees[:len(w.mentees):len(w.mentees)], w.mentors...)))
	case k < 39:
		w.clock.Advance(time.Duration(r.IntN(48)) * time.Hour)
	default:
		w.clock.Advance(time.Duration(5+r.IntN(20)) * 24 * time.Hour)
	}
}

func (w *world) head() eventstore.Position {
	w.t.Helper()
	h, err := w.store.Head(w.ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	return h
}

// open opens a notifier over store with its outbox in dir, saving its
// state every testSaveEvery events.
func (w *world) open(dir string, store eventstore.Store, sender mailport.Sender, log zerolog.Logger) *Notifier {
	w.t.Helper()
	n, err := Open(dir, store, sender, w.clock, Options{
		Settings: Settings{ProgramName: "Mentoring", StaffEmail: "staff@example.org", FrontendURL: "https://mentoring.example.org"},
		Logger:   log, MaxRetries: 2,
	})
	if err != nil {
		w.t.Fatal(err)
	}
	n.saveEvery = testSaveEvery
	w.t.Cleanup(func() { _ = n.Close() })
	return n
}

func (w *world) tick(n *Notifier) {
	w.t.Helper()
	if err := n.Tick(w.ctx); err != nil {
		w.t.Fatalf("tick: %v", err)
	}
}

// recordingSender keeps every email it is given, by ID.
type recordingSender struct {
	mu   sync.Mutex
	sent map[string][]mailport.Message
}

func (s *recordingSender) Send(_ context.Context, m mailport.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sent == nil {
		s.sent = map[string][]mailport.Message{}
	}
	s.sent[m.ID] = append(s.sent[m.ID], m)
	return nil
}

// byID returns the emails sent, one per ID, and the IDs sent more than
// once.
func (s *recordingSender) byID() (map[string]mailport.Message, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]mailport.Message{}
	var twice []string
	for id, ms := range s.sent {
		out[id] = ms[0]
		if len(ms) > 1 {
			twice = append(twice, id)
		}
	}
	return out, twice
}

// countingStore counts the events ReadAll returns and notes the earliest.
type countingStore struct {
	eventstore.Store
	mu     sync.Mutex
	events int
	first  eventstore.Position
}

func (s *countingStore) ReadAll(ctx context.Context, from eventstore.Position, limit int) ([]eventstore.RecordedEvent, error) {
	recs, err := s.Store.ReadAll(ctx, from, limit)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range recs {
		if s.events == 0 || r.Position < s.first {
			s.first = r.Position
		}
		s.events++
	}
	return recs, err
}

// SubscribeAll counts the events the subscription delivers, as ReadAll
// counts those it reads: the runner catches up with either.
func (s *countingStore) SubscribeAll(ctx context.Context, from eventstore.Position) (eventstore.Subscription, error) {
	sub, err := s.Store.SubscribeAll(ctx, from)
	if err != nil {
		return nil, err
	}
	c := &countingSub{Subscription: sub, ch: make(chan eventstore.RecordedEvent), done: make(chan struct{}), stop: make(chan struct{})}
	go func() {
		defer close(c.done)
		defer close(c.ch)
		for r := range sub.Events() {
			s.mu.Lock()
			if s.events == 0 || r.Position < s.first {
				s.first = r.Position
			}
			s.events++
			s.mu.Unlock()
			select {
			case c.ch <- r:
			case <-ctx.Done():
				return
			case <-c.stop:
				return
			}
		}
	}()
	return c, nil
}

type countingSub struct {
	eventstore.Subscription
	ch   chan eventstore.RecordedEvent
	done chan struct{}
	stop chan struct{}
	once sync.Once
}

func (c *countingSub) Events() <-chan eventstore.RecordedEvent { return c.ch }

func (c *countingSub) Close() {
	c.once.Do(func() { close(c.stop) })
	c.Subscription.Close()
	<-c.done
}

func (s *countingStore) read() (int, eventstore.Position) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.events, s.first
}
