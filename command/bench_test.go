//go:build unix

package command

import (
	"context"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/clock"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore/bolt"
	"github.com/mentorship/mentorship/keyring"
	"github.com/mentorship/mentorship/keyring/keyringtest"
	"github.com/mentorship/mentorship/sealed"
)

// BenchmarkLogSession logs sessions on 64 active matches at once, through
// the stack the server runs: the embedded store (without fsync, so that
// the figure is the CPU of the command rather than the disk), sealed with
// the keyring. Each command loads the match from the cache and the events
// the previous command on it appended, decides, seals and appends.
func BenchmarkLogSession(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	raw, err := bolt.Open(dir, bolt.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = raw.Close() })
	keys := keyringtest.Local(b, dir)
	store := sealed.Wrap(raw, sealed.Keyring(keys), keyring.Prefix)
	clk := clock.NewFake(t0)
	svc, err := New(store, domain.DefaultProgram(), clk, Options{})
	if err != nil {
		b.Fatal(err)
	}
	register := func(role domain.Role) domain.Actor {
		a := domain.Actor{ID: uuid.New(), Role: role}
		if _, err := svc.RegisterMember(ctx, Request{Actor: a}, a.ID, role, "Member "+a.ID.String()[:8], a.ID.String()[:8]+"@example.org"); err != nil {
			b.Fatal(err)
		}
		return a
	}
	type pair struct {
		mentee domain.Actor
		match  uuid.UUID
	}
	const matches = 64
	pairs := make([]pair, matches)
	for i := range pairs {
		mentee, mentor := register(domain.RoleMentee), register(domain.RoleMentor)
		id, _, err := svc.RequestMatch(ctx, Request{Actor: mentee}, mentor.ID, "Would you mentor me?")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := svc.AcceptMatch(ctx, Request{Actor: mentor}, id); err != nil {
			b.Fatal(err)
		}
		pairs[i] = pair{mentee: mentee, match: id}
	}
	day := svc.Program().Today(clk.Now())
	details := domain.SessionDetails{Date: day, Minutes: 45, Notes: "Discussed the next steps of the licensing application.", Value: 4}
	var next atomic.Int64
	b.SetParallelism(matches / 2)
	b.ReportAllocs()
	before := cpuTime(b)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		p := pairs[int(next.Add(1)-1)%matches]
		for pb.Next() {
			if _, err := svc.LogSession(ctx, Request{Actor: p.mentee}, p.match, uuid.New(), details); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64((cpuTime(b)-before).Microseconds())/float64(b.N), "cpu-µs/op")
}

// cpuTime returns the CPU time the process used so far, user and system:
// on a shared machine it varies less than the time per operation.
func cpuTime(b *testing.B) time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		b.Fatal(err)
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}
