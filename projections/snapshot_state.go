package projections

import (
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
)

// The layouts of the projections' states in snapshots. Change the layout,
// or what the state holds after the same events, change the number: older
// snapshots are then refused and rebuilt.
const (
	membersStateVersion = 4
	// 4: an erased member's documents are removed.
	matchesStateVersion = 4
)

func (p *Members) stateVersion() uint32 { return membersStateVersion }

func (f *frozenMembers) encode(e *snapEncoder) {
	e.u64(uint64(f.pos))
	e.uuid(f.last)
	e.uvarint(uint64(len(f.views)))
	for _, m := range f.views {
		e.uuid(m.ID)
		e.sym(string(m.Role))
		e.str(m.Email)
		e.time(m.RegisteredAt)
		encodeProfile(e, &m.Profile)
		e.varint(int64(m.Capacity))
		e.bool(m.Accepting)
		e.uvarint(uint64(len(m.Slots)))
		for id, s := range m.Slots {
			e.uuid(id)
			e.sym(string(s))
		}
		e.time(m.ReviewRequested)
		e.time(m.ProfileSaved)
		e.time(m.ClosureRequested)
		e.str(m.ClosureNote)
		e.time(m.ErasedAt)
	}
	encodeIndex(e, &f.index)
}

func encodeProfile(e *snapEncoder, pr *domain.Profile) {
	e.str(pr.Name)
	e.sym(pr.Designation)
	e.sym(pr.Discipline)
	e.sym(pr.Industry)
	e.sym(pr.Location.City)
	e.sym(pr.Location.Province)
	e.varint(int64(pr.YearsOfExperience))
	e.symList(pr.Languages)
	e.str(pr.Biography)
	e.symList(pr.Focus)
	if pr.Skills == nil {
		e.uvarint(0)
	} else {
		e.uvarint(uint64(len(pr.Skills)) + 1)
		for k, v := range pr.Skills {
			e.sym(k)
			e.varint(int64(v))
		}
	}
	pf := &pr.Preferences
	e.symList(pf.MeetingFormats)
	e.sym(pf.MeetingFrequency)
	e.symList(pf.Partner.Disciplines)
	e.symList(pf.Partner.Industries)
	e.symList(pf.Partner.Provinces)
	e.symList(pf.Partner.Languages)
	e.varint(int64(pf.Partner.MinYearsOfExperience))
	e.str(pf.Partner.Notes)
	e.str(pr.Contact.Email)
	e.str(pr.Contact.Phone)
	e.sym(string(pr.Contact.PreferredMethod))
}

func decodeProfile(d *snapDecoder) domain.Profile {
	var pr domain.Profile
	pr.Name = d.text()
	pr.Designation = d.sym()
	pr.Discipline = d.sym()
	pr.Industry = d.sym()
	pr.Location.City = d.sym()
	pr.Location.Province = d.sym()
	pr.YearsOfExperience = d.int()
	pr.Languages = d.symList()
	pr.Biography = d.text()
	pr.Focus = d.symList()
	if n := d.count(); n > 0 {
		pr.Skills = make(map[string]int, n-1)
		for range n - 1 {
			k := d.sym()
			pr.Skills[k] = d.int()
		}
	}
	pf := &pr.Preferences
	pf.MeetingFormats = d.symList()
	pf.MeetingFrequency = d.sym()
	pf.Partner.Disciplines = d.symList()
	pf.Partner.Industries = d.symList()
	pf.Partner.Provinces = d.symList()
	pf.Partner.Languages = d.symList()
	pf.Partner.MinYearsOfExperience = d.int()
	pf.Partner.Notes = d.text()
	pr.Contact.Email = d.text()
	pr.Contact.Phone = d.text()
	pr.Contact.PreferredMethod = domain.ContactMethod(d.sym())
	return pr
}

// decodeState reads the members and their search index.
func (p *Members) decodeState(d *snapDecoder, pos eventstore.Position, last uuid.UUID) error {
	n := d.count()
	members := make(map[uuid.UUID]*MemberView, n)
	views := make([]MemberView, n)
	for i := range views {
		m := &views[i]
		m.ID = d.uuid()
		m.Role = domain.Role(d.sym())
		m.Email = d.text()
		m.RegisteredAt = d.time()
		m.Profile = decodeProfile(d)
		m.Capacity = d.int()
		m.Accepting = d.bool()
		if k := d.count(); k > 0 {
			m.Slots = make(map[uuid.UUID]domain.SlotState, k)
			for range k {
				id := d.uuid()
				m.Slots[id] = domain.SlotState(d.sym())
			}
		}
		m.ReviewRequested = d.time()
		m.ProfileSaved = d.time()
		m.ClosureRequested = d.time()
		m.ClosureNote = d.text()
		m.ErasedAt = d.time()
		if d.err != nil {
			break
		}
		members[m.ID] = m
	}
	if d.err == nil && len(members) != n {
		return fmt.Errorf("%d members under %d IDs", n, len(members))
	}
	index, err := decodeIndex(d, members)
	if err != nil {
		return err
	}
	if err := d.done(); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.members, p.index, p.pos, p.last = members, index, pos, last
	return nil
}

