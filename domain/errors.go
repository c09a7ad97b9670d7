package domain

import (
	"errors"
	"fmt"
)

// Code classifies why a decision was refused. Codes are stable strings:
// the GraphQL layer shows them to clients as userErrors { code field message }.
type Code string

// Input and account codes.
const (
	// CodeInvalidInput reports a malformed, missing or out-of-range field;
	// Error.Field names it.
	CodeInvalidInput Code = "INVALID_INPUT"
	// CodeMemberNotFound reports a command about a member who never
	// registered.
	CodeMemberNotFound Code = "MEMBER_NOT_FOUND"
	// CodeAlreadyRegistered reports a registration for an ID that is already
	// registered with other details.
	CodeAlreadyRegistered Code = "ALREADY_REGISTERED"
	// CodeNotYourAccount reports a member acting on another member's account.
	CodeNotYourAccount Code = "NOT_YOUR_ACCOUNT"
	// CodeStaffOnly reports a staff action attempted by someone else.
	CodeStaffOnly Code = "STAFF_ONLY"
	// CodeSystemOnly reports an action reserved to the program's own
	// processes (or the operator) attempted by a person.
	CodeSystemOnly Code = "SYSTEM_ONLY"
	// CodeNoProfile reports a profile update for a staff or auditor
	// account, which has no mentoring profile.
	CodeNoProfile Code = "ROLE_HAS_NO_PROFILE"
	// CodeCapacityBelowActive reports a mentor capacity lower than the
	// mentees the mentor already has or is accepting.
	CodeCapacityBelowActive Code = "CAPACITY_BELOW_ACTIVE"
)

// Match request and response codes.
const (
	// CodeOnlyMenteesRequest reports a request made by anyone but a mentee.
	CodeOnlyMenteesRequest Code = "ONLY_MENTEES_REQUEST"
	// CodeCannotRequestSelf reports a member requesting a match with
	// themselves.
	CodeCannotRequestSelf Code = "CANNOT_REQUEST_SELF"
	// CodeNotAMentor reports a request to, or a mentor setting for, an
	// account that is not a mentor.
	CodeNotAMentor Code = "NOT_A_MENTOR"
	// CodeMentorNotAccepting reports a request to a mentor who switched off
	// accepting requests.
	CodeMentorNotAccepting Code = "MENTOR_NOT_ACCEPTING"
	// CodeMentorAtCapacity reports a request to a mentor whose capacity is
	// used up.
	CodeMentorAtCapacity Code = "MENTOR_AT_CAPACITY"
	// CodePendingRequestExists reports a request by a mentee who already
	// has as many pending requests as the program allows.
	CodePendingRequestExists Code = "PENDING_REQUEST_EXISTS"
	// CodeActiveMatchLimit reports a request by a mentee whose active
	// matches (counting pending requests, any of which may be accepted)
	// reach the program's limit.
	CodeActiveMatchLimit Code = "ACTIVE_MATCH_LIMIT"
	// CodeCapacityReached reports an accept by a mentor whose capacity is
	// used up.
	CodeCapacityReached Code = "CAPACITY_REACHED"
	// CodeMatchExists reports a request under a match ID that is already
	// used by another request.
	CodeMatchExists Code = "MATCH_EXISTS"
)

