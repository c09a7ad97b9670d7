package domain_test

import (
	"fmt"
	"testing"

	"github.com/mentorship/mentorship/domain"
)

// textField is a text field of a command, for a table proving that the
// field takes visible text of any script and refuses hidden characters:
// given events, when the command holds the value, then the events that
// record it or a refusal naming the field.
type textField[C any] struct {
	field string
	kind  domain.TextKind
	// takes lists visible values the field keeps as they are; the first
	// gets each hidden character in its middle, so that a field with a
	// format (an email, a URL) refuses it for the character alone.
	takes []string
	given []domain.Event
	when  func(v string) C
	then  func(v string) []domain.Event
}

// textRow is one row of a text field's table.
type textRow[C any] struct {
	name  string
	given []domain.Event
	when  C
	then  []domain.Event
	err   *wantRefusal
}

func (f textField[C]) rows() []textRow[C] {
	var out []textRow[C]
	for _, v := range f.takes {
		out = append(out, textRow[C]{name: fmt.Sprintf("%s takes %q", f.field, v), given: f.given, when: f.when(v), then: f.then(v)})
	}
	refused := hiddenTexts
	if f.kind == domain.SingleLine {
		refused = append(refused[:len(refused):len(refused)], layoutTexts...)
	}
	for _, h := range refused {
		out = append(out, textRow[C]{
			name: fmt.Sprintf("%s refuses %s", f.field, h.name), given: f.given,
			when: f.when(hideIn(f.takes[0], h.hide)), err: badInput(f.field),
		})
	}
	return out
}

// Ordinary visible values: text of any script with emoji, and the same in
// the formats of an email address, a URL and a file name.
var (
	anyText   = []string{visibleText, "é", "Straße", "中文", "😀"}
	anyEmail  = []string{"eve4@example.org", "zoë.straße@exämple.org", "中文@例子.中国", "😀@example.org"}
	anyURL    = []string{"https://example.org/guide", "https://exämple.org/straße/中文/😀"}
	anyFile   = []string{"plan.pdf", "Zoë Straße 中文 😀.pdf"}
	multiText = append([]string{"Zoë\n\tStraße 中文 😀"}, anyText...)
)

func TestMemberCommandsTakeVisibleTextOnly(t *testing.T) {
	register := func(set func(*domain.RegisterMember)) domain.MemberCommand {
		c := domain.RegisterMember{MemberID: menteeID, Actor: mentee, Role: domain.RoleMentee, Name: "Ada", Email: "ada@example.org", At: t0}
		set(&c)
		return c
	}
	registeredAs := func(set func(*domain.MemberRegistered)) []domain.Event {
		e := domain.MemberRegistered{MemberID: menteeID, Role: domain.RoleMentee, Name: "Ada", Email: "ada@example.org", At: t0}
		set(&e)
		return []domain.Event{e}
	}
	reg := []domain.Event{registered(mentorID, domain.RoleMentor)}
	profile := func(set func(*domain.Profile)) domain.Profile {
		pr := domain.Profile{Name: "Grace"}
		set(&pr)
		return pr
	}
	profileField := func(field string, kind domain.TextKind, takes []string, set func(*domain.Profile, string)) textField[domain.MemberCommand] {
		return textField[domain.MemberCommand]{
			field: field, kind: kind, takes: takes, given: reg,
			when: func(v string) domain.MemberCommand {
				return domain.UpdateProfile{MemberID: mentorID, Actor: mentor, Profile: profile(func(p *domain.Profile) { set(p, v) }), At: t0}
			},
			then: func(v string) []domain.Event {
				return []domain.Event{domain.ProfileUpdated{MemberID: mentorID, Profile: profile(func(p *domain.Profile) { set(p, v) }), At: t0}}
			},
		}
	}
	request := domain.RequestMatch{MatchID: matchID, Actor: mentee, MentorID: mentorID, At: t0}
	fields := []textField[domain.MemberCommand]{
		{
			field: "name", kind: domain.SingleLine, takes: anyText,
			when: func(v string) domain.MemberCommand { return register(func(c *domain.RegisterMember) { c.Name = v }) },
			then: func(v string) []domain.Event { return registeredAs(func(e *domain.MemberRegistered) { e.Name = v }) },
		},
		{
			field: "email", kind: domain.SingleLine, takes: anyEmail,
			when: func(v string) domain.MemberCommand { return register(func(c *domain.RegisterMember) { c.Email = v }) },
			then: func(v string) []domain.Event { return registeredAs(func(e *domain.MemberRegistered) { e.Email = v }) },
		},
		profileField("name", domain.SingleLine, anyText, func(p *domain.Profile, v string) { p.Name = v }),
		profileField("location.city", domain.SingleLine, anyText, func(p *domain.Profile, v string) { p.Location.City = v }),
		profileField("biography", domain.MultiLine, multiText, func(p *domain.Profile, v string) { p.Biography = v }),
		profileField("preferences.partner.notes", domain.MultiLine, multiText, func(p *domain.Profile, v string) { p.Preferences.Partner.Notes = v }),
		profileField("contact.email", domain.SingleLine, anyEmail, func(p *domain.Profile, v string) { p.Contact.Email = v }),
		profileField("contact.phone", domain.SingleLine, []string{"+1 (403) 555-0100"}, func(p *domain.Profile, v string) { p.Contact.Phone = v }),
		{
			field: "message", kind: domain.MultiLine, takes: multiText,
			given: []domain.Event{registered(menteeID, domain.RoleMentee)},
			when: func(v string) domain.MemberCommand {
				r := request
				r.Message = v
				return domain.ReserveRequestSlot{Request: r, Mentor: memberState(reg...)}
			},
			then: func(v string) []domain.Event {
				return []domain.Event{domain.RequestSlotTaken{MemberID: menteeID, MatchID: matchID, MentorID: mentorID, Message: v, At: t0}}
			},
		},
	}
	var cases []memberCase
	for _, f := range fields {
		for _, r := range f.rows() {
			cases = append(cases, memberCase{name: r.name, given: r.given, when: r.when, then: r.then, err: r.err})
		}
	}
	runMemberCases(t, cases)
}

