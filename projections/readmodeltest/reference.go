package readmodeltest

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/google/uuid"
	"golang.org/x/text/unicode/norm"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/projections"
)

// Reference is the independent recomputation the read models are checked
// against: a plain fold of the log into simple records, answering every
// query by brute force, written from the program's rules. It shares
// nothing with the projections but their view types: not their evolution,
// search index, search plan, cursors, nor their queue, dashboard and CPD
// functions, so that a mistake there shows up as a difference rather than
// being repeated. Its cursors are its own: pass each reader the cursors it
// handed out.
func Reference(t *testing.T, events []projections.Event) Models {
	t.Helper()
	r := recompute(events)
	return Models{Members: r, Matches: r, Position: func() (eventstore.Position, error) { return r.pos, nil }}
}

// reference holds the fold.
type reference struct {
	pos        eventstore.Position
	members    map[uuid.UUID]*refMember
	matches    map[uuid.UUID]*refMatch
	matchOrder []uuid.UUID // in request order
	sessions   map[uuid.UUID]*refSession
	resources  map[uuid.UUID]*refResource
}

type refMember struct {
	id         uuid.UUID
	role       domain.Role
	email      string
	registered time.Time
	profile    domain.Profile
	capacity   int
	accepting  bool
	// slots are the limits the member's matches hold, by match: a mentee's
	// pending or active requests, a mentor's reserved capacity. A slot
	// counts until the match releases it.
	slots       map[uuid.UUID]domain.SlotState
	reviewAsked time.Time
	saved       time.Time
	// closureAsked and closureNote are a waiting request to close the
	// account; erased is when the member was erased.
	closureAsked time.Time
	closureNote  string
	erased       time.Time
	// bio is the biography's words, split once the fold is done.
	bio []string
}

type refMatch struct {
	id, mentee, mentor  uuid.UUID
	message             string
	status              domain.MatchStatus
	requested, accepted time.Time
	closed              time.Time
	declineReason       string
	endReason           string
	endAskedBy          uuid.UUID
	endAsk              *projections.EndAsk
	windowElapsed       bool
	reminderDue         bool
	nudgeWaiting        bool
	nudgeAskedAt        time.Time
	lastNudge           time.Time
	sessions            map[uuid.UUID]bool
	firstSession        time.Time
	docs                []projections.DocumentView
	last                eventstore.Position
}

type refSession struct {
	id, match, author uuid.UUID
	details           domain.SessionDetails
	logged, edited    time.Time
	revisions         int
}

type refResource struct {
	view projections.ResourceView
}

// recompute folds the log, each event once, in order.
func recompute(events []projections.Event) *reference {
	r := &reference{members: map[uuid.UUID]*refMember{}, matches: map[uuid.UUID]*refMatch{},
		sessions: map[uuid.UUID]*refSession{}, resources: map[uuid.UUID]*refResource{}}
	for _, ev := range events {
		r.pos = ev.Position
		r.member(ev)
		r.match(ev)
	}
	for _, m := range r.members {
		m.bio = bioWords(m.profile.Biography)
	}
	return r
}

