package seed

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/auth"
	"github.com/mentorship/mentorship/clock"
	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/domain"
)

// DemoPassword is the password of every demo account.
const DemoPassword = "mentorship-demo-2026"

// DemoEmailDomain is the domain of the demo accounts' sign-in emails.
const DemoEmailDomain = "demo.example.org"

// demoSeed fixes the demo's random draws, so that every demo program has
// the same profiles.
const demoSeed = 2026

// demoDays is how far back the demo's history reaches when the clock can
// be set.
const demoDays = 420

// Deps are the services the demo program is written through.
type Deps struct {
	// Commands decides and appends every change with the program's rules.
	Commands *command.Service
	// Accounts creates the accounts that sign in.
	Accounts *auth.Service
	// Clock is the clock that Commands and Accounts tell time with. When
	// it can be set, as a *clock.Fake can, Demo spreads the program's
	// history over the fourteen months before the clock's time and sets it
	// back at the end; otherwise everything happens now, and the parts of
	// the story that need time to pass are left out.
	Clock clock.Clock
}

// settable is a clock the generator can move.
type settable interface {
	clock.Clock
	Set(time.Time)
}

// Account is a demo account that signs in with DemoPassword.
type Account struct {
	// Role is the account's role; mentees, mentors, staff and auditors
	// sign in through their own login mutation.
	Role domain.Role
	// Name is the person's name.
	Name string
	// Email is the sign-in email.
	Email string
	// MemberID is the account's member ID.
	MemberID uuid.UUID
}

// Credentials list the demo accounts and their shared password.
type Credentials struct {
	// Password signs every account in.
	Password string
	// Accounts are the staff account, the auditor account, the mentors
	// and the mentees, in that order.
	Accounts []Account
}

// demoPeople are the demo's members, so that its story reads the same
// every time. mentor01 to mentor12 and mentee01 to mentee10 are their
// sign-in names.
var demoMentors = []spec{
	{first: "Margaret", last: "Tremblay", discipline: "STRUCTURAL", city: "Montréal", years: 27},
	{first: "Rajesh", last: "Iyer", discipline: "GEOTECHNICAL", city: "Calgary", years: 19},
	{first: "Claire", last: "Fraser", discipline: "CIVIL", city: "Halifax", years: 22},
	{first: "David", last: "Chen", discipline: "ELECTRICAL", city: "Toronto", years: 16},
	{first: "Fatima", last: "Haddad", discipline: "ENVIRONMENTAL", city: "Edmonton", years: 14},
	{first: "Étienne", last: "Côté", discipline: "MINING", city: "Rouyn-Noranda", years: 30},
	{first: "Olena", last: "Kovalenko", discipline: "PETROLEUM", city: "Calgary", years: 18},
	{first: "Samuel", last: "Okafor", discipline: "MECHANICAL", city: "Winnipeg", years: 12},
	{first: "Ingrid", last: "Johansson", discipline: "GEOLOGICAL", city: "Whitehorse", years: 24},
	{first: "Harpreet", last: "Sandhu", discipline: "SOFTWARE", city: "Vancouver", years: 11},
	{first: "Declan", last: "MacDonald", discipline: "CHEMICAL", city: "Saskatoon", years: 21},
	{first: "Yuki", last: "Nakamura", discipline: "GEOPHYSICAL", city: "Victoria", years: 20},
}

