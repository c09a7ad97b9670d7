package projections_test

import (
	"bytes"
	"context"
	"slices"
	"testing"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/eventstore/bolt"
	"github.com/mentorship/mentorship/follow"
	"github.com/mentorship/mentorship/projections"
)

// A rebuild, which reads and decodes the log in parallel chunks and hands
// each chunk to the models in stages, reusing the chunks' memory, gives
// the models that applying the log one event at a time gives. The history
// spans several chunks, so that every chunk's memory is used again.
func TestRebuildEqualsOneEventAtATime(t *testing.T) {
	if testing.Short() {
		t.Skip("generates a history of 30,000 events")
	}
	dir := t.TempDir()
	if err := fill(dir, workload{Mentors: 300, Mentees: 900, Events: 30_000, Shards: 2, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	store, err := bolt.Open(dir, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()

	members, matches := projections.NewMembers(), projections.NewMatches()
	n, err := follow.Rebuild(ctx, store, 0, nil, members, matches)
	if err != nil || n != 30_000 {
		t.Fatalf("rebuilt %d events, %v", n, err)
	}

	oneMembers, oneMatches := projections.NewMembers(), projections.NewMatches()
	from := eventstore.Start
	for {
		page, err := store.ReadAll(ctx, from, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, rec := range page {
			ev, err := follow.Decode(rec)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range []projections.Projection{oneMembers, oneMatches} {
				if err := p.Apply([]projections.Event{ev}); err != nil {
					t.Fatal(err)
				}
			}
		}
		from = page[len(page)-1].Position
	}
	want, got := viewOf(t, store, oneMembers, oneMatches), viewOf(t, store, members, matches)
	// viewOf ranks one search for whichever mentee its walk over a map
	// ends on, which differs between two calls; rank for one mentee
	// chosen the same way for both instead.
	want.Searches[2], got.Searches[2] = rankedFor(t, oneMembers), rankedFor(t, members)
	sameModels(t, want, got)
}

// rankedFor searches every mentor ranked for the mentee with the smallest
// ID.
func rankedFor(t *testing.T, members *projections.Members) projections.SearchResult {
	t.Helper()
	mentees, err := members.Scan(func(m *projections.MemberView) bool { return m.Role == domain.RoleMentee })
	if err != nil || len(mentees) == 0 {
		t.Fatalf("%d mentees, %v", len(mentees), err)
	}
	viewer := slices.MinFunc(mentees, func(a, b *projections.MemberView) int { return bytes.Compare(a.ID[:], b.ID[:]) })
	res, err := members.SearchMentors(projections.SearchQuery{Viewer: viewer.ID, First: 100})
	if err != nil {
		t.Fatal(err)
	}
	return res
}