// member folds what an event says about an account.
func (r *reference) member(ev projections.Event) {
	take := func(member, match uuid.UUID, s domain.SlotState) {
		if m := r.members[member]; m != nil {
			m.slots[match] = s
		}
	}
	release := func(member, match uuid.UUID) {
		if m := r.members[member]; m != nil {
			delete(m.slots, match)
		}
	}
	switch e := ev.Data.(type) {
	case domain.MemberRegistered:
		// An account is registered once; a repeat is no news.
		if r.members[e.MemberID] == nil {
			r.members[e.MemberID] = &refMember{id: e.MemberID, role: e.Role, email: e.Email, registered: e.At,
				profile: domain.Profile{Name: e.Name}, capacity: e.Capacity, accepting: e.Accepting, slots: map[uuid.UUID]domain.SlotState{}}
		}
	case domain.ProfileUpdated:
		if m := r.members[e.MemberID]; m != nil {
			m.profile = e.Profile
			if ev.Meta.ActorID == e.MemberID.String() {
				m.saved = e.At
			}
		}
	case domain.MentorCapacityChanged:
		if m := r.members[e.MemberID]; m != nil {
			m.capacity = e.Capacity
		}
	case domain.MentorAvailabilityChanged:
		if m := r.members[e.MemberID]; m != nil {
			m.accepting = e.Accepting
		}
	case domain.RequestSlotTaken:
		take(e.MemberID, e.MatchID, domain.SlotPending)
	case domain.RequestSlotActivated:
		take(e.MemberID, e.MatchID, domain.SlotActive)
	case domain.CapacitySlotReserved:
		take(e.MemberID, e.MatchID, domain.SlotReserved)
	case domain.RequestSlotReleased:
		release(e.MemberID, e.MatchID)
	case domain.CapacitySlotReleased:
		release(e.MemberID, e.MatchID)
	case domain.ProfileReviewRequested:
		for _, id := range []uuid.UUID{e.MenteeID, e.MentorID} {
			if m := r.members[id]; m != nil {
				m.reviewAsked = e.At
			}
		}
	case domain.AccountClosureRequested:
		if m := r.members[e.MemberID]; m != nil {
			m.closureAsked, m.closureNote = e.At, e.Note
		}
	case domain.MemberErased:
		// The program's rule: an erased member keeps their ID and role,
		// and is shown by the erased name with nothing else of theirs.
		if m := r.members[e.MemberID]; m != nil {
			m.erased, m.email, m.profile, m.accepting = e.At, "", domain.Profile{Name: domain.ErasedName}, false
			m.closureAsked, m.closureNote = time.Time{}, ""
		}
		// Their texts in matches and logs go with them: what they wrote
		// (the request message, their meeting notes, what they uploaded,
		// whose bytes the erasure deletes) and the notes about both partners.
		for _, m := range r.matches {
			if m.mentee != e.MemberID && m.mentor != e.MemberID {
				continue
			}
			if m.mentee == e.MemberID {
				m.message = ""
			}
			if m.endAsk != nil {
				m.endAsk.Note = ""
			}
			for i := range m.docs {
				if m.docs[i].UploaderID == e.MemberID {
					m.docs[i].Name, m.docs[i].Removed = "", true
				}
			}
		}
		for _, s := range r.sessions {
			if s.author == e.MemberID {
				s.details.Notes = ""
			}
		}
	}
}

