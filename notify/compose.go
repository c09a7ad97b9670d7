package notify

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
)

// Kind names one of the program's emails.
type Kind string

// The program's emails, each derived from one event.
const (
	// KindRequestReceived asks a mentor to review a new request
	// (MatchRequested).
	KindRequestReceived Kind = "REQUEST_RECEIVED"
	// KindRequestAccepted tells a mentee that the mentor accepted
	// (MatchAccepted).
	KindRequestAccepted Kind = "REQUEST_ACCEPTED"
	// KindRequestDeclined tells a mentee that the mentor declined
	// (MatchDeclined).
	KindRequestDeclined Kind = "REQUEST_DECLINED"
	// KindRequestCancelled tells a mentor that the mentee withdrew the
	// request (MatchCancelled).
	KindRequestCancelled Kind = "REQUEST_CANCELLED"
	// KindResponseWindowElapsed tells a mentee that the response window is
	// over, so they may cancel or ask staff for a nudge
	// (ResponseWindowElapsed).
	KindResponseWindowElapsed Kind = "RESPONSE_WINDOW_ELAPSED"
	// KindNudgeRequested tells the staff address that a mentee asked for a
	// nudge (NudgeRequested).
	KindNudgeRequested Kind = "NUDGE_REQUESTED"
	// KindMentorNudged reminds a mentor of a request waiting for an answer
	// (MentorNudged).
	KindMentorNudged Kind = "MENTOR_NUDGED"
	// KindMatchMade introduces both partners with each other's preferred
	// contact information (MatchAccepted). It is the only email that
	// carries contact information.
	KindMatchMade Kind = "MATCH_MADE"
	// KindFirstMeetingReminder reminds both partners to hold their first
	// meeting (FirstMeetingReminderDue).
	KindFirstMeetingReminder Kind = "FIRST_MEETING_REMINDER"
	// KindMatchEnded tells the partners that the match ended
	// (MatchEnded): both of them, except after a Graceful Exit, when only
	// the partner who did not ask for it gets the standardized closing
	// email.
	KindMatchEnded Kind = "MATCH_ENDED"
	// KindProfileReview asks both partners to review their profiles
	// (ProfileReviewRequested).
	KindProfileReview Kind = "PROFILE_REVIEW"
	// KindPasswordReset carries a password reset link. The accounts
	// service asks for it through Resets; it derives from no event and
	// never enters the outbox file.
	KindPasswordReset Kind = "PASSWORD_RESET"
)

// Kinds lists every kind of email derived from an event, the kinds that
// the outbox holds.
func Kinds() []Kind {
	return []Kind{
		KindRequestReceived, KindRequestAccepted, KindRequestDeclined, KindRequestCancelled,
		KindResponseWindowElapsed, KindNudgeRequested, KindMentorNudged, KindMatchMade,
		KindFirstMeetingReminder, KindMatchEnded, KindProfileReview,
	}
}

// slug is the kind as it names template files and begins message IDs.
func (k Kind) slug() string {
	return strings.ReplaceAll(strings.ToLower(string(k)), "_", "-")
}

// endReasonGracefulExit is the program's reason for closing a match that
// is not a good fit.
const endReasonGracefulExit = "GRACEFUL_EXIT"

// reasonTexts words the program's decline and end reasons for emails.
// Reasons without an entry (OTHER, or one added to the program later) are
// not quoted.
var reasonTexts = map[string]string{
	"NO_CAPACITY":            "they have no room for another mentee right now",
	"EXPERTISE_MISMATCH":     "their expertise does not match what you are looking for",
	"SCHEDULE_CONFLICT":      "their schedule does not allow it",
	"PERSONAL_CIRCUMSTANCES": "personal circumstances",
	"GOALS_CONCLUDED":        "you concluded the goals you set together",
	"MOVED":                  "one of you moved",
}

//go:embed templates
var templateFS embed.FS

type kindTemplates struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

// templates holds every kind's templates, parsed once: a kind's .txt file
// defines "subject" and "body" inside layout.txt, and its .html file
// defines "body" inside layout.html.
var templates = parseTemplates()

