package redis_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/google/uuid"
	goredis "github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/internal/redistest"
	"github.com/mentorship/mentorship/projections"
	"github.com/mentorship/mentorship/projections/readmodeltest"
	"github.com/mentorship/mentorship/projections/redis"
)

// reads asks the read models every query once and returns each failure by
// name; a read that answers adds nothing.
func reads(rm *redis.ReadModels, member, match uuid.UUID) map[string]error {
	program, now := domain.DefaultProgram(), time.Now()
	out := map[string]error{}
	note := func(what string, err error) {
		if err != nil {
			out[what] = err
		}
	}
	_, _, err := rm.Members.Member(member)
	note("member", err)
	_, err = rm.Members.MembersByID([]uuid.UUID{member})
	note("members by ID", err)
	_, err = rm.Members.SearchMentors(projections.SearchQuery{})
	note("search", err)
	_, err = rm.Members.Scan(func(*projections.MemberView) bool { return true })
	note("scan", err)
	_, _, err = rm.Matches.Match(match)
	note("match", err)
	_, err = rm.Matches.MatchesByID([]uuid.UUID{match})
	note("matches by ID", err)
	_, err = rm.Matches.MatchesOf(member, projections.AllMatches)
	note("matches of", err)
	_, err = rm.Matches.SessionsOf(member, uuid.Nil)
	note("sessions of", err)
	_, _, err = rm.Matches.Session(uuid.New())
	note("session", err)
	_, err = rm.Matches.CPDSummary(member, domain.Date{}, domain.Date{})
	note("CPD", err)
	_, err = rm.Matches.Resources(domain.RoleStaff)
	note("resources", err)
	_, _, err = rm.Matches.Resource(uuid.New())
	note("resource", err)
	_, _, _, err = rm.Matches.Document(uuid.New())
	note("document", err)
	_, err = rm.Matches.Queue(program, now, 7)
	note("queue", err)
	_, err = rm.Matches.Dashboard(program, now)
	note("dashboard", err)
	_, err = rm.Members.Position()
	note("members' checkpoint", err)
	return out
}

// With Redis gone every read returns the Redis error wrapped in
// projections.ErrUnavailable, and none panics; with Redis back the same
// reads answer again.
func TestReadsFailWithTheRedisError(t *testing.T) {
	rs := redistest.StartProcess(t)
	store, svc, _ := readmodeltest.NewProgram(t)
	ctx := context.Background()
	mentee, _ := registerMentee(t, svc)
	mentor := uuid.New()
	if _, err := svc.RegisterMember(ctx, command.Request{Actor: domain.Actor{ID: mentor, Role: domain.RoleMentor}}, mentor, domain.RoleMentor, "Mentor", "mentor@example.org"); err != nil {
		t.Fatal(err)
	}
	match, _, err := svc.RequestMatch(ctx, command.Request{Actor: domain.Actor{ID: mentee, Role: domain.RoleMentee}}, mentor, "hello")
	if err != nil {
		t.Fatal(err)
	}
	c := goredis.NewClient(&goredis.Options{Addr: rs.Addr(), MaxRetries: -1})
	defer c.Close()
	rm := redis.New(c, redis.Options{Prefix: "down", Timeout: time.Second, Logger: zerolog.Nop()})
	if err := rm.Apply(ctx, readmodeltest.Events(t, store)); err != nil {
		t.Fatal(err)
	}
	if failed := reads(rm, mentee, match); len(failed) > 0 {
		t.Fatalf("reads failed with Redis up: %v", failed)
	}

	rs.Kill()
	failed := reads(rm, mentee, match)
	for _, what := range []string{"member", "members by ID", "search", "scan", "match", "matches by ID", "matches of", "sessions of",
		"session", "CPD", "resources", "resource", "document", "queue", "dashboard", "members' checkpoint"} {
		err := failed[what]
		var netErr net.Error
		if !errors.Is(err, projections.ErrUnavailable) || !errors.As(err, &netErr) {
			t.Errorf("%s with Redis gone: %v, want the connection's error wrapped in ErrUnavailable", what, err)
		}
	}

	rs.Start()
	deadline := time.Now().Add(10 * time.Second)
	for failed := reads(rm, mentee, match); len(failed) > 0; failed = reads(rm, mentee, match) {
		if time.Now().After(deadline) {
			t.Fatalf("reads still fail with Redis back: %v", failed)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A stored view that no longer decodes fails the queries that read it as
// unavailable, rather than crashing the server or answering "not found".
func TestUndecodableViewFailsItsQueries(t *testing.T) {
	c, ns := redistest.Client(t)
	store, svc, _ := readmodeltest.NewProgram(t)
	ctx := context.Background()
	damaged, _ := registerMentee(t, svc)
	healthy, _ := registerMentee(t, svc)
	rm := redis.New(c, redis.Options{Prefix: ns, Logger: zerolog.Nop()})
	if err := rm.Apply(ctx, readmodeltest.Events(t, store)); err != nil {
		t.Fatal(err)
	}
	if err := c.HSet(ctx, redis.Key(ns, "members", "m"), damaged.String(), "{not json").Err(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := rm.Members.Member(damaged); !errors.Is(err, projections.ErrUnavailable) {
		t.Fatalf("the damaged member: %v, want ErrUnavailable", err)
	}
	if _, err := rm.Members.MembersByID([]uuid.UUID{healthy, damaged}); !errors.Is(err, projections.ErrUnavailable) {
		t.Fatalf("a batch holding the damaged member: %v, want ErrUnavailable", err)
	}
	if v, ok, err := rm.Members.Member(healthy); err != nil || !ok || v.ID != healthy {
		t.Fatalf("another member: %v %v %v", v, ok, err)
	}
}