// match folds what an event says about a match, its meeting logs and the
// program's resources.
func (r *reference) match(ev projections.Event) {
	var m *refMatch
	if id, ok := matchOf(ev.Data); ok {
		m = r.matches[id]
		if m != nil {
			m.last = ev.Position
		}
	}
	switch e := ev.Data.(type) {
	case domain.MatchRequested:
		if m == nil {
			r.matches[e.MatchID] = &refMatch{id: e.MatchID, mentee: e.MenteeID, mentor: e.MentorID, message: e.Message,
				status: domain.StatusPending, requested: e.At, sessions: map[uuid.UUID]bool{}, last: ev.Position}
			r.matchOrder = append(r.matchOrder, e.MatchID)
		}
	case domain.MatchAccepted:
		if m != nil {
			m.status, m.accepted = domain.StatusActive, e.At
		}
	case domain.MatchDeclined:
		if m != nil {
			m.status, m.closed, m.declineReason = domain.StatusDeclined, e.At, e.Reason
		}
	case domain.MatchCancelled:
		if m != nil {
			m.status, m.closed = domain.StatusCancelled, e.At
		}
	case domain.MatchEnded:
		if m != nil {
			m.status, m.closed, m.endReason, m.endAskedBy = domain.StatusEnded, e.At, e.Reason, e.RequestedBy
			m.endAsk = nil
		}
	case domain.MatchEndRequested:
		if m != nil {
			m.endAsk = &projections.EndAsk{By: e.RequestedBy, Reason: e.Reason, Note: e.Note, At: e.At}
		}
	case domain.NudgeRequested:
		if m != nil {
			m.nudgeWaiting, m.nudgeAskedAt = true, e.At
		}
	case domain.MentorNudged:
		if m != nil {
			m.nudgeWaiting, m.lastNudge = false, e.At
		}
	case domain.ResponseWindowElapsed:
		if m != nil {
			m.windowElapsed = true
		}
	case domain.FirstMeetingReminderDue:
		if m != nil {
			m.reminderDue = true
		}
	case domain.SessionLogged:
		if r.sessions[e.SessionID] == nil {
			r.sessions[e.SessionID] = &refSession{id: e.SessionID, match: e.MatchID, author: e.AuthorID, details: e.Details, logged: e.At, revisions: 1}
		}
		if m != nil {
			if len(m.sessions) == 0 {
				m.firstSession = e.At
			}
			m.sessions[e.SessionID] = true
		}
	case domain.SessionEdited:
		if s := r.sessions[e.SessionID]; s != nil {
			s.details, s.edited = e.Details, e.At
			s.revisions++
		}
	case domain.DocumentAdded:
		if m != nil {
			m.docs = append(m.docs, projections.DocumentView{ID: e.DocumentID, Name: e.Name, Version: e.Version, Size: e.Size,
				ContentType: e.ContentType, SHA256: e.SHA256, UploaderID: e.UploaderID, AddedAt: e.At})
		}
	case domain.DocumentRemoved:
		if m != nil {
			for i := range m.docs {
				if m.docs[i].ID == e.DocumentID {
					m.docs[i].Removed = true
				}
			}
		}
	case domain.ResourcePublished:
		r.resources[e.ResourceID] = &refResource{view: projections.ResourceView{ID: e.ResourceID, Title: e.Title,
			Description: e.Description, URL: e.URL, Text: e.Text, Audience: e.Audience, PublishedAt: e.At}}
	case domain.ResourceRetired:
		if res := r.resources[e.ResourceID]; res != nil {
			res.view.Retired = true
		}
	}
}

// matchOf names the match whose view an event changes: the domain's
// MatchChange. Slot events name a match too, but belong to a member's
// stream; ProfileReviewRequested, though recorded on the match's stream
// after it ended, changes the partners' views and leaves the match's (and
// its position) as it was.
func matchOf(data domain.Event) (uuid.UUID, bool) {
	if e, ok := data.(domain.MatchChange); ok {
		return e.MatchOf(), true
	}
	return uuid.Nil, false
}

func (m *refMember) view() *projections.MemberView {
	v := &projections.MemberView{ID: m.id, Role: m.role, Email: m.email, RegisteredAt: m.registered, Profile: m.profile,
		Capacity: m.capacity, Accepting: m.accepting, ReviewRequested: m.reviewAsked, ProfileSaved: m.saved,
		ClosureRequested: m.closureAsked, ClosureNote: m.closureNote, ErasedAt: m.erased}
	for match, s := range m.slots {
		if v.Slots == nil {
			v.Slots = map[uuid.UUID]domain.SlotState{}
		}
		v.Slots[match] = s
	}
	return v
}

// used counts a mentor's capacity held by matches.
func (m *refMember) used() int {
	n := 0
	for _, s := range m.slots {
		if s == domain.SlotReserved {
			n++
		}
	}
	return n
}

func (m *refMatch) view() *projections.MatchView {
	v := &projections.MatchView{ID: m.id, MenteeID: m.mentee, MentorID: m.mentor, Status: m.status, Message: m.message,
		RequestedAt: m.requested, AcceptedAt: m.accepted, ClosedAt: m.closed, DeclineReason: m.declineReason,
		EndReason: m.endReason, EndRequestedBy: m.endAskedBy, WindowElapsed: m.windowElapsed,
		NudgeRequested: m.nudgeWaiting, NudgeRequestedAt: m.nudgeAskedAt, LastNudgeAt: m.lastNudge,
		ReminderDue: m.reminderDue, SessionCount: len(m.sessions), FirstSessionAt: m.firstSession,
		Documents: slices.Clone(m.docs), Position: m.last}
	if m.endAsk != nil {
		ask := *m.endAsk
		v.EndAsk = &ask
	}
	return v
}