func TestMatchCommandsTakeVisibleTextOnly(t *testing.T) {
	today := days(8)
	details := func(v string) domain.SessionDetails {
		return domain.SessionDetails{Date: date(t, "2026-03-05"), Minutes: 60, Notes: v}
	}
	logged := domain.SessionLogged{MatchID: matchID, SessionID: sessionID, AuthorID: menteeID, Details: details("Met."), At: today}
	fields := []textField[domain.MatchCommand]{
		{
			field: "message", kind: domain.MultiLine, takes: multiText,
			when: func(v string) domain.MatchCommand {
				return domain.RequestMatch{MatchID: matchID, Actor: mentee, MentorID: mentorID, Message: v, At: t0}
			},
			then: func(v string) []domain.Event {
				return []domain.Event{domain.MatchRequested{MatchID: matchID, MenteeID: menteeID, MentorID: mentorID, Message: v, At: t0}}
			},
		},
		{
			field: "message", kind: domain.MultiLine, takes: multiText, given: pending(),
			when: func(v string) domain.MatchCommand {
				return domain.DeclineMatch{MatchID: matchID, Actor: mentor, Message: v, At: days(2)}
			},
			then: func(v string) []domain.Event {
				return []domain.Event{domain.MatchDeclined{MatchID: matchID, MenteeID: menteeID, MentorID: mentorID, Message: v, At: days(2)}}
			},
		},
		{
			field: "note", kind: domain.MultiLine, takes: multiText, given: pending(),
			when: func(v string) domain.MatchCommand {
				return domain.NudgeMentor{MatchID: matchID, Actor: staff, Note: v, At: days(15)}
			},
			then: func(v string) []domain.Event {
				return []domain.Event{domain.MentorNudged{MatchID: matchID, MenteeID: menteeID, MentorID: mentorID, StaffID: staffID, Note: v, At: days(15)}}
			},
		},
		{
			field: "note", kind: domain.MultiLine, takes: multiText, given: active(),
			when: func(v string) domain.MatchCommand {
				return domain.EndMatch{MatchID: matchID, Actor: staff, Reason: "GRACEFUL_EXIT", RequestedBy: menteeID, Note: v, At: days(30)}
			},
			then: func(v string) []domain.Event {
				return []domain.Event{domain.MatchEnded{
					MatchID: matchID, MenteeID: menteeID, MentorID: mentorID, Reason: "GRACEFUL_EXIT",
					RequestedBy: menteeID, StaffID: staffID, Note: v, At: days(30),
				}}
			},
		},
		{
			field: "notes", kind: domain.MultiLine, takes: multiText, given: active(),
			when: func(v string) domain.MatchCommand {
				return domain.LogSession{MatchID: matchID, SessionID: sessionID, Actor: mentee, Details: details(v), At: today}
			},
			then: func(v string) []domain.Event {
				return []domain.Event{domain.SessionLogged{MatchID: matchID, SessionID: sessionID, AuthorID: menteeID, Details: details(v), At: today}}
			},
		},
		{
			field: "notes", kind: domain.MultiLine, takes: multiText, given: with(active(), logged),
			when: func(v string) domain.MatchCommand {
				return domain.EditSession{MatchID: matchID, SessionID: sessionID, Actor: mentee, Details: details(v), At: today}
			},
			then: func(v string) []domain.Event {
				return []domain.Event{domain.SessionEdited{MatchID: matchID, SessionID: sessionID, AuthorID: menteeID, Details: details(v), At: today}}
			},
		},
		{
			field: "name", kind: domain.SingleLine, takes: anyFile, given: active(),
			when: func(v string) domain.MatchCommand {
				return domain.AddDocument{
					MatchID: matchID, DocumentID: documentID, Actor: mentee, Name: v, Size: 10,
					ContentType: "application/pdf", SHA256: sum1, At: days(5),
				}
			},
			then: func(v string) []domain.Event {
				return []domain.Event{domain.DocumentAdded{
					MatchID: matchID, DocumentID: documentID, UploaderID: menteeID, Name: v, Size: 10,
					ContentType: "application/pdf", SHA256: sum1, Version: 1, At: days(5),
				}}
			},
		},
	}
	var cases []matchCase
	for _, f := range fields {
		for _, r := range f.rows() {
			cases = append(cases, matchCase{name: fmt.Sprintf("%T %s", f.when(""), r.name), given: r.given, when: r.when, then: r.then, err: r.err})
		}
	}
	runMatchCases(t, cases)
}

