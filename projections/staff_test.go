package projections_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/follow"
	"github.com/mentorship/mentorship/projections"
)

func matchIDSet(ms []*projections.MatchView) map[uuid.UUID]bool {
	out := map[uuid.UUID]bool{}
	for _, m := range ms {
		out[m.ID] = true
	}
	return out
}

// The staff queue and the dashboard, checked at chosen moments.
func TestStaffQueueAndDashboard(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	p := w.svc.Program()
	start := w.clock.Now()
	mentors := []domain.Actor{w.register(t, domain.RoleMentor, "M1"), w.register(t, domain.RoleMentor, "M2"), w.register(t, domain.RoleMentor, "M3")}
	mentees := []domain.Actor{w.register(t, domain.RoleMentee, "E1"), w.register(t, domain.RoleMentee, "E2"), w.register(t, domain.RoleMentee, "E3")}

	// E1 waits on M1 (old request, nudge asked); E2 is matched with M2 with
	// no session; E3 is declined by M3 after two days.
	waiting := mustMatch(w.svc.RequestMatch(ctx, command.Request{Actor: mentees[0]}, mentors[0].ID, ""))
	silent := mustMatch(w.svc.RequestMatch(ctx, command.Request{Actor: mentees[1]}, mentors[1].ID, ""))
	declined := mustMatch(w.svc.RequestMatch(ctx, command.Request{Actor: mentees[2]}, mentors[2].ID, ""))
	w.clock.Advance(24 * time.Hour)
	if _, err := w.svc.AcceptMatch(ctx, command.Request{Actor: mentors[1]}, silent); err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(24 * time.Hour)
	if _, err := w.svc.DeclineMatch(ctx, command.Request{Actor: mentors[2]}, declined, "NO_CAPACITY", ""); err != nil {
		t.Fatal(err)
	}
	w.clock.Set(start.Add(15 * 24 * time.Hour))
	if _, err := w.svc.RequestNudge(ctx, command.Request{Actor: mentees[0]}, waiting); err != nil {
		t.Fatal(err)
	}
	// A session this month for the dashboard, by a second active pair.
	pairMentee, pairMentor := w.register(t, domain.RoleMentee, "E4"), w.register(t, domain.RoleMentor, "M4")
	pair := mustMatch(w.svc.RequestMatch(ctx, command.Request{Actor: pairMentee}, pairMentor.ID, ""))
	if _, err := w.svc.AcceptMatch(ctx, command.Request{Actor: pairMentor}, pair); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.LogSession(ctx, command.Request{Actor: pairMentee}, pair, uuid.New(), domain.SessionDetails{Date: p.Today(w.clock.Now()), Minutes: 90}); err != nil {
		t.Fatal(err)
	}

	matches := projections.NewMatches()
	if _, err := follow.Rebuild(ctx, w.store, 0, nil, matches); err != nil {
		t.Fatal(err)
	}

	now := w.clock.Now()
	q, _ := matches.Queue(p, now, 14)
	if got := matchIDSet(q.PendingOlderThan); len(got) != 1 || !got[waiting] {
		t.Fatalf("pending older than 14 days: %v", got)
	}
	if got := matchIDSet(q.NudgeRequests); len(got) != 1 || !got[waiting] {
		t.Fatalf("nudge requests: %v", got)
	}
	if len(q.NoFirstSession) != 0 {
		t.Fatalf("no first session before three weeks: %v", matchIDSet(q.NoFirstSession))
	}
	q, _ = matches.Queue(p, start.Add(23*24*time.Hour), 14)
	if got := matchIDSet(q.NoFirstSession); len(got) != 1 || !got[silent] {
		t.Fatalf("no first session after three weeks: %v", got)
	}
	q, _ = matches.Queue(p, p.TermEnd(start.Add(24*time.Hour)).Add(-10*24*time.Hour), 14)
	if got := matchIDSet(q.EndingSoon); !got[silent] {
		t.Fatalf("ending within 30 days: %v", got)
	}

	d, _ := matches.Dashboard(p, now)
	if d.Pending != 1 || d.Active != 2 || d.Declined != 1 {
		t.Fatalf("dashboard counts: %+v", d)
	}
	if d.AcceptanceRate != 2.0/3 || d.DeclineRate != 1.0/3 {
		t.Fatalf("rates: %+v", d)
	}
	if d.SessionsThisMonth != 1 || d.MinutesThisMonth != 90 {
		t.Fatalf("sessions this month: %+v", d)
	}
	// Responses took 1 day (accept), 2 days (decline) and 0 days (accept):
	// the median is 1 day.
	if d.MedianDaysToResponse != 1 {
		t.Fatalf("median days to a response: %v", d.MedianDaysToResponse)
	}
}

func mustMatch(id uuid.UUID, _ command.Result, err error) uuid.UUID {
	if err != nil {
		panic(err)
	}
	return id
}
