package domain

import (
	"fmt"
	"time"

	"github.com/google/uuid"
)

// MatchCommand is a command decided on a match's stream.
type MatchCommand interface {
	// match returns the ID of the match whose stream the command targets.
	match() uuid.UUID
}

// RequestMatch asks a mentor for a match, with an optional message. It is
// the second step of a request: the caller first decides ReserveRequestSlot
// with it on the mentee's stream, then decides it on the new match stream
// and appends expecting no stream. A match ID names one request: deciding it
// again for the same mentee and mentor decides nothing, whatever became of
// the match since.
type RequestMatch struct {
	MatchID  uuid.UUID
	Actor    Actor
	MentorID uuid.UUID
	Message  string
	At       time.Time
}

// AcceptMatch accepts a pending match; only its mentor may. It is the second
// step of an accept, after ReserveCapacitySlot on the mentor's stream.
// Accepting an active match again decides nothing.
type AcceptMatch struct {
	MatchID uuid.UUID
	Actor   Actor
	At      time.Time
}

// DeclineMatch declines a pending match; only its mentor may. The reason
// (from the program's list) and the message are optional. Declining a
// declined match again decides nothing.
type DeclineMatch struct {
	MatchID uuid.UUID
	Actor   Actor
	Reason  string
	Message string
	At      time.Time
}

// CancelMatch withdraws a pending request; only its mentee may. Cancelling
// a cancelled match again decides nothing.
type CancelMatch struct {
	MatchID uuid.UUID
	Actor   Actor
	At      time.Time
}

// RequestNudge asks staff to reach out to the mentor; only the mentee may,
// once the response window is over, and not again before staff nudged.
type RequestNudge struct {
	MatchID uuid.UUID
	Actor   Actor
	At      time.Time
}

// NudgeMentor records staff reaching out to the mentor of a pending match,
// at most once per nudge spacing. Staff may nudge whether or not the mentee
// asked; the response window bounds only the mentee's request.
type NudgeMentor struct {
	MatchID uuid.UUID
	Actor   Actor
	Note    string
	At      time.Time
}

// MarkResponseWindowElapsed is the system recording that the response
// window of a pending match is over. It decides nothing once the match left
// pending or the mark exists.
type MarkResponseWindowElapsed struct {
	MatchID uuid.UUID
	Actor   Actor
	At      time.Time
}

// RemindFirstMeeting is the system recording that the first-meeting
// reminder is due. It decides nothing once the match is no longer active, a
// session was logged or the reminder was recorded.
type RemindFirstMeeting struct {
	MatchID uuid.UUID
	Actor   Actor
	At      time.Time
}

// CompleteTerm is the system ending an active match at the end of its term.
// It decides nothing once the match has ended by other means.
type CompleteTerm struct {
	MatchID uuid.UUID
	Actor   Actor
	At      time.Time
}

// EndMatch is staff ending an active match early, with a reason from the
// program's list, the partner who asked and a note. Ending an ended match
// again with the same reason decides nothing.
type EndMatch struct {
	MatchID     uuid.UUID
	Actor       Actor
	Reason      string
	RequestedBy uuid.UUID
	Note        string
	At          time.Time
}

// RequestProfileReview is the system asking both partners of an ended
// match to review their profiles, once per match.
type RequestProfileReview struct {
	MatchID uuid.UUID
	Actor   Actor
	At      time.Time
}

// LogSession records a meeting log by a partner of an active match.
// Logging the same session again with the same details decides nothing.
type LogSession struct {
	MatchID   uuid.UUID
	SessionID uuid.UUID
	Actor     Actor
	Details   SessionDetails
	At        time.Time
}

// EditSession replaces the details of a session; only its author may, while
// the match is active. Saving unchanged details decides nothing.
type EditSession struct {
	MatchID   uuid.UUID
	SessionID uuid.UUID
	Actor     Actor
	Details   SessionDetails
	At        time.Time
}

