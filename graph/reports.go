package graph

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/graph/model"
	"github.com/mentorship/mentorship/projections"
)

// errReportsOff answers a report on a server built without the reports
// read model.
var errReportsOff = &apiError{CodeUnavailable, "the program reports are not available on this server"}

// reportQuery reads a report's input: months as YYYY-MM, by default the
// twelve months up to the current one in the program's time zone.
func reportQuery(in *model.ProgramReportInput, program domain.Program, now time.Time) (projections.ReportQuery, error) {
	loc := program.Location
	var q projections.ReportQuery
	if in == nil {
		in = &model.ProgramReportInput{}
	}
	q.To = projections.MonthOf(now, loc)
	if in.To != nil {
		m, err := projections.ParseMonth(*in.To)
		if err != nil {
			return q, badInput("to: " + err.Error())
		}
		q.To = m
	}
	q.From = projections.Month{Year: q.To.Year - 1, Month: q.To.Month}.Next()
	if in.From != nil {
		m, err := projections.ParseMonth(*in.From)
		if err != nil {
			return q, badInput("from: " + err.Error())
		}
		q.From = m
	}
	q.Disciplines, q.Provinces = in.Disciplines, in.Provinces
	for _, f := range []struct {
		name          string
		given, listed []string
	}{{"disciplines", q.Disciplines, program.Disciplines}, {"provinces", q.Provinces, program.Provinces}} {
		for _, v := range f.given {
			if v != "" && !slices.Contains(f.listed, v) {
				return q, badInput(fmt.Sprintf("%s: %q is not one of the program's %s (%s)", f.name, v, f.name, strings.Join(f.listed, ", ")))
			}
		}
	}
	if err := q.Check(); err != nil {
		return q, badInput(err.Error())
	}
	return q, nil
}

func reportModel(r projections.Report) *model.ProgramReport {
	out := &model.ProgramReport{From: r.From.String(), To: r.To.String(), Total: figuresModel(r.Total), Position: r.Position,
		Months: make([]*model.ReportMonth, len(r.Months))}
	for i, m := range r.Months {
		out.Months[i] = &model.ReportMonth{Month: m.Month.String(), Figures: figuresModel(m.ReportFigures)}
	}
	groups := func(gs []projections.ReportGroup) []*model.ReportGroup {
		l := make([]*model.ReportGroup, len(gs))
		for i, g := range gs {
			l[i] = &model.ReportGroup{Name: optional(g.Name), Figures: figuresModel(g.ReportFigures)}
		}
		return l
	}
	out.ByDiscipline, out.ByProvince = groups(r.ByDiscipline), groups(r.ByProvince)
	return out
}

func figuresModel(f projections.ReportFigures) *model.ReportFigures {
	out := &model.ReportFigures{Requested: f.Requested, Made: f.Made, Declined: f.Declined, Cancelled: f.Cancelled, Ended: f.Ended,
		DeclinedByReason: reasons(f.DeclinedBy), EndedByReason: reasons(f.EndedBy), Answered: f.Answered,
		Sessions: f.Sessions, SessionsWithoutLength: f.SessionsWithoutLength, CpdHours: float64(f.Minutes) / 60}
	if f.Answered > 0 {
		out.MedianDaysToAnswer = &f.MedianDaysToAnswer
	}
	return out
}

// reasons lists counts by reason, most frequent first, then by reason.
func reasons(m map[string]int) []*model.ReasonCount {
	out := make([]*model.ReasonCount, 0, len(m))
	for r, n := range m {
		if n > 0 {
			out = append(out, &model.ReasonCount{Reason: optional(r), Count: n})
		}
	}
	slices.SortFunc(out, func(a, b *model.ReasonCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(deref(a.Reason), deref(b.Reason)))
	})
	return out
}

// optional is nil for the empty string.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
