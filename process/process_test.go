package process_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/mentorship/mentorship/clock"
	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/eventstore/bolt"
	"github.com/mentorship/mentorship/mail"
	"github.com/mentorship/mentorship/mail/smtptest"
	"github.com/mentorship/mentorship/notify"
	"github.com/mentorship/mentorship/process"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

// counting is the command service, counting the manager's calls.
type counting struct {
	*command.Service
	mu    sync.Mutex
	calls map[string]int
}

func (c *counting) count(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls[name]++
}

func (c *counting) Calls(name string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[name]
}

func (c *counting) Reconcile(ctx context.Context, rec eventstore.RecordedEvent) error {
	c.count("Reconcile")
	return c.Service.Reconcile(ctx, rec)
}

func (c *counting) MarkResponseWindowElapsed(ctx context.Context, id uuid.UUID) (command.Result, error) {
	c.count("MarkResponseWindowElapsed")
	return c.Service.MarkResponseWindowElapsed(ctx, id)
}

func (c *counting) RemindFirstMeeting(ctx context.Context, id uuid.UUID) (command.Result, error) {
	c.count("RemindFirstMeeting")
	return c.Service.RemindFirstMeeting(ctx, id)
}

func (c *counting) CompleteTerm(ctx context.Context, id uuid.UUID) (command.Result, error) {
	c.count("CompleteTerm")
	return c.Service.CompleteTerm(ctx, id)
}

func (c *counting) EraseUnderRetention(ctx context.Context, id uuid.UUID) (command.Result, error) {
	c.count("EraseUnderRetention")
	return c.Service.EraseUnderRetention(ctx, id)
}

func (c *counting) RequestProfileReview(ctx context.Context, id uuid.UUID) (command.Result, error) {
	c.count("RequestProfileReview")
	return c.Service.RequestProfileReview(ctx, id)
}

// fixture is the server's background side on the real embedded store: the
// process manager and the notifier, delivering to an in-process SMTP
// server, all on one fake clock.
type fixture struct {
	t     *testing.T
	dir   string
	store eventstore.Store
	svc   *command.Service
	cmds  *counting
	clock *clock.Fake
	relay *smtptest.Server
	mgr   *process.Manager
	n     *notify.Notifier
	staff domain.Actor
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureWith(t, domain.DefaultProgram())
}