var demoMentees = []spec{
	{first: "Ananya", last: "Sharma", discipline: "GEOTECHNICAL", city: "Edmonton", years: 2},
	{first: "Lucas", last: "Gagnon", discipline: "CIVIL", city: "Québec", years: 3},
	{first: "Mei", last: "Wong", discipline: "MINING", city: "Sudbury", years: 1},
	{first: "Omar", last: "Mansour", discipline: "STRUCTURAL", city: "Ottawa", years: 4},
	{first: "Chloé", last: "Bergeron", discipline: "ENVIRONMENTAL", city: "Moncton", years: 2},
	{first: "Kwame", last: "Mensah", discipline: "ELECTRICAL", city: "Regina", years: 1},
	{first: "Valentina", last: "Cruz", discipline: "PETROLEUM", city: "Calgary", years: 3},
	{first: "Ethan", last: "Campbell", discipline: "SOFTWARE", city: "Kitchener", years: 1},
	{first: "Layla", last: "Rahman", discipline: "GEOLOGICAL", city: "Yellowknife", years: 2},
	{first: "Noah", last: "Thompson", discipline: "CHEMICAL", city: "St. John's", years: 1},
}

// demoCapacity sets some mentors' capacity above the default.
var demoCapacity = map[int]int{0: 2, 4: 3, 7: 2}

// DemoEmail returns the sign-in email of a demo account: "staff",
// "auditor", or "mentor" or "mentee" with a number from 1.
func DemoEmail(kind string, n int) string {
	if n == 0 {
		return kind + "@" + DemoEmailDomain
	}
	return fmt.Sprintf("%s%02d@%s", kind, n, DemoEmailDomain)
}

// Demo writes a small demo program into an empty store: a staff and an
// auditor account, 12 mentors and 10 mentees with full profiles, program
// resources, and matches in every state (pending, active with sessions,
// declined, cancelled, and ended for each of the staff's end reasons; with
// a settable clock also a completed term, a nudged request and a
// first-meeting reminder). Every account signs in with DemoPassword at
// the emails DemoEmail gives. Registering an email that is taken fails,
// so Demo runs once per data directory.
func Demo(ctx context.Context, deps Deps) (Credentials, error) {
	if deps.Commands == nil || deps.Accounts == nil || deps.Clock == nil {
		return Credentials{}, errors.New("demo: commands, accounts and clock are required")
	}
	d := &demo{deps: deps, program: deps.Commands.Program()}
	present := deps.Clock.Now()
	if c, ok := deps.Clock.(settable); ok {
		d.travel = c
		d.start = present.Add(-demoDays * 24 * time.Hour).Truncate(24 * time.Hour)
		defer c.Set(present)
	}
	if err := d.accounts(ctx); err != nil {
		return Credentials{}, fmt.Errorf("demo: %w", err)
	}
	if err := d.run(ctx, d.story()); err != nil {
		return Credentials{}, fmt.Errorf("demo: %w", err)
	}
	return d.creds, nil
}

type demo struct {
	deps    Deps
	program domain.Program
	travel  settable
	start   time.Time
	creds   Credentials
	staff   domain.Actor
	mentors []member
	mentees []member
}

// member is a demo member with the profile it saves.
type member struct {
	actor  domain.Actor
	person person
}

