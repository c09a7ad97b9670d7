package readmodeltest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/projections"
)

func date(t *testing.T, s string) domain.Date {
	t.Helper()
	d, err := domain.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// CPD counts an author's own meeting logs: per match, in total, and in a
// date range (a member's reporting period) both of whose days count, by
// the session date as last edited. Sessions dated outside the range, and
// the partner's logs, are left out. Sessions without a length count no
// minutes and are counted apart.
func testCPDRanges(t *testing.T, h Harness) {
	w := newWorld(t)
	ctx := context.Background()
	as := func(a domain.Actor) command.Request { return command.Request{Actor: a} }
	mia, noor := w.member(t, domain.RoleMentee, "Mia"), w.member(t, domain.RoleMentee, "Noor")
	mentor := w.member(t, domain.RoleMentor, "Max")
	must(t)(w.svc.SetMentorCapacity(ctx, as(mentor), mentor.ID, 2))
	withMia, _, err := w.svc.RequestMatch(ctx, as(mia), mentor.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	withNoor, _, err := w.svc.RequestMatch(ctx, as(noor), mentor.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	must(t)(w.svc.AcceptMatch(ctx, as(mentor), withMia))
	must(t)(w.svc.AcceptMatch(ctx, as(mentor), withNoor))
	w.clock.Set(time.Date(2026, 5, 20, 12, 0, 0, 0, time.UTC))
	edited := uuid.New()
	for _, s := range []struct {
		author  domain.Actor
		match   uuid.UUID
		id      uuid.UUID
		day     string
		minutes int
	}{
		{mia, withMia, uuid.New(), "2026-02-10", 60},
		{mia, withMia, uuid.New(), "2026-03-01", 45},
		{mia, withMia, uuid.New(), "2026-03-31", 30},
		{mia, withMia, uuid.New(), "2026-04-01", 20},
		{mia, withMia, edited, "2026-05-01", 90},
		{mentor, withMia, uuid.New(), "2026-03-15", 50},
		{mentor, withNoor, uuid.New(), "2026-03-20", 40},
		{mentor, withNoor, uuid.New(), "2026-04-10", 10},
		{noor, withNoor, uuid.New(), "2026-03-05", 25},
		// The guide makes the date the only required field: a session
		// without a length counts no minutes and is counted as lacking one.
		{noor, withNoor, uuid.New(), "2026-04-02", 0},
	} {
		must(t)(w.svc.LogSession(ctx, as(s.author), s.match, s.id, domain.SessionDetails{Date: date(t, s.day), Minutes: s.minutes}))
	}
	// Mia's May session was in fact a short one in February.
	must(t)(w.svc.EditSession(ctx, as(mia), withMia, edited, domain.SessionDetails{Date: date(t, "2026-02-20"), Minutes: 15}))
	m := h.Open(t)
	events := w.events(t)
	apply(t, m, events)

	open := domain.Date{}
	cases := []struct {
		who      domain.Actor
		from, to domain.Date
		want     projections.CPD
	}{
		{mia, open, open, projections.CPD{TotalMinutes: 170, InRangeMinutes: 170, ByMatch: map[uuid.UUID]int{withMia: 170}}},
		// March, both ends included: not February's, not 1 April's.
		{mia, date(t, "2026-03-01"), date(t, "2026-03-31"), projections.CPD{TotalMinutes: 170, InRangeMinutes: 75, ByMatch: map[uuid.UUID]int{withMia: 170}}},
		// From April: the session edited out of May no longer counts.
		{mia, date(t, "2026-04-01"), open, projections.CPD{TotalMinutes: 170, InRangeMinutes: 20, ByMatch: map[uuid.UUID]int{withMia: 170}}},
		{mia, open, date(t, "2026-02-28"), projections.CPD{TotalMinutes: 170, InRangeMinutes: 75, ByMatch: map[uuid.UUID]int{withMia: 170}}},
		{mia, date(t, "2026-03-31"), date(t, "2026-03-31"), projections.CPD{TotalMinutes: 170, InRangeMinutes: 30, ByMatch: map[uuid.UUID]int{withMia: 170}}},
		{mia, date(t, "2026-05-01"), date(t, "2026-05-31"), projections.CPD{TotalMinutes: 170, InRangeMinutes: 0, ByMatch: map[uuid.UUID]int{withMia: 170}}},
		{mia, date(t, "2026-04-01"), date(t, "2026-03-01"), projections.CPD{TotalMinutes: 170, InRangeMinutes: 0, ByMatch: map[uuid.UUID]int{withMia: 170}}},
		// A mentor's hours per match; the mentees' logs are theirs.
		{mentor, date(t, "2026-03-01"), date(t, "2026-03-31"), projections.CPD{TotalMinutes: 100, InRangeMinutes: 90, ByMatch: map[uuid.UUID]int{withMia: 50, withNoor: 50}}},
		{mentor, date(t, "2026-04-01"), date(t, "2026-04-30"), projections.CPD{TotalMinutes: 100, InRangeMinutes: 10, ByMatch: map[uuid.UUID]int{withMia: 50, withNoor: 50}}},
		{noor, date(t, "2026-03-06"), open, projections.CPD{TotalMinutes: 25, InRangeMinutes: 0, ByMatch: map[uuid.UUID]int{withNoor: 25}, WithoutLength: 1, InRangeWithoutLength: 1}},
		{noor, open, date(t, "2026-03-31"), projections.CPD{TotalMinutes: 25, InRangeMinutes: 25, ByMatch: map[uuid.UUID]int{withNoor: 25}, WithoutLength: 1}},
	}
	ref := Reference(t, events)
	for _, tc := range cases {
		what := fmt.Sprintf("CPD of %s from %v to %v", tc.who.ID, tc.from, tc.to)
		if diff := cmp.Diff(tc.want, strict(t, m).Matches.CPDSummary(tc.who.ID, tc.from, tc.to)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", what, diff)
		}
		if diff := cmp.Diff(tc.want, strict(t, ref).Matches.CPDSummary(tc.who.ID, tc.from, tc.to)); diff != "" {
			t.Errorf("reference, %s (-want +reference):\n%s", what, diff)
		}
	}
}
