package graph_test

import (
	"sync"
	"testing"

	"github.com/mentorship/mentorship/domain"
)

// "The same request sent again with the same clientMutationId is applied
// once": a retry that arrives after a newer change answers as the first
// time did, showing the record as it is now, and does not undo the newer
// change; the same ID with a different request is refused.
func TestClientMutationIDReplayNeverUndoesNewerChanges(t *testing.T) {
	e := newEnv(t)
	_, _, menteeTok, _, matchID := newActiveMatch(t, e)
	today := e.clock.Now().Format("2006-01-02")
	r := e.ok(menteeTok, `mutation($in: AddSessionInput!) { addSession(input: $in) { session { id } } }`,
		map[string]any{"in": map[string]any{"matchId": matchID, "date": today, "minutes": 10}})
	sid := r.str("addSession", "session", "id")

	const edit = `mutation($in: EditSessionInput!) { editSession(input: $in) { clientMutationId session { minutes } userErrors { code field } } }`
	editAs := func(id string, minutes int) response {
		return e.do(menteeTok, edit, map[string]any{"in": map[string]any{"sessionId": sid, "date": today, "minutes": minutes, "clientMutationId": id}})
	}
	editAs("x1", 20)
	if r := editAs("x1", 20); len(r.Errors) > 0 || r.get("editSession", "session", "minutes") != float64(20) {
		t.Fatalf("x1 again: %s", r.raw)
	}
	editAs("x2", 30)
	before := e.head()
	r = editAs("x1", 20)
	if len(r.Errors) > 0 || r.get("editSession", "userErrors") == nil || len(r.get("editSession", "userErrors").([]any)) != 0 {
		t.Fatalf("x1 after x2: %s", r.raw)
	}
	if got := r.get("editSession", "session", "minutes"); got != float64(30) || e.head() != before {
		t.Fatalf("x1 sent again after x2 answered minutes %v (head %d -> %d); want x2's 30 kept and nothing written", got, before, e.head())
	}
	if r.str("editSession", "clientMutationId") != "x1" {
		t.Fatalf("the retry's clientMutationId: %s", r.raw)
	}
	// x1 with other minutes is another request under a used ID.
	r = editAs("x1", 45)
	if r.str("editSession", "userErrors", 0, "code") != "CLIENT_MUTATION_ID_REUSED" || r.str("editSession", "userErrors", 0, "field") != "clientMutationId" || e.head() != before {
		t.Fatalf("x1 with minutes 45: %s", r.raw)
	}

	const profile = `mutation($in: UpdateProfileInput!) { updateProfile(input: $in) { member { location { city } } userErrors { code } } }`
	city := func(id, c string) response {
		return e.ok(menteeTok, profile, map[string]any{"in": map[string]any{"location": map[string]any{"city": c}, "clientMutationId": id}})
	}
	city("p1", "Aylmer")
	city("p2", "Barrie")
	before = e.head()
	if r := city("p1", "Aylmer"); r.str("updateProfile", "member", "location", "city") != "Barrie" || e.head() != before {
		t.Fatalf("p1 sent again after p2: %s (head %d -> %d)", r.raw, before, e.head())
	}
}

// Two copies of one request racing each other apply once.
func TestClientMutationIDRacingRetriesApplyOnce(t *testing.T) {
	e := newEnv(t)
	_, tok := e.user(domain.RoleMentee, "Mia Mentee")
	before := e.head()
	const profile = `mutation($in: UpdateProfileInput!) { updateProfile(input: $in) { member { location { city } } userErrors { code } } }`
	var wg sync.WaitGroup
	rs := make([]response, 6)
	for i := range rs {
		wg.Go(func() {
			rs[i] = e.do(tok, profile, map[string]any{"in": map[string]any{"location": map[string]any{"city": "Cobourg"}, "clientMutationId": "race"}})
		})
	}
	wg.Wait()
	for _, r := range rs {
		if len(r.Errors) > 0 || r.str("updateProfile", "member", "location", "city") != "Cobourg" {
			t.Fatalf("a racing retry: %s", r.raw)
		}
	}
	if got := e.head() - before; got != 1 {
		t.Fatalf("%d racing copies of one request wrote %d events; want 1", len(rs), got)
	}
}