func parseTemplates() map[Kind]kindTemplates {
	out := make(map[Kind]kindTemplates)
	for _, k := range append(Kinds(), KindPasswordReset) {
		text := texttemplate.Must(texttemplate.New(k.slug()).Option("missingkey=error").
			ParseFS(templateFS, "templates/layout.txt", "templates/"+k.slug()+".txt"))
		html := htmltemplate.Must(htmltemplate.New(k.slug()).Option("missingkey=error").
			ParseFS(templateFS, "templates/layout.html", "templates/"+k.slug()+".html"))
		out[k] = kindTemplates{text: text, html: html}
	}
	return out
}

// person is what the emails know of a member: the name they quote, the
// login email they go to, and the contact information that only the match
// introduction carries. Nothing else is kept, since the directory holds
// every member.
type person struct {
	name    string
	email   string
	contact domain.Contact
}

// named is a name as templates see it: nothing else of a person reaches
// a template unless the email is the match introduction.
type named struct {
	Name string
}

// view is what a template sees.
type view struct {
	Subject    string
	Program    string
	StaffEmail string
	Recipient  named
	Partner    named
	Mentee     named
	Mentor     named
	IsMentee   bool
	// Contact is the partner's preferred contact information; only the
	// match introduction sets it.
	Contact            *domain.Contact
	Link               string
	SearchLink         string
	Message            string
	Reason             string
	EndReason          string
	Deadline           string
	RequestedOn        string
	AcceptedOn         string
	TermEnds           string
	ResponseWindow     string
	FirstMeetingWithin string
	// Role, Account and ValidFor are the password reset's: the account's
	// role and email, and how long its link works.
	Role     string
	Account  string
	ValidFor string
}

// rendered is one email's subject and bodies.
type rendered struct {
	subject, text, html string
}

func render(k Kind, v view) (rendered, error) {
	t, ok := templates[k]
	if !ok {
		return rendered{}, fmt.Errorf("no templates for %s", k)
	}
	var b bytes.Buffer
	if err := t.text.ExecuteTemplate(&b, "subject", v); err != nil {
		return rendered{}, fmt.Errorf("%s subject: %w", k, err)
	}
	// A subject is one line: names are single lines already, and this
	// also folds the template's own line breaks.
	v.Subject = strings.Join(strings.Fields(b.String()), " ")
	b.Reset()
	if err := t.text.ExecuteTemplate(&b, "text", v); err != nil {
		return rendered{}, fmt.Errorf("%s text: %w", k, err)
	}
	text := b.String()
	b.Reset()
	if err := t.html.ExecuteTemplate(&b, "html", v); err != nil {
		return rendered{}, fmt.Errorf("%s html: %w", k, err)
	}
	return rendered{subject: v.Subject, text: text, html: b.String()}, nil
}

// draft is an email decided from an event, before rendering.
type draft struct {
	kind Kind
	// to is the recipient; uuid.Nil for the staff address.
	to   uuid.UUID
	view view
}

// composer turns events into emails. It keeps the directory of members
// and the few facts of each match that later emails quote, both fed by the
// same events in log order, so an email says what was true when its event
// happened.
type composer struct {
	settings Settings
	members  map[uuid.UUID]person
	matches  map[uuid.UUID]matchDates
}

type matchDates struct {
	requestedAt, acceptedAt time.Time
}

func newComposer(s Settings) *composer {
	return &composer{settings: s, members: make(map[uuid.UUID]person), matches: make(map[uuid.UUID]matchDates)}
}

// relevant reports whether events of type typ feed the composer: those the
// program writes to members about, and those that change how it names and
// reaches a member.
func relevant(typ string) bool {
	return domain.Is[domain.Notice](typ) || domain.Is[domain.DirectoryEvent](typ)
}

// learn updates the directory and the match dates with ev. Applying an
// event twice changes nothing more.
func (c *composer) learn(ev domain.Event) {
	switch e := ev.(type) {
	case domain.MemberRegistered:
		p := c.members[e.MemberID]
		p.name, p.email = e.Name, e.Email
		c.members[e.MemberID] = p
	case domain.ProfileUpdated:
		p := c.members[e.MemberID]
		p.name, p.contact = e.Profile.Name, e.Profile.Contact
		c.members[e.MemberID] = p
	case domain.MemberErased:
		delete(c.members, e.MemberID)
	case domain.MatchRequested:
		c.matches[e.MatchID] = matchDates{requestedAt: e.At}
	case domain.MatchAccepted:
		d := c.matches[e.MatchID]
		d.acceptedAt = e.At
		c.matches[e.MatchID] = d
	case domain.MatchDeclined:
		delete(c.matches, e.MatchID)
	case domain.MatchCancelled:
		delete(c.matches, e.MatchID)
	case domain.MatchEnded:
		delete(c.matches, e.MatchID)
	}
}

