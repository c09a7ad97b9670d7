package graph_test

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/graph"
)

const reportQuery = `query($in: ProgramReportInput) { programReport(input: $in) {
	from to position
	months { month figures { requested made declined cancelled ended answered medianDaysToAnswer sessions sessionsWithoutLength cpdHours endedByReason { reason count } declinedByReason { reason count } } }
	byDiscipline { name figures { requested made } }
	byProvince { name figures { requested made } }
	total { requested made declined ended answered medianDaysToAnswer sessions cpdHours endedByReason { reason count } }
} }`

// Staff and auditors read the reports and the program's health; members
// are refused with FORBIDDEN and anonymous callers with UNAUTHENTICATED;
// bad months are refused with BAD_USER_INPUT naming the field.
func TestReportsAreForStaffAndAuditors(t *testing.T) {
	e := newEnv(t)
	_, staff := e.user(domain.RoleStaff, "Sam Staff")
	_, auditor := e.user(domain.RoleAuditor, "Alex Auditor")
	_, mentee := e.user(domain.RoleMentee, "Mia Mentee")
	_, mentor := e.user(domain.RoleMentor, "Max Mentor")
	for _, q := range []string{reportQuery, `{ programHealth { pending position } }`} {
		for tok, want := range map[string]string{staff: "", auditor: "", mentee: "FORBIDDEN", mentor: "FORBIDDEN", "": "UNAUTHENTICATED"} {
			if got := e.do(tok, q, nil).code(); got != want {
				t.Errorf("%.30s with %q: code %q, want %q", q, tok, got, want)
			}
		}
	}
	for _, c := range []struct {
		in   map[string]any
		want string
	}{
		{map[string]any{"from": "2026-13"}, "from:"},
		{map[string]any{"to": "April"}, "to:"},
		{map[string]any{"from": "2026-05", "to": "2026-04"}, "before it starts"},
		{map[string]any{"from": "2000-01", "to": "2026-04"}, "at most 120 months"},
		{map[string]any{"disciplines": []string{"ALCHEMY"}}, `disciplines: "ALCHEMY" is not one of`},
		{map[string]any{"provinces": []string{"ON", "XX"}}, `provinces: "XX" is not one of`},
	} {
		r := e.do(staff, reportQuery, map[string]any{"in": c.in})
		if r.code() != "BAD_USER_INPUT" || !strings.Contains(r.Errors[0].Message, c.want) {
			t.Errorf("%v: %s", c.in, r.raw)
		}
	}
}