// newFixtureWith is newFixture with the program's settings p.
func newFixtureWith(t *testing.T, p domain.Program) *fixture {
	t.Helper()
	f := &fixture{t: t, dir: t.TempDir(), clock: clock.NewFake(t0)}
	store, err := bolt.Open(f.dir, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	f.store = store
	if f.svc, err = command.New(store, p, f.clock, command.Options{}); err != nil {
		t.Fatal(err)
	}
	f.cmds = &counting{Service: f.svc, calls: map[string]int{}}
	f.relay = smtptest.Start(t, smtptest.Options{})
	f.start()
	f.staff = domain.Actor{ID: uuid.New(), Role: domain.RoleStaff}
	if _, err := f.svc.RegisterMember(context.Background(), command.Request{Actor: domain.SystemActor()}, f.staff.ID, domain.RoleStaff, "Sam Staff", "sam@example.org"); err != nil {
		t.Fatal(err)
	}
	return f
}

// start opens a manager and a notifier over the data directory, as a
// server start does.
func (f *fixture) start() {
	f.t.Helper()
	var err error
	if f.mgr, err = process.Open(f.dir, f.store, f.cmds, f.clock, process.Options{}); err != nil {
		f.t.Fatal(err)
	}
	sender, err := mail.NewSMTP(mail.SMTPConfig{Host: f.relay.Host(), Port: f.relay.Port(), TLS: mail.TLSNone, Clock: f.clock})
	if err != nil {
		f.t.Fatal(err)
	}
	f.n, err = notify.Open(f.dir, f.store, sender, f.clock, notify.Options{
		Settings: notify.Settings{ProgramName: "Mentoring", StaffEmail: "staff@example.org", FrontendURL: "https://mentoring.example.org"},
	})
	if err != nil {
		f.t.Fatal(err)
	}
	mgr, n := f.mgr, f.n
	f.t.Cleanup(func() { _ = mgr.Close(); _ = n.Close() })
}

// restart closes both and opens new ones over the same files.
func (f *fixture) restart() {
	f.t.Helper()
	if err := errors.Join(f.mgr.Close(), f.n.Close()); err != nil {
		f.t.Fatal(err)
	}
	f.start()
}

// tick runs the manager, then the notifier, at the clock's time.
func (f *fixture) tick() {
	f.t.Helper()
	ctx := context.Background()
	if err := f.mgr.Tick(ctx); err != nil {
		f.t.Fatalf("process tick: %v", err)
	}
	if err := f.n.Tick(ctx); err != nil {
		f.t.Fatalf("notify tick: %v", err)
	}
}

func (f *fixture) head() eventstore.Position {
	f.t.Helper()
	h, err := f.store.Head(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	return h
}

func (f *fixture) types(stream string) []string {
	f.t.Helper()
	recs, err := f.store.ReadStream(context.Background(), stream, eventstore.ReadStreamOptions{})
	if errors.Is(err, eventstore.ErrStreamNotFound) {
		return nil
	}
	if err != nil {
		f.t.Fatal(err)
	}
	var out []string
	for _, r := range recs {
		out = append(out, r.Type)
	}
	return out
}

func (f *fixture) matchTypes(id uuid.UUID) []string { return f.types(domain.MatchStream(id)) }

func (f *fixture) register(role domain.Role, name string) domain.Actor {
	f.t.Helper()
	ctx := context.Background()
	a := domain.Actor{ID: uuid.New(), Role: role}
	login := strings.ToLower(strings.Fields(name)[0]) + "@members.example.org"
	if _, err := f.svc.RegisterMember(ctx, command.Request{Actor: a}, a.ID, role, name, login); err != nil {
		f.t.Fatal(err)
	}
	contact := domain.Contact{Email: strings.ToLower(strings.Fields(name)[0]) + "@home.example", PreferredMethod: domain.ContactEmail}
	if _, err := f.svc.UpdateProfile(ctx, command.Request{Actor: a}, a.ID, domain.Profile{Name: name, Contact: contact}); err != nil {
		f.t.Fatal(err)
	}
	return a
}

func (f *fixture) request(mentee, mentor domain.Actor) uuid.UUID {
	f.t.Helper()
	id, _, err := f.svc.RequestMatch(context.Background(), command.Request{Actor: mentee}, mentor.ID, "")
	if err != nil {
		f.t.Fatal(err)
	}
	return id
}

func (f *fixture) accept(mentor domain.Actor, id uuid.UUID) {
	f.t.Helper()
	if _, err := f.svc.AcceptMatch(context.Background(), command.Request{Actor: mentor}, id); err != nil {
		f.t.Fatal(err)
	}
}

// mail is one email as the relay got it: its recipient and subject.
type sent struct{ to, subject string }

// mailSince returns the emails the relay got after the first n, sorted.
func (f *fixture) mailSince(n int) []sent {
	var out []sent
	for _, m := range f.relay.Messages()[n:] {
		out = append(out, sent{to: strings.Join(m.To, ","), subject: m.Subject})
	}
	slices.SortFunc(out, func(a, b sent) int { return strings.Compare(a.to+a.subject, b.to+b.subject) })
	return out
}

// step checks what one tick added: the match stream's events and the
// emails.
type step struct {
	f      *fixture
	events int
	mails  int
}

func (f *fixture) mark(id uuid.UUID) step {
	return step{f: f, events: len(f.matchTypes(id)), mails: len(f.relay.Messages())}
}

func (s step) check(id uuid.UUID, what string, events []string, mails ...sent) {
	s.f.t.Helper()
	got := s.f.matchTypes(id)[s.events:]
	if diff := cmp.Diff(events, got, cmpEmpty); diff != "" {
		s.f.t.Errorf("%s: match events (-want +got):\n%s", what, diff)
	}
	slices.SortFunc(mails, func(a, b sent) int { return strings.Compare(a.to+a.subject, b.to+b.subject) })
	if diff := cmp.Diff(mails, s.f.mailSince(s.mails), cmp.AllowUnexported(sent{}), cmpEmpty); diff != "" {
		s.f.t.Errorf("%s: emails (-want +got):\n%s", what, diff)
	}
}

var cmpEmpty = cmp.FilterValues(func(a, b any) bool {
	return isEmpty(a) && isEmpty(b)
}, cmp.Ignore())

func isEmpty(v any) bool {
	switch x := v.(type) {
	case []string:
		return len(x) == 0
	case []sent:
		return len(x) == 0
	}
	return false
}

func TestAYearOfAMatchOnAControlledClock(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ada := f.register(domain.RoleMentee, "Ada Lovelace")
	grace := f.register(domain.RoleMentor, "Grace Hopper")
	const adaMail, graceMail = "ada@members.example.org", "grace@members.example.org"

	// Day 0: the request.
	s := f.mark(uuid.Nil)
	id := f.request(ada, grace)
	f.tick()
	s.check(id, "request", []string{"MatchRequested"}, sent{graceMail, "Ada Lovelace asks you to be their mentor"})

	// Day 14, less a second: nothing yet; then the window elapses.
	s = f.mark(id)
	f.clock.Advance(14*day - time.Second)
	f.tick()
	s.check(id, "day 14 less a second", nil)
	f.clock.Advance(time.Second)
	f.tick()
	s.check(id, "day 14", []string{"ResponseWindowElapsed"}, sent{adaMail, "No answer yet from Grace Hopper"})

	// A restart on the same files fires nothing again.
	s = f.mark(id)
	head := f.head()
	f.restart()
	f.tick()
	if f.head() != head {
		t.Errorf("a restart appended events: head %d, was %d", f.head(), head)
	}
	s.check(id, "restart after day 14", nil)

	// The mentee asks for a nudge, staff nudge, the mentor accepts.
	f.clock.Advance(day)
	if _, err := f.svc.RequestNudge(ctx, command.Request{Actor: ada}, id); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.NudgeMentor(ctx, command.Request{Actor: f.staff}, id, ""); err != nil {
		t.Fatal(err)
	}
	f.accept(grace, id)
	accepted := f.clock.Now()
	f.tick()
	s.check(id, "nudge and accept", []string{"NudgeRequested", "MentorNudged", "MatchAccepted"},
		sent{"staff@example.org", "Nudge requested: Ada Lovelace is waiting for Grace Hopper"},
		sent{graceMail, "Ada Lovelace is waiting for your answer"},
		sent{adaMail, "Grace Hopper accepted your request"},
		sent{adaMail, "You are matched with Grace Hopper"},
		sent{graceMail, "You are matched with Ada Lovelace"},
	)

	// Day 21 after the acceptance: the first-meeting reminder.
	s = f.mark(id)
	f.clock.Advance(21*day - time.Second)
	f.tick()
	s.check(id, "day 21 less a second", nil)
	f.clock.Advance(time.Second)
	f.tick()
	s.check(id, "day 21", []string{"FirstMeetingReminderDue"},
		sent{adaMail, "Time for your first meeting with Grace Hopper"},
		sent{graceMail, "Time for your first meeting with Ada Lovelace"},
	)
	s = f.mark(id)
	f.restart()
	f.clock.Advance(day)
	f.tick()
	s.check(id, "restart after day 21", nil)

	// One year after the acceptance: the term ends and both partners are
	// asked to review their profiles.
	termEnd := domain.DefaultProgram().TermEnd(accepted)
	if want := time.Date(2027, 3, 17, 9, 0, 0, 0, time.UTC); !termEnd.Equal(want) {
		t.Fatalf("term ends %v, want %v", termEnd, want)
	}
	f.clock.Set(termEnd.Add(-time.Second))
	f.tick()
	s.check(id, "a year less a second", nil)
	f.clock.Set(termEnd)
	f.tick()
	s.check(id, "a year", []string{"MatchEnded", "ProfileReviewRequested"},
		sent{adaMail, "Your mentoring year with Grace Hopper is complete"},
		sent{graceMail, "Your mentoring year with Ada Lovelace is complete"},
		sent{adaMail, "Please review your Mentoring profile"},
		sent{graceMail, "Please review your Mentoring profile"},
	)
	ended := f.matchEvent(id, "MatchEnded").(domain.MatchEnded)
	if ended.Reason != domain.EndReasonTermCompleted || !ended.At.Equal(termEnd) {
		t.Errorf("match ended %+v, want TERM_COMPLETED at %v", ended, termEnd)
	}
	if got := f.types(domain.MemberStream(ada.ID)); !slices.Equal(got[len(got)-3:], []string{"RequestSlotTaken", "RequestSlotActivated", "RequestSlotReleased"}) {
		t.Errorf("mentee stream ends %v", got)
	}
	if got := f.types(domain.MemberStream(grace.ID)); !slices.Equal(got[len(got)-2:], []string{"CapacitySlotReserved", "CapacitySlotReleased"}) {
		t.Errorf("mentor stream ends %v", got)
	}

	// Restarts, with and without the manager's file, and years more,
	// fire nothing twice.
	s = f.mark(id)
	head = f.head()
	f.restart()
	f.clock.Advance(400 * day)
	f.tick()
	if err := errors.Join(f.mgr.Close(), f.n.Close()); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(f.dir, process.FileName)); err != nil {
		t.Fatal(err)
	}
	f.start()
	f.clock.Advance(400 * day)
	f.tick()
	s.check(id, "restarts after the end", nil)
	if f.head() != head {
		t.Errorf("restarts appended events: head %d, was %d", f.head(), head)
	}
	want := []string{
		"MatchRequested", "ResponseWindowElapsed", "NudgeRequested", "MentorNudged", "MatchAccepted",
		"FirstMeetingReminderDue", "MatchEnded", "ProfileReviewRequested",
	}
	if diff := cmp.Diff(want, f.matchTypes(id)); diff != "" {
		t.Errorf("match history (-want +got):\n%s", diff)
	}
	for name, n := range map[string]int{
		"MarkResponseWindowElapsed": 1, "RemindFirstMeeting": 1, "CompleteTerm": 1, "RequestProfileReview": 1,
		// Every command finished, so nothing needed reconciling.
		"Reconcile": 0,
	} {
		if got := f.cmds.Calls(name); got != n {
			t.Errorf("%s called %d times, want %d", name, got, n)
		}
	}
	for mid, c := range f.relay.CountByMessageID() {
		if c != 1 {
			t.Errorf("email %s sent %d times", mid, c)
		}
	}
}

func (f *fixture) matchEvent(id uuid.UUID, typ string) domain.Event {
	f.t.Helper()
	recs, err := f.store.ReadStream(context.Background(), domain.MatchStream(id), eventstore.ReadStreamOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	for _, r := range recs {
		if r.Type == typ {
			ev, err := domain.Decode(r.Type, r.SchemaVersion, r.Data)
			if err != nil {
				f.t.Fatal(err)
			}
			return ev
		}
	}
	f.t.Fatalf("no %s in match %s", typ, id)
	return nil
}

func TestNoReminderWhenASessionWasLogged(t *testing.T) {
	f := newFixture(t)
	ada, grace := f.register(domain.RoleMentee, "Ada Lovelace"), f.register(domain.RoleMentor, "Grace Hopper")
	id := f.request(ada, grace)
	f.accept(grace, id)
	f.clock.Advance(5 * day)
	date := domain.DefaultProgram().Today(f.clock.Now())
	if _, err := f.svc.LogSession(context.Background(), command.Request{Actor: grace}, id, uuid.New(), domain.SessionDetails{Date: date, Minutes: 45}); err != nil {
		t.Fatal(err)
	}
	f.tick()
	s := f.mark(id)
	f.clock.Advance(30 * day)
	f.tick()
	s.check(id, "day 35", nil)
	if n := f.cmds.Calls("RemindFirstMeeting"); n != 0 {
		t.Errorf("RemindFirstMeeting called %d times", n)
	}
}

func TestNoWindowOnceTheMentorAnswered(t *testing.T) {
	f := newFixture(t)
	ada, grace := f.register(domain.RoleMentee, "Ada Lovelace"), f.register(domain.RoleMentor, "Grace Hopper")
	declined := f.request(ada, grace)
	f.clock.Advance(3 * day)
	if _, err := f.svc.DeclineMatch(context.Background(), command.Request{Actor: grace}, declined, "", ""); err != nil {
		t.Fatal(err)
	}
	f.tick()
	s := f.mark(declined)
	f.clock.Advance(30 * day)
	f.tick()
	s.check(declined, "after the window", nil)
	if n := f.cmds.Calls("MarkResponseWindowElapsed") + f.cmds.Calls("RequestProfileReview"); n != 0 {
		t.Errorf("time rules ran %d times on a declined request", n)
	}
}

func TestEarlyEndAsksForAReviewOnce(t *testing.T) {
	f := newFixture(t)
	ada, grace := f.register(domain.RoleMentee, "Ada Lovelace"), f.register(domain.RoleMentor, "Grace Hopper")
	id := f.request(ada, grace)
	f.accept(grace, id)
	f.tick()
	f.clock.Advance(40 * day)
	if _, err := f.svc.EndMatch(context.Background(), command.Request{Actor: f.staff}, id, "MOVED", grace.ID, "Moved to Halifax"); err != nil {
		t.Fatal(err)
	}
	s := f.mark(id)
	f.tick()
	s.check(id, "early end", []string{"ProfileReviewRequested"},
		sent{"ada@members.example.org", "Please review your Mentoring profile"},
		sent{"grace@members.example.org", "Please review your Mentoring profile"},
		sent{"ada@members.example.org", "Your match with Grace Hopper has ended"},
		sent{"grace@members.example.org", "Your match with Ada Lovelace has ended"},
	)
	// The term's end a year on finds the match over.
	f.clock.Advance(400 * day)
	s = f.mark(id)
	f.tick()
	s.check(id, "a year later", nil)
	if n := f.cmds.Calls("CompleteTerm"); n != 0 {
		t.Errorf("CompleteTerm called %d times on an ended match", n)
	}
}

func TestTwoManagersRacingFireEachRuleOnce(t *testing.T) {
	f := newFixture(t)
	ada, grace := f.register(domain.RoleMentee, "Ada Lovelace"), f.register(domain.RoleMentor, "Grace Hopper")
	var ids []uuid.UUID
	for range 5 {
		mentee := f.register(domain.RoleMentee, "Mentee Number")
		mentor := f.register(domain.RoleMentor, "Mentor Number")
		ids = append(ids, f.request(mentee, mentor))
	}
	ids = append(ids, f.request(ada, grace))
	other, err := process.Open(t.TempDir(), f.store, f.cmds, f.clock, process.Options{Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	f.clock.Advance(14 * day)
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for _, m := range []*process.Manager{f.mgr, other} {
		wg.Go(func() { errs <- m.Tick(context.Background()) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range ids {
		if got := f.matchTypes(id); !slices.Equal(got, []string{"MatchRequested", "ResponseWindowElapsed"}) {
			t.Errorf("match %s: %v", id, got)
		}
	}
}

// Two managers racing, as an instance that lost its lease and the one
// that took it over do for a moment, fire the reminder, the end of term
// and the profile review of each match once: the commands derive their
// IDs from the match and the domain decides nothing once the mark exists.
func TestTwoManagersRacingFireEveryTimeRuleOnce(t *testing.T) {
	f := newFixture(t)
	var ids []uuid.UUID
	for range 5 {
		mentee := f.register(domain.RoleMentee, "Mentee Number")
		mentor := f.register(domain.RoleMentor, "Mentor Number")
		id := f.request(mentee, mentor)
		f.accept(mentor, id)
		ids = append(ids, id)
	}
	other, err := process.Open(t.TempDir(), f.store, f.cmds, f.clock, process.Options{Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	race := func() {
		t.Helper()
		for range 2 {
			var wg sync.WaitGroup
			errs := make(chan error, 2)
			for _, m := range []*process.Manager{f.mgr, other} {
				wg.Go(func() { errs <- m.Tick(context.Background()) })
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	f.clock.Advance(21 * day)
	race()
	f.clock.Advance(400 * day)
	race()
	want := []string{"MatchRequested", "MatchAccepted", "FirstMeetingReminderDue", "MatchEnded", "ProfileReviewRequested"}
	for _, id := range ids {
		if got := f.matchTypes(id); !slices.Equal(got, want) {
			t.Errorf("match %s: %v, want %v", id, got, want)
		}
	}
}

// appendRaw writes a domain event as a crashed command would have left it.
func (f *fixture) appendRaw(stream string, ev domain.Event) {
	f.t.Helper()
	enc, err := domain.Encode(ev)
	if err != nil {
		f.t.Fatal(err)
	}
	_, err = f.store.Append(context.Background(), stream, eventstore.Any(), eventstore.EventData{
		ID: uuid.New(), Type: enc.Type, SchemaVersion: enc.SchemaVersion, Data: enc.Data,
		Metadata: eventstore.Metadata{ActorID: domain.SystemActorID, ActorRole: string(domain.RoleSystem), OccurredAt: f.clock.Now()},
	})
	if err != nil {
		f.t.Fatal(err)
	}
}

func TestCrashedCommandsAreFinished(t *testing.T) {
	f := newFixture(t)
	ada, grace := f.register(domain.RoleMentee, "Ada Lovelace"), f.register(domain.RoleMentor, "Grace Hopper")

	// A request whose second step never ran: the slot is taken, the match
	// stream is empty.
	id := command.MatchIDFor("crashed-request")
	f.appendRaw(domain.MemberStream(ada.ID), domain.RequestSlotTaken{MemberID: ada.ID, MatchID: id, MentorID: grace.ID, At: f.clock.Now()})
	f.tick()
	if got := f.cmds.Calls("Reconcile"); got != 0 {
		t.Fatalf("reconciled %d times within the grace period", got)
	}
	s := f.mark(id)
	f.clock.Advance(10 * time.Second)
	f.tick()
	s.check(id, "finished request", []string{"MatchRequested"}, sent{"grace@members.example.org", "Ada Lovelace asks you to be their mentor"})

	// An accept whose second step never ran: the capacity is reserved,
	// the match still pending.
	f.appendRaw(domain.MemberStream(grace.ID), domain.CapacitySlotReserved{MemberID: grace.ID, MatchID: id, MenteeID: ada.ID, At: f.clock.Now()})
	s = f.mark(id)
	f.clock.Advance(10 * time.Second)
	f.tick()
	s.check(id, "finished accept", []string{"MatchAccepted"},
		sent{"ada@members.example.org", "Grace Hopper accepted your request"},
		sent{"ada@members.example.org", "You are matched with Grace Hopper"},
		sent{"grace@members.example.org", "You are matched with Ada Lovelace"},
	)
	if got := f.types(domain.MemberStream(ada.ID)); got[len(got)-1] != "RequestSlotActivated" {
		t.Errorf("mentee stream ends %v, want the slot activated", got)
	}

	// An end whose slot bookkeeping never ran.
	m, err := f.svc.Match(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	f.appendRaw(domain.MatchStream(id), domain.MatchEnded{MatchID: id, MenteeID: m.MenteeID(), MentorID: m.MentorID(), Reason: "MOVED", RequestedBy: ada.ID, StaffID: f.staff.ID, At: f.clock.Now()})
	f.clock.Advance(10 * time.Second)
	f.tick()
	if got := f.types(domain.MemberStream(ada.ID)); got[len(got)-1] != "RequestSlotReleased" {
		t.Errorf("mentee stream ends %v, want the slot released", got)
	}
	if got := f.types(domain.MemberStream(grace.ID)); got[len(got)-1] != "CapacitySlotReleased" {
		t.Errorf("mentor stream ends %v, want the slot released", got)
	}
	if got := f.cmds.Calls("Reconcile"); got != 3 {
		t.Errorf("Reconcile called %d times, want 3", got)
	}

	// The mentee can request again: the slots are free.
	f.request(ada, f.register(domain.RoleMentor, "Linus Pauling"))
}

func TestSettledPositionSavesWorkAfterARestart(t *testing.T) {
	f := newFixture(t)
	ada, grace := f.register(domain.RoleMentee, "Ada Lovelace"), f.register(domain.RoleMentor, "Grace Hopper")
	bob := f.register(domain.RoleMentee, "Bob Builder")
	id := f.request(ada, grace)
	// Bob's slot names Ada's match: the request can never be recorded, so
	// the log never shows it finished and Reconcile is refused.
	f.appendRaw(domain.MemberStream(bob.ID), domain.RequestSlotTaken{MemberID: bob.ID, MatchID: id, MentorID: grace.ID, At: f.clock.Now()})
	f.clock.Advance(time.Minute)
	f.tick()
	if got := f.cmds.Calls("Reconcile"); got != 1 {
		t.Fatalf("Reconcile called %d times, want 1", got)
	}
	// With its file, a restarted manager knows this is settled.
	f.restart()
	f.clock.Advance(time.Minute)
	f.tick()
	if got := f.cmds.Calls("Reconcile"); got != 1 {
		t.Errorf("after a restart Reconcile was called %d times in all, want 1", got)
	}
	// Without it, the manager looks at the whole log again, which costs
	// one more refused call and changes nothing.
	head := f.head()
	if err := errors.Join(f.mgr.Close(), f.n.Close()); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(f.dir, process.FileName)); err != nil {
		t.Fatal(err)
	}
	f.start()
	f.tick()
	if got := f.cmds.Calls("Reconcile"); got != 2 {
		t.Errorf("without the file Reconcile was called %d times in all, want 2", got)
	}
	if f.head() != head {
		t.Errorf("head moved from %d to %d", head, f.head())
	}
}

func TestRunActsOnItsOwn(t *testing.T) {
	f := newFixture(t)
	ada, grace := f.register(domain.RoleMentee, "Ada Lovelace"), f.register(domain.RoleMentor, "Grace Hopper")
	id := f.request(ada, grace)
	// The server starts 15 days later, as with a clock offset.
	f.clock.Advance(15 * day)
	head := f.head()
	sub, err := f.store.SubscribeAll(context.Background(), head)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.mgr.Run(ctx) }()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case rec := <-sub.Events():
			if rec.Type != "ResponseWindowElapsed" {
				continue
			}
		case <-timeout:
			t.Fatal("Run did not mark the window elapsed")
		}
		break
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := f.matchTypes(id); !slices.Equal(got, []string{"MatchRequested", "ResponseWindowElapsed"}) {
		t.Errorf("match events %v", got)
	}
}

func TestOpenRefusesAFileInUse(t *testing.T) {
	f := newFixture(t)
	if _, err := process.Open(f.dir, f.store, f.cmds, f.clock, process.Options{}); err == nil {
		t.Fatal("a second manager opened the same file")
	}
}