// drafts decides the emails of one event, before learn sees it.
func (c *composer) drafts(ev domain.Event) []draft {
	s := c.settings
	match := func(id uuid.UUID) string { return s.link("matches", id.String()) }
	switch e := ev.(type) {
	case domain.MatchRequested:
		v := c.pair(e.MentorID, e.MenteeID, e.MenteeID, e.MentorID)
		v.Link, v.Message = match(e.MatchID), e.Message
		v.Deadline = s.day(s.Program.ResponseDeadline(e.At))
		return []draft{{kind: KindRequestReceived, to: e.MentorID, view: v}}
	case domain.MatchAccepted:
		out := []draft{{kind: KindRequestAccepted, to: e.MenteeID, view: c.pair(e.MenteeID, e.MentorID, e.MenteeID, e.MentorID)}}
		out[0].view.Link = match(e.MatchID)
		for _, to := range []uuid.UUID{e.MenteeID, e.MentorID} {
			partner := e.MentorID
			if to == e.MentorID {
				partner = e.MenteeID
			}
			v := c.pair(to, partner, e.MenteeID, e.MentorID)
			contact := c.members[partner].contact
			v.Contact = &contact
			v.Link = match(e.MatchID)
			v.TermEnds = s.day(s.Program.TermEnd(e.At))
			out = append(out, draft{kind: KindMatchMade, to: to, view: v})
		}
		return out
	case domain.MatchDeclined:
		v := c.pair(e.MenteeID, e.MentorID, e.MenteeID, e.MentorID)
		v.Link, v.Message, v.Reason = s.link("mentors"), e.Message, reasonTexts[e.Reason]
		return []draft{{kind: KindRequestDeclined, to: e.MenteeID, view: v}}
	case domain.MatchCancelled:
		v := c.pair(e.MentorID, e.MenteeID, e.MenteeID, e.MentorID)
		v.Link = s.link("matches")
		return []draft{{kind: KindRequestCancelled, to: e.MentorID, view: v}}
	case domain.ResponseWindowElapsed:
		v := c.pair(e.MenteeID, e.MentorID, e.MenteeID, e.MentorID)
		v.Link, v.RequestedOn = match(e.MatchID), s.day(c.matches[e.MatchID].requestedAt)
		return []draft{{kind: KindResponseWindowElapsed, to: e.MenteeID, view: v}}
	case domain.NudgeRequested:
		if s.StaffEmail == "" {
			return nil
		}
		v := c.pair(uuid.Nil, uuid.Nil, e.MenteeID, e.MentorID)
		v.Recipient = named{Name: s.ProgramName + " staff"}
		v.Link, v.RequestedOn = s.link("staff", "matches", e.MatchID.String()), s.day(c.matches[e.MatchID].requestedAt)
		return []draft{{kind: KindNudgeRequested, to: uuid.Nil, view: v}}
	case domain.MentorNudged:
		v := c.pair(e.MentorID, e.MenteeID, e.MenteeID, e.MentorID)
		v.Link, v.RequestedOn = match(e.MatchID), s.day(c.matches[e.MatchID].requestedAt)
		return []draft{{kind: KindMentorNudged, to: e.MentorID, view: v}}
	case domain.FirstMeetingReminderDue:
		return c.both(KindFirstMeetingReminder, e.MenteeID, e.MentorID, func(v *view) {
			v.Link, v.AcceptedOn = s.link("matches", e.MatchID.String(), "sessions"), s.day(c.matches[e.MatchID].acceptedAt)
		})
	case domain.MatchEnded:
		out := c.both(KindMatchEnded, e.MenteeID, e.MentorID, func(v *view) {
			v.EndReason, v.Reason = e.Reason, reasonTexts[e.Reason]
			v.Link, v.SearchLink = match(e.MatchID), s.link("mentors")
		})
		if e.Reason == endReasonGracefulExit && e.RequestedBy != uuid.Nil {
			kept := out[:0]
			for _, d := range out {
				if d.to != e.RequestedBy {
					kept = append(kept, d)
				}
			}
			out = kept
		}
		return out
	case domain.ProfileReviewRequested:
		return c.both(KindProfileReview, e.MenteeID, e.MentorID, func(v *view) { v.Link = s.link("profile") })
	}
	return nil
}

