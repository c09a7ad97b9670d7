package projections_test

import (
	"container/heap"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
)

// workload describes a generated program history: members registering and
// filling in their profiles, then mentees requesting mentors, mentors
// answering, partners logging sessions and sharing documents, and staff
// nudging and ending matches, interleaved in time as a real program's are.
type workload struct {
	Mentors, Mentees int
	// Events is the total number of events; the history is cut there,
	// leaving matches in every stage.
	Events int
	// Shards run as separate generators, each with its own members, whose
	// appends interleave in the log. One shard gives a deterministic log.
	Shards int
	Seed   uint64
	// Sealed stores members' personal texts sealed under their keys, as
	// the server does, with the keys in the directory (keys.db and a
	// development master.key).
	Sealed bool
}

// appendFunc stores one append; generate calls it from one goroutine per
// shard.
type appendFunc func(stream string, expected eventstore.ExpectedRevision, events ...eventstore.EventData) error

// generate produces the workload through app. Every member registers and
// saves a profile before any request, so that the log is causally sound
// across shards.
func generate(w workload, app appendFunc) error {
	if w.Shards <= 0 {
		w.Shards = 1
	}
	start := time.Date(2025, 9, 1, 8, 0, 0, 0, time.UTC)
	shards := make([]*genShard, w.Shards)
	for i := range shards {
		shards[i] = &genShard{
			r:    rand.New(rand.NewPCG(w.Seed, uint64(i)+1)),
			revs: map[string]eventstore.Revision{},
			app:  app,
			now:  start,
		}
	}
	staff := &genMember{role: domain.RoleStaff}
	shards[0].newID(&staff.id)
	for i := range w.Mentors {
		s := shards[i%w.Shards]
		s.mentors = append(s.mentors, &genMember{role: domain.RoleMentor})
	}
	for i := range w.Mentees {
		s := shards[i%w.Shards]
		s.mentees = append(s.mentees, &genMember{role: domain.RoleMentee})
	}
	// Phase one: registrations and profiles.
	registered := 0
	if err := shards[0].register(staff); err != nil {
		return err
	}

	var counted sync.Mutex
	err := eachShard(shards, func(s *genShard) error {
		for _, m := range append(slices.Clone(s.mentors), s.mentees...) {
			if err := s.register(m); err != nil {
				return err
			}
		}
		for _, m := range append(slices.Clone(s.mentors), s.mentees...) {
			if err := s.saveProfile(m); err != nil {
				return err
			}
		}
		counted.Lock()
		registered += s.emitted
		counted.Unlock()
		return nil
	})
	if err != nil {
		return err
	}
	// Phase two: the matching traffic, each shard with its own quota.
	rest := w.Events - registered
	if rest <= 0 {
		return nil
	}
	for i, s := range shards {
		s.staff = staff
		s.quota = s.emitted + rest/w.Shards
		if i == 0 {
			s.quota += rest % w.Shards
		}
	}
	return eachShard(shards, func(s *genShard) error { return s.simulate() })
}

