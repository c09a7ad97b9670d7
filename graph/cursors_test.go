package graph_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/graph/model"
)

// A page after a cursor starts after the cursor's item whatever changed
// before it: a request that arrives meanwhile does not repeat an item of
// the next page, and the cursor's own item leaving the list (a pending
// request accepted) skips nothing.
func TestCursorsHoldWhileTheListChanges(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	mentor, mentorTok := e.user(domain.RoleMentor, "Max Mentor")
	request := func(name string) uuid.UUID {
		t.Helper()
		mentee, _ := e.user(domain.RoleMentee, name)
		id, res, err := e.svc.RequestMatch(ctx, command.Request{Actor: mentee}, mentor.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		if err := e.runner.WaitForDefault(ctx, res.Position); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(time.Minute)
		return id
	}
	var ids []uuid.UUID
	for i := range 4 {
		ids = append(ids, request(fmt.Sprintf("Mentee %d", i)))
	}
	// Newest request first: 3, 2, 1, 0.
	const q = `query($after: String) { myMatches(group: PENDING, first: 2, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }`
	list := func(after any) ([]string, string, bool) {
		t.Helper()
		r := e.ok(mentorTok, q, map[string]any{"after": after})
		var got []string
		for i := 0; ; i++ {
			id := r.str("myMatches", "edges", i, "node", "id")
			if id == "" {
				break
			}
			got = append(got, id)
		}
		next, _ := r.get("myMatches", "pageInfo", "hasNextPage").(bool)
		return got, r.str("myMatches", "pageInfo", "endCursor"), next
	}
	gidOf := func(i int) string { return gid(model.KindMatch, ids[i]) }
	first, cursor, more := list(nil)
	if fmt.Sprint(first) != fmt.Sprint([]string{gidOf(3), gidOf(2)}) || !more {
		t.Fatalf("first page %v, more %v", first, more)
	}
	// A new request comes first in the list; the next page is still 1, 0.
	ids = append(ids, request("Mentee 4"))
	second, _, more := list(cursor)
	if fmt.Sprint(second) != fmt.Sprint([]string{gidOf(1), gidOf(0)}) || more {
		t.Fatalf("after a new request, the next page is %v (more %v), want 1 and 0", second, more)
	}
	// The cursor's own item is accepted and leaves the pending list.
	res, err := e.svc.AcceptMatch(ctx, command.Request{Actor: mentor}, ids[2])
	if err != nil {
		t.Fatal(err)
	}
	if err := e.runner.WaitForDefault(ctx, res.Position); err != nil {
		t.Fatal(err)
	}
	if third, _, _ := list(cursor); fmt.Sprint(third) != fmt.Sprint([]string{gidOf(1), gidOf(0)}) {
		t.Fatalf("after the cursor's match left the list, the next page is %v, want 1 and 0", third)
	}
	// A cursor of another list, an offset, or a key of the right kind the
	// server never wrote is refused.
	for _, bad := range []string{"MQ", "cjA", b64("m"), b64("mzzzz"), b64(cursor[:10]), b64("h-5")} {
		if r := e.do(mentorTok, q, map[string]any{"after": bad}); r.code() != "BAD_USER_INPUT" {
			t.Fatalf("cursor %q: %s", bad, r.raw)
		}
	}
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
