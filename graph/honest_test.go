package graph_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/graph"
)

// stuckWaiter is read models that never catch up.
type stuckWaiter struct{}

func (stuckWaiter) WaitFor(context.Context, eventstore.Position) error {
	return errors.New("the read models stopped")
}

// A change is saved before the read models show it; when they cannot, the
// mutation still answers what happened (saved, no error), and says in
// extensions.readYourWrites that the change was not shown yet.
func TestASavedChangeIsNeverAnsweredAsAnError(t *testing.T) {
	e := buildEnvWith(t, false, func(r *graph.Resolver) { r.Waiter = stuckWaiter{} })
	_, tok := e.user(domain.RoleMentee, "Mia Mentee")
	before := e.head()
	r := e.do(tok, `mutation { updateProfile(input: {name: "Mia Renamed"}) { userErrors { code } } }`, nil)
	if len(r.Errors) > 0 || r.get("updateProfile", "userErrors") == nil {
		t.Fatalf("a saved change answered: %s", truncate(r.raw))
	}
	if e.head() == before {
		t.Fatal("the change was not saved")
	}
	var body struct {
		Extensions struct {
			ReadYourWrites struct {
				Saved    bool   `json:"saved"`
				Shown    bool   `json:"shown"`
				Position string `json:"position"`
			} `json:"readYourWrites"`
		} `json:"extensions"`
	}
	if err := json.Unmarshal(r.raw, &body); err != nil || !body.Extensions.ReadYourWrites.Saved || body.Extensions.ReadYourWrites.Shown || body.Extensions.ReadYourWrites.Position == "" {
		t.Fatalf("the answer does not say the change is saved but not shown: %s", truncate(r.raw))
	}
}