func (s *refSession) view() projections.SessionView {
	return projections.SessionView{ID: s.id, MatchID: s.match, AuthorID: s.author, Details: s.details,
		LoggedAt: s.logged, EditedAt: s.edited, Revisions: s.revisions}
}

// Member implements projections.MemberReader.
func (r *reference) Member(id uuid.UUID) (*projections.MemberView, bool, error) {
	m := r.members[id]
	if m == nil {
		return nil, false, nil
	}
	return m.view(), true, nil
}

// MembersByID implements projections.MemberReader.
func (r *reference) MembersByID(ids []uuid.UUID) ([]*projections.MemberView, error) {
	out := make([]*projections.MemberView, len(ids))
	for i, id := range ids {
		out[i], _, _ = r.Member(id)
	}
	return out, nil
}

// Scan implements projections.MemberReader: every member keep accepts.
func (r *reference) Scan(keep func(*projections.MemberView) bool) ([]*projections.MemberView, error) {
	var out []*projections.MemberView
	for _, m := range r.members {
		if v := m.view(); keep(v) {
			out = append(out, v)
		}
	}
	return out, nil
}

// bioWords splits text into the words the biography search matches: the
// runs of letters and digits, with the combining marks that follow them,
// in composed form and compared without case. Variation selectors do not
// change a word.
func bioWords(text string) []string {
	var out []string
	var word []rune
	for _, c := range norm.NFC.String(text) + " " {
		switch {
		case unicode.Is(unicode.Variation_Selector, c):
			continue
		case unicode.IsLetter(c) || unicode.IsDigit(c) || len(word) > 0 && unicode.IsMark(c):
			word = append(word, unicode.ToLower(c))
			continue
		}
		if len(word) > 0 {
			out = append(out, norm.NFC.String(string(word)))
			word = word[:0]
		}
	}
	return out
}

// refKey is a mentor's place in the search order: a higher score first,
// then the name, then the ID.
type refKey struct {
	score int
	name  string
	id    uuid.UUID
}

func (a refKey) before(b refKey) bool {
	if a.score != b.score {
		return a.score > b.score
	}
	if a.name != b.name {
		return a.name < b.name
	}
	return bytes.Compare(a.id[:], b.id[:]) < 0
}

// The reference's cursor spells out the key of the last hit shown.
const refCursorPrefix = "reference|"

func (k refKey) cursor() string {
	return refCursorPrefix + strconv.Itoa(k.score) + "|" + k.id.String() + "|" + k.name
}

func parseRefCursor(s string) (*refKey, error) {
	rest, ok := strings.CutPrefix(s, refCursorPrefix)
	if !ok {
		return nil, projections.ErrBadCursor
	}
	parts := strings.SplitN(rest, "|", 3)
	if len(parts) != 3 {
		return nil, projections.ErrBadCursor
	}
	score, err := strconv.Atoi(parts[0])
	if err != nil {
		return nil, projections.ErrBadCursor
	}
	id, err := uuid.Parse(parts[1])
	if err != nil {
		return nil, projections.ErrBadCursor
	}
	return &refKey{score: score, name: parts[2], id: id}, nil
}

// overlap scores a mentor for the searching member: three points for each
// of the searcher's focus areas the mentor shares, one for each skill the
// searcher assessed that the mentor rates 4 or 5.
func overlap(viewer, mentor *refMember) int {
	if viewer == nil {
		return 0
	}
	score := 0
	for _, f := range viewer.profile.Focus {
		if slices.Contains(mentor.profile.Focus, f) {
			score += 3
		}
	}
	for skill := range viewer.profile.Skills {
		if mentor.profile.Skills[skill] >= 4 {
			score++
		}
	}
	return score
}

// anyOf reports whether a list filter lets values through: no filter, or
// one of the mentor's (set) values among the wanted ones.
func anyOf(wanted []string, values ...string) bool {
	if len(wanted) == 0 {
		return true
	}
	for _, v := range values {
		if v != "" && slices.Contains(wanted, v) {
			return true
		}
	}
	return false
}

