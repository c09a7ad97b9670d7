package projections

import (
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
)

// checkpoint is what each in-memory read model keeps beside its state: a
// lock, and the position and ID of the last event applied (the ID checks a
// snapshot against the log), changed together with the state.
type checkpoint struct {
	mu   sync.RWMutex
	pos  eventstore.Position
	last uuid.UUID
}

// Position implements Projection.
func (c *checkpoint) Position() eventstore.Position {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.pos
}

// applyEach applies the events after the checkpoint, in order, under the
// write lock, moving the checkpoint with each. Events at or before it are
// skipped, so a batch delivered twice changes nothing.
func (c *checkpoint) applyEach(events []Event, apply func(*Event)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range events {
		ev := &events[i]
		if ev.Position <= c.pos {
			continue
		}
		apply(ev)
		c.pos, c.last = ev.Position, ev.ID
	}
}

// MemberTable is the storage the members evolution reads and edits. The
// in-memory read model and the Redis one implement it, so that both apply
// events by the same rules and cannot drift apart.
type MemberTable interface {
	// Get returns the member's view for editing, or nil when unknown.
	Get(id uuid.UUID) *MemberView
	// Insert adds a new member.
	Insert(m *MemberView)
	// Reindex tells the table a member changed: its profile, from old, or
	// when old is nil its settings or slots (whether a mentor is open).
	Reindex(m *MemberView, old *domain.Profile)
}

// EvolveMembers applies one event to the members read model.
func EvolveMembers(t MemberTable, ev *Event) {
	change := func(id uuid.UUID, edit func(*MemberView)) {
		if m := t.Get(id); m != nil {
			edit(m)
			t.Reindex(m, nil)
		}
	}
	switch e := ev.Data.(type) {
	case domain.MemberRegistered:
		if t.Get(e.MemberID) != nil {
			return
		}
		t.Insert(&MemberView{ID: e.MemberID, Role: e.Role, Email: e.Email, RegisteredAt: e.At,
			Profile: domain.Profile{Name: e.Name}, Capacity: e.Capacity, Accepting: e.Accepting})
	case domain.ProfileUpdated:
		if m := t.Get(e.MemberID); m != nil {
			old := m.Profile
			m.Profile = e.Profile
			if ev.Meta.ActorID == e.MemberID.String() {
				// The member reviewed the profile; staff editing it
				// for them did not.
				m.ProfileSaved = e.At
			}
			t.Reindex(m, &old)
		}
	case domain.MentorCapacityChanged:
		change(e.MemberID, func(m *MemberView) { m.Capacity = e.Capacity })
	case domain.MentorAvailabilityChanged:
		change(e.MemberID, func(m *MemberView) { m.Accepting = e.Accepting })
	case domain.RequestSlotTaken:
		change(e.MemberID, func(m *MemberView) { m.setSlot(e.MatchID, domain.SlotPending) })
	case domain.RequestSlotActivated:
		change(e.MemberID, func(m *MemberView) { m.setSlot(e.MatchID, domain.SlotActive) })
	case domain.RequestSlotReleased:
		change(e.MemberID, func(m *MemberView) { m.dropSlot(e.MatchID) })
	case domain.CapacitySlotReserved:
		change(e.MemberID, func(m *MemberView) { m.setSlot(e.MatchID, domain.SlotReserved) })
	case domain.CapacitySlotReleased:
		change(e.MemberID, func(m *MemberView) { m.dropSlot(e.MatchID) })
	case domain.ProfileReviewRequested:
		for _, id := range []uuid.UUID{e.MenteeID, e.MentorID} {
			if m := t.Get(id); m != nil {
				m.ReviewRequested = e.At
			}
		}
	case domain.AccountClosureRequested:
		change(e.MemberID, func(m *MemberView) { m.ClosureRequested, m.ClosureNote = e.At, e.Note })
	case domain.MemberErased:
		if m := t.Get(e.MemberID); m != nil {
			old := m.Profile
			m.Email, m.Profile = "", domain.Profile{Name: domain.ErasedName}
			m.Accepting = false
			m.ClosureRequested, m.ClosureNote = time.Time{}, ""
			m.ErasedAt = e.At
			t.Reindex(m, &old)
		}
	}
}

// MemberEraser is implemented by match tables that can find a member's
// matches and meeting logs, so that erasing the member also blanks the
// texts that were theirs: the request message, the names of documents they
// uploaded, their meeting notes, and notes about both partners. A rebuild
// reads those texts as "" (their key is gone); the live model must agree.
type MemberEraser interface {
	EraseMember(id uuid.UUID)
}

// EraseTexts blanks the texts of member id in one of their matches. The
// documents they uploaded are removed too: the erasure deletes their
// bytes, so no partner may be shown them as live versions.
func EraseTexts(m *MatchView, id uuid.UUID) {
	if m.MenteeID == id {
		m.Message = ""
	}
	if m.EndAsk != nil {
		m.EndAsk.Note = ""
	}
	for i := range m.Documents {
		if m.Documents[i].UploaderID == id {
			m.Documents[i].Name = ""
			m.Documents[i].Removed = true
		}
	}
}