// accounts creates every account and saves the members' profiles.
func (d *demo) accounts(ctx context.Context) error {
	d.at(0, 0)
	d.creds.Password = DemoPassword
	staff, err := d.deps.Accounts.CreateOperatorAccount(ctx, domain.RoleStaff, "Morgan Lee", DemoEmail("staff", 0), DemoPassword)
	if err != nil {
		return fmt.Errorf("staff account: %w", err)
	}
	d.staff = domain.Actor{ID: staff.MemberID, Role: domain.RoleStaff}
	auditor, err := d.deps.Accounts.CreateOperatorAccount(ctx, domain.RoleAuditor, "Jordan Blake", DemoEmail("auditor", 0), DemoPassword)
	if err != nil {
		return fmt.Errorf("auditor account: %w", err)
	}
	d.creds.Accounts = append(d.creds.Accounts,
		Account{Role: domain.RoleStaff, Name: "Morgan Lee", Email: DemoEmail("staff", 0), MemberID: staff.MemberID},
		Account{Role: domain.RoleAuditor, Name: "Jordan Blake", Email: DemoEmail("auditor", 0), MemberID: auditor.MemberID})

	d.mentors = make([]member, len(demoMentors))
	d.mentees = make([]member, len(demoMentees))
	type job struct {
		role  domain.Role
		s     spec
		email string
		out   *member
	}
	var jobs []job
	for i, s := range demoMentors {
		jobs = append(jobs, job{domain.RoleMentor, s, DemoEmail("mentor", i+1), &d.mentors[i]})
	}
	for i, s := range demoMentees {
		jobs = append(jobs, job{domain.RoleMentee, s, DemoEmail("mentee", i+1), &d.mentees[i]})
	}
	// Password hashing dominates, so accounts are created a few at a time.
	errs := make([]error, len(jobs))
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			r := rand.New(rand.NewPCG(demoSeed, uint64(i)))
			p := newPerson(r, j.role, j.s, "example.com")
			reg, err := d.deps.Accounts.Register(ctx, j.role, p.profile.Name, j.email, DemoPassword)
			if err != nil {
				errs[i] = fmt.Errorf("account %s: %w", j.email, err)
				return
			}
			*j.out = member{actor: domain.Actor{ID: reg.MemberID, Role: j.role}, person: p}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for i, j := range jobs {
		m := *j.out
		d.creds.Accounts = append(d.creds.Accounts, Account{Role: j.role, Name: m.person.profile.Name, Email: j.email, MemberID: m.actor.ID})
		if _, err := d.deps.Commands.UpdateProfile(ctx, d.as(m.actor), m.actor.ID, m.person.profile); err != nil {
			return fmt.Errorf("profile of %s: %w", j.email, err)
		}
		if c, ok := demoCapacity[i]; ok && j.role == domain.RoleMentor {
			if _, err := d.deps.Commands.SetMentorCapacity(ctx, d.as(m.actor), m.actor.ID, c); err != nil {
				return fmt.Errorf("capacity of %s: %w", j.email, err)
			}
		}
	}
	for _, res := range resources {
		cmd := domain.PublishResource{Title: res.title, Description: res.description, URL: res.url, Audience: domain.Audience(res.audience)}
		if _, _, err := d.deps.Commands.PublishResource(ctx, d.as(d.staff), cmd); err != nil {
			return fmt.Errorf("resource %q: %w", res.title, err)
		}
	}
	return nil
}

// as makes the request of one demo command.
func (d *demo) as(a domain.Actor) command.Request {
	return command.Request{Actor: a}
}

// at moves a settable clock to the given day of the story, step minutes
// into its working hours.
func (d *demo) at(day, step int) {
	if d.travel != nil {
		d.travel.Set(d.start.Add(time.Duration(day)*24*time.Hour + 9*time.Hour + time.Duration(step)*17*time.Minute))
	}
}

// step is one change of the story on a day. timed steps need the clock to
// move, so they are left out when it cannot.
type step struct {
	day   int
	timed bool
	do    func(ctx context.Context) error
}

func (d *demo) run(ctx context.Context, steps []step) error {
	slices.SortStableFunc(steps, func(a, b step) int { return a.day - b.day })
	n := 0
	for i, s := range steps {
		if s.timed && d.travel == nil {
			continue
		}
		if i > 0 && steps[i-1].day == s.day {
			n++
		} else {
			n = 0
		}
		d.at(s.day, n)
		if err := s.do(ctx); err != nil {
			return fmt.Errorf("day %d: %w", s.day, err)
		}
	}
	return nil
}

// match is a match of the story, known by its ID once requested.
type match struct {
	id             uuid.UUID
	mentee, mentor *member
}

