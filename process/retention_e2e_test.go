package process_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/process"
)

// erasure returns the member's MemberErased event and its metadata, and
// false when the member was not erased.
func (f *fixture) erasure(id uuid.UUID) (domain.MemberErased, eventstore.Metadata, bool) {
	f.t.Helper()
	recs, err := f.store.ReadStream(context.Background(), domain.MemberStream(id), eventstore.ReadStreamOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	for _, r := range recs {
		if r.Type != "MemberErased" {
			continue
		}
		ev, err := domain.Decode(r.Type, r.SchemaVersion, r.Data)
		if err != nil {
			f.t.Fatal(err)
		}
		return ev.(domain.MemberErased), r.Metadata, true
	}
	return domain.MemberErased{}, eventstore.Metadata{}, false
}

// checkErased checks who among members the log shows erased, and that
// each erasure is the retention rule's, made when want says.
func (f *fixture) checkErased(what string, members map[string]domain.Actor, want map[string]time.Time) {
	f.t.Helper()
	for name, a := range members {
		e, meta, erased := f.erasure(a.ID)
		at, wanted := want[name]
		if erased != wanted {
			f.t.Errorf("%s: %s erased: %v, want %v", what, name, erased, !erased)
			continue
		}
		if !erased {
			continue
		}
		if e.ActorRole != domain.RoleSystem || e.ErasedBy != uuid.Nil || e.Reason != "retention: 1 year without a match or a sign-in" ||
			meta.ActorRole != string(domain.RoleSystem) || !e.At.Equal(at) {
			f.t.Errorf("%s: %s erased with %+v, metadata %+v", what, name, e, meta)
		}
	}
}

// The retention rule on a moving clock, with the process manager and the
// notifier as the server runs them: a member who never had a match is
// erased a year after registering, one who signed in half a year later a
// year after that sign-in, and the partners of a request that nobody
// answers never; restarts erase nobody twice.
func TestRetentionOnAMovingClock(t *testing.T) {
	p := domain.DefaultProgram()
	p.RetentionYears = 1
	f := newFixtureWith(t, p)
	ctx := context.Background()
	members := map[string]domain.Actor{
		"ada":   f.register(domain.RoleMentee, "Ada Lovelace"),
		"bob":   f.register(domain.RoleMentee, "Bob Builder"),
		"carl":  f.register(domain.RoleMentee, "Carl Sagan"),
		"grace": f.register(domain.RoleMentor, "Grace Hopper"),
	}
	f.request(members["carl"], members["grace"])
	f.tick()

	f.clock.Advance(180 * day)
	if _, err := f.svc.RecordSignIn(ctx, members["bob"]); err != nil {
		t.Fatal(err)
	}
	bobDue := time.Date(2026, 8, 30, 0, 0, 0, 0, time.UTC).AddDate(1, 0, 0) // the day after the sign-in, a year on
	f.tick()

	f.clock.Set(t0.AddDate(1, 0, 0).Add(-time.Second))
	f.tick()
	f.checkErased("a year less a second", members, nil)
	adaDue := t0.AddDate(1, 0, 0)
	f.clock.Set(adaDue)
	f.tick()
	f.checkErased("a year after the registration", members, map[string]time.Time{"ada": adaDue})

	head := f.head()
	f.restart()
	f.clock.Advance(time.Hour)
	f.tick()
	if f.head() != head {
		t.Errorf("a restart appended events: head %d, was %d", f.head(), head)
	}

	f.clock.Set(bobDue.Add(-time.Second))
	f.tick()
	f.checkErased("a year after the sign-in, less a second", members, map[string]time.Time{"ada": adaDue})
	f.clock.Set(bobDue)
	f.tick()
	erased := map[string]time.Time{"ada": adaDue, "bob": bobDue}
	f.checkErased("a year after the sign-in", members, erased)

	f.clock.Advance(10 * 365 * day)
	f.tick()
	f.checkErased("ten years on", members, erased)
	if n := f.cmds.Calls("EraseUnderRetention"); n != 2 {
		t.Errorf("EraseUnderRetention called %d times, want once per erased member", n)
	}
}

// Two managers, as two instances that both run the workers, erase each due
// member once, and neither fails.
func TestTwoManagersEraseEachMemberOnce(t *testing.T) {
	p := domain.DefaultProgram()
	p.RetentionYears = 1
	f := newFixtureWith(t, p)
	members := map[string]domain.Actor{}
	due := map[string]time.Time{}
	for i := range 6 {
		name := fmt.Sprint("member", i)
		members[name] = f.register(domain.RoleMentee, "Member "+name)
		due[name] = t0.AddDate(1, 0, 0)
	}
	other, err := process.Open(t.TempDir(), f.store, f.cmds, f.clock, process.Options{Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	f.clock.Set(t0.AddDate(1, 0, 0))
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for _, m := range []*process.Manager{f.mgr, other} {
		wg.Go(func() { errs <- m.Tick(context.Background()) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	f.checkErased("after both ticked", members, due)
	for name, a := range members {
		if n := strings.Count(strings.Join(f.types(domain.MemberStream(a.ID)), " "), "MemberErased"); n != 1 {
			t.Errorf("%s erased %d times", name, n)
		}
	}
}