// A match requested, accepted and ended through the API, with a meeting
// logged, shows in the report of its month under the mentee's discipline
// and province, and in the program's health while it lasts.
func TestReportShowsAMatchThroughTheAPI(t *testing.T) {
	e := newEnv(t)
	_, staff := e.user(domain.RoleStaff, "Sam Staff")
	mentee, menteeTok := e.user(domain.RoleMentee, "Mia Mentee")
	mentor, mentorTok := e.user(domain.RoleMentor, "Max Mentor")
	e.ok(menteeTok, `mutation { updateProfile(input: {name: "Mia Mentee", discipline: "CIVIL", location: {province: "SK"}}) { userErrors { code } } }`, nil)
	r := e.ok(menteeTok, `mutation($m: ID!) { requestMatch(input: {mentorId: $m}) { match { id } } }`, map[string]any{"m": gid("Member", mentor.ID)})
	matchID := r.str("requestMatch", "match", "id")
	if got := e.ok(staff, `{ programHealth { pending active } }`, nil).get("programHealth", "pending"); got != 1.0 {
		t.Fatalf("pending %v", got)
	}
	e.clock.Advance(36 * 3600e9)
	e.ok(mentorTok, `mutation($m: ID!) { acceptMatch(input: {matchId: $m}) { userErrors { code } } }`, map[string]any{"m": matchID})
	e.ok(menteeTok, `mutation($m: ID!) { addSession(input: {matchId: $m, date: "2026-04-08", minutes: 90}) { userErrors { code } } }`, map[string]any{"m": matchID})
	e.ok(mentorTok, `mutation($m: ID!) { addSession(input: {matchId: $m, date: "2026-04-08"}) { userErrors { code } } }`, map[string]any{"m": matchID})
	e.ok(staff, `mutation($m: ID!, $by: ID!) { endMatch(input: {matchId: $m, reason: "GRACEFUL_EXIT", requestedBy: $by, note: "not a fit"}) { userErrors { code } } }`,
		map[string]any{"m": matchID, "by": gid("Member", mentee.ID)})
	r = e.ok(staff, reportQuery, map[string]any{"in": map[string]any{"from": "2026-03", "to": "2026-04"}})
	var got struct {
		ProgramReport struct {
			Months []struct {
				Month   string
				Figures map[string]any
			}
			ByDiscipline []struct {
				Name    *string
				Figures map[string]any
			}
			ByProvince []struct {
				Name    *string
				Figures map[string]any
			}
		}
	}
	raw, _ := json.Marshal(r.Data)
	_ = json.Unmarshal(raw, &got)
	rep := got.ProgramReport
	if len(rep.Months) != 2 || rep.Months[0].Month != "2026-03" || rep.Months[0].Figures["requested"] != 0.0 {
		t.Fatalf("months: %s", r.raw)
	}
	april := rep.Months[1].Figures
	want := map[string]any{"requested": 1.0, "made": 1.0, "ended": 1.0, "answered": 1.0, "medianDaysToAnswer": 1.5, "sessions": 2.0, "sessionsWithoutLength": 1.0, "cpdHours": 1.5}
	for k, v := range want {
		if april[k] != v {
			t.Errorf("April's %s is %v, want %v: %s", k, april[k], v, r.raw)
		}
	}
	if reasons, _ := json.Marshal(april["endedByReason"]); string(reasons) != `[{"count":1,"reason":"GRACEFUL_EXIT"}]` {
		t.Errorf("ends by reason: %s", reasons)
	}
	if len(rep.ByDiscipline) != 1 || deref(rep.ByDiscipline[0].Name) != "CIVIL" || len(rep.ByProvince) != 1 || deref(rep.ByProvince[0].Name) != "SK" {
		t.Errorf("groups: %s", r.raw)
	}
	r = e.ok(staff, reportQuery, map[string]any{"in": map[string]any{"from": "2026-04", "to": "2026-04", "provinces": []string{"ON"}}})
	if r.get("programReport", "total", "requested") != 0.0 {
		t.Errorf("a province filter kept another province's match: %s", r.raw)
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// The CSV export answers staff and auditors with the report's rows, and
// refuses others and bad parameters with the right status and a reason.
func TestReportsExportAsCSV(t *testing.T) {
	e := newEnv(t)
	_, staff := e.user(domain.RoleStaff, "Sam Staff")
	_, auditor := e.user(domain.RoleAuditor, "Alex Auditor")
	_, mentee := e.user(domain.RoleMentee, "Mia Mentee")
	mentor, mentorTok := e.user(domain.RoleMentor, "Max Mentor")
	r := e.ok(mentee, `mutation($m: ID!) { requestMatch(input: {mentorId: $m}) { match { id } } }`, map[string]any{"m": gid("Member", mentor.ID)})
	e.ok(mentorTok, `mutation($m: ID!) { declineMatch(input: {matchId: $m, reason: "NO_CAPACITY"}) { userErrors { code } } }`, map[string]any{"m": r.str("requestMatch", "match", "id")})
	srv := httptest.NewServer(graph.Authenticate(e.authn, graph.ReportsExportHandler(e.resolver)))
	t.Cleanup(srv.Close)
	get := func(token, query string) (int, http.Header, string) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+graph.ReportsExportPath+"?"+query, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, res.Header, string(b)
	}
	for _, tok := range []string{staff, auditor} {
		code, h, body := get(tok, "format=csv&from=2026-03&to=2026-04")
		if code != 200 || h.Get("Content-Type") != "text/csv; charset=utf-8" || !strings.Contains(h.Get("Content-Disposition"), "attachment") {
			t.Fatalf("%d %v %s", code, h, body)
		}
		rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		want := [][]string{
			{"scope", "name", "requested", "made", "declined", "cancelled", "ended", "answered", "median_days_to_answer", "sessions", "sessions_without_length", "cpd_hours", "declined:NO_CAPACITY"},
			{"month", "2026-03", "0", "0", "0", "0", "0", "0", "", "0", "0", "0.00", "0"},
			{"month", "2026-04", "1", "0", "1", "0", "0", "1", "0.00", "0", "0", "0.00", "1"},
			{"discipline", "", "1", "0", "1", "0", "0", "1", "0.00", "0", "0", "0.00", "1"},
			{"province", "", "1", "0", "1", "0", "0", "1", "0.00", "0", "0", "0.00", "1"},
			{"total", "2026-03..2026-04", "1", "0", "1", "0", "0", "1", "0.00", "0", "0", "0.00", "1"},
		}
		if fmt.Sprint(rows) != fmt.Sprint(want) {
			t.Errorf("rows:\n%v\nwant\n%v", rows, want)
		}
	}
	for _, c := range []struct {
		token, query string
		code         int
		says         string
	}{
		{"", "", 401, "sign in"},
		{mentee, "", 403, "only staff and auditors"},
		{staff, "format=xml", 400, "unknown format"},
		{staff, "from=2026-4", 400, "YYYY-MM"},
		{staff, "month=2026-04", 400, "unknown parameter"},
		{staff, "from=2026-01&from=2025-01", 400, "more than once"},
		{staff, "from=2026-05&to=2026-04", 400, "before it starts"},
		{staff, "province=ON,Atlantis", 400, "not one of the program's provinces"},
	} {
		code, _, body := get(c.token, c.query)
		if code != c.code || !strings.Contains(body, c.says) {
			t.Errorf("%q: %d %q, want %d saying %q", c.query, code, body, c.code, c.says)
		}
	}
}
