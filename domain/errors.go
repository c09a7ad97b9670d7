package domain

import "github.com/mentorship/mentorship/refusal"

// The domain refuses a decision with a *refusal.Error carrying one of the
// codes below (or refusal.CodeInvalidInput for a bad field), so that callers
// can tell a broken rule (shown to the user) from an infrastructure failure
// (logged and hidden). Codes are stable strings: the GraphQL layer shows
// them to clients as userErrors { code field message }.

// Account codes.
const (
	// CodeMemberNotFound reports a command about a member who never
	// registered.
	CodeMemberNotFound refusal.Code = "MEMBER_NOT_FOUND"
	// CodeAlreadyRegistered reports a registration for an ID that is already
	// registered with other details.
	CodeAlreadyRegistered refusal.Code = "ALREADY_REGISTERED"
	// CodeNotYourAccount reports a member acting on another member's account.
	CodeNotYourAccount refusal.Code = "NOT_YOUR_ACCOUNT"
	// CodeStaffOnly reports a staff action attempted by someone else.
	CodeStaffOnly refusal.Code = "STAFF_ONLY"
	// CodeSystemOnly reports an action reserved to the program's own
	// processes (or the operator) attempted by a person.
	CodeSystemOnly refusal.Code = "SYSTEM_ONLY"
	// CodeNoProfile reports a profile update for a staff or auditor
	// account, which has no mentoring profile.
	CodeNoProfile refusal.Code = "ROLE_HAS_NO_PROFILE"
	// CodeCapacityBelowActive reports a mentor capacity lower than the
	// mentees the mentor already has or is accepting.
	CodeCapacityBelowActive refusal.Code = "CAPACITY_BELOW_ACTIVE"
)

// Match request and response codes.
const (
	// CodeOnlyMenteesRequest reports a request made by anyone but a mentee.
	CodeOnlyMenteesRequest refusal.Code = "ONLY_MENTEES_REQUEST"
	// CodeCannotRequestSelf reports a member requesting a match with
	// themselves.
	CodeCannotRequestSelf refusal.Code = "CANNOT_REQUEST_SELF"
	// CodeNotAMentor reports a request to, or a mentor setting for, an
	// account that is not a mentor.
	CodeNotAMentor refusal.Code = "NOT_A_MENTOR"
	// CodeMentorNotAccepting reports a request to a mentor who switched off
	// accepting requests.
	CodeMentorNotAccepting refusal.Code = "MENTOR_NOT_ACCEPTING"
	// CodeMentorAtCapacity reports a request to a mentor whose capacity is
	// used up.
	CodeMentorAtCapacity refusal.Code = "MENTOR_AT_CAPACITY"
	// CodePendingRequestExists reports a request by a mentee who already
	// has as many pending requests as the program allows.
	CodePendingRequestExists refusal.Code = "PENDING_REQUEST_EXISTS"
	// CodeActiveMatchLimit reports a request by a mentee whose active
	// matches (counting pending requests, any of which may be accepted)
	// reach the program's limit.
	CodeActiveMatchLimit refusal.Code = "ACTIVE_MATCH_LIMIT"
	// CodeCapacityReached reports an accept by a mentor whose capacity is
	// used up.
	CodeCapacityReached refusal.Code = "CAPACITY_REACHED"
	// CodeMatchExists reports a request under a match ID that is already
	// used by another request.
	CodeMatchExists refusal.Code = "MATCH_EXISTS"
)

// Match lifecycle codes.
const (
	// CodeMatchNotFound reports a command on a match that was never
	// requested.
	CodeMatchNotFound refusal.Code = "MATCH_NOT_FOUND"
	// CodeNotRequestedMentor reports an accept or decline by anyone but
	// the mentor the request was made to.
	CodeNotRequestedMentor refusal.Code = "NOT_REQUESTED_MENTOR"
	// CodeNotRequestingMentee reports a cancel or a nudge request by anyone
	// but the mentee who made the request.
	CodeNotRequestingMentee refusal.Code = "NOT_REQUESTING_MENTEE"
	// CodeNotAPartner reports sessions or documents added or changed by
	// anyone but the match's mentee and mentor.
	CodeNotAPartner refusal.Code = "NOT_A_PARTNER"
	// CodeMatchNotPending reports a request-stage command on a match that
	// is no longer pending.
	CodeMatchNotPending refusal.Code = "MATCH_NOT_PENDING"
	// CodeMatchNotActive reports a command that needs an active match on a
	// match that is still pending.
	CodeMatchNotActive refusal.Code = "MATCH_NOT_ACTIVE"
	// CodeMatchNotEnded reports a follow-up of a match end on a match that
	// has not ended.
	CodeMatchNotEnded refusal.Code = "MATCH_NOT_ENDED"
	// CodeTerminalState reports a command on a declined, cancelled or ended
	// match: nothing leaves those states.
	CodeTerminalState refusal.Code = "TERMINAL_STATE"
	// CodeWindowNotElapsed reports a nudge request (or the window-elapsed
	// mark) before the mentor's response window is over.
	CodeWindowNotElapsed refusal.Code = "WINDOW_NOT_ELAPSED"
	// CodeNudgeAlreadyRequested reports a nudge request while an earlier one
	// still waits for staff.
	CodeNudgeAlreadyRequested refusal.Code = "NUDGE_ALREADY_REQUESTED"
	// CodeNudgeTooSoon reports a staff nudge within the nudge spacing of the
	// previous one.
	CodeNudgeTooSoon refusal.Code = "NUDGE_TOO_SOON"
	// CodeReminderNotDue reports a first-meeting reminder before it is due.
	CodeReminderNotDue refusal.Code = "REMINDER_NOT_DUE"
	// CodeTermNotCompleted reports an automatic end before the term is over.
	CodeTermNotCompleted refusal.Code = "TERM_NOT_COMPLETED"
)

// Session, document and resource codes.
const (
	// CodeSessionNotFound reports an edit of a session that was never
	// logged on the match.
	CodeSessionNotFound refusal.Code = "SESSION_NOT_FOUND"
	// CodeSessionExists reports a session logged under an ID already used
	// for different details or by another author.
	CodeSessionExists refusal.Code = "SESSION_EXISTS"
	// CodeNotSessionAuthor reports an edit of a session by someone other
	// than its author.
	CodeNotSessionAuthor refusal.Code = "NOT_SESSION_AUTHOR"
	// CodeDocumentNotFound reports a removal of a document the match never
	// had.
	CodeDocumentNotFound refusal.Code = "DOCUMENT_NOT_FOUND"
	// CodeDocumentExists reports an upload under a document ID already used
	// for different contents.
	CodeDocumentExists refusal.Code = "DOCUMENT_EXISTS"
	// CodeResourceNotFound reports a command on a resource that was never
	// published.
	CodeResourceNotFound refusal.Code = "RESOURCE_NOT_FOUND"
	// CodeResourceExists reports a publication under a resource ID already
	// used for different contents.
	CodeResourceExists refusal.Code = "RESOURCE_EXISTS"
)

func refuse(code refusal.Code, format string, args ...any) *refusal.Error {
	return refusal.New(code, format, args...)
}

func invalid(field, format string, args ...any) *refusal.Error {
	return refusal.Invalid(field, format, args...)
}
