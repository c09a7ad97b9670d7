package notify_test

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/mail"
	"github.com/mentorship/mentorship/mail/smtptest"
	"github.com/mentorship/mentorship/notify"
)

// want describes one email the relay must receive.
type want struct {
	to      string
	subject string
	// has lists texts that both the plain and the HTML body hold.
	has []string
	// hasNot lists texts neither body nor the subject holds.
	hasNot []string
}

// expect checks that got holds exactly the wanted emails, in any order.
func expect(t *testing.T, step string, got []smtptest.Received, wants ...want) {
	t.Helper()
	if len(got) != len(wants) {
		var desc []string
		for _, g := range got {
			desc = append(desc, fmt.Sprintf("%v %q", g.To, g.Subject))
		}
		t.Fatalf("%s: relay received %d emails, want %d: %s", step, len(got), len(wants), strings.Join(desc, "; "))
	}
	used := make([]bool, len(got))
	for _, w := range wants {
		found := false
		for i, g := range got {
			if used[i] || len(g.To) != 1 || g.To[0] != w.to || g.Subject != w.subject {
				continue
			}
			used[i], found = true, true
			if g.Text == "" || g.HTML == "" {
				t.Errorf("%s: %q has text %d bytes, html %d bytes; want both", step, w.subject, len(g.Text), len(g.HTML))
			}
			for _, s := range w.has {
				if !strings.Contains(g.Text, s) || !strings.Contains(visible(g.HTML), s) {
					t.Errorf("%s: %q to %s lacks %q\ntext:\n%s\nhtml:\n%s", step, w.subject, w.to, s, g.Text, g.HTML)
				}
			}
			for _, s := range w.hasNot {
				if strings.Contains(g.Text, s) || strings.Contains(visible(g.HTML), s) || strings.Contains(g.Subject, s) {
					t.Errorf("%s: %q to %s holds %q", step, w.subject, w.to, s)
				}
			}
		}
		if !found {
			t.Errorf("%s: no email %q to %s", step, w.subject, w.to)
		}
	}
}

var tag = regexp.MustCompile(`<[^>]*>`)

// visible returns the text an HTML body shows, plus its links' targets.
func visible(h string) string {
	var hrefs []string
	for _, m := range regexp.MustCompile(`href="([^"]*)"`).FindAllStringSubmatch(h, -1) {
		hrefs = append(hrefs, m[1])
	}
	return html.UnescapeString(tag.ReplaceAllString(h, "") + "\n" + strings.Join(hrefs, "\n"))
}