// AddDocument records a document a partner of an active match uploaded.
// Adding the same document again decides nothing.
type AddDocument struct {
	MatchID     uuid.UUID
	DocumentID  uuid.UUID
	Actor       Actor
	Name        string
	Size        int64
	ContentType string
	SHA256      string
	At          time.Time
}

// RemoveDocument removes one version of a document; either partner of an
// active match may. Removing it again decides nothing.
type RemoveDocument struct {
	MatchID    uuid.UUID
	DocumentID uuid.UUID
	Actor      Actor
	At         time.Time
}

func (c RequestMatch) match() uuid.UUID              { return c.MatchID }
func (c AcceptMatch) match() uuid.UUID               { return c.MatchID }
func (c DeclineMatch) match() uuid.UUID              { return c.MatchID }
func (c CancelMatch) match() uuid.UUID               { return c.MatchID }
func (c RequestNudge) match() uuid.UUID              { return c.MatchID }
func (c NudgeMentor) match() uuid.UUID               { return c.MatchID }
func (c MarkResponseWindowElapsed) match() uuid.UUID { return c.MatchID }
func (c RemindFirstMeeting) match() uuid.UUID        { return c.MatchID }
func (c CompleteTerm) match() uuid.UUID              { return c.MatchID }
func (c EndMatch) match() uuid.UUID                  { return c.MatchID }
func (c RequestProfileReview) match() uuid.UUID      { return c.MatchID }
func (c LogSession) match() uuid.UUID                { return c.MatchID }
func (c EditSession) match() uuid.UUID               { return c.MatchID }
func (c AddDocument) match() uuid.UUID               { return c.MatchID }
func (c RemoveDocument) match() uuid.UUID            { return c.MatchID }

// DecideMatch decides cmd against the state of the match's stream. It
// returns the events to append to that stream (none when the command changes
// nothing), a *refusal.Error when a rule refuses the command, or another
// error when the caller passed the state of a different match.
func DecideMatch(p Program, m Match, cmd MatchCommand) ([]Event, error) {
	if m.Exists() && cmd.match() != uuid.Nil && m.id != cmd.match() {
		return nil, fmt.Errorf("decide match: state of match %s given for match %s", m.id, cmd.match())
	}
	switch c := cmd.(type) {
	case RequestMatch:
		return decideRequest(p, m, c)
	case AcceptMatch:
		return decideAccept(m, c)
	case DeclineMatch:
		return decideDecline(p, m, c)
	case CancelMatch:
		return decideCancel(m, c)
	case RequestNudge:
		return decideRequestNudge(p, m, c)
	case RequestMatchEnd:
		return decideRequestEnd(p, m, c)
	case NudgeMentor:
		return decideNudge(p, m, c)
	case MarkResponseWindowElapsed:
		return decideWindowElapsed(p, m, c)
	case RemindFirstMeeting:
		return decideReminder(p, m, c)
	case CompleteTerm:
		return decideCompleteTerm(p, m, c)
	case EndMatch:
		return decideEnd(p, m, c)
	case RequestProfileReview:
		return decideProfileReview(m, c)
	case LogSession:
		return decideLogSession(p, m, c)
	case EditSession:
		return decideEditSession(p, m, c)
	case AddDocument:
		return decideAddDocument(p, m, c)
	case RemoveDocument:
		return decideRemoveDocument(m, c)
	default:
		return nil, fmt.Errorf("decide match: unknown command %T", cmd)
	}
}

// clean validates a request on its own, without any state, so that both of
// its steps refuse bad input before anything is written.
func (c RequestMatch) clean(p Program) (RequestMatch, error) {
	if err := checkBasics("matchId", c.MatchID, c.Actor, c.At); err != nil {
		return RequestMatch{}, err
	}
	if c.MentorID == uuid.Nil {
		return RequestMatch{}, invalid("mentorId", "is required")
	}
	if c.Actor.Role != RoleMentee {
		return RequestMatch{}, refuse(CodeOnlyMenteesRequest, "only mentees request matches")
	}
	if c.Actor.ID == c.MentorID {
		return RequestMatch{}, refuse(CodeCannotRequestSelf, "you cannot request a match with yourself")
	}
	msg, err := cleanNotes("message", c.Message, p.Limits.RequestMessageLength, false)
	if err != nil {
		return RequestMatch{}, err
	}
	c.Message = msg
	c.At = c.At.UTC()
	return c, nil
}