// pair returns the view of an email to member to about partner, in the
// match of mentee and mentor.
func (c *composer) pair(to, partner, mentee, mentor uuid.UUID) view {
	s := c.settings
	return view{
		Program:            s.ProgramName,
		StaffEmail:         s.StaffEmail,
		Recipient:          named{Name: c.members[to].name},
		Partner:            named{Name: c.members[partner].name},
		Mentee:             named{Name: c.members[mentee].name},
		Mentor:             named{Name: c.members[mentor].name},
		IsMentee:           to == mentee,
		ResponseWindow:     duration(s.Program.ResponseWindow),
		FirstMeetingWithin: duration(s.Program.FirstMeetingReminder),
	}
}

// both returns one draft of kind for each partner, each about the other.
func (c *composer) both(kind Kind, mentee, mentor uuid.UUID, fill func(*view)) []draft {
	out := make([]draft, 0, 2)
	for _, to := range []uuid.UUID{mentee, mentor} {
		partner := mentor
		if to == mentor {
			partner = mentee
		}
		v := c.pair(to, partner, mentee, mentor)
		fill(&v)
		out = append(out, draft{kind: kind, to: to, view: v})
	}
	return out
}

// compose renders the emails of one stored event as outbox entries, each
// with an ID derived from the event, the kind and the recipient. Emails to
// members the directory does not know are left out and reported.
func (c *composer) compose(rec eventstore.RecordedEvent, ev domain.Event, now time.Time) ([]Entry, []error) {
	var out []Entry
	var errs []error
	for _, d := range c.drafts(ev) {
		to, key := c.settings.StaffEmail, "staff"
		if d.to != uuid.Nil {
			p, ok := c.members[d.to]
			if !ok || p.email == "" {
				errs = append(errs, fmt.Errorf("%s of event %s: no address for member %s", d.kind, rec.ID, d.to))
				continue
			}
			to, key = p.email, d.to.String()
		}
		r, err := render(d.kind, d.view)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s of event %s: %w", d.kind, rec.ID, err))
			continue
		}
		out = append(out, Entry{
			ID:          d.kind.slug() + "." + domain.EventID("notify", rec.ID.String(), string(d.kind), key).String(),
			Kind:        d.kind,
			MatchID:     matchOf(ev),
			EventID:     rec.ID,
			Position:    rec.Position,
			RecipientID: d.to,
			To:          to,
			Subject:     r.subject,
			Text:        r.text,
			HTML:        r.html,
			CreatedAt:   now.UTC(),
		})
	}
	return out, errs
}

// matchOf returns the match an event is about; uuid.Nil for a member's.
func matchOf(ev domain.Event) uuid.UUID {
	if e, ok := ev.(domain.MatchEvent); ok {
		return e.MatchOf()
	}
	return uuid.Nil
}

// duration words a program duration in whole weeks when it is some, and
// in days otherwise; a duration that is not whole days, such as a reset
// link's lifetime, in whole hours or minutes.
func duration(d time.Duration) string {
	if d%(24*time.Hour) != 0 || d <= 0 {
		unit, n := "minute", int(d/time.Minute)
		if d%time.Hour == 0 {
			unit, n = "hour", int(d/time.Hour)
		}
		if n == 1 {
			return "one " + unit
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
	days := int(d / (24 * time.Hour))
	weeks := []string{"", "one week", "two weeks", "three weeks", "four weeks"}
	switch {
	case days%7 == 0 && days/7 >= 1 && days/7 < len(weeks):
		return weeks[days/7]
	case days == 1:
		return "one day"
	default:
		return fmt.Sprintf("%d days", days)
	}
}