// finds reports whether a mentor passes every filter of the query and has
// every word in its biography.
func (r *reference) finds(m *refMember, q projections.SearchQuery, words []string) bool {
	if !m.erased.IsZero() {
		return false
	}
	pr := &m.profile
	for _, w := range words {
		if !slices.Contains(m.bio, w) {
			return false
		}
	}
	if !anyOf(q.Disciplines, pr.Discipline) || !anyOf(q.Industries, pr.Industry) || !anyOf(q.Provinces, pr.Location.Province) ||
		!anyOf(q.Languages, pr.Languages...) || !anyOf(q.FocusAreas, pr.Focus...) || !anyOf(q.MeetingFormats, pr.Preferences.MeetingFormats...) {
		return false
	}
	if city := strings.ToLower(strings.TrimSpace(q.City)); city != "" && strings.ToLower(strings.TrimSpace(pr.Location.City)) != city {
		return false
	}
	for _, s := range q.Skills {
		// Ratings run from 1; a skill not rated is not had at any level.
		if rating := pr.Skills[s.Skill]; rating < 1 || rating < s.MinRating {
			return false
		}
	}
	return !q.OnlyAvailable || (m.accepting && m.used() < m.capacity)
}

// SearchMentors implements projections.MemberReader by scanning every
// mentor.
func (r *reference) SearchMentors(q projections.SearchQuery) (projections.SearchResult, error) {
	for _, f := range [][2]string{{"words", q.Words}, {"city", q.City}} {
		if err := domain.CheckText(f[0], f[1], domain.SingleLine); err != nil {
			return projections.SearchResult{}, err
		}
	}
	words := bioWords(q.Words)
	if len(words) > projections.MaxSearchWords {
		return projections.SearchResult{}, projections.ErrTooManyWords
	}
	// Search text holding no word asks for words no biography holds.
	noWord := len(words) == 0 && strings.TrimSpace(q.Words) != ""
	var after *refKey
	if q.After != "" {
		var err error
		if after, err = parseRefCursor(q.After); err != nil {
			return projections.SearchResult{}, err
		}
	}
	first := q.First
	if first < 1 || first > 100 {
		first = 20
	}
	viewer := r.members[q.Viewer]
	type hit struct {
		m   *refMember
		key refKey
	}
	var found []hit
	for _, m := range r.members {
		if m.role == domain.RoleMentor && !noWord && r.finds(m, q, words) {
			found = append(found, hit{m, refKey{overlap(viewer, m), m.profile.Name, m.id}})
		}
	}
	slices.SortFunc(found, func(a, b hit) int {
		if a.key.before(b.key) {
			return -1
		}
		return 1
	})
	res := projections.SearchResult{Hits: []projections.SearchHit{}, Total: len(found)}
	for _, h := range found {
		if after != nil && !after.before(h.key) {
			continue
		}
		if len(res.Hits) == first {
			res.HasNextPage = true
			break
		}
		res.Hits = append(res.Hits, projections.SearchHit{Mentor: h.m.view(), Score: h.key.score, Cursor: h.key.cursor()})
	}
	return res, nil
}

// Match implements projections.MatchReader.
func (r *reference) Match(id uuid.UUID) (*projections.MatchView, bool, error) {
	m := r.matches[id]
	if m == nil {
		return nil, false, nil
	}
	return m.view(), true, nil
}

// MatchesByID implements projections.MatchReader.
func (r *reference) MatchesByID(ids []uuid.UUID) ([]*projections.MatchView, error) {
	out := make([]*projections.MatchView, len(ids))
	for i, id := range ids {
		out[i], _, _ = r.Match(id)
	}
	return out, nil
}

