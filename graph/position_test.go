package graph_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/graph/model"
)

// A session is private to its author, so a match's position, as its
// partner reads it, does not move when the other partner logs or edits
// one: not now, not as of any moment of its history. The author and staff
// see it move.
func TestAPartnersSessionsDoNotMoveTheMatchsPosition(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := e.svc.Program()
	mentee, menteeTok := e.user(domain.RoleMentee, "Mia Mentee")
	mentor, mentorTok := e.user(domain.RoleMentor, "Max Mentor")
	_, staffTok := e.user(domain.RoleStaff, "Sam Staff")
	wait := func(res command.Result, err error) command.Result {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if err := e.runner.WaitForDefault(ctx, res.Position); err != nil {
			t.Fatal(err)
		}
		return res
	}
	matchID, res, err := e.svc.RequestMatch(ctx, command.Request{Actor: mentee}, mentor.ID, "")
	wait(res, err)
	wait(e.svc.AcceptMatch(ctx, command.Request{Actor: mentor}, matchID))
	id := gid(model.KindMatch, matchID)
	position := func(tok string, asOf any) string {
		t.Helper()
		q := `query($id: ID!) { match(id: $id) { position } }`
		vars := map[string]any{"id": id}
		if asOf != nil {
			q = `query($id: ID!, $at: Position) { match(id: $id, asOf: {position: $at}) { position } }`
			vars["at"] = asOf
		}
		return e.ok(tok, q, vars).str("match", "position")
	}
	want := position(menteeTok, nil)
	if want == "" || want != position(staffTok, nil) {
		t.Fatalf("before any session the mentee reads position %q, staff %q", want, position(staffTok, nil))
	}
	day := domain.DateOf(e.clock.Now(), p.Location)
	session := uuid.New()
	logged := wait(e.svc.LogSession(ctx, command.Request{Actor: mentor}, matchID, session, domain.SessionDetails{Date: day, Minutes: 30}))
	edited := wait(e.svc.EditSession(ctx, command.Request{Actor: mentor}, matchID, session, domain.SessionDetails{Date: day, Minutes: 45}))

	if got := position(menteeTok, nil); got != want {
		t.Fatalf("the mentee reads position %s after the mentor's private session, want %s (the acceptance)", got, want)
	}
	for _, at := range []any{strconv.FormatUint(uint64(logged.Position), 10), strconv.FormatUint(uint64(edited.Position), 10), "99999999"} {
		if got := position(menteeTok, at); got != want {
			t.Fatalf("the mentee reads position %s as of %v, want %s", got, at, want)
		}
	}
	mine := strconv.FormatUint(uint64(edited.Position), 10)
	if got := position(mentorTok, nil); got != mine {
		t.Fatalf("the mentor reads position %s after editing their own session, want %s", got, mine)
	}
	if got := position(staffTok, nil); got != mine {
		t.Fatalf("staff read position %s, want %s", got, mine)
	}
	if got := position(mentorTok, strconv.FormatUint(uint64(logged.Position), 10)); got != strconv.FormatUint(uint64(logged.Position), 10) {
		t.Fatalf("the mentor reads position %s as of their session, want its own", got)
	}
}