func decideRequest(p Program, m Match, c RequestMatch) ([]Event, error) {
	req, err := c.clean(p)
	if err != nil {
		return nil, err
	}
	if m.Exists() {
		if m.menteeID == req.Actor.ID && m.mentorID == req.MentorID {
			return nil, nil
		}
		return nil, refuse(CodeMatchExists, "this match ID belongs to another request")
	}
	return []Event{MatchRequested{
		MatchID: req.MatchID, MenteeID: req.Actor.ID, MentorID: req.MentorID, Message: req.Message, At: req.At,
	}}, nil
}

// isPartner reports whether actor acts as the match's mentee or mentor.
func (m Match) isPartner(actor Actor) bool {
	return actor.is(m.menteeID, RoleMentee) || actor.is(m.mentorID, RoleMentor)
}

// checkActive refuses work on a match that is not active: sessions and
// documents exist only on active matches, and only for their partners.
func (m Match) checkActive(actor Actor) error {
	if !m.isPartner(actor) {
		return refuse(CodeNotAPartner, "only the partners of this match may do this")
	}
	if m.status.Terminal() {
		return m.terminalError()
	}
	if m.status != StatusActive {
		return refuse(CodeMatchNotActive, "this match is not active yet")
	}
	return nil
}

func decideAccept(m Match, c AcceptMatch) ([]Event, error) {
	if err := checkBasics("matchId", c.MatchID, c.Actor, c.At); err != nil {
		return nil, err
	}
	if err := m.check(c.MatchID); err != nil {
		return nil, err
	}
	if !c.Actor.is(m.mentorID, RoleMentor) {
		return nil, refuse(CodeNotRequestedMentor, "only the requested mentor may accept")
	}
	switch {
	case m.status == StatusActive:
		return nil, nil
	case m.status.Terminal():
		return nil, m.terminalError()
	}
	return []Event{MatchAccepted{MatchID: m.id, MenteeID: m.menteeID, MentorID: m.mentorID, At: c.At.UTC()}}, nil
}

func decideDecline(p Program, m Match, c DeclineMatch) ([]Event, error) {
	if err := checkBasics("matchId", c.MatchID, c.Actor, c.At); err != nil {
		return nil, err
	}
	reason, err := cleanChoice("reason", c.Reason, p.DeclineReasons)
	if err != nil {
		return nil, err
	}
	msg, err := cleanNotes("message", c.Message, p.Limits.DeclineMessageLength, false)
	if err != nil {
		return nil, err
	}
	if err := m.check(c.MatchID); err != nil {
		return nil, err
	}
	if !c.Actor.is(m.mentorID, RoleMentor) {
		return nil, refuse(CodeNotRequestedMentor, "only the requested mentor may decline")
	}
	switch {
	case m.status == StatusDeclined:
		return nil, nil
	case m.status.Terminal():
		return nil, m.terminalError()
	case m.status != StatusPending:
		return nil, refuse(CodeMatchNotPending, "this match is no longer pending")
	}
	return []Event{MatchDeclined{
		MatchID: m.id, MenteeID: m.menteeID, MentorID: m.mentorID, Reason: reason, Message: msg, At: c.At.UTC(),
	}}, nil
}