func eachShard(shards []*genShard, f func(*genShard) error) error {
	errs := make([]error, len(shards))
	var wg sync.WaitGroup
	for i, s := range shards {
		wg.Go(func() { errs[i] = f(s) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

type genMember struct {
	id        uuid.UUID
	role      domain.Role
	profile   domain.Profile
	capacity  int
	used      int
	accepting bool
	busy      bool // a mentee with a pending or active match
}

type genShard struct {
	r       *rand.Rand
	revs    map[string]eventstore.Revision
	app     appendFunc
	now     time.Time
	emitted int
	quota   int
	mentors []*genMember
	mentees []*genMember
	staff   *genMember
	queue   journeys
}

var errQuota = fmt.Errorf("quota reached")

func (s *genShard) newID(id *uuid.UUID) {
	for i := 0; i < 16; i += 8 {
		v := s.r.Uint64()
		for j := range 8 {
			id[i+j] = byte(v >> (8 * j))
		}
	}
	id[6] = id[6]&0x0f | 0x40
	id[8] = id[8]&0x3f | 0x80
}

// emit appends events to one stream with the stream's exact revision, as
// commands do.
func (s *genShard) emit(stream string, actor *genMember, events ...domain.Event) error {
	if s.quota > 0 && s.emitted+len(events) > s.quota {
		events = events[:s.quota-s.emitted]
		if len(events) == 0 {
			return errQuota
		}
	}
	data := make([]eventstore.EventData, len(events))
	var corr uuid.UUID
	s.newID(&corr)
	actorID, role := domain.SystemActorID, string(domain.RoleSystem)
	if actor != nil {
		actorID, role = actor.id.String(), string(actor.role)
	}
	for i, e := range events {
		enc, err := domain.Encode(e)
		if err != nil {
			return err
		}
		data[i] = eventstore.EventData{Type: enc.Type, SchemaVersion: enc.SchemaVersion, Data: enc.Data,
			Metadata: eventstore.Metadata{ActorID: actorID, ActorRole: role, CorrelationID: corr.String(),
				CausationID: corr.String(), OccurredAt: s.now}}
		s.newID(&data[i].ID)
	}
	expected := eventstore.NoStream()
	if rev, ok := s.revs[stream]; ok {
		expected = eventstore.Exact(rev)
	}
	if err := s.app(stream, expected, data...); err != nil {
		return fmt.Errorf("append to %s: %w", stream, err)
	}
	if rev, ok := s.revs[stream]; ok {
		s.revs[stream] = rev + eventstore.Revision(len(data))
	} else {
		s.revs[stream] = eventstore.Revision(len(data) - 1)
	}
	s.emitted += len(data)
	if s.quota > 0 && s.emitted >= s.quota {
		return errQuota
	}
	return nil
}

func (s *genShard) register(m *genMember) error {
	if m.id == uuid.Nil {
		s.newID(&m.id)
	}
	m.profile = s.profile(m.role)
	e := domain.MemberRegistered{MemberID: m.id, Role: m.role, Name: m.profile.Name,
		Email: emailOf(m.profile.Name, m.id), At: s.tick(time.Minute)}
	if m.role == domain.RoleMentor {
		m.capacity, m.accepting = 1, true
		e.Capacity, e.Accepting = 1, true
	}
	return s.emit(domain.MemberStream(m.id), m, e)
}

func (s *genShard) saveProfile(m *genMember) error {
	if err := s.emit(domain.MemberStream(m.id), m, domain.ProfileUpdated{MemberID: m.id, Profile: m.profile, At: s.tick(time.Minute)}); err != nil {
		return err
	}
	if m.role == domain.RoleMentor && s.r.IntN(3) == 0 {
		m.capacity = 2 + s.r.IntN(3)
		return s.emit(domain.MemberStream(m.id), m, domain.MentorCapacityChanged{MemberID: m.id, Capacity: m.capacity, At: s.tick(time.Minute)})
	}
	return nil
}

func (s *genShard) tick(d time.Duration) time.Time {
	s.now = s.now.Add(time.Duration(s.r.Int64N(int64(d))) + time.Second)
	return s.now
}

func emailOf(name string, id uuid.UUID) string {
	return strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "." + id.String()[:6] + "@example.org"
}

// A journey is one request from a mentee to a mentor, from the request to
// its end, as a sequence of steps at planned times.
type journey struct {
	at             time.Time
	step           int
	mentee, mentor *genMember
	match          uuid.UUID
	sessions       int // still to log
	logged         []uuid.UUID
	docs           []uuid.UUID
	outcome        int
	acceptedAt     time.Time
}

type journeys []*journey

func (q journeys) Len() int           { return len(q) }
func (q journeys) Less(i, j int) bool { return q[i].at.Before(q[j].at) }
func (q journeys) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *journeys) Push(x any)        { *q = append(*q, x.(*journey)) }
func (q *journeys) Pop() any {
	old := *q
	j := old[len(old)-1]
	*q = old[:len(old)-1]
	return j
}

const (
	stepRequest = iota
	stepAnswer
	stepElapsed
	stepNudge
	stepSession
	stepEnd
)

const (
	outcomeAccept = iota
	outcomeDecline
	outcomeCancel
	outcomeSlow // no answer within the window: nudged, then answered
)

const day = 24 * time.Hour

func (s *genShard) simulate() error {
	// Mentees look for a mentor at random times over the first months.
	for _, m := range s.mentees {
		heap.Push(&s.queue, &journey{at: s.now.Add(time.Duration(s.r.Int64N(int64(180 * day)))), mentee: m})
	}
	for {
		if s.queue.Len() == 0 {
			// Everyone is between journeys: the idle look again.
			for _, m := range s.mentees {
				if !m.busy {
					heap.Push(&s.queue, &journey{at: s.now.Add(time.Duration(s.r.Int64N(int64(30 * day)))), mentee: m})
				}
			}
			if s.queue.Len() == 0 {
				return nil
			}
		}
		j := heap.Pop(&s.queue).(*journey)
		if j.at.After(s.now) {
			s.now = j.at
		}
		s.now = s.now.Add(time.Duration(s.r.IntN(60)) * time.Second)
		done, err := s.advance(j)
		if err == errQuota {
			return nil
		}
		if err != nil {
			return err
		}
		if !done {
			heap.Push(&s.queue, j)
		}
		// Now and then a mentor changes their settings or a member edits
		// their profile.
		if s.r.IntN(40) == 0 {
			if err := s.memberChange(); err == errQuota {
				return nil
			} else if err != nil {
				return err
			}
		}
	}
}

func (s *genShard) memberChange() error {
	switch n := s.r.IntN(10); {
	case n < 4:
		m := s.mentors[s.r.IntN(len(s.mentors))]
		m.accepting = !m.accepting || s.r.IntN(2) == 0
		return s.emit(domain.MemberStream(m.id), m, domain.MentorAvailabilityChanged{MemberID: m.id, Accepting: m.accepting, At: s.now})
	case n < 6:
		m := s.mentors[s.r.IntN(len(s.mentors))]
		m.capacity = max(m.used, 1+s.r.IntN(4))
		return s.emit(domain.MemberStream(m.id), m, domain.MentorCapacityChanged{MemberID: m.id, Capacity: m.capacity, At: s.now})
	default:
		all := s.mentees
		if s.r.IntN(3) == 0 {
			all = s.mentors
		}
		m := all[s.r.IntN(len(all))]
		name := m.profile.Name
		m.profile = s.profile(m.role)
		m.profile.Name = name
		return s.emit(domain.MemberStream(m.id), m, domain.ProfileUpdated{MemberID: m.id, Profile: m.profile, At: s.now})
	}
}

// advance runs a journey's next step and plans the one after; done is true
// once the journey is over.
func (s *genShard) advance(j *journey) (done bool, err error) {
	mentee, mentor := j.mentee, j.mentor
	matchStream := domain.MatchStream(j.match)
	switch j.step {
	case stepRequest:
		if mentee.busy {
			return true, nil
		}
		mentor = s.pickMentor()
		j.mentor = mentor
		s.newID(&j.match)
		matchStream = domain.MatchStream(j.match)
		msg := requestMessages[s.r.IntN(len(requestMessages))]
		if err := s.emit(domain.MemberStream(mentee.id), mentee, domain.RequestSlotTaken{MemberID: mentee.id, MatchID: j.match, MentorID: mentor.id, Message: msg, At: s.now}); err != nil {
			return true, err
		}
		mentee.busy = true
		if err := s.emit(matchStream, mentee, domain.MatchRequested{MatchID: j.match, MenteeID: mentee.id, MentorID: mentor.id, Message: msg, At: s.now}); err != nil {
			return true, err
		}
		switch n := s.r.IntN(100); {
		case n < 70:
			j.outcome = outcomeAccept
		case n < 82:
			j.outcome = outcomeDecline
		case n < 92:
			j.outcome = outcomeCancel
		default:
			j.outcome = outcomeSlow
		}
		if j.outcome == outcomeSlow {
			j.step, j.at = stepElapsed, s.now.Add(14*day)
		} else {
			j.step, j.at = stepAnswer, s.now.Add(time.Duration(s.r.Int64N(int64(13*day))))
		}
		return false, nil
	case stepElapsed:
		ids := matchIDs{j.match, mentee.id, mentor.id}
		if err := s.emit(matchStream, nil, domain.ResponseWindowElapsed{MatchID: ids.match, MenteeID: ids.mentee, MentorID: ids.mentor, At: s.now}); err != nil {
			return true, err
		}
		if err := s.emit(matchStream, mentee, domain.NudgeRequested{MatchID: ids.match, MenteeID: ids.mentee, MentorID: ids.mentor, At: s.now.Add(time.Hour)}); err != nil {
			return true, err
		}
		j.step, j.at = stepNudge, s.now.Add(2*day)
		return false, nil
	case stepNudge:
		if err := s.emit(matchStream, s.staff, domain.MentorNudged{MatchID: j.match, MenteeID: mentee.id, MentorID: mentor.id, StaffID: s.staff.id,
			Note: "Called the mentor, who will answer this week.", At: s.now}); err != nil {
			return true, err
		}
		j.outcome = []int{outcomeAccept, outcomeAccept, outcomeDecline}[s.r.IntN(3)]
		j.step, j.at = stepAnswer, s.now.Add(time.Duration(s.r.Int64N(int64(5*day))))
		return false, nil
	case stepAnswer:
		if j.outcome == outcomeAccept && (mentor.used >= mentor.capacity || !mentor.accepting) {
			j.outcome = outcomeDecline
		}
		switch j.outcome {
		case outcomeAccept:
			mentor.used++
			if err := s.emit(domain.MemberStream(mentor.id), mentor, domain.CapacitySlotReserved{MemberID: mentor.id, MatchID: j.match, MenteeID: mentee.id, At: s.now}); err != nil {
				return true, err
			}
			if err := s.emit(matchStream, mentor, domain.MatchAccepted{MatchID: j.match, MenteeID: mentee.id, MentorID: mentor.id, At: s.now}); err != nil {
				return true, err
			}
			if err := s.emit(domain.MemberStream(mentee.id), mentor, domain.RequestSlotActivated{MemberID: mentee.id, MatchID: j.match, At: s.now}); err != nil {
				return true, err
			}
			j.acceptedAt = s.now
			j.sessions = s.r.IntN(13)
			j.step, j.at = stepSession, s.now.Add(time.Duration(3+s.r.IntN(35))*day)
			return false, nil
		case outcomeDecline:
			reason := s.r.IntN(5)
			if mentor.used >= mentor.capacity {
				reason = 0
			}
			if err := s.emit(matchStream, mentor, domain.MatchDeclined{MatchID: j.match, MenteeID: mentee.id, MentorID: mentor.id,
				Reason: domain.DefaultProgram().DeclineReasons[reason], At: s.now}); err != nil {
				return true, err
			}
		default:
			if err := s.emit(matchStream, mentee, domain.MatchCancelled{MatchID: j.match, MenteeID: mentee.id, MentorID: mentor.id, At: s.now}); err != nil {
				return true, err
			}
		}
		if err := s.emit(domain.MemberStream(mentee.id), nil, domain.RequestSlotReleased{MemberID: mentee.id, MatchID: j.match, At: s.now}); err != nil {
			return true, err
		}
		s.again(j)
		return true, nil
	case stepSession:
		if len(j.logged) == 0 && s.now.Sub(j.acceptedAt) > 21*day && s.r.IntN(2) == 0 {
			if err := s.emit(matchStream, nil, domain.FirstMeetingReminderDue{MatchID: j.match, MenteeID: mentee.id, MentorID: mentor.id, At: s.now}); err != nil {
				return true, err
			}
		}
		if j.sessions == 0 {
			j.step, j.at = stepEnd, s.now.Add(time.Duration(s.r.IntN(90))*day)
			return false, nil
		}
		j.sessions--
		author := mentee
		if s.r.IntN(3) == 0 {
			author = mentor
		}
		var sid uuid.UUID
		s.newID(&sid)
		details := s.session()
		if err := s.emit(matchStream, author, domain.SessionLogged{MatchID: j.match, SessionID: sid, AuthorID: author.id, Details: details, At: s.now}); err != nil {
			return true, err
		}
		j.logged = append(j.logged, sid)
		if s.r.IntN(10) == 0 {
			details.Notes += " Follow-up: " + sessionNotes[s.r.IntN(len(sessionNotes))]
			if err := s.emit(matchStream, author, domain.SessionEdited{MatchID: j.match, SessionID: sid, AuthorID: author.id, Details: details, At: s.now.Add(time.Hour)}); err != nil {
				return true, err
			}
		}
		if s.r.IntN(6) == 0 {
			if err := s.addDocument(j, author); err != nil {
				return true, err
			}
		}
		j.at = s.now.Add(time.Duration(7+s.r.IntN(28)) * day)
		return false, nil
	default: // stepEnd
		if s.r.IntN(10) < 4 {
			// The match runs on past the end of the generated history.
			j.at = s.now.Add(365 * day)
			if s.r.IntN(2) == 0 {
				return true, nil
			}
			j.step = stepSession
			j.sessions = 1 + s.r.IntN(3)
			return false, nil
		}
		reasons := []string{domain.EndReasonTermCompleted, "GOALS_CONCLUDED", "GRACEFUL_EXIT", "MOVED"}
		reason := reasons[s.r.IntN(len(reasons))]
		end := domain.MatchEnded{MatchID: j.match, MenteeID: mentee.id, MentorID: mentor.id, Reason: reason, At: s.now}
		actor := (*genMember)(nil)
		if reason != domain.EndReasonTermCompleted {
			end.RequestedBy, end.StaffID, end.Note, actor = mentee.id, s.staff.id, "Both partners agreed to close the match.", s.staff
		}
		if err := s.emit(matchStream, actor, end); err != nil {
			return true, err
		}
		if err := s.emit(domain.MemberStream(mentee.id), nil, domain.RequestSlotReleased{MemberID: mentee.id, MatchID: j.match, At: s.now}); err != nil {
			return true, err
		}
		mentor.used--
		if err := s.emit(domain.MemberStream(mentor.id), nil, domain.CapacitySlotReleased{MemberID: mentor.id, MatchID: j.match, At: s.now}); err != nil {
			return true, err
		}
		if err := s.emit(matchStream, nil, domain.ProfileReviewRequested{MatchID: j.match, MenteeID: mentee.id, MentorID: mentor.id, At: s.now}); err != nil {
			return true, err
		}
		s.again(j)
		return true, nil
	}
}

type matchIDs struct{ match, mentee, mentor uuid.UUID }

// again lets the mentee of a finished journey look for a mentor again,
// some time later, more often than not.
func (s *genShard) again(j *journey) {
	j.mentee.busy = false
	if s.r.IntN(3) > 0 {
		heap.Push(&s.queue, &journey{at: s.now.Add(time.Duration(1+s.r.IntN(60)) * day), mentee: j.mentee})
	}
}

func (s *genShard) addDocument(j *journey, author *genMember) error {
	var id uuid.UUID
	s.newID(&id)
	name := documentNames[s.r.IntN(len(documentNames))]
	var sum [32]byte
	for i := range sum {
		sum[i] = byte(s.r.Uint32())
	}
	if err := s.emit(domain.MatchStream(j.match), author, domain.DocumentAdded{MatchID: j.match, DocumentID: id, UploaderID: author.id,
		Name: name, Size: int64(20_000 + s.r.IntN(2_000_000)), ContentType: "application/pdf",
		SHA256: fmt.Sprintf("%x", sum), Version: 1, At: s.now}); err != nil {
		return err
	}
	j.docs = append(j.docs, id)
	if s.r.IntN(8) == 0 {
		return s.emit(domain.MatchStream(j.match), author, domain.DocumentRemoved{MatchID: j.match, DocumentID: id, RemovedBy: author.id, Name: name, Version: 1, At: s.now})
	}
	return nil
}

// pickMentor prefers an open mentor and sometimes settles for any.
func (s *genShard) pickMentor() *genMember {
	for range 8 {
		m := s.mentors[s.r.IntN(len(s.mentors))]
		if m.accepting && m.used < m.capacity {
			return m
		}
	}
	return s.mentors[s.r.IntN(len(s.mentors))]
}

func (s *genShard) session() domain.SessionDetails {
	d := domain.DateOf(s.now, time.UTC)
	n := 1 + s.r.IntN(3)
	notes := make([]string, n)
	for i := range notes {
		notes[i] = sessionNotes[s.r.IntN(len(sessionNotes))]
	}
	return domain.SessionDetails{Date: d, Minutes: 15 * (2 + s.r.IntN(7)), Notes: strings.Join(notes, " "), Value: 1 + s.r.IntN(5)}
}

// profile makes a plausible profile: a mentor's is full, a mentee's often
// partial.
func (s *genShard) profile(role domain.Role) domain.Profile {
	p := domain.DefaultProgram()
	r := s.r
	pick := func(list []string) string { return list[r.IntN(len(list))] }
	set := func(list []string, n int) []string {
		var out []string
		for range n {
			v := pick(list)
			if !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
		slices.Sort(out)
		return out
	}
	city := cities[r.IntN(len(cities))]
	pr := domain.Profile{
		Name:              pick(firstNames) + " " + pick(lastNames),
		Discipline:        pick(p.Disciplines),
		Industry:          pick(p.Industries),
		Location:          domain.Location{City: city[0], Province: city[1]},
		YearsOfExperience: r.IntN(4),
		Languages:         set(p.Languages[:6], 1+r.IntN(2)),
		Focus:             set(p.FocusAreas, 1+r.IntN(3)),
		Preferences: domain.Preferences{
			MeetingFormats:   set(p.MeetingFormats, 1+r.IntN(3)),
			MeetingFrequency: pick(p.MeetingFrequencies),
		},
		Contact: domain.Contact{Phone: fmt.Sprintf("+1 403 555 %04d", r.IntN(10000)), PreferredMethod: domain.ContactPhone},
	}
	if !slices.Contains(pr.Languages, "en") && r.IntN(4) > 0 {
		pr.Languages = append([]string{"en"}, pr.Languages...)
		slices.Sort(pr.Languages)
	}
	pr.Skills = map[string]int{}
	for range 3 + r.IntN(6) {
		pr.Skills[pick(p.Skills)] = 1 + r.IntN(5)
	}
	if role == domain.RoleMentor {
		pr.Designation = pick(p.Designations[:2])
		pr.YearsOfExperience = 8 + r.IntN(30)
		pr.Biography = s.biography(pr, 3+r.IntN(4))
	} else {
		pr.Designation = pick(p.Designations[2:4])
		pr.Preferences.Partner = domain.PartnerPreferences{Disciplines: []string{pr.Discipline}, MinYearsOfExperience: 5 * r.IntN(3),
			Notes: "Someone who went through the licensing process recently."}
		if r.IntN(2) == 0 {
			pr.Biography = s.biography(pr, 1+r.IntN(2))
		}
	}
	return pr
}

// biography writes an Employment & Personal Biography from phrases of
// engineering and geoscience practice.
func (s *genShard) biography(pr domain.Profile, topics int) string {
	r := s.r
	var b strings.Builder
	fmt.Fprintf(&b, "%s with %d years of experience in %s %s.", bioRoles[r.IntN(len(bioRoles))], pr.YearsOfExperience,
		bioTopics[r.IntN(len(bioTopics))], bioEmployers[r.IntN(len(bioEmployers))])
	for range topics {
		fmt.Fprintf(&b, " %s %s", bioVerbs[r.IntN(len(bioVerbs))], bioTopics[r.IntN(len(bioTopics))])
		if r.IntN(2) == 0 {
			fmt.Fprintf(&b, " for %s", bioProjects[r.IntN(len(bioProjects))])
		}
		b.WriteString(".")
	}
	for range 1 + r.IntN(2) {
		b.WriteString(" " + bioPersonal[r.IntN(len(bioPersonal))])
	}
	return b.String()
}

var (
	firstNames = []string{"Ada", "Amir", "Ananya", "Beatriz", "Chen", "Chloé", "Daniel", "Deepa", "Emeka", "Emily", "Farah", "François",
		"Gabriel", "Grace", "Hana", "Hiroshi", "Ines", "Isaac", "Jasmine", "Jean", "Kai", "Kateryna", "Liam", "Lucía", "Mei", "Mohammed",
		"Nadia", "Noah", "Olivia", "Omar", "Priya", "Quentin", "Rahul", "Rosa", "Samira", "Sean", "Tariq", "Thandiwe", "Uma", "Victor",
		"Wei", "Xavier", "Yara", "Yusuf", "Zoe", "Marie-Ève", "Pierre", "Siobhan", "Tomasz", "Aiyana"}
	lastNames = []string{"Abbott", "Adeyemi", "Banerjee", "Bouchard", "Campbell", "Chen", "Costa", "Dubois", "Eriksen", "Fernandes",
		"Gagnon", "Gill", "Hassan", "Ivanova", "Johnson", "Kaur", "Kowalski", "Lavoie", "Li", "MacDonald", "Martin", "Nakamura",
		"Nguyen", "O'Brien", "Okafor", "Patel", "Pelletier", "Quinn", "Rahman", "Roy", "Singh", "Smith", "Tremblay", "Usman",
		"Van der Berg", "Wang", "Wilson", "Xu", "Yamamoto", "Zhang", "Côté", "Bergeron", "Mackenzie", "Sandhu", "Thompson"}
	cities = [][2]string{{"Calgary", "AB"}, {"Edmonton", "AB"}, {"Fort McMurray", "AB"}, {"Vancouver", "BC"}, {"Victoria", "BC"},
		{"Prince George", "BC"}, {"Kelowna", "BC"}, {"Winnipeg", "MB"}, {"Saskatoon", "SK"}, {"Regina", "SK"}, {"Toronto", "ON"},
		{"Ottawa", "ON"}, {"Sudbury", "ON"}, {"Hamilton", "ON"}, {"Thunder Bay", "ON"}, {"Montréal", "QC"}, {"Québec", "QC"},
		{"Rouyn-Noranda", "QC"}, {"Halifax", "NS"}, {"Fredericton", "NB"}, {"St. John's", "NL"}, {"Yellowknife", "NT"},
		{"Whitehorse", "YT"}, {"Iqaluit", "NU"}, {"Charlottetown", "PE"}}
	bioRoles = []string{"Professional engineer", "Professional geoscientist", "Senior geotechnical engineer", "Hydrogeologist",
		"Structural engineer", "Process engineer", "Reservoir engineer", "Mining engineer", "Environmental engineer",
		"Electrical engineer", "Project manager", "Geophysicist", "Petroleum geologist", "Software engineer", "Civil engineer",
		"Materials engineer", "Water resources engineer", "Transportation engineer", "Exploration geologist",
		"Mechanical engineer", "Chemical engineer", "Engineering manager", "Principal consultant", "Field engineer"}
	bioTopics = []string{"slope stability analysis", "foundation design", "tunnel construction", "groundwater modelling",
		"contaminated site remediation", "seismic interpretation", "reservoir simulation", "open pit mine planning",
		"ore body modelling", "bridge rehabilitation", "power distribution", "substation design", "pipeline integrity",
		"corrosion control", "finite element analysis", "hydraulic fracturing", "wastewater treatment", "stormwater management",
		"environmental impact assessment", "geological mapping", "diamond drilling programs", "mineral exploration",
		"geochemistry", "permafrost engineering", "rock mechanics", "soil mechanics", "concrete durability", "steel fabrication",
		"asset management", "risk assessment", "quality assurance", "regulatory compliance", "process control systems",
		"industrial automation", "machine learning for sensor data", "renewable energy projects", "wind farm layout",
		"solar photovoltaic design", "hydroelectric dam safety", "transmission line routing", "LiDAR surveys",
		"GIS and remote sensing", "carbon capture and storage", "air quality monitoring", "highway geometric design",
		"light rail transit", "airport pavement design", "port and marine structures", "water treatment plants",
		"tailings dam design", "underground ventilation", "mineral processing", "metallurgical testing", "heat exchanger design",
		"HVAC systems", "building envelope science", "fire protection engineering", "embedded firmware", "cloud software architecture",
		"data pipelines", "geothermal energy", "well log analysis", "sedimentology", "structural geology", "paleontology",
		"glacial geology", "coastal engineering", "flood forecasting", "hydrology", "seismic hazard assessment",
		"earthquake engineering", "timber construction", "cost estimating", "construction scheduling", "contract administration"}
	bioVerbs = []string{"Led", "Managed", "Designed", "Supervised", "Reviewed", "Delivered", "Coordinated", "Developed",
		"Taught courses on", "Published research on", "Mentored junior staff in", "Built a team for"}
	bioEmployers = []string{"at a consulting firm", "for a provincial utility", "with a junior mining company",
		"at an oil sands operator", "in municipal government", "for an engineering, procurement and construction contractor",
		"at a university research group", "for a federal agency", "at a First Nations-owned engineering firm",
		"with a start-up", "for a railway", "at a national laboratory", "with an international development agency"}
	bioProjects = []string{"the Site C dam", "a northern mine expansion", "the Eglinton Crosstown line", "a wastewater plant upgrade",
		"a highway interchange", "an offshore platform", "a gold deposit in the Abitibi", "a potash mine in Saskatchewan",
		"a hospital expansion", "a wind farm in Alberta", "a lithium brine project", "a transit tunnel", "a bridge replacement",
		"a landfill closure", "a nickel smelter", "a pipeline river crossing", "a geothermal pilot", "a seawall"}
	bioPersonal = []string{"I enjoy mentoring early-career engineers and geoscientists.", "Outside work I coach youth soccer.",
		"I immigrated to Canada in 2009 and went through the licensing process myself.",
		"I volunteer with Engineers Without Borders.", "I enjoy hiking, skiing and canoeing with my family.",
		"I love helping people prepare for the professional practice exam.", "I speak French and Spanish.",
		"I am passionate about diversity and inclusion in engineering.", "I returned to work after parental leave and can talk about balancing both.",
		"I moved from consulting to industry and back again.", "I started my own practice ten years ago.",
		"I serve on the association's practice review board.", "I play cello in a community orchestra.",
		"I grew up in a mining town in northern Ontario.", "I am a keen amateur astronomer."}
	requestMessages = []string{"", "Hello, I would value your advice on licensing.", "Your work on tunnels matches my interests.",
		"I am preparing for the professional practice exam and would appreciate guidance.",
		"I am new to Canada and looking for advice on the Canadian workplace.", "Could we talk about moving into project management?"}
	sessionNotes = []string{"Discussed the experience record and which projects to describe.",
		"Reviewed my resume and talked about networking at the branch events.",
		"Talked about the ethics module of the practice exam.", "Went over a difficult conversation with my supervisor.",
		"Planned the next six months of learning goals.", "Visited a construction site together.",
		"Talked about moving from field work to design.", "Reviewed a technical report I wrote.",
		"Discussed work-life balance during the field season.", "Practised for an interview next week."}
	documentNames = []string{"experience-record.pdf", "resume.pdf", "learning-plan.docx", "report-draft.pdf", "goals.md", "reading-list.txt"}
)
