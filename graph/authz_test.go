package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/graph"
	"github.com/mentorship/mentorship/graph/model"
	"github.com/mentorship/mentorship/notify"
)

// roleNames are the viewers of every matrix, in the order each row is run:
// the mentee and mentor of the match under test, two members outside it,
// staff, an auditor and nobody.
var roleNames = []string{"anonymous", "mentee", "mentor", "other mentee", "other mentor", "staff", "auditor"}

// outboxStub shows one email for any match.
type outboxStub struct{}

func (outboxStub) ForMatch(id uuid.UUID) ([]notify.Entry, error) {
	return []notify.Entry{{
		ID: "request-received-1", Kind: notify.KindRequestReceived, MatchID: id, To: "max@example.org",
		Subject: "A mentee asks you to mentor them", Status: notify.StatusSent, Attempts: 1,
		CreatedAt: time.Date(2026, 4, 6, 15, 0, 0, 0, time.UTC), SentAt: time.Date(2026, 4, 6, 15, 1, 0, 0, time.UTC),
	}}, nil
}

// Every role against every query and private field: each cell is
// asserted allowed or refused.
func TestAuthorizationMatrix(t *testing.T) {
	e := buildEnvWith(t, false, func(r *graph.Resolver) { r.Outbox = outboxStub{} })
	ctx := context.Background()
	mentee, menteeTok := e.user(domain.RoleMentee, "Mia Mentee")
	mentor, mentorTok := e.user(domain.RoleMentor, "Max Mentor")
	_, otherMenteeTok := e.user(domain.RoleMentee, "Olive Other")
	_, otherMentorTok := e.user(domain.RoleMentor, "Oscar Other")
	_, staffTok := e.user(domain.RoleStaff, "Sam Staff")
	_, auditorTok := e.user(domain.RoleAuditor, "Alex Auditor")
	for _, a := range []struct {
		actor domain.Actor
		email string
	}{{mentee, "mia@example.org"}, {mentor, "max@example.org"}} {
		if _, err := e.svc.UpdateProfile(ctx, command.Request{Actor: a.actor}, a.actor.ID, domain.Profile{Name: "Member", Contact: domain.Contact{Email: a.email}}); err != nil {
			t.Fatal(err)
		}
	}
	matchID, _, err := e.svc.RequestMatch(ctx, command.Request{Actor: mentee}, mentor.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.svc.AcceptMatch(ctx, command.Request{Actor: mentor}, matchID)
	if err != nil {
		t.Fatal(err)
	}
	date := domain.DateOf(e.clock.Now(), e.svc.Program().Location)
	sessionID := uuid.New()
	res2, err := e.svc.LogSession(ctx, command.Request{Actor: mentee}, matchID, sessionID, domain.SessionDetails{Date: date, Minutes: 30, Notes: "private notes"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.runner.WaitForDefault(ctx, max(res.Position, res2.Position)); err != nil {
		t.Fatal(err)
	}
	vars := map[string]any{
		"match": gid(model.KindMatch, matchID), "session": gid(model.KindSession, sessionID),
		"mentee": gid(model.KindMember, mentee.ID), "mentor": gid(model.KindMember, mentor.ID),
		"pos": strconv.FormatUint(uint64(res2.Position), 10), "time": e.clock.Now().Add(time.Minute).Format(time.RFC3339),
	}
	tokens := map[string]string{
		"anonymous": "", "mentee": menteeTok, "mentor": mentorTok, "other mentee": otherMenteeTok,
		"other mentor": otherMentorTok, "staff": staffTok, "auditor": auditorTok,
	}
	// allowed: a role name set; a cell outside it must be refused (an
	// error, or null data where the API hides rather than refuses).
	type check func(r response) bool
	errCode := func(code string) check { return func(r response) bool { return r.code() == code } }
	nullAt := func(path ...any) check {
		return func(r response) bool { return len(r.Errors) == 0 && r.get(path...) == nil }
	}
	notNullAt := func(path ...any) check {
		return func(r response) bool { return len(r.Errors) == 0 && r.get(path...) != nil }
	}
	listLen := func(n int, path ...any) check {
		return func(r response) bool {
			l, ok := r.get(path...).([]any)
			return len(r.Errors) == 0 && ok && len(l) == n
		}
	}
	hidden := func(path ...any) check {
		return anyOf(nullAt(path...), nullAt(path[0]), errCode("UNAUTHENTICATED"))
	}
	everyone := roleNames
	members := []string{"mentee", "mentor", "other mentee", "other mentor"}
	cases := []struct {
		op      string
		query   string
		allowed []string
		ok      check
		refused check
	}{
		// The guide: mentees search; mentors never request mentees.
		{"searchMentors", `{ searchMentors { totalCount } }`, []string{"mentee", "other mentee", "staff"}, notNullAt("searchMentors"), errOrForbidden},
		{"mentor", `query($mentor: ID!) { mentor(id: $mentor) { id name } }`, append(members, "staff"), notNullAt("mentor"), errOrForbidden},
		{"mentor contact", `query($mentor: ID!) { mentor(id: $mentor) { contact { email } } }`, []string{"mentee", "mentor", "staff"}, notNullAt("mentor", "contact"), anyOf(nullAt("mentor", "contact"), errOrForbidden)},
		{"myMatches", `{ myMatches { totalCount } }`, members, notNullAt("myMatches"), errOrForbidden},
		{"match", `query($match: ID!) { match(id: $match) { id } }`, []string{"mentee", "mentor", "staff", "auditor"}, notNullAt("match"), hidden("match")},
		{"match contact", `query($match: ID!) { match(id: $match) { mentee { contact { email } } } }`, []string{"mentee", "mentor", "staff"}, notNullAt("match", "mentee", "contact"), hidden("match", "mentee", "contact")},
		{"match partner contact", `query($match: ID!) { match(id: $match) { partner { contact { email } } } }`, []string{"mentee", "mentor"}, notNullAt("match", "partner", "contact"), hidden("match", "partner")},
		{"match documents", `query($match: ID!) { match(id: $match) { documents { id } } }`, []string{"mentee", "mentor", "staff"}, notNullAt("match", "documents"), hidden("match", "documents")},
		{"match mySessions", `query($match: ID!) { match(id: $match) { mySessions { id notes } } }`, []string{"mentee"}, listLen(1, "match", "mySessions"), anyOf(listLen(0, "match", "mySessions"), hidden("match", "mySessions"))},
		{"match emails", `query($match: ID!) { match(id: $match) { emails { id to subject } } }`, []string{"staff"}, listLen(1, "match", "emails"), hidden("match", "emails")},
		{"match as of a position", `query($match: ID!, $pos: Position) { match(id: $match, asOf: {position: $pos}) { id status } }`, []string{"mentee", "mentor", "staff", "auditor"}, notNullAt("match", "status"), hidden("match")},
		{"match as of a time", `query($match: ID!, $time: Time) { match(id: $match, asOf: {time: $time}) { id status } }`, []string{"mentee", "mentor", "staff", "auditor"}, notNullAt("match", "status"), hidden("match")},
		{"match as of: contact", `query($match: ID!, $pos: Position) { match(id: $match, asOf: {position: $pos}) { mentee { contact { email } } mentor { contact { email } } } }`, []string{"mentee", "mentor", "staff"}, func(r response) bool {
			return notNullAt("match", "mentee", "contact")(r) && notNullAt("match", "mentor", "contact")(r)
		}, anyOf(func(r response) bool {
			return nullAt("match", "mentee", "contact")(r) && nullAt("match", "mentor", "contact")(r)
		}, hidden("match"))},
		{"match as of: documents", `query($match: ID!, $pos: Position) { match(id: $match, asOf: {position: $pos}) { documents { id } } }`, []string{"mentee", "mentor", "staff"}, notNullAt("match", "documents"), hidden("match", "documents")},
		{"match as of: mySessions", `query($match: ID!, $pos: Position) { match(id: $match, asOf: {position: $pos}) { mySessions { id notes } } }`, []string{"mentee"}, listLen(1, "match", "mySessions"), anyOf(listLen(0, "match", "mySessions"), hidden("match", "mySessions"))},
		{"match as of: emails", `query($match: ID!, $pos: Position) { match(id: $match, asOf: {position: $pos}) { emails { id } } }`, []string{"staff"}, listLen(1, "match", "emails"), hidden("match", "emails")},
		{"session node", `query($session: ID!) { node(id: $session) { id } }`, []string{"mentee"}, notNullAt("node"), hidden("node")},
		{"session notes via node", `query($session: ID!) { node(id: $session) { ... on Session { notes } } }`, []string{"mentee"}, notNullAt("node", "notes"), hidden("node", "notes")},
		{"member contact via node", `query($mentee: ID!) { node(id: $mentee) { ... on Member { contact { email } } } }`, []string{"mentee", "mentor", "staff"}, notNullAt("node", "contact"), hidden("node", "contact")},
		{"matchHistory", `query($match: ID!) { matchHistory(matchId: $match) { totalCount } }`, []string{"staff", "auditor"}, notNullAt("matchHistory"), errOrForbidden},
		{"matchHistory data", `query($match: ID!) { matchHistory(matchId: $match) { edges { node { type data } } } }`, []string{"staff", "auditor"}, func(r response) bool {
			return notNullAt("matchHistory")(r) && !strings.Contains(string(r.raw), "private notes")
		}, errOrForbidden},
		{"mySessions", `{ mySessions { totalCount } }`, members, notNullAt("mySessions"), errOrForbidden},
		{"mySessions notes", `{ mySessions { edges { node { notes } } } }`, []string{"mentee"}, listLen(1, "mySessions", "edges"), anyOf(listLen(0, "mySessions", "edges"), errOrForbidden)},
		{"cpdSummary", `{ cpdSummary { totalHours } }`, members, notNullAt("cpdSummary"), errOrForbidden},
		{"resources", `{ resources { totalCount } }`, append(members, "staff"), notNullAt("resources"), errOrForbidden},
		{"staffQueue", `{ staffQueue { nudgeRequests { id } } }`, []string{"staff"}, notNullAt("staffQueue"), errOrForbidden},
		{"dashboard", `{ dashboard { active } }`, []string{"staff"}, notNullAt("dashboard"), errOrForbidden},
		{"memberDirectory", `{ memberDirectory { totalCount } }`, []string{"staff"}, notNullAt("memberDirectory"), errOrForbidden},
		{"recommendedMentors", `{ recommendedMentors { score } }`, []string{"mentee", "other mentee"}, notNullAt("recommendedMentors"), anyOf(errCode("FORBIDDEN"), errCode("UNAUTHENTICATED"), errCode("BAD_USER_INPUT"))},
		{"programOptions", `{ programOptions { disciplines } }`, everyone, notNullAt("programOptions"), errOrForbidden},
		{"version", `{ version { version goVersion environment } }`, everyone, notNullAt("version", "goVersion"), errOrForbidden},
		{"viewer", `{ viewer { role } }`, []string{"mentee", "mentor", "other mentee", "other mentor", "staff", "auditor"}, notNullAt("viewer"), nullAt("viewer")},
	}
	for _, tc := range cases {
		for _, role := range roleNames {
			r := e.do(tokens[role], tc.query, usedVars(tc.query, vars))
			if slices.Contains(tc.allowed, role) {
				if !tc.ok(r) {
					t.Errorf("%s as %s: want allowed, got %s", tc.op, role, truncate(r.raw))
				}
			} else if !tc.refused(r) {
				t.Errorf("%s as %s: want refused, got %s", tc.op, role, truncate(r.raw))
			}
		}
	}
}

// cast is a fresh set of members around one match, for a cell that
// changes what it acts on.
type cast struct {
	tokens map[string]string
	vars   map[string]any
}

// Match states a cast is built in.
const (
	noMatch      = "no match"
	pendingMatch = "pending"
	overdueMatch = "pending past the response window"
	activeMatch  = "active, with a session and a document of the mentee's"
)

// Every role against every mutation. A refused cell answers an error or a
// userError and writes nothing; an allowed one succeeds and writes. Each
// allowed cell acts on a fresh cast, so that it finds the state the
// operation needs; the refused cells of a row share one.
func TestAuthorizationMatrixMutations(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := e.svc.Program()
	staff, staffTok := e.user(domain.RoleStaff, "Sam Staff")
	_, auditorTok := e.user(domain.RoleAuditor, "Alex Auditor")
	wait := func(res command.Result, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if err := e.runner.WaitForDefault(ctx, res.Position); err != nil {
			t.Fatal(err)
		}
	}
	newCast := func(state string) cast {
		t.Helper()
		mentee, menteeTok := e.user(domain.RoleMentee, "Mia Mentee")
		mentor, mentorTok := e.user(domain.RoleMentor, "Max Mentor")
		_, otherMenteeTok := e.user(domain.RoleMentee, "Olive Other")
		_, otherMentorTok := e.user(domain.RoleMentor, "Oscar Other")
		c := cast{
			tokens: map[string]string{
				"anonymous": "", "mentee": menteeTok, "mentor": mentorTok, "other mentee": otherMenteeTok,
				"other mentor": otherMentorTok, "staff": staffTok, "auditor": auditorTok,
			},
			vars: map[string]any{
				"mentee": gid(model.KindMember, mentee.ID), "mentor": gid(model.KindMember, mentor.ID),
				"date": domain.DateOf(e.clock.Now(), p.Location).String(),
			},
		}
		resourceID, res, err := e.svc.PublishResource(ctx, command.Request{Actor: staff}, domain.PublishResource{Title: "Guide", URL: "https://example.org/guide", Audience: domain.AudienceBoth})
		wait(res, err)
		c.vars["resource"] = gid(model.KindResource, resourceID)
		if state == noMatch {
			return c
		}
		matchID, res, err := e.svc.RequestMatch(ctx, command.Request{Actor: mentee}, mentor.ID, "")
		wait(res, err)
		c.vars["match"] = gid(model.KindMatch, matchID)
		switch state {
		case overdueMatch:
			e.clock.Advance(p.ResponseWindow + time.Hour)
		case activeMatch:
			wait(e.svc.AcceptMatch(ctx, command.Request{Actor: mentor}, matchID))
			sessionID := uuid.New()
			wait(e.svc.LogSession(ctx, command.Request{Actor: mentee}, matchID, sessionID, domain.SessionDetails{Date: domain.DateOf(e.clock.Now(), p.Location), Minutes: 30, Notes: "private notes"}))
			c.vars["session"] = gid(model.KindSession, sessionID)
			r := uploadAs(e, menteeTok, c.vars["match"].(string), "plan.pdf", minimalPDF)
			if r.str("uploadDocument", "document", "id") == "" {
				t.Fatalf("upload: %s", r.raw)
			}
			c.vars["document"] = r.str("uploadDocument", "document", "id")
		}
		return c
	}
	mutate := func(query string) func(token string, vars map[string]any) response {
		return func(token string, vars map[string]any) response { return e.do(token, query, usedVars(query, vars)) }
	}
	members := []string{"mentee", "mentor", "other mentee", "other mentor"}
	cases := []struct {
		op      string
		state   string
		send    func(token string, vars map[string]any) response
		allowed []string
	}{
		{"updateProfile", noMatch, mutate(`mutation { updateProfile(input: {name: "Renamed"}) { member { id } userErrors { code } } }`), members},
		{"updateProfile of the mentee", noMatch, mutate(`mutation($mentee: ID!) { updateProfile(input: {memberId: $mentee, name: "Renamed"}) { member { id } userErrors { code } } }`), []string{"mentee", "staff"}},
		{"updateProfile of the mentor with capacity", noMatch, mutate(`mutation($mentor: ID!) { updateProfile(input: {memberId: $mentor, name: "Renamed", capacity: 3, acceptingRequests: false}) { member { id } userErrors { code } } }`), []string{"mentor", "staff"}},
		{"requestMatch", noMatch, mutate(`mutation($mentor: ID!) { requestMatch(input: {mentorId: $mentor}) { match { id } userErrors { code } } }`), []string{"mentee", "other mentee"}},
		{"cancelMatchRequest", pendingMatch, mutate(`mutation($match: ID!) { cancelMatchRequest(input: {matchId: $match}) { match { id } userErrors { code } } }`), []string{"mentee"}},
		{"acceptMatch", pendingMatch, mutate(`mutation($match: ID!) { acceptMatch(input: {matchId: $match}) { match { id } userErrors { code } } }`), []string{"mentor"}},
		{"declineMatch", pendingMatch, mutate(`mutation($match: ID!) { declineMatch(input: {matchId: $match, reason: "` + p.DeclineReasons[0] + `"}) { match { id } userErrors { code } } }`), []string{"mentor"}},
		{"askStaffToNudge", overdueMatch, mutate(`mutation($match: ID!) { askStaffToNudge(input: {matchId: $match}) { match { id } userErrors { code } } }`), []string{"mentee"}},
		{"nudgeMentor", overdueMatch, mutate(`mutation($match: ID!) { nudgeMentor(input: {matchId: $match}) { match { id } userErrors { code } } }`), []string{"staff"}},
		{"endMatch", activeMatch, mutate(`mutation($match: ID!, $mentee: ID!) { endMatch(input: {matchId: $match, reason: "OTHER", requestedBy: $mentee, note: "n"}) { match { id } userErrors { code } } }`), []string{"staff"}},
		{"addSession", activeMatch, mutate(`mutation($match: ID!, $date: Date!) { addSession(input: {matchId: $match, date: $date, minutes: 10}) { session { id } userErrors { code } } }`), []string{"mentee", "mentor"}},
		{"editSession", activeMatch, mutate(`mutation($session: ID!, $date: Date!) { editSession(input: {sessionId: $session, date: $date, minutes: 45, notes: "edited"}) { session { id } userErrors { code } } }`), []string{"mentee"}},
		{"uploadDocument", activeMatch, func(token string, vars map[string]any) response {
			return uploadAs(e, token, vars["match"].(string), "notes.pdf", append(append([]byte{}, minimalPDF...), '\n'))
		}, []string{"mentee", "mentor"}},
		{"removeDocument", activeMatch, mutate(`mutation($document: ID!) { removeDocument(input: {documentId: $document}) { document { id } userErrors { code } } }`), []string{"mentee", "mentor"}},
		{"publishResource", noMatch, mutate(`mutation { publishResource(input: {title: "Guide", url: "https://example.org/guide", audience: BOTH}) { resource { id } userErrors { code } } }`), []string{"staff"}},
		{"retireResource", noMatch, mutate(`mutation($resource: ID!) { retireResource(input: {resourceId: $resource}) { resource { id } userErrors { code } } }`), []string{"staff"}},
		{"requestAccountClosure", noMatch, mutate(`mutation { requestAccountClosure(input: {note: "n"}) { member { id } userErrors { code } } }`), members},
		{"eraseMember", noMatch, mutate(`mutation($mentee: ID!) { eraseMember(input: {memberId: $mentee, reason: "asked to close the account"}) { member { id } userErrors { code } } }`), []string{"staff"}},
	}
	for _, tc := range cases {
		shared := newCast(tc.state)
		for _, role := range roleNames {
			c := shared
			allowed := slices.Contains(tc.allowed, role)
			if allowed {
				c = newCast(tc.state)
			}
			before := e.head()
			r := tc.send(c.tokens[role], c.vars)
			wrote := e.head() != before
			userErrs := strings.Contains(string(r.raw), `"userErrors":[{`)
			switch {
			case allowed && (r.Status != http.StatusOK || len(r.Errors) > 0 || userErrs || !wrote):
				t.Errorf("%s as %s: want allowed, got %d (wrote %v) %s", tc.op, role, r.Status, wrote, truncate(r.raw))
			case !allowed && (wrote || !(errOrForbidden(r) || userErrs)):
				t.Errorf("%s as %s: want refused, got %d (wrote %v) %s", tc.op, role, r.Status, wrote, truncate(r.raw))
			}
		}
	}
}

// Every role against every subscription. Allowed subscriptions receive
// what they are for and nothing else; refused ones end with an error.
func TestAuthorizationMatrixSubscriptions(t *testing.T) {
	cases := []struct {
		op      string
		query   string
		allowed []string
		// live: the subscription waits for a change rather than sending
		// at once.
		live bool
	}{
		{"matchUpdated", `subscription($match: ID!) { matchUpdated(matchId: $match) { type match { id } } }`, []string{"mentee", "mentor", "staff"}, true},
		{"myMatchUpdates", `subscription { myMatchUpdates { type match { id } } }`, []string{"mentee", "mentor", "other mentee", "other mentor"}, true},
		{"matchEvents", `subscription { matchEvents(since: "0") { type matchId } }`, []string{"staff", "auditor"}, false},
		{"dashboard", `subscription { dashboard { active } }`, []string{"staff"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.op, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			mentee, menteeTok := e.user(domain.RoleMentee, "Mia Mentee")
			mentor, mentorTok := e.user(domain.RoleMentor, "Max Mentor")
			otherMentee, otherMenteeTok := e.user(domain.RoleMentee, "Olive Other")
			otherMentor, otherMentorTok := e.user(domain.RoleMentor, "Oscar Other")
			staff, staffTok := e.user(domain.RoleStaff, "Sam Staff")
			_, auditorTok := e.user(domain.RoleAuditor, "Alex Auditor")
			tokens := map[string]string{
				"anonymous": "", "mentee": menteeTok, "mentor": mentorTok, "other mentee": otherMenteeTok,
				"other mentor": otherMentorTok, "staff": staffTok, "auditor": auditorTok,
			}
			matchID, _, err := e.svc.RequestMatch(ctx, command.Request{Actor: mentee}, mentor.ID, "")
			if err != nil {
				t.Fatal(err)
			}
			res, err := e.svc.AcceptMatch(ctx, command.Request{Actor: mentor}, matchID)
			if err != nil {
				t.Fatal(err)
			}
			if err := e.runner.WaitForDefault(ctx, res.Position); err != nil {
				t.Fatal(err)
			}
			match := gid(model.KindMatch, matchID)
			conns := map[string]*ws{}
			for _, role := range roleNames {
				c := e.dial(tokens[role])
				c.subscribe("1", tc.query, usedVars(tc.query, map[string]any{"match": match}))
				conns[role] = c
				if !slices.Contains(tc.allowed, role) {
					m := c.read()
					if m["type"] == "next" || m["type"] == "error" {
						if p := fmt.Sprint(m["payload"]); strings.Contains(p, "code:") && !strings.Contains(p, "data:map") {
							continue
						}
					}
					t.Errorf("%s as %s: want refused, got %v", tc.op, role, m)
				}
			}
			if !tc.live {
				for _, role := range tc.allowed {
					if data := conns[role].next("1"); data == nil {
						t.Errorf("%s as %s: no data", tc.op, role)
					}
				}
				return
			}
			// A change to the match under test, then one to a match of
			// the two other members: each live subscriber's first update
			// is the first it may see.
			e.waitSubscribers(len(tc.allowed))
			if _, err := e.svc.EndMatch(ctx, command.Request{Actor: staff}, matchID, "OTHER", mentee.ID, "ended for the test"); err != nil {
				t.Fatal(err)
			}
			otherMatch, _, err := e.svc.RequestMatch(ctx, command.Request{Actor: otherMentee}, otherMentor.ID, "")
			if err != nil {
				t.Fatal(err)
			}
			for _, role := range tc.allowed {
				want := match
				if strings.HasPrefix(role, "other") {
					want = gid(model.KindMatch, otherMatch)
				}
				data := conns[role].next("1")
				var got struct {
					Match struct {
						ID string `json:"id"`
					} `json:"match"`
				}
				b, _ := json.Marshal(data[tc.op])
				_ = json.Unmarshal(b, &got)
				if got.Match.ID != want {
					t.Errorf("%s as %s: first update %v, want one about %s", tc.op, role, data, want)
				}
			}
		})
	}
}

func errOrForbidden(r response) bool { return r.code() == "FORBIDDEN" || r.code() == "UNAUTHENTICATED" }

func anyOf(cs ...func(response) bool) func(response) bool {
	return func(r response) bool {
		for _, c := range cs {
			if c(r) {
				return true
			}
		}
		return false
	}
}

// usedVars passes only the variables a query declares.
func usedVars(query string, vars map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range vars {
		if strings.Contains(query, "$"+k+":") {
			out[k] = v
		}
	}
	return out
}

var minimalPDF = []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")

// uploadAs sends uploadDocument as a GraphQL multipart request, with the
// preflight header uploads need.
func uploadAs(e *env, token, matchID, name string, content []byte) response {
	e.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	ops, _ := json.Marshal(map[string]any{
		"query":     `mutation($in: UploadDocumentInput!) { uploadDocument(input: $in) { document { id } userErrors { code } } }`,
		"variables": map[string]any{"in": map[string]any{"matchId": matchID, "file": nil}},
	})
	_ = w.WriteField("operations", string(ops))
	_ = w.WriteField("map", `{"0": ["variables.in.file"]}`)
	part, _ := w.CreateFormFile("0", name)
	_, _ = part.Write(content)
	_ = w.Close()
	req, _ := http.NewRequest(http.MethodPost, e.url, &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Apollo-Require-Preflight", "true")
	return e.send(req, token, true)
}