func decideCancel(m Match, c CancelMatch) ([]Event, error) {
	if err := checkBasics("matchId", c.MatchID, c.Actor, c.At); err != nil {
		return nil, err
	}
	if err := m.check(c.MatchID); err != nil {
		return nil, err
	}
	if !c.Actor.is(m.menteeID, RoleMentee) {
		return nil, refuse(CodeNotRequestingMentee, "only the requesting mentee may cancel")
	}
	switch {
	case m.status == StatusCancelled:
		return nil, nil
	case m.status.Terminal():
		return nil, m.terminalError()
	case m.status != StatusPending:
		return nil, refuse(CodeMatchNotPending, "this match is no longer pending; ask staff to end it")
	}
	return []Event{MatchCancelled{MatchID: m.id, MenteeID: m.menteeID, MentorID: m.mentorID, At: c.At.UTC()}}, nil
}

// checkPending refuses a request-stage command on a match that left
// pending.
func (m Match) checkPending() error {
	if m.status.Terminal() {
		return m.terminalError()
	}
	if m.status != StatusPending {
		return refuse(CodeMatchNotPending, "this match is no longer pending")
	}
	return nil
}

func decideRequestNudge(p Program, m Match, c RequestNudge) ([]Event, error) {
	if err := checkBasics("matchId", c.MatchID, c.Actor, c.At); err != nil {
		return nil, err
	}
	if err := m.check(c.MatchID); err != nil {
		return nil, err
	}
	if !c.Actor.is(m.menteeID, RoleMentee) {
		return nil, refuse(CodeNotRequestingMentee, "only the requesting mentee may ask for a nudge")
	}
	if err := m.checkPending(); err != nil {
		return nil, err
	}
	if deadline := p.ResponseDeadline(m.requestedAt); c.At.Before(deadline) {
		return nil, refuse(CodeWindowNotElapsed, "the mentor has until %s to answer", deadline.Format(time.RFC3339))
	}
	if m.nudgeRequested {
		return nil, refuse(CodeNudgeAlreadyRequested, "you already asked staff to reach out to the mentor")
	}
	return []Event{NudgeRequested{MatchID: m.id, MenteeID: m.menteeID, MentorID: m.mentorID, At: c.At.UTC()}}, nil
}

func decideNudge(p Program, m Match, c NudgeMentor) ([]Event, error) {
	if err := checkBasics("matchId", c.MatchID, c.Actor, c.At); err != nil {
		return nil, err
	}
	if c.Actor.Role != RoleStaff {
		return nil, refuse(CodeStaffOnly, "only staff nudge mentors")
	}
	note, err := cleanNotes("note", c.Note, p.Limits.StaffNoteLength, false)
	if err != nil {
		return nil, err
	}
	if err := m.check(c.MatchID); err != nil {
		return nil, err
	}
	if err := m.checkPending(); err != nil {
		return nil, err
	}
	// Without an earlier nudge, lastNudgeAt is the zero time, long past.
	if next := p.NextNudgeAt(m.lastNudgeAt); c.At.Before(next) {
		return nil, refuse(CodeNudgeTooSoon, "this mentor was nudged recently; nudge again from %s", next.Format(time.RFC3339))
	}
	return []Event{MentorNudged{
		MatchID: m.id, MenteeID: m.menteeID, MentorID: m.mentorID, StaffID: c.Actor.ID, Note: note, At: c.At.UTC(),
	}}, nil
}

// checkSystem validates a command of the program's own processes.
func checkSystem(m Match, id uuid.UUID, actor Actor, at time.Time) error {
	if err := checkBasics("matchId", id, actor, at); err != nil {
		return err
	}
	if !actor.IsSystem() {
		return refuse(CodeSystemOnly, "only the program's own processes do this")
	}
	return m.check(id)
}

func decideWindowElapsed(p Program, m Match, c MarkResponseWindowElapsed) ([]Event, error) {
	if err := checkSystem(m, c.MatchID, c.Actor, c.At); err != nil {
		return nil, err
	}
	if m.status != StatusPending || m.windowElapsed {
		return nil, nil
	}
	if deadline := p.ResponseDeadline(m.requestedAt); c.At.Before(deadline) {
		return nil, refuse(CodeWindowNotElapsed, "the response window ends at %s", deadline.Format(time.RFC3339))
	}
	// A rule run late (the server was down) still dates its event when it
	// fell due, so that the history as of any moment is the program's.
	return []Event{ResponseWindowElapsed{MatchID: m.id, MenteeID: m.menteeID, MentorID: m.mentorID, At: p.ResponseDeadline(m.requestedAt).UTC()}}, nil
}

