package notify

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
)

var at = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// directoryOf returns a composer that knows a mentee and a mentor with
// full contact information.
func directoryOf(t *testing.T, staffEmail string) (*composer, uuid.UUID, uuid.UUID) {
	t.Helper()
	s, err := Settings{ProgramName: "Mentoring", StaffEmail: staffEmail, FrontendURL: "https://m.example.org/"}.normalized()
	if err != nil {
		t.Fatal(err)
	}
	c := newComposer(s)
	mentee, mentor := uuid.New(), uuid.New()
	for _, ev := range []domain.Event{
		domain.MemberRegistered{MemberID: mentee, Role: domain.RoleMentee, Name: "Ada", Email: "ada@login.example", At: at},
		domain.MemberRegistered{MemberID: mentor, Role: domain.RoleMentor, Name: "Grace", Email: "grace@login.example", At: at},
		domain.ProfileUpdated{MemberID: mentee, Profile: domain.Profile{Name: "Ada L.", Contact: domain.Contact{
			Email: "ada@contact.example", Phone: "+1 604 555 0101", PreferredMethod: domain.ContactEmail}}},
		domain.ProfileUpdated{MemberID: mentor, Profile: domain.Profile{Name: "Grace H.", Contact: domain.Contact{
			Email: "grace@contact.example", Phone: "+1 250 555 0199", PreferredMethod: domain.ContactPhone}}},
	} {
		c.learn(ev)
	}
	return c, mentee, mentor
}

// matchEvents returns one event of every kind that sends email, in a
// plausible order.
func matchEvents(id, mentee, mentor, staff uuid.UUID) []domain.Event {
	return []domain.Event{
		domain.MatchRequested{MatchID: id, MenteeID: mentee, MentorID: mentor, Message: "Hi <b>there</b>", At: at},
		domain.ResponseWindowElapsed{MatchID: id, MenteeID: mentee, MentorID: mentor, At: at.Add(14 * 24 * time.Hour)},
		domain.NudgeRequested{MatchID: id, MenteeID: mentee, MentorID: mentor, At: at.Add(15 * 24 * time.Hour)},
		domain.MentorNudged{MatchID: id, MenteeID: mentee, MentorID: mentor, StaffID: staff, Note: "internal", At: at.Add(15 * 24 * time.Hour)},
		domain.MatchDeclined{MatchID: id, MenteeID: mentee, MentorID: mentor, Reason: "SCHEDULE_CONFLICT", At: at.Add(16 * 24 * time.Hour)},
		domain.MatchCancelled{MatchID: id, MenteeID: mentee, MentorID: mentor, At: at.Add(16 * 24 * time.Hour)},
		domain.MatchAccepted{MatchID: id, MenteeID: mentee, MentorID: mentor, At: at.Add(16 * 24 * time.Hour)},
		domain.FirstMeetingReminderDue{MatchID: id, MenteeID: mentee, MentorID: mentor, At: at.Add(37 * 24 * time.Hour)},
		domain.MatchEnded{MatchID: id, MenteeID: mentee, MentorID: mentor, Reason: domain.EndReasonTermCompleted, At: at.Add(381 * 24 * time.Hour)},
		domain.ProfileReviewRequested{MatchID: id, MenteeID: mentee, MentorID: mentor, At: at.Add(381 * 24 * time.Hour)},
	}
}