func (p *Matches) stateVersion() uint32 { return matchesStateVersion }

func (f *frozenMatches) encode(e *snapEncoder) {
	e.u64(uint64(f.pos))
	e.uuid(f.last)
	e.uvarint(uint64(len(f.matches)))
	for _, m := range f.matches {
		e.uuid(m.ID)
		e.uuid(m.MenteeID)
		e.uuid(m.MentorID)
		e.sym(string(m.Status))
		e.str(m.Message)
		e.time(m.RequestedAt)
		e.time(m.AcceptedAt)
		e.time(m.ClosedAt)
		e.sym(m.DeclineReason)
		e.sym(m.EndReason)
		e.uuid(m.EndRequestedBy)
		e.bool(m.WindowElapsed)
		e.bool(m.NudgeRequested)
		e.time(m.NudgeRequestedAt)
		e.time(m.LastNudgeAt)
		e.bool(m.EndAsk != nil)
		if m.EndAsk != nil {
			e.uuid(m.EndAsk.By)
			e.sym(m.EndAsk.Reason)
			e.str(m.EndAsk.Note)
			e.time(m.EndAsk.At)
		}
		e.bool(m.ReminderDue)
		e.varint(int64(m.SessionCount))
		e.time(m.FirstSessionAt)
		if m.Documents == nil {
			e.uvarint(0)
		} else {
			e.uvarint(uint64(len(m.Documents)) + 1)
		}
		for i := range m.Documents {
			doc := &m.Documents[i]
			e.uuid(doc.ID)
			e.str(doc.Name)
			e.varint(int64(doc.Version))
			e.varint(doc.Size)
			e.sym(doc.ContentType)
			e.str(doc.SHA256)
			e.uuid(doc.UploaderID)
			e.time(doc.AddedAt)
			e.bool(doc.Removed)
		}
		e.u64(uint64(m.Position))
	}
	encodeLists(e, f.byMember)
	e.uvarint(uint64(len(f.sessions)))
	for _, s := range f.sessions {
		e.uuid(s.ID)
		e.uuid(s.MatchID)
		e.uuid(s.AuthorID)
		encodeDate(e, s.Details.Date)
		e.varint(int64(s.Details.Minutes))
		e.str(s.Details.Notes)
		e.varint(int64(s.Details.Value))
		e.time(s.LoggedAt)
		e.time(s.EditedAt)
		e.varint(int64(s.Revisions))
	}
	encodeLists(e, f.byAuthor)
	e.uvarint(uint64(len(f.resources)))
	for i := range f.resources {
		r := &f.resources[i]
		e.uuid(r.ID)
		e.str(r.Title)
		e.str(r.Description)
		e.str(r.URL)
		e.str(r.Text)
		e.sym(string(r.Audience))
		e.time(r.PublishedAt)
		e.bool(r.Retired)
	}
}

func encodeLists(e *snapEncoder, lists []frozenList) {
	e.uvarint(uint64(len(lists)))
	for _, l := range lists {
		e.uuid(l.key)
		e.uvarint(uint64(len(l.ids)))
		for _, id := range l.ids {
			e.uuid(id)
		}
		e.check()
	}
}

func decodeLists(d *snapDecoder) map[uuid.UUID][]uuid.UUID {
	n := d.count()
	out := make(map[uuid.UUID][]uuid.UUID, n)
	for range n {
		k := d.uuid()
		l := make([]uuid.UUID, d.count())
		for i := range l {
			l[i] = d.uuid()
		}
		if d.err != nil {
			break
		}
		out[k] = l
	}
	return out
}

func encodeDate(e *snapEncoder, dt domain.Date) {
	e.varint(int64(dt.Year()))
	e.varint(int64(dt.Month()))
	e.varint(int64(dt.Day()))
}