// MatchTable is the storage the matches evolution reads and edits; like
// MemberTable it lets the in-memory and the Redis read models share their
// rules.
type MatchTable interface {
	// Match returns a match for editing, or nil when unknown.
	Match(id uuid.UUID) *MatchView
	// InsertMatch adds a new match, listed under both partners in request
	// order.
	InsertMatch(m *MatchView)
	// Session returns a meeting log for editing, or nil when unknown.
	Session(id uuid.UUID) *SessionView
	// InsertSession adds a new meeting log, listed under its author.
	InsertSession(s *SessionView)
	// Resource returns a resource for editing, or nil when unknown.
	Resource(id uuid.UUID) *ResourceView
	// PutResource adds or replaces a resource.
	PutResource(r *ResourceView)
}

// EvolveMatches applies one event to the matches read model.
func EvolveMatches(t MatchTable, ev *Event) {
	edit := func(id uuid.UUID, f func(*MatchView)) {
		if m := t.Match(id); m != nil {
			f(m)
			m.Position = ev.Position
		}
	}
	switch e := ev.Data.(type) {
	case domain.MatchRequested:
		if t.Match(e.MatchID) != nil {
			return
		}
		t.InsertMatch(&MatchView{ID: e.MatchID, MenteeID: e.MenteeID, MentorID: e.MentorID,
			Status: domain.StatusPending, Message: e.Message, RequestedAt: e.At, Position: ev.Position})
	case domain.MatchAccepted:
		edit(e.MatchID, func(m *MatchView) { m.Status, m.AcceptedAt = domain.StatusActive, e.At })
	case domain.MatchDeclined:
		edit(e.MatchID, func(m *MatchView) {
			m.Status, m.ClosedAt, m.DeclineReason = domain.StatusDeclined, e.At, e.Reason
		})
	case domain.MatchCancelled:
		edit(e.MatchID, func(m *MatchView) { m.Status, m.ClosedAt = domain.StatusCancelled, e.At })
	case domain.NudgeRequested:
		edit(e.MatchID, func(m *MatchView) { m.NudgeRequested, m.NudgeRequestedAt = true, e.At })
	case domain.MatchEndRequested:
		edit(e.MatchID, func(m *MatchView) { m.EndAsk = &EndAsk{By: e.RequestedBy, Reason: e.Reason, Note: e.Note, At: e.At} })
	case domain.MentorNudged:
		edit(e.MatchID, func(m *MatchView) { m.NudgeRequested, m.LastNudgeAt = false, e.At })
	case domain.ResponseWindowElapsed:
		edit(e.MatchID, func(m *MatchView) { m.WindowElapsed = true })
	case domain.FirstMeetingReminderDue:
		edit(e.MatchID, func(m *MatchView) { m.ReminderDue = true })
	case domain.MatchEnded:
		edit(e.MatchID, func(m *MatchView) {
			m.Status, m.ClosedAt, m.EndReason, m.EndRequestedBy = domain.StatusEnded, e.At, e.Reason, e.RequestedBy
			m.EndAsk = nil
		})
	case domain.SessionLogged:
		edit(e.MatchID, func(m *MatchView) {
			m.SessionCount++
			if m.FirstSessionAt.IsZero() {
				m.FirstSessionAt = e.At
			}
		})
		if t.Session(e.SessionID) == nil {
			t.InsertSession(&SessionView{ID: e.SessionID, MatchID: e.MatchID, AuthorID: e.AuthorID, Details: e.Details, LoggedAt: e.At, Revisions: 1})
		}
	case domain.SessionEdited:
		if s := t.Session(e.SessionID); s != nil {
			s.Details, s.EditedAt = e.Details, e.At
			s.Revisions++
		}
		edit(e.MatchID, func(*MatchView) {})
	case domain.DocumentAdded:
		edit(e.MatchID, func(m *MatchView) {
			m.Documents = append(m.Documents, DocumentView{ID: e.DocumentID, Name: e.Name, Version: e.Version, Size: e.Size,
				ContentType: e.ContentType, SHA256: e.SHA256, UploaderID: e.UploaderID, AddedAt: e.At})
		})
	case domain.DocumentRemoved:
		edit(e.MatchID, func(m *MatchView) {
			for i := range m.Documents {
				if m.Documents[i].ID == e.DocumentID {
					m.Documents[i].Removed = true
				}
			}
		})
	case domain.ResourcePublished:
		t.PutResource(&ResourceView{ID: e.ResourceID, Title: e.Title, Description: e.Description,
			URL: e.URL, Text: e.Text, Audience: e.Audience, PublishedAt: e.At})
	case domain.ResourceRetired:
		if r := t.Resource(e.ResourceID); r != nil {
			r.Retired = true
		}
	case domain.MemberErased:
		if er, ok := t.(MemberEraser); ok {
			er.EraseMember(e.MemberID)
		}
	}
}