// contactDetails lists every contact detail of the members.
func contactDetails(ms ...member) []string {
	var out []string
	for _, m := range ms {
		for _, s := range []string{m.contactEmail, m.phone} {
			if s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

func TestEmailsOfAMatchOverSMTP(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ctx := context.Background()
	ada := f.register(domain.RoleMentee, "Ada Lovelace", "ada.personal@home.example", "+1 604 555 0101", domain.ContactEmail)
	grace := f.register(domain.RoleMentor, "Grace Hopper", "grace.h@navy.example", "+1 250 555 0199", domain.ContactPhone)
	linus := f.register(domain.RoleMentor, "Linus Pauling", "linus@lab.example", "", domain.ContactEmail)
	secrets := contactDetails(ada, grace, linus)
	f.tick()
	expect(t, "registration", f.received())

	// A request and a decline.
	first := f.request(ada, linus, "I would love to learn about structural chemistry & more.")
	f.tick()
	expect(t, "request to Linus", f.received(), want{
		to: linus.login, subject: "Ada Lovelace asks you to be their mentor",
		has:    []string{"Hello Linus Pauling,", "I would love to learn about structural chemistry & more.", frontendURL + "/matches/" + first.String(), "Monday 16 March 2026", staffEmail, programName},
		hasNot: secrets,
	})
	if _, err := f.cmds.DeclineMatch(ctx, command.Request{Actor: linus.Actor}, first, "NO_CAPACITY", "My year is full, sorry."); err != nil {
		t.Fatal(err)
	}
	n := len(f.received())
	f.tick()
	expect(t, "decline", f.since(n), want{
		to: ada.login, subject: "Linus Pauling cannot take your request",
		has:    []string{"they have no room for another mentee right now", "My year is full, sorry.", frontendURL + "/mentors"},
		hasNot: secrets,
	})

	// A second request waits out the response window.
	second := f.request(ada, grace, "")
	n = len(f.received())
	f.tick()
	expect(t, "request to Grace", f.since(n), want{
		to: grace.login, subject: "Ada Lovelace asks you to be their mentor",
		has: []string{frontendURL + "/matches/" + second.String()}, hasNot: append(secrets, "Their message"),
	})
	f.clock.Advance(14 * 24 * time.Hour)
	if _, err := f.cmds.MarkResponseWindowElapsed(ctx, second); err != nil {
		t.Fatal(err)
	}
	if _, err := f.cmds.RequestNudge(ctx, command.Request{Actor: ada.Actor}, second); err != nil {
		t.Fatal(err)
	}
	if _, err := f.cmds.NudgeMentor(ctx, command.Request{Actor: f.staff}, second, "Called and left a message"); err != nil {
		t.Fatal(err)
	}
	n = len(f.received())
	f.tick()
	expect(t, "window and nudge", f.since(n),
		want{
			to: ada.login, subject: "No answer yet from Grace Hopper",
			has:    []string{"two weeks have passed", "Monday 2 March 2026", "cancel the request", "ask the program staff to reach out to Grace Hopper", frontendURL + "/matches/" + second.String()},
			hasNot: secrets,
		},
		want{
			to: staffEmail, subject: "Nudge requested: Ada Lovelace is waiting for Grace Hopper",
			has: []string{"Hello " + programName + " staff,", frontendURL + "/staff/matches/" + second.String()}, hasNot: secrets,
		},
		want{
			to: grace.login, subject: "Ada Lovelace is waiting for your answer",
			has: []string{"Monday 2 March 2026", frontendURL + "/matches/" + second.String()}, hasNot: append(secrets, "Called and left a message"),
		},
	)
	beforeAccept := len(f.received())
	for _, m := range f.received() {
		for _, s := range secrets {
			if strings.Contains(m.Subject+m.Text+visible(m.HTML), s) {
				t.Errorf("email %q to %v before acceptance holds contact detail %q", m.Subject, m.To, s)
			}
		}
	}

	// Acceptance introduces the partners with their contact information.
	f.clock.Advance(24 * time.Hour)
	f.accept(grace, second)
	f.tick()
	expect(t, "accept", f.since(beforeAccept),
		want{
			to: ada.login, subject: "Grace Hopper accepted your request",
			has: []string{"three weeks", frontendURL + "/matches/" + second.String()}, hasNot: secrets,
		},
		want{
			to: ada.login, subject: "You are matched with Grace Hopper",
			has:    []string{"Email: grace.h@navy.example", "Phone: +1 250 555 0199 (preferred)", "until Wednesday 17 March 2027"},
			hasNot: contactDetails(ada, linus),
		},
		want{
			to: grace.login, subject: "You are matched with Ada Lovelace",
			has:    []string{"Email: ada.personal@home.example (preferred)", "Phone: +1 604 555 0101"},
			hasNot: contactDetails(grace, linus),
		},
	)

	// The first-meeting reminder, then a Graceful Exit asked for by Ada.
	f.clock.Advance(21 * 24 * time.Hour)
	if _, err := f.cmds.RemindFirstMeeting(ctx, second); err != nil {
		t.Fatal(err)
	}
	n = len(f.received())
	f.tick()
	expect(t, "reminder", f.since(n),
		want{to: ada.login, subject: "Time for your first meeting with Grace Hopper", has: []string{"Tuesday 17 March 2026", frontendURL + "/matches/" + second.String() + "/sessions"}, hasNot: secrets},
		want{to: grace.login, subject: "Time for your first meeting with Ada Lovelace", hasNot: secrets},
	)
	f.end(second, "GRACEFUL_EXIT", ada)
	if _, err := f.cmds.RequestProfileReview(ctx, second); err != nil {
		t.Fatal(err)
	}
	n = len(f.received())
	f.tick()
	expect(t, "graceful exit", f.since(n),
		want{
			to: grace.login, subject: "Your match with Ada Lovelace has been closed",
			has: []string{"Not every match is the right fit", "no reflection on you"}, hasNot: append(secrets, "Staff note", "search for a new mentor"),
		},
		want{to: ada.login, subject: "Please review your " + programName + " profile", has: []string{"Grace Hopper", frontendURL + "/profile"}, hasNot: secrets},
		want{to: grace.login, subject: "Please review your " + programName + " profile", has: []string{"Ada Lovelace"}, hasNot: secrets},
	)

	// Every email of the match is in its outbox view, sent, with the
	// Message-ID the relay saw.
	byID := f.relay.CountByMessageID()
	entries := f.forMatch(second)
	if len(entries) != 12 {
		t.Errorf("outbox holds %d emails of the match, want 12", len(entries))
	}
	for _, e := range entries {
		if e.Status != notify.StatusSent || e.Attempts != 1 || e.SentAt.IsZero() || e.Text != "" || e.HTML != "" {
			t.Errorf("entry %s: %+v", e.ID, e)
		}
		if byID[messageID(e)] != 1 {
			t.Errorf("relay got %s %d times", messageID(e), byID[messageID(e)])
		}
	}
	for id, count := range byID {
		if count != 1 {
			t.Errorf("relay got %s %d times", id, count)
		}
	}

	// A restart composes and sends nothing again.
	total := len(f.received())
	f.restart()
	f.tick()
	if got := len(f.received()); got != total {
		t.Errorf("after a restart the relay has %d emails, want %d", got, total)
	}
}

func TestMatchEndedRecipientsByReason(t *testing.T) {
	tests := []struct {
		reason      string
		requestedBy string // "mentee" or "mentor"
		recipients  []string
		subject     string
		text        string
	}{
		{"GRACEFUL_EXIT", "mentee", []string{"mentor"}, "Your match with %s has been closed", "Not every match is the right fit"},
		{"GRACEFUL_EXIT", "mentor", []string{"mentee"}, "Your match with %s has been closed", "Not every match is the right fit"},
		{"GOALS_CONCLUDED", "mentee", []string{"mentee", "mentor"}, "Your match with %s has ended", "you concluded the goals you set together"},
		{"MOVED", "mentor", []string{"mentee", "mentor"}, "Your match with %s has ended", "one of you moved"},
		{"OTHER", "mentor", []string{"mentee", "mentor"}, "Your match with %s has ended", "has ended. Thank you"},
	}
	for _, tc := range tests {
		t.Run(tc.reason+" asked by the "+tc.requestedBy, func(t *testing.T) {
			f := newFixture(t, fixtureOptions{})
			mentee := f.register(domain.RoleMentee, "Mary Mentee", "mary@home.example", "", domain.ContactEmail)
			mentor := f.register(domain.RoleMentor, "Otto Mentor", "otto@home.example", "", domain.ContactEmail)
			id := f.request(mentee, mentor, "")
			f.accept(mentor, id)
			f.tick()
			n := len(f.received())
			asker := mentee
			if tc.requestedBy == "mentor" {
				asker = mentor
			}
			f.end(id, tc.reason, asker)
			f.tick()
			var wants []want
			for _, r := range tc.recipients {
				to, partner := mentee, mentor
				if r == "mentor" {
					to, partner = mentor, mentee
				}
				w := want{to: to.login, subject: fmt.Sprintf(tc.subject, partner.name), has: []string{tc.text}, hasNot: contactDetails(mentee, mentor)}
				if r == "mentee" {
					w.has = append(w.has, "search for a new mentor", frontendURL+"/mentors")
				}
				wants = append(wants, w)
			}
			expect(t, tc.reason, f.since(n), wants...)
		})
	}
}

func TestDeliveryOutlastsARelayThatIsDown(t *testing.T) {
	f := newFixture(t, fixtureOptions{down: true})
	ada := f.register(domain.RoleMentee, "Ada Lovelace", "ada@home.example", "", domain.ContactEmail)
	grace := f.register(domain.RoleMentor, "Grace Hopper", "grace@home.example", "", domain.ContactEmail)
	id := f.request(ada, grace, "Hello")
	f.accept(grace, id)
	f.end(id, "GOALS_CONCLUDED", ada)
	if _, err := f.cmds.RequestProfileReview(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	// Request, accepted, two introductions, two ends, two reviews.
	const emails = 8

	// The relay refuses connections: every round costs one attempt.
	f.tick()
	entries := f.forMatch(id)
	if len(entries) != emails {
		t.Fatalf("outbox holds %d emails, want %d", len(entries), emails)
	}
	failing := 0
	for _, e := range entries {
		switch e.Status {
		case notify.StatusFailing:
			failing++
			if e.Attempts != 1 || !strings.Contains(e.LastError, "connection refused") || !e.NextAttemptAt.Equal(t0.Add(30*time.Second)) {
				t.Errorf("failing entry: %+v", e)
			}
		case notify.StatusPending:
			if e.Attempts != 0 {
				t.Errorf("pending entry: %+v", e)
			}
		default:
			t.Errorf("entry %s is %s while the relay is down", e.ID, e.Status)
		}
	}
	if failing != 1 {
		t.Errorf("%d entries failing after one round, want 1: a dead relay stops the round", failing)
	}
	// Nothing happens before the backoff is over; after it, each round
	// that fails doubles the pause: 30 s, 1 min, 2 min.
	f.clock.Advance(29 * time.Second)
	f.tick()
	if got := attempts(f.forMatch(id)); got != 1 {
		t.Errorf("%d attempts before the backoff ended, want 1", got)
	}
	f.clock.Advance(time.Second)
	for i, pause := range []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute} {
		f.tick()
		if got := attempts(f.forMatch(id)); got != i+2 {
			t.Fatalf("round %d: %d attempts, want %d", i+2, got, i+2)
		}
		f.clock.Advance(pause - time.Second)
		f.tick()
		if got := attempts(f.forMatch(id)); got != i+2 {
			t.Fatalf("round %d: %d attempts during the pause, want %d", i+2, got, i+2)
		}
		f.clock.Advance(time.Second)
	}

	// The relay is back but busy: it answers with a temporary 451.
	f.relay.Resume()
	f.relay.Refuse(true)
	f.clock.Advance(time.Hour)
	f.tick()
	if got := lastErrors(f.forMatch(id)); !strings.Contains(got, "451") {
		t.Errorf("last errors %q, want the relay's 451", got)
	}
	if n := len(f.received()); n != 0 {
		t.Fatalf("a refusing relay received %d emails", n)
	}

	// The relay accepts again: every email arrives exactly once.
	f.relay.Refuse(false)
	f.clock.Advance(time.Hour)
	f.tick()
	entries = f.forMatch(id)
	counts := f.relay.CountByMessageID()
	if len(counts) != emails {
		t.Errorf("relay received %d distinct emails, want %d", len(counts), emails)
	}
	for _, e := range entries {
		if e.Status != notify.StatusSent || counts[messageID(e)] != 1 {
			t.Errorf("entry %s is %s with %d attempts, relay got it %d times", e.ID, e.Status, e.Attempts, counts[messageID(e)])
		}
	}
	// A restart and more time send nothing twice.
	f.restart()
	f.clock.Advance(24 * time.Hour)
	f.tick()
	for mid, c := range f.relay.CountByMessageID() {
		if c != 1 {
			t.Errorf("relay got %s %d times", mid, c)
		}
	}
	if n := len(f.received()); n != emails {
		t.Errorf("relay received %d emails in all, want %d", n, emails)
	}
}

func attempts(es []notify.Entry) int {
	n := 0
	for _, e := range es {
		n += e.Attempts
	}
	return n
}

func lastErrors(es []notify.Entry) string {
	var out []string
	for _, e := range es {
		out = append(out, e.LastError)
	}
	return strings.Join(out, "\n")
}

func TestRejectedRecipientIsGivenUpAndOthersGoThrough(t *testing.T) {
	f := newFixture(t, fixtureOptions{relay: smtptest.Options{RejectRecipient: "grace@members.example.org"}})
	ada := f.register(domain.RoleMentee, "Ada Lovelace", "ada@home.example", "", domain.ContactEmail)
	grace := f.register(domain.RoleMentor, "Grace Hopper", "grace@home.example", "", domain.ContactEmail)
	id := f.request(ada, grace, "")
	f.accept(grace, id)
	f.tick()
	var statuses []string
	for _, e := range f.forMatch(id) {
		statuses = append(statuses, fmt.Sprintf("%s %t %s %d", e.Kind, e.RecipientID == grace.ID, e.Status, e.Attempts))
		if e.Status == notify.StatusFailed && (!strings.Contains(e.LastError, "550") || !e.NextAttemptAt.IsZero()) {
			t.Errorf("failed entry: %+v", e)
		}
	}
	want := []string{
		"REQUEST_RECEIVED true FAILED 1",
		"MATCH_MADE false SENT 1",
		"MATCH_MADE true FAILED 1",
		"REQUEST_ACCEPTED false SENT 1",
	}
	slices.Sort(statuses)
	slices.Sort(want)
	if !slices.Equal(statuses, want) {
		t.Errorf("statuses\n%s\nwant\n%s", strings.Join(statuses, "\n"), strings.Join(want, "\n"))
	}
}

func TestEmailsFailingTooLongAreGivenUp(t *testing.T) {
	f := newFixture(t, fixtureOptions{down: true})
	ada := f.register(domain.RoleMentee, "Ada Lovelace", "ada@home.example", "", domain.ContactEmail)
	grace := f.register(domain.RoleMentor, "Grace Hopper", "grace@home.example", "", domain.ContactEmail)
	id := f.request(ada, grace, "")
	f.tick()
	f.clock.Advance(72 * time.Hour)
	f.tick()
	es := f.forMatch(id)
	if len(es) != 1 || es[0].Status != notify.StatusFailed || es[0].Attempts != 2 {
		t.Fatalf("entries %+v, want one given up after two attempts", es)
	}
	f.relay.Resume()
	f.clock.Advance(72 * time.Hour)
	f.tick()
	if n := len(f.received()); n != 0 {
		t.Errorf("a given-up email was sent later (%d received)", n)
	}
}

func TestANewOutboxStartsAtTheHeadOfTheLog(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ada := f.register(domain.RoleMentee, "Ada Lovelace", "ada@home.example", "", domain.ContactEmail)
	grace := f.register(domain.RoleMentor, "Grace Hopper", "grace@home.example", "", domain.ContactEmail)
	old := f.request(ada, grace, "")
	// The outbox file is lost: a new one must not mail the history.
	if err := f.n.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(f.dir, notify.FileName)); err != nil {
		t.Fatal(err)
	}
	f.open(zerolog.Nop())
	f.tick()
	if n := len(f.received()); n != 0 {
		t.Fatalf("a new outbox mailed %d emails of the history", n)
	}
	// New events are mailed, with names learned from the whole log.
	f.accept(grace, old)
	f.tick()
	expect(t, "accept", f.received(),
		want{to: ada.login, subject: "Grace Hopper accepted your request"},
		want{to: ada.login, subject: "You are matched with Grace Hopper", has: []string{"grace@home.example"}},
		want{to: grace.login, subject: "You are matched with Ada Lovelace", has: []string{"ada@home.example"}},
	)
}

func TestMailboxFallbackWritesAndLogs(t *testing.T) {
	dir := t.TempDir()
	box, err := mail.NewMailbox(filepath.Join(dir, mail.DirName), mail.MailboxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	f := newFixture(t, fixtureOptions{sender: box, logger: zerolog.New(&logs)})
	ada := f.register(domain.RoleMentee, "Ada Lovelace", "ada@home.example", "", domain.ContactEmail)
	grace := f.register(domain.RoleMentor, "Grace Hopper", "grace@home.example", "", domain.ContactEmail)
	id := f.request(ada, grace, "")
	f.tick()
	f.tick()
	msgs, err := box.Messages()
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || msgs[0].To != grace.login || msgs[0].Subject != "Ada Lovelace asks you to be their mentor" ||
		!strings.Contains(msgs[0].HTML, frontendURL+"/matches/"+id.String()) {
		t.Fatalf("mailbox holds %+v", msgs)
	}
	entries := f.forMatch(id)
	if len(entries) != 1 || msgs[0].ID != entries[0].ID {
		t.Fatalf("outbox %+v, mailbox ID %s", entries, msgs[0].ID)
	}
	line := logs.String()
	for _, s := range []string{`"message":"email sent"`, `"kind":"REQUEST_RECEIVED"`, entries[0].ID, grace.ID.String()} {
		if !strings.Contains(line, s) {
			t.Errorf("log lacks %s:\n%s", s, line)
		}
	}
	if strings.Contains(line, grace.login) {
		t.Errorf("log holds the recipient's address:\n%s", line)
	}
}

func TestRunDeliversAsEventsArrive(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ada := f.register(domain.RoleMentee, "Ada Lovelace", "ada@home.example", "", domain.ContactEmail)
	grace := f.register(domain.RoleMentor, "Grace Hopper", "grace@home.example", "", domain.ContactEmail)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.n.Run(ctx) }()
	id := f.request(ada, grace, "")
	f.relay.WaitFor(1, 10*time.Second)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	expect(t, "run", f.received(), want{to: grace.login, subject: "Ada Lovelace asks you to be their mentor", has: []string{id.String()}})
}

func TestOpenChecksSettings(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	bad := []notify.Settings{
		{FrontendURL: ""},
		{FrontendURL: "ftp://example.org"},
		{FrontendURL: frontendURL, StaffEmail: "Staff <staff@example.org>"},
	}
	for _, s := range bad {
		if _, err := notify.Open(t.TempDir(), f.store, f.sender, f.clock, notify.Options{Settings: s}); err == nil {
			t.Errorf("Open with %+v succeeded", s)
		}
	}
	// The outbox file is taken by the fixture's notifier.
	if _, err := notify.Open(f.dir, f.store, f.sender, f.clock, notify.Options{Settings: notify.Settings{FrontendURL: frontendURL}}); err == nil {
		t.Error("a second notifier opened the same outbox")
	}
}
