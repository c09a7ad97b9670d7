package graph

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/graph/model"
	"github.com/mentorship/mentorship/projections"
)

// ReportsExportPath is where ReportsExportHandler is mounted.
const ReportsExportPath = "/reports/export"

// reportParameters are the query parameters of the CSV export.
var reportParameters = []string{"format", "from", "to", "discipline", "province"}

// ReportsExportHandler serves GET ReportsExportPath: the program report as
// CSV, to staff and auditors, with the query parameters format (csv),
// from and to (YYYY-MM, as programReport's input) and discipline and
// province (repeated, or comma-separated). Each row is a scope (month,
// discipline, province or total), its name and its figures, with one
// column per decline and end reason. Mount it behind Authenticate.
func ReportsExportHandler(r *Resolver) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		_, values, ok := ExportRequest(w, req, "the reports", reportParameters)
		if !ok {
			return
		}
		for _, name := range []string{"format", "from", "to"} {
			if len(values[name]) > 1 {
				http.Error(w, fmt.Sprintf("%s is given more than once", name), http.StatusBadRequest)
				return
			}
		}
		if f := values.Get("format"); f != "" && f != "csv" {
			http.Error(w, fmt.Sprintf("unknown format %q (known: csv)", f), http.StatusBadRequest)
			return
		}
		in := &model.ProgramReportInput{Disciplines: splitValues(values["discipline"]), Provinces: splitValues(values["province"])}
		if values.Has("from") {
			in.From = new(values.Get("from"))
		}
		if values.Has("to") {
			in.To = new(values.Get("to"))
		}
		q, err := reportQuery(in, r.program(), r.Clock.Now())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if r.Reports == nil {
			http.Error(w, errReportsOff.Error(), http.StatusServiceUnavailable)
			return
		}
		rep, err := r.Reports.Report(q)
		if err != nil {
			http.Error(w, "the reports cannot be read now; try again", http.StatusServiceUnavailable)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/csv; charset=utf-8")
		h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="mentorship-report-%s-%s.csv"`, rep.From, rep.To))
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "private, no-store")
		_ = writeReportCSV(w, rep)
	})
}

// splitValues reads repeated or comma-separated values; an empty value
// stays, for the members who had not stated one.
func splitValues(vs []string) []string {
	var out []string
	for _, v := range vs {
		out = append(out, strings.Split(v, ",")...)
	}
	return out
}

// writeReportCSV writes a report as CSV.
func writeReportCSV(w http.ResponseWriter, rep projections.Report) error {
	var declined, ended []string
	collect := func(f projections.ReportFigures) {
		for k := range f.DeclinedBy {
			if !slices.Contains(declined, k) {
				declined = append(declined, k)
			}
		}
		for k := range f.EndedBy {
			if !slices.Contains(ended, k) {
				ended = append(ended, k)
			}
		}
	}
	collect(rep.Total)
	slices.Sort(declined)
	slices.Sort(ended)
	header := []string{"scope", "name", "requested", "made", "declined", "cancelled", "ended", "answered", "median_days_to_answer", "sessions", "sessions_without_length", "cpd_hours"}
	for _, k := range declined {
		header = append(header, "declined:"+reasonName(k))
	}
	for _, k := range ended {
		header = append(header, "ended:"+reasonName(k))
	}
	cw := csv.NewWriter(w)
	_ = cw.Write(header)
	row := func(scope, name string, f projections.ReportFigures) {
		median := ""
		if f.Answered > 0 {
			median = strconv.FormatFloat(f.MedianDaysToAnswer, 'f', 2, 64)
		}
		rec := []string{scope, csvText(name), strconv.Itoa(f.Requested), strconv.Itoa(f.Made), strconv.Itoa(f.Declined),
			strconv.Itoa(f.Cancelled), strconv.Itoa(f.Ended), strconv.Itoa(f.Answered), median, strconv.Itoa(f.Sessions),
			strconv.Itoa(f.SessionsWithoutLength), strconv.FormatFloat(float64(f.Minutes)/60, 'f', 2, 64)}
		for _, k := range declined {
			rec = append(rec, strconv.Itoa(f.DeclinedBy[k]))
		}
		for _, k := range ended {
			rec = append(rec, strconv.Itoa(f.EndedBy[k]))
		}
		_ = cw.Write(rec)
	}
	for _, m := range rep.Months {
		row("month", m.Month.String(), m.ReportFigures)
	}
	for _, g := range rep.ByDiscipline {
		row("discipline", g.Name, g.ReportFigures)
	}
	for _, g := range rep.ByProvince {
		row("province", g.Name, g.ReportFigures)
	}
	row("total", rep.From.String()+".."+rep.To.String(), rep.Total)
	cw.Flush()
	return cw.Error()
}

// reasonName names the empty reason in a column.
func reasonName(r string) string {
	if r == "" {
		return "none given"
	}
	return csvText(r)
}

// csvText keeps a spreadsheet from running a value as a formula.
func csvText(s string) string {
	if s != "" && strings.IndexByte("=+-@\t\r", s[0]) >= 0 {
		return "'" + s
	}
	return s
}

// ExportRequest checks a request for one of the exports that staff and
// auditors download (what names it in the answers): GET only (405), signed
// in (401), staff or auditor (403), and only the known query parameters
// (400). It answers a refused request itself and reports false; otherwise
// it returns the caller and the parameters.
func ExportRequest(w http.ResponseWriter, req *http.Request, what string, known []string) (domain.Actor, url.Values, bool) {
	if req.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		http.Error(w, "only GET is allowed", http.StatusMethodNotAllowed)
		return domain.Actor{}, nil, false
	}
	a, ok := ActorFrom(req.Context())
	if !ok {
		w.Header().Set("WWW-Authenticate", "Bearer")
		http.Error(w, "sign in as a staff member or an auditor to export "+what, http.StatusUnauthorized)
		return a, nil, false
	}
	if a.Role != domain.RoleStaff && a.Role != domain.RoleAuditor {
		http.Error(w, "only staff and auditors may export "+what, http.StatusForbidden)
		return a, nil, false
	}
	values := req.URL.Query()
	for name := range values {
		if !slices.Contains(known, name) {
			http.Error(w, fmt.Sprintf("unknown parameter %q (known: %s)", name, strings.Join(known, ", ")), http.StatusBadRequest)
			return a, nil, false
		}
	}
	return a, values, true
}