func TestResourceCommandsTakeVisibleTextOnly(t *testing.T) {
	publish := func(set func(*domain.PublishResource)) domain.ResourceCommand {
		c := domain.PublishResource{ResourceID: resourceID, Actor: staff, Title: "Guide", Text: "Read.", Audience: domain.AudienceBoth, At: t0}
		set(&c)
		return c
	}
	published := func(set func(*domain.ResourcePublished)) []domain.Event {
		e := domain.ResourcePublished{ResourceID: resourceID, PublishedBy: staffID, Title: "Guide", Text: "Read.", Audience: domain.AudienceBoth, At: t0}
		set(&e)
		return []domain.Event{e}
	}
	field := func(name string, kind domain.TextKind, takes []string, cmd func(*domain.PublishResource, string), ev func(*domain.ResourcePublished, string)) textField[domain.ResourceCommand] {
		return textField[domain.ResourceCommand]{
			field: name, kind: kind, takes: takes,
			when: func(v string) domain.ResourceCommand {
				return publish(func(c *domain.PublishResource) { cmd(c, v) })
			},
			then: func(v string) []domain.Event {
				return published(func(e *domain.ResourcePublished) { ev(e, v) })
			},
		}
	}
	fields := []textField[domain.ResourceCommand]{
		field("title", domain.SingleLine, anyText,
			func(c *domain.PublishResource, v string) { c.Title = v }, func(e *domain.ResourcePublished, v string) { e.Title = v }),
		field("description", domain.MultiLine, multiText,
			func(c *domain.PublishResource, v string) { c.Description = v }, func(e *domain.ResourcePublished, v string) { e.Description = v }),
		field("url", domain.SingleLine, anyURL,
			func(c *domain.PublishResource, v string) { c.URL, c.Text = v, "" }, func(e *domain.ResourcePublished, v string) { e.URL, e.Text = v, "" }),
		field("text", domain.MultiLine, multiText,
			func(c *domain.PublishResource, v string) { c.Text = v }, func(e *domain.ResourcePublished, v string) { e.Text = v }),
	}
	var cases []resourceCase
	for _, f := range fields {
		for _, r := range f.rows() {
			cases = append(cases, resourceCase(r))
		}
	}
	runResourceCases(t, cases)
}