// story returns the demo's steps. Without a settable clock, the timed steps
// drop out: mentee01's match stays active instead of completing its term,
// so mentee01 does not request again.
func (d *demo) story() []step {
	var steps []step
	add := func(day int, timed bool, do func(ctx context.Context) error) {
		steps = append(steps, step{day: day, timed: timed, do: do})
	}
	mentee := func(n int) *member { return &d.mentees[n-1] }
	mentor := func(n int) *member { return &d.mentors[n-1] }

	request := func(day int, timed bool, m *match) {
		add(day, timed, func(ctx context.Context) error {
			msg := fmt.Sprintf(pick(d.rand(day), requestMessages), m.mentor.person.specialty)
			id, _, err := d.deps.Commands.RequestMatch(ctx, d.as(m.mentee.actor), m.mentor.actor.ID, msg)
			m.id = id
			return err
		})
	}
	accept := func(day int, timed bool, m *match) {
		add(day, timed, func(ctx context.Context) error {
			_, err := d.deps.Commands.AcceptMatch(ctx, d.as(m.mentor.actor), m.id)
			return err
		})
	}
	sessions := func(m *match, timed bool, days ...int) {
		for i, day := range days {
			author := m.mentee
			if i%3 == 2 {
				author = m.mentor
			}
			add(day, timed, func(ctx context.Context) error { return d.session(ctx, m, author, day) })
		}
	}
	end := func(day int, m *match, reason string, by *member) {
		add(day, false, func(ctx context.Context) error {
			note := pick(d.rand(day), staffNotes[reason])
			if _, err := d.deps.Commands.EndMatch(ctx, d.as(d.staff), m.id, reason, by.actor.ID, note); err != nil {
				return err
			}
			_, err := d.deps.Commands.RequestProfileReview(ctx, m.id)
			return err
		})
	}
	decline := func(day int, m *match, reason string) {
		add(day, false, func(ctx context.Context) error {
			_, err := d.deps.Commands.DeclineMatch(ctx, d.as(m.mentor.actor), m.id, reason, pick(d.rand(day), declineMessages))
			return err
		})
	}
	cancel := func(day int, m *match) {
		add(day, false, func(ctx context.Context) error {
			_, err := d.deps.Commands.CancelMatch(ctx, d.as(m.mentee.actor), m.id)
			return err
		})
	}

	// mentee01 completes a one-year term with mentor01, then asks mentor02,
	// who has not answered in time: the window elapses, the mentee asks
	// staff for a nudge, and staff reach out.
	a := &match{mentee: mentee(1), mentor: mentor(1)}
	request(10, false, a)
	accept(12, false, a)
	sessions(a, false, 30, 62, 95, 131, 170, 222, 262, 301, 342)
	add(380, true, func(ctx context.Context) error {
		if _, err := d.deps.Commands.CompleteTerm(ctx, a.id); err != nil {
			return err
		}
		_, err := d.deps.Commands.RequestProfileReview(ctx, a.id)
		return err
	})
	b := &match{mentee: mentee(1), mentor: mentor(2)}
	request(395, true, b)
	add(410, true, func(ctx context.Context) error {
		_, err := d.deps.Commands.MarkResponseWindowElapsed(ctx, b.id)
		return err
	})
	add(411, true, func(ctx context.Context) error {
		_, err := d.deps.Commands.RequestNudge(ctx, d.as(b.mentee.actor), b.id)
		return err
	})
	add(412, true, func(ctx context.Context) error {
		_, err := d.deps.Commands.NudgeMentor(ctx, d.as(d.staff), b.id, nudgeNotes[0])
		return err
	})

	// mentee02: a Graceful Exit, a decline, then an active match.
	c := &match{mentee: mentee(2), mentor: mentor(3)}
	request(150, false, c)
	accept(153, false, c)
	sessions(c, false, 170, 201)
	end(240, c, "GRACEFUL_EXIT", c.mentee)
	e := &match{mentee: mentee(2), mentor: mentor(4)}
	request(260, false, e)
	decline(263, e, "NO_CAPACITY")
	f := &match{mentee: mentee(2), mentor: mentor(5)}
	request(300, false, f)
	accept(302, false, f)
	sessions(f, false, 320, 351, 385, 412)

	// mentee03 concludes the match's goals early.
	g := &match{mentee: mentee(3), mentor: mentor(6)}
	request(40, false, g)
	accept(44, false, g)
	sessions(g, false, 60, 90, 121, 160, 200, 245, 290)
	end(330, g, "GOALS_CONCLUDED", g.mentor)

	// mentee04 moves away, and later withdraws a new request.
	h := &match{mentee: mentee(4), mentor: mentor(7)}
	request(90, false, h)
	accept(91, false, h)
	sessions(h, false, 110, 140, 175, 230)
	end(280, h, "MOVED", h.mentee)
	i := &match{mentee: mentee(4), mentor: mentor(8)}
	request(360, false, i)
	cancel(364, i)

	// mentee05's match ends for another reason; the mentee then reviews
	// the profile as the program asks.
	j := &match{mentee: mentee(5), mentor: mentor(8)}
	request(200, false, j)
	accept(205, false, j)
	sessions(j, false, 220, 250, 300)
	end(350, j, "OTHER", j.mentor)
	add(356, false, func(ctx context.Context) error {
		m := mentee(5)
		p := m.person.profile
		p.Focus = []string{"LEADERSHIP", "PROFESSIONAL_LICENSING"}
		p.YearsOfExperience++
		_, err := d.deps.Commands.UpdateProfile(ctx, d.as(m.actor), m.actor.ID, p)
		return err
	})

	// mentee06 and mentee07 are in active matches; mentee07 has not met
	// yet, so the first-meeting reminder came due.
	k := &match{mentee: mentee(6), mentor: mentor(9)}
	request(330, false, k)
	accept(336, false, k)
	sessions(k, false, 350, 380, 410)
	l := &match{mentee: mentee(7), mentor: mentor(10)}
	request(380, false, l)
	accept(384, false, l)
	add(406, true, func(ctx context.Context) error {
		_, err := d.deps.Commands.RemindFirstMeeting(ctx, l.id)
		return err
	})

	// mentee08 is declined, then waits on mentor12, who has since paused
	// new requests for a field season.
	m := &match{mentee: mentee(8), mentor: mentor(11)}
	request(405, false, m)
	decline(407, m, "EXPERTISE_MISMATCH")
	n := &match{mentee: mentee(8), mentor: mentor(12)}
	request(410, false, n)
	add(415, false, func(ctx context.Context) error {
		mt := mentor(12)
		_, err := d.deps.Commands.SetAcceptingRequests(ctx, d.as(mt.actor), mt.actor.ID, false)
		return err
	})

	// mentee09 withdraws one request and waits on another; mentee10 has
	// not asked anyone yet.
	o := &match{mentee: mentee(9), mentor: mentor(4)}
	request(398, false, o)
	cancel(401, o)
	q := &match{mentee: mentee(9), mentor: mentor(6)}
	request(412, false, q)
	return steps
}

// rand returns the story's random source for a day, so that the words
// picked do not depend on which steps ran.
func (d *demo) rand(day int) *rand.Rand {
	return rand.New(rand.NewPCG(demoSeed, uint64(1000+day)))
}

// session logs a meeting of a match by author, dated the story's day.
func (d *demo) session(ctx context.Context, m *match, author *member, day int) error {
	r := d.rand(day)
	details := domain.SessionDetails{
		Date:    d.program.Today(d.deps.Clock.Now()),
		Minutes: 30 + 15*r.IntN(6),
		Notes:   sessionNote(r, m.mentee.person.specialty),
		Value:   3 + r.IntN(3),
	}
	_, err := d.deps.Commands.LogSession(ctx, d.as(author.actor), m.id, uuid.New(), details)
	return err
}

// sessionNote draws what a meeting was about.
func sessionNote(r *rand.Rand, specialty string) string {
	note := pick(r, sessionNotes)
	if strings.Contains(note, "%s") {
		return fmt.Sprintf(note, specialty)
	}
	return note
}
