package command

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/clock"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/eventstore/bolt"
	"github.com/mentorship/mentorship/refusal"
)

// activeMatch returns a match between a new mentee and a new mentor that
// the mentor accepted, a day before the fixture's clock.
func (f *fixture) activeMatch(t *testing.T) (mentee, mentor domain.Actor, matchID uuid.UUID) {
	t.Helper()
	ctx := context.Background()
	mentee, mentor = f.register(t, domain.RoleMentee), f.register(t, domain.RoleMentor)
	matchID, _, err := f.svc.RequestMatch(ctx, Request{Actor: mentee}, mentor.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.AcceptMatch(ctx, Request{Actor: mentor}, matchID); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(24 * time.Hour)
	return mentee, mentor, matchID
}

func withID(a domain.Actor, id, input string) Request {
	return Request{Actor: a, CommandID: a.ID.String() + ":" + id, Input: input}
}

// A retry that arrives after a newer change must not undo it: the first
// run's events on the stream mark the command as done for good.
func TestReplayAfterNewerEditIsNotApplied(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	mentee, _, matchID := f.activeMatch(t)
	date := f.svc.Program().Today(f.clock.Now())
	sessionID := uuid.New()
	if _, err := f.svc.LogSession(ctx, Request{Actor: mentee}, matchID, sessionID, domain.SessionDetails{Date: date, Minutes: 10}); err != nil {
		t.Fatal(err)
	}
	edit := func(id string, minutes int) (Result, error) {
		return f.svc.EditSession(ctx, withID(mentee, id, "minutes="+string(rune('0'+minutes/10))), matchID, sessionID, domain.SessionDetails{Date: date, Minutes: minutes})
	}
	minutes := func() int {
		t.Helper()
		recs, err := f.store.ReadStream(ctx, domain.MatchStream(matchID), eventstore.ReadStreamOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got := -1
		for _, rec := range recs {
			ev, err := domain.Decode(rec.Type, rec.SchemaVersion, rec.Data)
			if err != nil {
				t.Fatal(err)
			}
			switch e := ev.(type) {
			case domain.SessionLogged:
				got = e.Details.Minutes
			case domain.SessionEdited:
				got = e.Details.Minutes
			}
		}
		return got
	}
	if _, err := edit("x1", 20); err != nil {
		t.Fatal(err)
	}
	if _, err := edit("x2", 30); err != nil {
		t.Fatal(err)
	}
	head := f.head(t)
	res, err := edit("x1", 20)
	if err != nil {
		t.Fatalf("replay of x1: %v", err)
	}
	if got := minutes(); got != 30 {
		t.Fatalf("replaying x1 after x2 set minutes back to %d; want x2's 30 kept", got)
	}
	if f.head(t) != head {
		t.Fatalf("replay of x1 wrote events: head %d -> %d", head, f.head(t))
	}
	if res.Position != head {
		t.Fatalf("replay answered position %d; want the stream's last event at %d, for read-your-writes", res.Position, head)
	}
}

func TestReplayOfProfileAndCapacityAfterNewerChange(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	mentor := f.register(t, domain.RoleMentor)
	for _, c := range []struct {
		id       string
		capacity int
	}{{"c1", 2}, {"c2", 3}, {"c1", 2}} {
		if _, err := f.svc.SetMentorCapacity(ctx, withID(mentor, c.id, "cap"+string(rune('0'+c.capacity))), mentor.ID, c.capacity); err != nil {
			t.Fatalf("%s: %v", c.id, err)
		}
	}
	if got := f.member(t, mentor.ID).Capacity(); got != 3 {
		t.Fatalf("capacity %d after c1, c2, c1 again; want c2's 3", got)
	}
	city := func(id, c string) error {
		_, err := f.svc.UpdateProfile(ctx, withID(mentor, id, "city="+c), mentor.ID, domain.Profile{Name: "Mentor", Location: domain.Location{City: c}})
		return err
	}
	for _, step := range [][2]string{{"p1", "Aylmer"}, {"p2", "Barrie"}, {"p1", "Aylmer"}} {
		if err := city(step[0], step[1]); err != nil {
			t.Fatalf("%s: %v", step[0], err)
		}
	}
	if got := f.member(t, mentor.ID).Profile().Location.City; got != "Barrie" {
		t.Fatalf("city %q after p1, p2, p1 again; want p2's Barrie", got)
	}
}

// The same client ID with a different request is refused, changing
// nothing, and the first request's ID keeps answering as a retry.
func TestReusedIDWithOtherInputIsRefused(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	mentor := f.register(t, domain.RoleMentor)
	if _, err := f.svc.SetMentorCapacity(ctx, withID(mentor, "c1", "cap2"), mentor.ID, 2); err != nil {
		t.Fatal(err)
	}
	head := f.head(t)
	_, err := f.svc.SetMentorCapacity(ctx, withID(mentor, "c1", "cap4"), mentor.ID, 4)
	if refusal.CodeOf(err) != CodeCommandIDReused {
		t.Fatalf("same ID, other input: err %v; want %s", err, CodeCommandIDReused)
	}
	// Another command under the same ID on the same stream is a reuse too.
	_, err = f.svc.SetAcceptingRequests(ctx, withID(mentor, "c1", "off"), mentor.ID, false)
	if refusal.CodeOf(err) != CodeCommandIDReused {
		t.Fatalf("same ID, other command: err %v; want %s", err, CodeCommandIDReused)
	}
	if f.head(t) != head || f.member(t, mentor.ID).Capacity() != 2 {
		t.Fatalf("refused reuse changed something: head %d -> %d, capacity %d", head, f.head(t), f.member(t, mentor.ID).Capacity())
	}
	if _, err := f.svc.SetMentorCapacity(ctx, withID(mentor, "c1", "cap2"), mentor.ID, 2); err != nil {
		t.Fatalf("retry of the first request: %v", err)
	}
	// Another member's same client ID is theirs.
	other := f.register(t, domain.RoleMentor)
	if _, err := f.svc.SetMentorCapacity(ctx, withID(other, "c1", "cap4"), other.ID, 4); err != nil {
		t.Fatalf("another member's c1: %v", err)
	}
}

// A request refused at first changed nothing, so its ID is still free.
func TestRefusedRequestLeavesItsIDFree(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	mentor := f.register(t, domain.RoleMentor)
	if _, err := f.svc.SetMentorCapacity(ctx, withID(mentor, "c1", "cap-1"), mentor.ID, -1); refusal.CodeOf(err) == "" {
		t.Fatalf("capacity -1: err %v; want a refusal", err)
	}
	if _, err := f.svc.SetMentorCapacity(ctx, withID(mentor, "c1", "cap3"), mentor.ID, 3); err != nil {
		t.Fatalf("c1 after its refusal: %v", err)
	}
	if got := f.member(t, mentor.ID).Capacity(); got != 3 {
		t.Fatalf("capacity %d, want 3", got)
	}
}

// Retries of a match request, of an accept and of a session log answer as
// the first run did, also after later changes on the same streams.
func TestReplayOfTwoStreamCommands(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	mentee, mentor := f.register(t, domain.RoleMentee), f.register(t, domain.RoleMentor)
	matchID, _, err := f.svc.RequestMatch(ctx, withID(mentee, "r1", "m"), mentor.ID, "hi")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.AcceptMatch(ctx, withID(mentor, "a1", "a"), matchID); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(24 * time.Hour)
	head := f.head(t)
	again, _, err := f.svc.RequestMatch(ctx, withID(mentee, "r1", "m"), mentor.ID, "hi")
	if err != nil || again != matchID {
		t.Fatalf("replayed request after the accept: match %s (want %s), err %v", again, matchID, err)
	}
	if _, err := f.svc.AcceptMatch(ctx, withID(mentor, "a1", "a"), matchID); err != nil {
		t.Fatalf("replayed accept: %v", err)
	}
	if f.head(t) != head {
		t.Fatalf("replays wrote events: head %d -> %d", head, f.head(t))
	}
	if m := f.match(t, matchID); m.Status() != domain.StatusActive {
		t.Fatalf("status %s after replays", m.Status())
	}
	// The same ID for a request of another mentor is refused.
	other := f.register(t, domain.RoleMentor)
	if _, _, err := f.svc.RequestMatch(ctx, withID(mentee, "r1", "m2"), other.ID, "hi"); refusal.CodeOf(err) != CodeCommandIDReused {
		t.Fatalf("r1 for another mentor: err %v; want %s", err, CodeCommandIDReused)
	}
}

// Identical retries racing each other apply once; racing requests under
// one ID with different inputs apply one of them and refuse the rest.
func TestRaceRetriesApplyOnce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	mentor := f.register(t, domain.RoleMentor)
	if _, err := f.svc.SetMentorCapacity(ctx, withID(mentor, "c0", "cap1"), mentor.ID, 1); err != nil {
		t.Fatal(err)
	}
	head := f.head(t)
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			_, errs[i] = f.svc.SetMentorCapacity(ctx, withID(mentor, "c1", "cap3"), mentor.ID, 3)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("retry %d: %v", i, err)
		}
	}
	if got := f.head(t) - head; got != 1 {
		t.Fatalf("%d identical retries wrote %d events; want 1", n, got)
	}

	// Capacities 4 to 9: none is a no-op on the capacity 3 set above.
	head = f.head(t)
	errs = errs[:6]
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = f.svc.SetMentorCapacity(ctx, withID(mentor, "c2", "cap"+string(rune('4'+i))), mentor.ID, 4+i)
		})
	}
	wg.Wait()
	applied := 0
	for i, err := range errs {
		switch refusal.CodeOf(err) {
		case "":
			if err != nil {
				t.Fatalf("request %d: %v", i, err)
			}
			applied++
		case CodeCommandIDReused:
		default:
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if applied != 1 || f.head(t)-head != 1 {
		t.Fatalf("%d requests under one ID: %d applied, %d events; want 1 and 1", len(errs), applied, f.head(t)-head)
	}
}

// A stream's marks stay complete however they were added, across the
// flattening of a long chain.
func TestMarkChainKeepsEveryMark(t *testing.T) {
	var c *markChunk
	var ids []uuid.UUID
	for i := range 3*maxMarkChain + 5 {
		fresh := make([]mark, 1+i%3)
		for j := range fresh {
			fresh[j] = mark{id: uuid.New(), cause: uint64(i)}
			ids = append(ids, fresh[j].id)
		}
		c = c.extend(fresh)
		if c.depth > maxMarkChain {
			t.Fatalf("chain of %d chunks", c.depth)
		}
	}
	seen := map[uuid.UUID]bool{}
	for k := c; k != nil; k = k.prev {
		for _, m := range k.marks {
			seen[m.id] = true
		}
	}
	if len(seen) != len(ids) || c.total != len(ids) {
		t.Fatalf("%d marks kept of %d (total %d)", len(seen), len(ids), c.total)
	}
	for _, id := range ids {
		if !seen[id] {
			t.Fatalf("mark %s lost", id)
		}
	}
	if c.extend(nil) != c {
		t.Fatal("extending by nothing made a new chain")
	}
}

// A retry still finds its first run after many later changes on the
// stream, whether they were read one at a time or all at once.
func TestReplayFoundAfterManyChanges(t *testing.T) {
	for _, cached := range []int{0, -1} {
		store, err := bolt.Open(t.TempDir(), bolt.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = store.Close() })
		svc, err := New(store, domain.DefaultProgram(), clock.NewFake(t0), Options{CachedStreams: cached})
		if err != nil {
			t.Fatal(err)
		}
		f := &fixture{svc: svc, store: store}
		ctx := context.Background()
		mentor := f.register(t, domain.RoleMentor)
		if _, err := f.svc.SetMentorCapacity(ctx, withID(mentor, "first", "cap2"), mentor.ID, 2); err != nil {
			t.Fatal(err)
		}
		for i := range 3 * maxMarkChain {
			if _, err := f.svc.SetAcceptingRequests(ctx, Request{Actor: mentor}, mentor.ID, i%2 == 0); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := f.svc.SetMentorCapacity(ctx, Request{Actor: mentor}, mentor.ID, 5); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.SetMentorCapacity(ctx, withID(mentor, "first", "cap2"), mentor.ID, 2); err != nil {
			t.Fatal(err)
		}
		if got := f.member(t, mentor.ID).Capacity(); got != 5 {
			t.Fatalf("cache %d: capacity %d after the retry; want the later 5", cached, got)
		}
	}
}
