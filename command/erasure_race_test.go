package command

import (
	"context"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
)

// A mentor's accept and the mentor's erasure race on the mentor's stream:
// exactly one wins. Either the match is active and the erasure refused
// (MEMBER_HAS_OPEN_MATCH), or the mentor is erased and the accept refused
// (MEMBER_ERASED); never an active match with an erased member.
func TestRaceAcceptVersusErase(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	staff := f.staff(t)
	const pairs = 40
	type pair struct {
		mentee, mentor domain.Actor
		match          uuid.UUID
	}
	ps := make([]pair, pairs)
	for i := range ps {
		ps[i].mentee, ps[i].mentor = f.register(t, domain.RoleMentee), f.register(t, domain.RoleMentor)
		id, _, err := f.svc.RequestMatch(ctx, Request{Actor: ps[i].mentee}, ps[i].mentor.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		ps[i].match = id
	}
	var wg sync.WaitGroup
	acceptErr, eraseErr := make([]error, pairs), make([]error, pairs)
	start := make(chan struct{})
	for i, p := range ps {
		wg.Go(func() { <-start; _, acceptErr[i] = f.svc.AcceptMatch(ctx, Request{Actor: p.mentor}, p.match) })
		wg.Go(func() {
			<-start
			_, eraseErr[i] = f.svc.EraseMember(ctx, Request{Actor: staff}, p.mentor.ID, "asked to close the account")
		})
	}
	close(start)
	wg.Wait()
	accepts, erasures := 0, 0
	for i, p := range ps {
		m, mentor := f.match(t, p.match), f.member(t, p.mentor.ID)
		switch {
		case acceptErr[i] == nil && eraseErr[i] != nil:
			accepts++
			wantCode(t, eraseErr[i], domain.CodeMemberHasOpenMatch)
			if m.Status() != domain.StatusActive || mentor.Erased() {
				t.Fatalf("pair %d: accept won but status %s, mentor erased %v", i, m.Status(), mentor.Erased())
			}
		case eraseErr[i] == nil && acceptErr[i] != nil:
			erasures++
			wantCode(t, acceptErr[i], domain.CodeMemberErased)
			if m.Status() != domain.StatusPending || !mentor.Erased() || mentor.CapacityUsed() != 0 {
				t.Fatalf("pair %d: erasure won but status %s, erased %v, capacity used %d", i, m.Status(), mentor.Erased(), mentor.CapacityUsed())
			}
		default:
			t.Fatalf("pair %d: accept %v, erase %v: want exactly one winner", i, acceptErr[i], eraseErr[i])
		}
	}
	t.Logf("accept won %d times, erasure %d times", accepts, erasures)
}
