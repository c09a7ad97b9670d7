package seed_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/mentorship/mentorship/clock"
	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/eventstore/bolt"
	"github.com/mentorship/mentorship/seed"
)

var end = time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC)

func openStore(t *testing.T) *bolt.Store {
	t.Helper()
	st, err := bolt.Open(t.TempDir(), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func generate(t *testing.T, opts seed.Options) (*bolt.Store, seed.Stats) {
	t.Helper()
	st := openStore(t)
	stats, err := seed.Generate(context.Background(), st, domain.DefaultProgram(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return st, stats
}

// storedEvent is an event as the generator decided it: everything but where
// it landed in the global log and when the engine recorded it.
type storedEvent struct {
	ID       uuid.UUID
	Revision eventstore.Revision
	Type     string
	Data     string
	Meta     eventstore.Metadata
}

func readStreams(t *testing.T, st eventstore.Store) map[string][]storedEvent {
	t.Helper()
	out := map[string][]storedEvent{}
	var from eventstore.Position
	for {
		recs, err := st.ReadAll(context.Background(), from, 4096)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 0 {
			return out
		}
		for _, r := range recs {
			meta := r.Metadata
			meta.RecordedAt = time.Time{}
			out[r.Stream] = append(out[r.Stream], storedEvent{r.ID, r.Revision, r.Type, string(r.Data), meta})
			from = r.Position
		}
	}
}

func TestGenerateIsDeterministicForASeed(t *testing.T) {
	opts := seed.Options{Mentors: 20, Mentees: 60, Events: 2500, Seed: 7, Days: 300, End: end, Workers: 8}
	a, statsA := generate(t, opts)
	opts.Workers = 1
	b, statsB := generate(t, opts)
	if diff := cmp.Diff(statsA, statsB); diff != "" {
		t.Fatalf("stats differ (-a +b):\n%s", diff)
	}
	streamsA, streamsB := readStreams(t, a), readStreams(t, b)
	if diff := cmp.Diff(streamsA, streamsB); diff != "" {
		t.Fatalf("streams differ (-6 workers +1 worker):\n%s", diff)
	}
	opts.Seed = 8
	c, _ := generate(t, opts)
	if cmp.Equal(streamsA, readStreams(t, c)) {
		t.Fatal("seeds 7 and 8 gave the same program")
	}
}

func TestGenerateFollowsTheProgramRules(t *testing.T) {
	program := domain.DefaultProgram()
	st, stats := generate(t, seed.Options{Mentors: 100, Mentees: 300, Events: 6000, Seed: 1, Days: 730, End: end})
	head, err := st.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if int(head) != stats.Events {
		t.Fatalf("the log holds %d events, the stats say %d", head, stats.Events)
	}
	if stats.Events < 5400 || stats.Events > 6600 {
		t.Fatalf("%d events, want about 6000", stats.Events)
	}
	for _, s := range []domain.MatchStatus{domain.StatusPending, domain.StatusActive, domain.StatusDeclined, domain.StatusCancelled, domain.StatusEnded} {
		if stats.Matches[s] == 0 {
			t.Errorf("no %s match in %v", s, stats.Matches)
		}
	}
	for _, r := range append(program.EndReasons, domain.EndReasonTermCompleted) {
		if stats.EndReasons[r] == 0 {
			t.Errorf("no match ended with %s: %v", r, stats.EndReasons)
		}
	}

	// Fold every stream with the domain and check the limits that span
	// several matches, and the statuses against the stats.
	cmds, err := command.New(st, program, clock.NewFake(end), command.Options{})
	if err != nil {
		t.Fatal(err)
	}
	streams := readStreams(t, st)
	statuses := map[domain.MatchStatus]int{}
	types := map[string]int{}
	members := map[domain.Role]int{}
	for name, evs := range streams {
		for _, e := range evs {
			types[e.Type]++
			if e.Meta.OccurredAt.After(end) || e.Meta.OccurredAt.Before(end.AddDate(0, 0, -731)) {
				t.Fatalf("%s %s occurred at %s, outside the simulated two years", name, e.Type, e.Meta.OccurredAt)
			}
		}
		kind, rest, _ := strings.Cut(name, "-")
		id, err := uuid.Parse(rest)
		if err != nil {
			continue
		}
		switch kind {
		case "match":
			m, err := cmds.Match(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			statuses[m.Status()]++
		case "member":
			m, err := cmds.Member(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			members[m.Role()]++
			if m.PendingRequests() > program.MaxPendingRequests || m.PendingRequests()+m.ActiveMatches() > program.MaxActiveMatches {
				t.Fatalf("mentee %s has %d pending and %d active", id, m.PendingRequests(), m.ActiveMatches())
			}
			if m.CapacityUsed() > m.Capacity() {
				t.Fatalf("mentor %s uses %d of %d", id, m.CapacityUsed(), m.Capacity())
			}
			if m.Role() != domain.RoleStaff && m.Profile().Biography == "" {
				t.Fatalf("member %s has no biography", id)
			}
		}
	}
	if diff := cmp.Diff(stats.Matches, statuses); diff != "" {
		t.Fatalf("match statuses (-stats +log):\n%s", diff)
	}
	if members[domain.RoleMentor] != 100 || members[domain.RoleMentee] != 300 || members[domain.RoleStaff] != 1 {
		t.Fatalf("members: %v", members)
	}
	for _, typ := range []string{"SessionLogged", "ResponseWindowElapsed", "NudgeRequested", "MentorNudged", "FirstMeetingReminderDue", "ProfileReviewRequested", "ProfileUpdated", "MentorCapacityChanged", "MentorAvailabilityChanged"} {
		if types[typ] == 0 {
			t.Errorf("no %s event: %v", typ, types)
		}
	}
}

func TestGenerateStopsAtTheMembersWhenTheBudgetIsSmall(t *testing.T) {
	st, stats := generate(t, seed.Options{Mentors: 3, Mentees: 4, Events: 1, Seed: 3, Days: 30, End: end})
	if len(stats.Matches) != 0 || stats.Mentors != 3 || stats.Mentees != 4 {
		t.Fatalf("stats: %+v", stats)
	}
	streams := readStreams(t, st)
	if len(streams) != 8 {
		t.Fatalf("%d streams, want 8 members", len(streams))
	}
	for name, evs := range streams {
		var reg struct {
			Email string `json:"email"`
		}
		if err := json.Unmarshal([]byte(evs[0].Data), &reg); err != nil || !strings.HasSuffix(reg.Email, ".example.net") {
			t.Fatalf("%s: first event %s %s", name, evs[0].Type, evs[0].Data)
		}
	}
}

func TestGenerateRefusesBadOptions(t *testing.T) {
	st := openStore(t)
	for _, opts := range []seed.Options{
		{Mentors: -1, End: end},
		{Mentors: 1},
	} {
		if _, err := seed.Generate(context.Background(), st, domain.DefaultProgram(), opts); err == nil {
			t.Errorf("%+v: no error", opts)
		}
	}
	if head, _ := st.Head(context.Background()); head != 0 {
		t.Fatalf("bad options wrote %d events", head)
	}
}
