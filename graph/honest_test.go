package graph_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"testing"

	"github.com/mentorship/mentorship/command"
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
	// Two changes in one operation: one extension, at the later change.
	first := body.Extensions.ReadYourWrites.Position
	r = e.do(tok, `mutation { a: updateProfile(input: {name: "Mia One"}) { userErrors { code } } b: updateProfile(input: {name: "Mia Two"}) { userErrors { code } } }`, nil)
	body.Extensions.ReadYourWrites.Position = ""
	if err := json.Unmarshal(r.raw, &body); err != nil || len(r.Errors) > 0 || atoi(body.Extensions.ReadYourWrites.Position) <= atoi(first) {
		t.Fatalf("two saved changes in one operation: %s", truncate(r.raw))
	}
}

// fullStore is a store whose disk is full: every append is refused as the
// embedded store refuses one it has no space for.
type fullStore struct{ eventstore.Store }

func (fullStore) Append(context.Context, string, eventstore.ExpectedRevision, ...eventstore.EventData) (eventstore.AppendResult, error) {
	return eventstore.AppendResult{}, fmt.Errorf("append: %w: no space left for the journal", eventstore.ErrUnavailable)
}

// A change the store cannot take now is answered UNAVAILABLE, a temporary
// failure to try again, not INTERNAL, and nothing is written.
func TestAFullStoreAnswersUnavailable(t *testing.T) {
	e := buildEnvWith(t, false, func(r *graph.Resolver) {
		svc, err := command.New(fullStore{r.Store}, domain.DefaultProgram(), r.Clock, command.Options{})
		if err != nil {
			t.Fatal(err)
		}
		r.Commands = svc
	})
	_, tok := e.user(domain.RoleMentee, "Mia Mentee")
	before := e.head()
	r := e.do(tok, `mutation { updateProfile(input: {name: "Mia Renamed"}) { userErrors { code } } }`, nil)
	if r.code() != "UNAVAILABLE" {
		t.Fatalf("an append the store cannot take: %s", truncate(r.raw))
	}
	if e.head() != before {
		t.Fatal("a refused append wrote events")
	}
}

func atoi(s string) uint64 {
	n, _ := strconv.ParseUint(s, 10, 64)
	return n
}