func TestEveryKindRendersAndOnlyTheIntroductionCarriesContacts(t *testing.T) {
	c, mentee, mentor := directoryOf(t, "staff@example.org")
	id := uuid.New()
	contacts := []string{"ada@contact.example", "604 555 0101", "grace@contact.example", "250 555 0199"}
	kinds := map[Kind]int{}
	for i, ev := range matchEvents(id, mentee, mentor, uuid.New()) {
		rec := eventstore.RecordedEvent{ID: uuid.New(), Position: eventstore.Position(i + 1)}
		entries, errs := c.compose(rec, ev, at)
		if len(errs) > 0 {
			t.Fatalf("%s: %v", ev.EventType(), errs)
		}
		c.learn(ev)
		for _, e := range entries {
			kinds[e.Kind]++
			all := e.Subject + "\n" + e.Text + "\n" + e.HTML
			if strings.Contains(all, "<no value>") || strings.Contains(all, "{{") {
				t.Errorf("%s: unfilled template:\n%s", e.Kind, all)
			}
			if strings.ContainsAny(e.Subject, "\r\n") || e.Subject == "" {
				t.Errorf("%s: subject %q", e.Kind, e.Subject)
			}
			if !strings.HasPrefix(e.HTML, "<!DOCTYPE html>") || !strings.Contains(e.HTML, "https://m.example.org/") {
				t.Errorf("%s: html without its frame or link:\n%s", e.Kind, e.HTML)
			}
			if e.MatchID != id || e.EventID != rec.ID || e.Position != rec.Position || !strings.HasPrefix(e.ID, e.Kind.slug()+".") {
				t.Errorf("%s: entry %+v", e.Kind, e)
			}
			if strings.Contains(all, "internal") {
				t.Errorf("%s: a staff note reached an email", e.Kind)
			}
			if strings.Contains(e.HTML, "<b>there</b>") {
				t.Errorf("%s: the HTML body holds unescaped member text", e.Kind)
			}
			for _, s := range contacts {
				if e.Kind != KindMatchMade && strings.Contains(all, s) {
					t.Errorf("%s carries contact detail %q", e.Kind, s)
				}
			}
			if e.Kind == KindMatchMade {
				partner := "grace@contact.example"
				if e.RecipientID == mentor {
					partner = "ada@contact.example"
				}
				if !strings.Contains(e.Text, partner) || !strings.Contains(e.HTML, partner) {
					t.Errorf("introduction to %s lacks the partner's %s", e.To, partner)
				}
			}
		}
	}
	for _, k := range Kinds() {
		if kinds[k] == 0 {
			t.Errorf("no %s composed", k)
		}
	}
}

func TestIDsAreStableAndDistinct(t *testing.T) {
	c, mentee, mentor := directoryOf(t, "staff@example.org")
	rec := eventstore.RecordedEvent{ID: uuid.New(), Position: 7}
	ev := domain.MatchAccepted{MatchID: uuid.New(), MenteeID: mentee, MentorID: mentor, At: at}
	first, _ := c.compose(rec, ev, at)
	again, _ := c.compose(rec, ev, at.Add(time.Hour))
	var ids []string
	for i := range first {
		if first[i].ID != again[i].ID {
			t.Errorf("IDs differ between two compositions: %s, %s", first[i].ID, again[i].ID)
		}
		ids = append(ids, first[i].ID)
	}
	if slices.Sort(ids); len(slices.Compact(ids)) != 3 {
		t.Errorf("IDs %v, want three distinct", ids)
	}
	other, _ := c.compose(eventstore.RecordedEvent{ID: uuid.New(), Position: 8}, ev, at)
	for i := range other {
		if other[i].ID == first[i].ID {
			t.Errorf("two events gave the same ID %s", other[i].ID)
		}
	}
}

func TestWithoutAStaffAddressNudgeRequestsSendNothing(t *testing.T) {
	c, mentee, mentor := directoryOf(t, "")
	entries, errs := c.compose(eventstore.RecordedEvent{ID: uuid.New()}, domain.NudgeRequested{MatchID: uuid.New(), MenteeID: mentee, MentorID: mentor, At: at}, at)
	if len(entries) != 0 || len(errs) != 0 {
		t.Errorf("entries %v, errors %v", entries, errs)
	}
	entries, _ = c.compose(eventstore.RecordedEvent{ID: uuid.New()}, domain.MatchCancelled{MatchID: uuid.New(), MenteeID: mentee, MentorID: mentor, At: at}, at)
	if len(entries) != 1 || strings.Contains(entries[0].Text, "Questions?") {
		t.Errorf("without a staff address the footer offers one: %+v", entries)
	}
}

func TestUnknownRecipientIsReported(t *testing.T) {
	c, mentee, _ := directoryOf(t, "")
	stranger := uuid.New()
	entries, errs := c.compose(eventstore.RecordedEvent{ID: uuid.New()}, domain.MatchRequested{MatchID: uuid.New(), MenteeID: mentee, MentorID: stranger, At: at}, at)
	if len(entries) != 0 || len(errs) != 1 || !strings.Contains(errs[0].Error(), stranger.String()) {
		t.Errorf("entries %v, errors %v", entries, errs)
	}
}

func TestDurationWording(t *testing.T) {
	for d, want := range map[time.Duration]string{
		24 * time.Hour:      "one day",
		14 * 24 * time.Hour: "two weeks",
		21 * 24 * time.Hour: "three weeks",
		10 * 24 * time.Hour: "10 days",
		70 * 24 * time.Hour: "70 days",
		30 * time.Minute:    "30 minutes",
		time.Minute:         "one minute",
		time.Hour:           "one hour",
		36 * time.Hour:      "36 hours",
	} {
		if got := duration(d); got != want {
			t.Errorf("duration(%s) = %q, want %q", d, got, want)
		}
	}
}