// Match lifecycle codes.
const (
	// CodeMatchNotFound reports a command on a match that was never
	// requested.
	CodeMatchNotFound Code = "MATCH_NOT_FOUND"
	// CodeNotRequestedMentor reports an accept or decline by anyone but
	// the mentor the request was made to.
	CodeNotRequestedMentor Code = "NOT_REQUESTED_MENTOR"
	// CodeNotRequestingMentee reports a cancel or a nudge request by anyone
	// but the mentee who made the request.
	CodeNotRequestingMentee Code = "NOT_REQUESTING_MENTEE"
	// CodeNotAPartner reports sessions or documents added or changed by
	// anyone but the match's mentee and mentor.
	CodeNotAPartner Code = "NOT_A_PARTNER"
	// CodeMatchNotPending reports a request-stage command on a match that
	// is no longer pending.
	CodeMatchNotPending Code = "MATCH_NOT_PENDING"
	// CodeMatchNotActive reports a command that needs an active match on a
	// match that is still pending.
	CodeMatchNotActive Code = "MATCH_NOT_ACTIVE"
	// CodeMatchNotEnded reports a follow-up of a match end on a match that
	// has not ended.
	CodeMatchNotEnded Code = "MATCH_NOT_ENDED"
	// CodeTerminalState reports a command on a declined, cancelled or ended
	// match: nothing leaves those states.
	CodeTerminalState Code = "TERMINAL_STATE"
	// CodeWindowNotElapsed reports a nudge request (or the window-elapsed
	// mark) before the mentor's response window is over.
	CodeWindowNotElapsed Code = "WINDOW_NOT_ELAPSED"
	// CodeNudgeAlreadyRequested reports a nudge request while an earlier one
	// still waits for staff.
	CodeNudgeAlreadyRequested Code = "NUDGE_ALREADY_REQUESTED"
	// CodeNudgeTooSoon reports a staff nudge within the nudge spacing of the
	// previous one.
	CodeNudgeTooSoon Code = "NUDGE_TOO_SOON"
	// CodeReminderNotDue reports a first-meeting reminder before it is due.
	CodeReminderNotDue Code = "REMINDER_NOT_DUE"
	// CodeTermNotCompleted reports an automatic end before the term is over.
	CodeTermNotCompleted Code = "TERM_NOT_COMPLETED"
)

// Session, document and resource codes.
const (
	// CodeSessionNotFound reports an edit of a session that was never
	// logged on the match.
	CodeSessionNotFound Code = "SESSION_NOT_FOUND"
	// CodeSessionExists reports a session logged under an ID already used
	// for different details or by another author.
	CodeSessionExists Code = "SESSION_EXISTS"
	// CodeNotSessionAuthor reports an edit of a session by someone other
	// than its author.
	CodeNotSessionAuthor Code = "NOT_SESSION_AUTHOR"
	// CodeDocumentNotFound reports a removal of a document the match never
	// had.
	CodeDocumentNotFound Code = "DOCUMENT_NOT_FOUND"
	// CodeDocumentExists reports an upload under a document ID already used
	// for different contents.
	CodeDocumentExists Code = "DOCUMENT_EXISTS"
	// CodeResourceNotFound reports a command on a resource that was never
	// published.
	CodeResourceNotFound Code = "RESOURCE_NOT_FOUND"
	// CodeResourceExists reports a publication under a resource ID already
	// used for different contents.
	CodeResourceExists Code = "RESOURCE_EXISTS"
)

// Error is a refused decision. Deciders return it for every expected
// failure, so that callers can tell a broken rule (shown to the user) from an
// infrastructure failure (logged and hidden).
type Error struct {
	// Code classifies the refusal.
	Code Code
	// Field names the offending input field, in the command's own terms
	// (such as "message" or "skills.LEADERSHIP"), when one field is at fault.
	Field string
	// Message explains the refusal in a sentence fit for the user.
	Message string
}

// Error renders the refusal for logs.
func (e *Error) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s: %s", e.Code, e.Message)
	}
	return fmt.Sprintf("%s: %s: %s", e.Code, e.Field, e.Message)
}

// ErrorCode returns the code of the *Error in err's chain, or "" when err
// holds no domain error.
func ErrorCode(err error) Code {
	var de *Error
	if errors.As(err, &de) {
		return de.Code
	}
	return ""
}

func refuse(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

func invalid(field, format string, args ...any) *Error {
	return &Error{Code: CodeInvalidInput, Field: field, Message: fmt.Sprintf(format, args...)}
}

// onField names field in a refusal that names none, so that a command made
// of parts tells which part was refused.
func onField(err error, field string) error {
	var de *Error
	if errors.As(err, &de) && de.Field == "" {
		c := *de
		c.Field = field
		return &c
	}
	return err
}