func decideReminder(p Program, m Match, c RemindFirstMeeting) ([]Event, error) {
	if err := checkSystem(m, c.MatchID, c.Actor, c.At); err != nil {
		return nil, err
	}
	if m.status != StatusActive || m.reminderDue || m.HasSessions() {
		return nil, nil
	}
	if due := p.FirstMeetingReminderAt(m.acceptedAt); c.At.Before(due) {
		return nil, refuse(CodeReminderNotDue, "the first-meeting reminder is due at %s", due.Format(time.RFC3339))
	}
	return []Event{FirstMeetingReminderDue{MatchID: m.id, MenteeID: m.menteeID, MentorID: m.mentorID, At: p.FirstMeetingReminderAt(m.acceptedAt).UTC()}}, nil
}

func decideCompleteTerm(p Program, m Match, c CompleteTerm) ([]Event, error) {
	if err := checkSystem(m, c.MatchID, c.Actor, c.At); err != nil {
		return nil, err
	}
	switch {
	case m.status.Terminal():
		return nil, nil
	case m.status != StatusActive:
		return nil, refuse(CodeMatchNotActive, "a pending match has no term")
	}
	end := p.TermEnd(m.acceptedAt)
	if c.At.Before(end) {
		return nil, refuse(CodeTermNotCompleted, "the term ends at %s", end.Format(time.RFC3339))
	}
	// Run late, the match still ended when its term did.
	return []Event{MatchEnded{
		MatchID: m.id, MenteeID: m.menteeID, MentorID: m.mentorID, Reason: EndReasonTermCompleted, At: end.UTC(),
	}}, nil
}

func decideEnd(p Program, m Match, c EndMatch) ([]Event, error) {
	if err := checkBasics("matchId", c.MatchID, c.Actor, c.At); err != nil {
		return nil, err
	}
	if c.Actor.Role != RoleStaff {
		return nil, refuse(CodeStaffOnly, "only staff end matches early")
	}
	reason, err := cleanEndReason(p, c.Reason)
	if err != nil {
		return nil, err
	}
	if c.RequestedBy == uuid.Nil {
		return nil, invalid("requestedBy", "is required")
	}
	note, err := cleanNotes("note", c.Note, p.Limits.StaffNoteLength, true)
	if err != nil {
		return nil, err
	}
	if err := m.check(c.MatchID); err != nil {
		return nil, err
	}
	if !m.IsPartner(c.RequestedBy) {
		return nil, invalid("requestedBy", "must be the mentee or the mentor of this match")
	}
	switch {
	case m.status == StatusEnded && m.endReason == reason:
		return nil, nil
	case m.status.Terminal():
		return nil, m.terminalError()
	case m.status != StatusActive:
		return nil, refuse(CodeMatchNotActive, "a pending match is cancelled or declined, not ended")
	}
	return []Event{MatchEnded{
		MatchID: m.id, MenteeID: m.menteeID, MentorID: m.mentorID, Reason: reason,
		RequestedBy: c.RequestedBy, StaffID: c.Actor.ID, Note: note, At: c.At.UTC(),
	}}, nil
}

func decideProfileReview(m Match, c RequestProfileReview) ([]Event, error) {
	if err := checkSystem(m, c.MatchID, c.Actor, c.At); err != nil {
		return nil, err
	}
	if m.status != StatusEnded {
		return nil, refuse(CodeMatchNotEnded, "profiles are reviewed after a match ends")
	}
	if m.reviewRequested {
		return nil, nil
	}
	return []Event{ProfileReviewRequested{MatchID: m.id, MenteeID: m.menteeID, MentorID: m.mentorID, At: c.At.UTC()}}, nil
}