// MatchesOf implements projections.MatchReader: a partner's matches of a
// stage, the latest request first.
func (r *reference) MatchesOf(member uuid.UUID, group projections.MatchGroup) ([]*projections.MatchView, error) {
	var out []*projections.MatchView
	for i := len(r.matchOrder) - 1; i >= 0; i-- {
		m := r.matches[r.matchOrder[i]]
		if m.mentee != member && m.mentor != member {
			continue
		}
		var in bool
		switch group {
		case projections.PendingMatches:
			in = m.status == domain.StatusPending
		case projections.ActiveMatches:
			in = m.status == domain.StatusActive
		case projections.PastMatches:
			in = m.status == domain.StatusDeclined || m.status == domain.StatusCancelled || m.status == domain.StatusEnded
		default:
			in = true
		}
		if in {
			out = append(out, m.view())
		}
	}
	return out, nil
}

// SessionsOf implements projections.MatchReader: an author's meeting logs,
// of one match unless match is nil, by session date then log time (then
// ID, which the read models need not follow).
func (r *reference) SessionsOf(author, match uuid.UUID) ([]projections.SessionView, error) {
	var out []projections.SessionView
	for _, s := range r.sessions {
		if s.author == author && (match == uuid.Nil || s.match == match) {
			out = append(out, s.view())
		}
	}
	sortSessions(out)
	return out, nil
}

// sortSessions orders meeting logs by session date, log time and ID.
func sortSessions(l []projections.SessionView) {
	slices.SortFunc(l, func(a, b projections.SessionView) int {
		switch {
		case a.Details.Date.Before(b.Details.Date):
			return -1
		case a.Details.Date.After(b.Details.Date):
			return 1
		case !a.LoggedAt.Equal(b.LoggedAt):
			return a.LoggedAt.Compare(b.LoggedAt)
		}
		return strings.Compare(a.ID.String(), b.ID.String())
	})
}

// Session implements projections.MatchReader.
func (r *reference) Session(id uuid.UUID) (projections.SessionView, bool, error) {
	s := r.sessions[id]
	if s == nil {
		return projections.SessionView{}, false, nil
	}
	return s.view(), true, nil
}

// CPDSummary implements projections.MatchReader: an author's logged
// minutes in total, per match, and of the sessions dated from..to, both
// days included, a zero date leaving its end open.
func (r *reference) CPDSummary(author uuid.UUID, from, to domain.Date) (projections.CPD, error) {
	c := projections.CPD{ByMatch: map[uuid.UUID]int{}}
	for _, s := range r.sessions {
		if s.author != author {
			continue
		}
		minutes, date := s.details.Minutes, s.details.Date
		c.TotalMinutes += minutes
		c.ByMatch[s.match] += minutes
		inRange := (from.IsZero() || !date.Before(from)) && (to.IsZero() || !date.After(to))
		if inRange {
			c.InRangeMinutes += minutes
		}
		if minutes == 0 {
			c.WithoutLength++
			if inRange {
				c.InRangeWithoutLength++
			}
		}
	}
	return c, nil
}

// Resources implements projections.MatchReader: the live resources a role
// sees (staff see all), the latest published first.
func (r *reference) Resources(role domain.Role) ([]projections.ResourceView, error) {
	var out []projections.ResourceView
	for _, res := range r.resources {
		if !res.view.Retired && (role == domain.RoleStaff || res.view.Audience.Includes(role)) {
			out = append(out, res.view)
		}
	}
	slices.SortFunc(out, func(a, b projections.ResourceView) int {
		if !a.PublishedAt.Equal(b.PublishedAt) {
			return b.PublishedAt.Compare(a.PublishedAt)
		}
		return strings.Compare(a.ID.String(), b.ID.String())
	})
	return out, nil
}

// Resource implements projections.MatchReader.
func (r *reference) Resource(id uuid.UUID) (projections.ResourceView, bool, error) {
	res := r.resources[id]
	if res == nil {
		return projections.ResourceView{}, false, nil
	}
	return res.view, true, nil
}

// Document implements projections.MatchReader.
func (r *reference) Document(id uuid.UUID) (projections.DocumentView, *projections.MatchView, bool, error) {
	for _, mid := range r.matchOrder {
		m := r.matches[mid]
		for _, d := range m.docs {
			if d.ID == id {
				return d, m.view(), true, nil
			}
		}
	}
	return projections.DocumentView{}, nil, false, nil
}

