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
	"github.com/mentorship/mentorship/refusal"
)

// retentionFixture is the fixture with the retention rule on for a year.
func retentionFixture(t *testing.T) (*fixture, domain.Program) {
	t.Helper()
	f := newFixture(t)
	p := domain.DefaultProgram()
	p.RetentionYears = 1
	svc, err := New(f.store, p, f.clock, Options{})
	if err != nil {
		t.Fatal(err)
	}
	f.svc = svc
	return f, p
}

// typesOf returns the types of the events on a member's stream.
func (f *fixture) typesOf(t *testing.T, id uuid.UUID) []string {
	t.Helper()
	recs, err := f.store.ReadStream(context.Background(), domain.MemberStream(id), eventstore.ReadStreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range recs {
		out = append(out, r.Type)
	}
	return out
}

func count(types []string, typ string) int {
	n := 0
	for _, t := range types {
		if t == typ {
			n++
		}
	}
	return n
}

// Many sign-ins of one day, through two instances on the same store whose
// clocks differ by minutes, record one MemberSignedIn, and every call
// succeeds; the next day records another.
func TestRaceSignInsOfADayRecordOnce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	mentee := f.register(t, domain.RoleMentee)
	other, err := New(f.store, domain.DefaultProgram(), clock.NewFake(t0.Add(5*time.Minute)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		svc := f.svc
		if i%2 == 1 {
			svc = other
		}
		wg.Go(func() {
			_, err := svc.RecordSignIn(ctx, mentee)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := count(f.typesOf(t, mentee.ID), "MemberSignedIn"); n != 1 {
		t.Fatalf("%d sign-ins recorded for one day, want 1", n)
	}
	f.clock.Advance(24 * time.Hour)
	if _, err := f.svc.RecordSignIn(ctx, mentee); err != nil {
		t.Fatal(err)
	}
	if got := f.member(t, mentee.ID).LastSignIn(); !got.Equal(f.clock.Now()) {
		t.Errorf("last sign-in %v, want %v", got, f.clock.Now())
	}
}

// A member who signs in while the retention rule erases them is either
// erased first (the sign-in is then refused) or signed in first (the
// erasure is then refused): never erased right after a sign-in.
func TestRaceRetentionErasureAndSignIn(t *testing.T) {
	f, p := retentionFixture(t)
	ctx := context.Background()
	erasedFirst, signedInFirst := 0, 0
	for round := range 30 {
		f.clock.Set(t0)
		mentee := f.register(t, domain.RoleMentee)
		due, ok := f.member(t, mentee.ID).RetentionDue(p)
		if !ok {
			t.Fatal("a new member is never due")
		}
		f.clock.Set(due)
		// Another instance, whose clock reads the same, takes the
		// sign-in.
		other, err := New(f.store, p, clock.NewFake(due), Options{})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var eraseErr, signErr error
		wg.Go(func() { _, eraseErr = f.svc.EraseUnderRetention(ctx, mentee.ID) })
		wg.Go(func() { _, signErr = other.RecordSignIn(ctx, mentee) })
		wg.Wait()
		types := f.typesOf(t, mentee.ID)
		switch {
		case eraseErr == nil && refusal.CodeOf(signErr) == domain.CodeMemberErased:
			erasedFirst++
			if count(types, "MemberSignedIn") != 0 || count(types, "MemberErased") != 1 {
				t.Fatalf("round %d: erased first, yet the stream holds %v", round, types)
			}
		case signErr == nil && refusal.CodeOf(eraseErr) == domain.CodeRetentionNotDue:
			signedInFirst++
			if count(types, "MemberSignedIn") != 1 || count(types, "MemberErased") != 0 {
				t.Fatalf("round %d: signed in first, yet the stream holds %v", round, types)
			}
		default:
			t.Fatalf("round %d: erasure %v, sign-in %v, stream %v", round, eraseErr, signErr, types)
		}
	}
	t.Logf("erased first %d times, signed in first %d times", erasedFirst, signedInFirst)
}

// Two instances erasing the same member under the rule, as two process
// managers might, record one erasure, both without an error, and the
// erase steps run for each.
func TestRaceTwoInstancesEraseUnderRetentionOnce(t *testing.T) {
	f, p := retentionFixture(t)
	ctx := context.Background()
	mentee := f.register(t, domain.RoleMentee)
	f.clock.Set(t0.AddDate(2, 0, 0))
	other, err := New(f.store, p, clock.NewFake(t0.AddDate(2, 0, 0).Add(time.Minute)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	steps := 0
	for _, svc := range []*Service{f.svc, other} {
		svc.OnErase(EraseStep{Name: "count", Erase: func(context.Context, uuid.UUID) error {
			mu.Lock()
			defer mu.Unlock()
			steps++
			return nil
		}})
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, svc := range []*Service{f.svc, other} {
		wg.Go(func() { _, errs[i] = svc.EraseUnderRetention(ctx, mentee.ID) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("instance %d: %v", i, err)
		}
	}
	if n := count(f.typesOf(t, mentee.ID), "MemberErased"); n != 1 {
		t.Fatalf("%d erasures recorded, want 1", n)
	}
	if steps != 2 {
		t.Errorf("the erase steps ran %d times, want once per call", steps)
	}
	recs, err := f.store.ReadStream(ctx, domain.MemberStream(mentee.ID), eventstore.ReadStreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	last := recs[len(recs)-1]
	ev, err := domain.Decode(last.Type, last.SchemaVersion, last.Data)
	if err != nil {
		t.Fatal(err)
	}
	e, ok := ev.(domain.MemberErased)
	if !ok || e.ActorRole != domain.RoleSystem || e.ErasedBy != uuid.Nil || e.Reason != "retention: 1 year without a match or a sign-in" ||
		last.Metadata.ActorRole != string(domain.RoleSystem) {
		t.Errorf("recorded %+v with metadata %+v", ev, last.Metadata)
	}
}
