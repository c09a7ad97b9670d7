package command

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/refusal"
)

// Two services on one store, as two API instances on one KurrentDB: each
// caches the streams it folded, and each still decides on everything the
// other wrote since.
func TestCachedStatesSeeOtherWriters(t *testing.T) {
	f := newFixture(t)
	other, err := New(f.store, domain.DefaultProgram(), f.clock, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	mentee, mentor := f.register(t, domain.RoleMentee), f.register(t, domain.RoleMentor)
	id, _, err := f.svc.RequestMatch(ctx, Request{Actor: mentee}, mentor.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	if m := f.match(t, id); m.Status() != domain.StatusPending {
		t.Fatalf("status %s", m.Status())
	}
	// The other service accepts; the first one's cached match is behind.
	if _, err := other.AcceptMatch(ctx, Request{Actor: mentor}, id); err != nil {
		t.Fatal(err)
	}
	if m := f.match(t, id); m.Status() != domain.StatusActive {
		t.Fatalf("after the other service accepted: %s", m.Status())
	}
	// A decision on the cached state uses the newer events: cancelling
	// the request is refused now, and a session may be logged.
	if _, err := f.svc.CancelMatch(ctx, Request{Actor: mentee}, id); refusal.CodeOf(err) == "" {
		t.Fatalf("cancelling an accepted match: %v", err)
	}
	day := f.svc.Program().Today(f.clock.Now())
	if _, err := f.svc.LogSession(ctx, Request{Actor: mentee}, id, uuid.New(), domain.SessionDetails{Date: day, Minutes: 30}); err != nil {
		t.Fatal(err)
	}
	if _, err := other.LogSession(ctx, Request{Actor: mentor}, id, uuid.New(), domain.SessionDetails{Date: day, Minutes: 30}); err != nil {
		t.Fatal(err)
	}
	// Without a cache, the same history folds to the same state.
	plain, err := New(f.store, domain.DefaultProgram(), f.clock, Options{CachedStreams: -1})
	if err != nil {
		t.Fatal(err)
	}
	want, err := plain.Match(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	for _, svc := range []*Service{f.svc, other} {
		got, err := svc.Match(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status() != want.Status() || got.HasSessions() != want.HasSessions() || got.AcceptedAt() != want.AcceptedAt() {
			t.Fatalf("cached %+v, uncached %+v", got, want)
		}
	}
}