func decodeDate(d *snapDecoder) domain.Date {
	y, m, day := d.int(), d.int(), d.int()
	if y == 0 && m == 0 && day == 0 {
		return domain.Date{}
	}
	dt, err := domain.NewDate(y, time.Month(m), day)
	if err != nil {
		d.fail(err)
	}
	return dt
}

func (p *Matches) decodeState(d *snapDecoder, pos eventstore.Position, last uuid.UUID) error {
	n := d.count()
	views := make([]MatchView, n)
	for i := range views {
		m := &views[i]
		m.ID = d.uuid()
		m.MenteeID = d.uuid()
		m.MentorID = d.uuid()
		m.Status = domain.MatchStatus(d.sym())
		m.Message = d.text()
		m.RequestedAt = d.time()
		m.AcceptedAt = d.time()
		m.ClosedAt = d.time()
		m.DeclineReason = d.sym()
		m.EndReason = d.sym()
		m.EndRequestedBy = d.uuid()
		m.WindowElapsed = d.bool()
		m.NudgeRequested = d.bool()
		m.NudgeRequestedAt = d.time()
		m.LastNudgeAt = d.time()
		if d.bool() {
			m.EndAsk = &EndAsk{By: d.uuid(), Reason: d.sym(), Note: d.text(), At: d.time()}
		}
		m.ReminderDue = d.bool()
		m.SessionCount = d.int()
		m.FirstSessionAt = d.time()
		if k := d.count(); k > 0 {
			m.Documents = make([]DocumentView, k-1)
			for j := range m.Documents {
				doc := &m.Documents[j]
				doc.ID = d.uuid()
				doc.Name = d.text()
				doc.Version = d.int()
				doc.Size = d.varint()
				doc.ContentType = d.sym()
				doc.SHA256 = d.text()
				doc.UploaderID = d.uuid()
				doc.AddedAt = d.time()
				doc.Removed = d.bool()
			}
		}
		m.Position = eventstore.Position(d.u64())
		if d.err != nil {
			break
		}
	}
	// Filling the maps is a large part of a load, spent waiting on memory
	// rather than reading the file: it goes on beside the decoding.
	matchesBuilt := indexViews(views, func(m *MatchView) uuid.UUID { return m.ID })
	byMember := decodeLists(d)
	k := d.count()
	sviews := make([]SessionView, k)
	for i := range sviews {
		s := &sviews[i]
		s.ID = d.uuid()
		s.MatchID = d.uuid()
		s.AuthorID = d.uuid()
		s.Details.Date = decodeDate(d)
		s.Details.Minutes = d.int()
		s.Details.Notes = d.text()
		s.Details.Value = d.int()
		s.LoggedAt = d.time()
		s.EditedAt = d.time()
		s.Revisions = d.int()
		if d.err != nil {
			break
		}
	}
	sessionsBuilt := indexViews(sviews, func(s *SessionView) uuid.UUID { return s.ID })
	byAuthor := decodeLists(d)
	resources := map[uuid.UUID]*ResourceView{}
	for range d.count() {
		r := &ResourceView{}
		r.ID = d.uuid()
		r.Title = d.text()
		r.Description = d.text()
		r.URL = d.text()
		r.Text = d.text()
		r.Audience = domain.Audience(d.sym())
		r.PublishedAt = d.time()
		r.Retired = d.bool()
		resources[r.ID] = r
	}
	matches, sessions := <-matchesBuilt, <-sessionsBuilt
	if err := d.done(); err != nil {
		return err
	}
	if len(matches) != n || len(sessions) != k {
		return fmt.Errorf("duplicate IDs in the state")
	}
	// Every listed ID must name a record the queries can look up.
	for _, l := range byMember {
		for _, id := range l {
			if matches[id] == nil {
				return fmt.Errorf("member list names unknown match %s", id)
			}
		}
	}
	for _, l := range byAuthor {
		for _, id := range l {
			if sessions[id] == nil {
				return fmt.Errorf("author list names unknown session %s", id)
			}
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.matches, p.byMember, p.sessions, p.byAuthor, p.resources = matches, byMember, sessions, byAuthor, resources
	p.pos, p.last = pos, last
	return nil
}

// indexViews maps views by ID in a goroutine of its own and sends the map
// once built.
func indexViews[V any](views []V, id func(*V) uuid.UUID) <-chan map[uuid.UUID]*V {
	out := make(chan map[uuid.UUID]*V, 1)
	go func() {
		m := make(map[uuid.UUID]*V, len(views))
		for i := range views {
			m[id(&views[i])] = &views[i]
		}
		out <- m
	}()
	return out
}