const oneDay = 24 * time.Hour

// Queue implements projections.MatchReader from the staff's rules: pending
// requests waiting more than pendingDays days; pending requests whose
// mentee asked for a nudge that staff have not yet given; active matches
// with no meeting log once the first-meeting reminder (three weeks) is
// due; active matches whose term ends within 30 days from now. Each list
// runs from the oldest request.
func (r *reference) Queue(program domain.Program, now time.Time, pendingDays int) (projections.StaffQueue, error) {
	var q projections.StaffQueue
	for _, id := range r.matchOrder {
		m := r.matches[id]
		switch m.status {
		case domain.StatusPending:
			if m.requested.Add(time.Duration(pendingDays) * oneDay).Before(now) {
				q.PendingOlderThan = append(q.PendingOlderThan, m.view())
			}
			if m.nudgeWaiting {
				q.NudgeRequests = append(q.NudgeRequests, m.view())
			}
		case domain.StatusActive:
			if len(m.sessions) == 0 && !m.accepted.Add(program.FirstMeetingReminder).After(now) {
				q.NoFirstSession = append(q.NoFirstSession, m.view())
			}
			end := m.accepted.In(program.Location).AddDate(0, program.TermMonths, 0)
			if !end.Before(now) && !end.After(now.Add(30*oneDay)) {
				q.EndingSoon = append(q.EndingSoon, m.view())
			}
			if m.endAsk != nil {
				q.EndRequests = append(q.EndRequests, m.view())
			}
		}
	}
	for _, l := range [][]*projections.MatchView{q.PendingOlderThan, q.NudgeRequests, q.NoFirstSession, q.EndingSoon, q.EndRequests} {
		slices.SortFunc(l, func(a, b *projections.MatchView) int {
			if !a.RequestedAt.Equal(b.RequestedAt) {
				return a.RequestedAt.Compare(b.RequestedAt)
			}
			return strings.Compare(a.ID.String(), b.ID.String())
		})
	}
	return q, nil
}

// Dashboard implements projections.MatchReader from the staff's counters:
// matches by status; of the answered requests (accepted, whatever became
// of the match since, or declined) the shares accepted and declined, and
// the median days from request to answer; the meeting logs dated in the
// current calendar month of the program's time zone and their minutes.
func (r *reference) Dashboard(program domain.Program, now time.Time) (projections.Dashboard, error) {
	d := projections.Dashboard{Position: r.pos}
	var waits []float64
	accepted := 0
	for _, m := range r.matches {
		switch m.status {
		case domain.StatusPending:
			d.Pending++
		case domain.StatusActive:
			d.Active++
		case domain.StatusDeclined:
			d.Declined++
		case domain.StatusCancelled:
			d.Cancelled++
		case domain.StatusEnded:
			d.Ended++
		}
		switch {
		case !m.accepted.IsZero():
			accepted++
			waits = append(waits, m.accepted.Sub(m.requested).Hours()/24)
		case m.status == domain.StatusDeclined:
			waits = append(waits, m.closed.Sub(m.requested).Hours()/24)
		}
	}
	if answered := accepted + d.Declined; answered > 0 {
		d.AcceptanceRate = float64(accepted) / float64(answered)
		d.DeclineRate = float64(d.Declined) / float64(answered)
	}
	if n := len(waits); n > 0 {
		slices.Sort(waits)
		if n%2 == 1 {
			d.MedianDaysToResponse = waits[n/2]
		} else {
			d.MedianDaysToResponse = (waits[n/2-1] + waits[n/2]) / 2
		}
	}
	local := now.In(program.Location)
	for _, s := range r.sessions {
		if s.details.Date.Year() == local.Year() && s.details.Date.Month() == local.Month() {
			d.SessionsThisMonth++
			d.MinutesThisMonth += s.details.Minutes
		}
	}
	return d, nil
}

var (
	_ projections.MemberReader = (*reference)(nil)
	_ projections.MatchReader  = (*reference)(nil)
)
