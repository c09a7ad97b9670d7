package command

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/mentorship/mentorship/clock"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
)

// The same system rule run twice at different moments, as the process
// manager and a caller of the same rule may, records its event once and
// answers both without an error, whichever stores first: the event IDs of
// a system rule are fixed, and the loser decides again on what the winner
// left.
func TestRaceSameRuleAtDifferentMoments(t *testing.T) {
	for round := range 20 {
		f := newFixture(t)
		ctx := context.Background()
		mentee, mentor, staff := f.register(t, domain.RoleMentee), f.register(t, domain.RoleMentor), f.staff(t)
		matchID, _, err := f.svc.RequestMatch(ctx, Request{Actor: mentee}, mentor.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.AcceptMatch(ctx, Request{Actor: mentor}, matchID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.EndMatch(ctx, Request{Actor: staff}, matchID, "GOALS_CONCLUDED", mentee.ID, "Goals met."); err != nil {
			t.Fatal(err)
		}
		// A second service on the same store reads a clock a minute on.
		later := clock.NewFake(t0.Add(time.Minute))
		other, err := New(f.store, domain.DefaultProgram(), later, Options{})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, svc := range []*Service{f.svc, other} {
			wg.Go(func() { _, errs[i] = svc.RequestProfileReview(ctx, matchID) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d: the review by service %d: %v", round, i, err)
			}
		}
		recs, err := f.store.ReadStream(ctx, domain.MatchStream(matchID), eventstore.ReadStreamOptions{})
		if err != nil {
			t.Fatal(err)
		}
		reviews := 0
		for _, r := range recs {
			if r.Type == (domain.ProfileReviewRequested{}).EventType() {
				reviews++
			}
		}
		if reviews != 1 {
			t.Fatalf("round %d: %d reviews recorded", round, reviews)
		}
	}
}
