package projections_test

import (
	"context"
	"encoding/json"
	"math"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/uuid"

	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/follow"
	"github.com/mentorship/mentorship/projections"
	"github.com/mentorship/mentorship/projections/readmodeltest"
	"github.com/mentorship/mentorship/seed"
)

// counted are the figures of a month or a group as the test counts them
// from the stored events' JSON, without the projections' decoder or
// evolution.
type counted struct {
	Requested, Made, Declined, Cancelled, Ended int
	DeclinedBy, EndedBy                         map[string]int
	AnswerDays                                  []float64
	Sessions, Minutes, WithoutLength            int
}

// rawEvent holds the fields of the stored events' JSON the count reads.
type rawEvent struct {
	MemberID string    `json:"memberId"`
	MatchID  string    `json:"matchId"`
	MenteeID string    `json:"menteeId"`
	Reason   string    `json:"reason"`
	At       time.Time `json:"at"`
	Profile  struct {
		Discipline string `json:"discipline"`
		Location   struct {
			Province string `json:"province"`
		} `json:"location"`
	} `json:"profile"`
	SessionID string `json:"sessionId"`
	Details   struct {
		Date    string `json:"date"`
		Minutes int    `json:"minutes"`
	} `json:"details"`
}

// logCount reads every event of the store and counts the reports' figures
// by their definition: a match under its mentee's discipline and province
// at request time, requests in the month requested, answers, cancels and
// ends in the month they happened, meeting logs (as last edited) in the
// month of the meeting's date. Keys are "YYYY-MM|discipline|province".
func logCount(t *testing.T, store eventstore.Store) map[string]*counted {
	t.Helper()
	type dims struct{ d, p string }
	type match struct {
		dims      dims
		requested time.Time
		status    string
	}
	type session struct {
		key     string
		minutes int
	}
	members := map[string]dims{}
	matches := map[string]*match{}
	sessions := map[string]session{}
	out := map[string]*counted{}
	at := func(month string, d dims) *counted {
		k := month + "|" + d.d + "|" + d.p
		if out[k] == nil {
			out[k] = &counted{DeclinedBy: map[string]int{}, EndedBy: map[string]int{}}
		}
		return out[k]
	}
	var e rawEvent
	var from eventstore.Position
	for {
		recs, err := store.ReadAll(context.Background(), from, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 0 {
			return out
		}
		for _, rec := range recs {
			from = rec.Position
			e = rawEvent{}
			if err := json.Unmarshal(rec.Data, &e); err != nil {
				t.Fatalf("position %d: %v", rec.Position, err)
			}
			month := e.At.UTC().Format("2006-01")
			m := matches[e.MatchID]
			switch rec.Type {
			case "ProfileUpdated":
				members[e.MemberID] = dims{e.Profile.Discipline, e.Profile.Location.Province}
			case "MatchRequested":
				matches[e.MatchID] = &match{members[e.MenteeID], e.At, "pending"}
				at(month, members[e.MenteeID]).Requested++
			case "MatchAccepted", "MatchDeclined", "MatchCancelled":
				if m.status != "pending" {
					t.Fatalf("position %d: %s of a %s match", rec.Position, rec.Type, m.status)
				}
				c := at(month, m.dims)
				switch rec.Type {
				case "MatchAccepted":
					m.status = "active"
					c.Made++
				case "MatchDeclined":
					m.status = "declined"
					c.Declined++
					c.DeclinedBy[e.Reason]++
				default:
					m.status = "cancelled"
					c.Cancelled++
				}
				if m.status != "cancelled" {
					c.AnswerDays = append(c.AnswerDays, e.At.Sub(m.requested).Hours()/24)
				}
			case "MatchEnded":
				m.status = "ended"
				c := at(month, m.dims)
				c.Ended++
				c.EndedBy[e.Reason]++
			case "SessionLogged", "SessionEdited":
				if old, ok := sessions[e.SessionID]; ok {
					out[old.key].Sessions--
					out[old.key].Minutes -= old.minutes
					if old.minutes == 0 {
						out[old.key].WithoutLength--
					}
				}
				k := e.Details.Date[:7] + "|" + m.dims.d + "|" + m.dims.p
				c := at(e.Details.Date[:7], m.dims)
				c.Sessions++
				c.Minutes += e.Details.Minutes
				if e.Details.Minutes == 0 {
					c.WithoutLength++
				}
				sessions[e.SessionID] = session{k, e.Details.Minutes}
			}
		}
	}
}

// sum adds up the counted cells that keep selects.
func sum(cells map[string]*counted, keep func(month, discipline, province string) bool) counted {
	s := counted{DeclinedBy: map[string]int{}, EndedBy: map[string]int{}}
	for k, c := range cells {
		var parts [3]string
		i := 0
		for j := range k {
			if k[j] == '|' {
				i++
				continue
			}
			parts[i] += string(k[j])
		}
		if !keep(parts[0], parts[1], parts[2]) {
			continue
		}
		s.Requested += c.Requested
		s.Made += c.Made
		s.Declined += c.Declined
		s.Cancelled += c.Cancelled
		s.Ended += c.Ended
		for r, n := range c.DeclinedBy {
			s.DeclinedBy[r] += n
		}
		for r, n := range c.EndedBy {
			s.EndedBy[r] += n
		}
		s.AnswerDays = append(s.AnswerDays, c.AnswerDays...)
		s.Sessions += c.Sessions
		s.Minutes += c.Minutes
		s.WithoutLength += c.WithoutLength
	}
	for r, n := range s.DeclinedBy {
		if n == 0 {
			delete(s.DeclinedBy, r)
		}
	}
	return s
}

func median(days []float64) float64 {
	if len(days) == 0 {
		return 0
	}
	s := slices.Clone(days)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// compare checks a report's figures against the independent count.
func compare(t *testing.T, what string, got projections.ReportFigures, want counted) {
	t.Helper()
	type figures struct {
		Requested, Made, Declined, Cancelled, Ended, Answered int
		DeclinedBy, EndedBy                                   map[string]int
		Sessions, Minutes, WithoutLength                      int
	}
	g := figures{got.Requested, got.Made, got.Declined, got.Cancelled, got.Ended, got.Answered, got.DeclinedBy, got.EndedBy, got.Sessions, got.Minutes, got.SessionsWithoutLength}
	w := figures{want.Requested, want.Made, want.Declined, want.Cancelled, want.Ended, len(want.AnswerDays), want.DeclinedBy, want.EndedBy, want.Sessions, want.Minutes, want.WithoutLength}
	if diff := cmp.Diff(w, g, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("%s (-log +report):\n%s", what, diff)
	}
	// The read model keeps whole seconds.
	if m := median(want.AnswerDays); math.Abs(m-got.MedianDaysToAnswer) > 2.0/86400 {
		t.Errorf("%s: median days to an answer %v, the log gives %v", what, got.MedianDaysToAnswer, m)
	}
}

// The reports rebuilt from a simulated year and a half of a program, with
// meeting logs edited into other months and some to their date alone, show exactly the figures counted
// independently from the log: every month, every discipline and province,
// the totals and a filtered report; again after a snapshot is saved and
// loaded, and after the whole log is delivered a second time.
func TestReportsMatchAnIndependentCountFromTheLog(t *testing.T) {
	ctx := context.Background()
	store, svc, clk := readmodeltest.NewProgram(t)
	if _, err := seed.Generate(ctx, store, svc.Program(), seed.Options{Mentors: 40, Mentees: 120, Events: 6000, Seed: 20, Days: 540, End: clk.Now(), Workers: 2}); err != nil {
		t.Fatal(err)
	}
	editSessions(t, store, svc)

	reports := projections.NewReports(time.UTC)
	n, err := follow.Rebuild(ctx, store, 0, nil, reports)
	if err != nil {
		t.Fatal(err)
	}
	cells := logCount(t, store)
	first, last := "9999-99", "0000-00"
	for k := range cells {
		first, last = min(first, k[:7]), max(last, k[:7])
	}
	from, _ := projections.ParseMonth(first)
	to, _ := projections.ParseMonth(last)
	check := func(reports *projections.Reports) {
		t.Helper()
		r, err := reports.Report(projections.ReportQuery{From: from, To: to})
		if err != nil {
			t.Fatal(err)
		}
		if r.Position == 0 || len(r.Months) < 12 || r.Total.Requested < 100 || r.Total.Ended == 0 || r.Total.Declined == 0 || r.Total.Sessions < 100 || r.Total.SessionsWithoutLength == 0 {
			t.Fatalf("the simulated program is too small to test the reports: %+v", r.Total)
		}
		for _, m := range r.Months {
			compare(t, m.Month.String(), m.ReportFigures, sum(cells, func(month, _, _ string) bool { return month == m.Month.String() }))
		}
		for _, g := range r.ByDiscipline {
			compare(t, "discipline "+g.Name, g.ReportFigures, sum(cells, func(_, d, _ string) bool { return d == g.Name }))
		}
		for _, g := range r.ByProvince {
			compare(t, "province "+g.Name, g.ReportFigures, sum(cells, func(_, _, p string) bool { return p == g.Name }))
		}
		compare(t, "total", r.Total, sum(cells, func(string, string, string) bool { return true }))
		if len(r.ByDiscipline) < 3 || len(r.ByProvince) < 3 {
			t.Fatalf("too few groups: %d disciplines, %d provinces", len(r.ByDiscipline), len(r.ByProvince))
		}
		d, p := r.ByDiscipline[0].Name, r.ByProvince[1].Name
		mid := projections.Month{Year: from.Year, Month: from.Month}
		for range 3 {
			mid = mid.Next()
		}
		f, err := reports.Report(projections.ReportQuery{From: mid, To: to, Disciplines: []string{d}, Provinces: []string{p, ""}})
		if err != nil {
			t.Fatal(err)
		}
		compare(t, "filtered", f.Total, sum(cells, func(month, dd, pp string) bool {
			return month >= mid.String() && dd == d && (pp == p || pp == "")
		}))
	}
	check(reports)
	t.Logf("%d events; %d months", n, to.Year*12+int(to.Month)-from.Year*12-int(from.Month)+1)

	dir := t.TempDir()
	if _, err := projections.SaveSnapshot(dir, reports); err != nil {
		t.Fatal(err)
	}
	loaded := projections.NewReports(time.UTC)
	if _, err := projections.LoadSnapshot(store, dir, loaded); err != nil {
		t.Fatal(err)
	}
	check(loaded)
	if _, err := projections.LoadSnapshot(store, dir, projections.NewReports(time.FixedZone("UTC-5", -5*3600))); err == nil {
		t.Fatal("a snapshot counted in UTC loaded into reports counting in another time zone")
	}
	if _, err := follow.Rebuild(ctx, store, 0, nil, loaded); err != nil {
		t.Fatal(err)
	}
	check(loaded)
}

// editSessions edits some meeting logs to the day their match was made,
// often another month, and to another length.
func editSessions(t *testing.T, store eventstore.Store, svc *command.Service) {
	t.Helper()
	ctx := context.Background()
	accepted := map[uuid.UUID]time.Time{}
	edited := 0
	var from eventstore.Position
	for edited < 40 {
		recs, err := store.ReadAll(ctx, from, 500)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 0 {
			break
		}
		for _, rec := range recs {
			from = rec.Position
			ev, err := domain.Decode(rec.Type, rec.SchemaVersion, rec.Data)
			if err != nil {
				t.Fatal(err)
			}
			switch e := ev.(type) {
			case domain.MatchAccepted:
				accepted[e.MatchID] = e.At
			case domain.SessionLogged:
				if edited >= 40 || rec.Position%3 != 0 {
					continue
				}
				req := command.Request{Actor: domain.Actor{ID: e.AuthorID, Role: domain.RoleMentee}}
				if m, err := svc.Member(ctx, e.AuthorID); err == nil {
					req.Actor.Role = m.Role()
				}
				d := e.Details
				d.Date = domain.DateOf(accepted[e.MatchID], time.UTC)
				d.Minutes = d.Minutes%300 + 7
				if edited%3 == 0 {
					d.Minutes = 0 // a meeting logged with its date only
				}
				if _, err := svc.EditSession(ctx, req, e.MatchID, e.SessionID, d); err == nil {
					edited++
				}
			}
		}
	}
	if edited < 10 {
		t.Fatalf("only %d meeting logs could be edited", edited)
	}
}
