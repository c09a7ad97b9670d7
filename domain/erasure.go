package domain

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/refusal"
)

// Erasure: a member may ask staff to close their account, and staff erase a
// member who has no pending or active match. The log keeps every event, but
// each member's personal texts are sealed under that member's own key (see
// Personal); erasure records MemberErased and the key is deleted, so the
// texts stay in the log as ciphertext nobody can read.

// The refusals of erasure.
const (
	// CodeMemberErased refuses any command on an erased member.
	CodeMemberErased refusal.Code = "MEMBER_ERASED"
	// CodeMemberHasOpenMatch refuses to erase a member with a pending
	// request or an active match: end or cancel it first, so that the
	// partner's match is settled.
	CodeMemberHasOpenMatch refusal.Code = "MEMBER_HAS_OPEN_MATCH"
	// CodeClosureAlreadyRequested refuses a second request to close the
	// account while the first one waits for staff.
	CodeClosureAlreadyRequested refusal.Code = "CLOSURE_ALREADY_REQUESTED"
	// CodeCannotEraseSelf refuses a staff member erasing their own account.
	CodeCannotEraseSelf refusal.Code = "CANNOT_ERASE_SELF"
)

// ErasedName is how an erased member is shown in their partners' history.
const ErasedName = "erased member"

// RequestAccountClosure is a member asking staff to close their account and
// erase their personal data, with an optional note for staff.
type RequestAccountClosure struct {
	MemberID uuid.UUID
	Actor    Actor
	Note     string
	At       time.Time
}

// EraseMember erases a member: staff, for a reason that the record keeps
// (it must not quote the member), or the program itself under the
// retention rule, only once the member is due (Member.RetentionDue).
type EraseMember struct {
	MemberID uuid.UUID
	Actor    Actor
	Reason   string
	At       time.Time
}

func (c RequestAccountClosure) member() uuid.UUID { return c.MemberID }
func (c EraseMember) member() uuid.UUID           { return c.MemberID }

// AccountClosureRequested records a member's request that staff close the
// account; it waits in the staff queue until the member is erased.
type AccountClosureRequested struct {
	MemberID uuid.UUID `json:"memberId"`
	Note     string    `json:"note,omitempty"`
	At       time.Time `json:"at"`
}

// MemberErased records that a member's personal data was erased. It holds
// no personal data: who was erased (by ID), who erased them and why.
type MemberErased struct {
	MemberID uuid.UUID `json:"memberId"`
	Role     Role      `json:"role"`
	// ErasedBy is the staff member; uuid.Nil when the program erased the
	// member under its retention rule.
	ErasedBy  uuid.UUID `json:"erasedBy,omitzero"`
	ActorRole Role      `json:"actorRole"`
	Reason    string    `json:"reason"`
	// ClosureRequested tells whether the member had asked for it.
	ClosureRequested bool      `json:"closureRequested,omitempty"`
	At               time.Time `json:"at"`
}

// EventType names the event.
func (AccountClosureRequested) EventType() string { return "AccountClosureRequested" }

// EventType names the event.
func (MemberErased) EventType() string { return "MemberErased" }

// MemberOf implements MemberEvent.
func (e AccountClosureRequested) MemberOf() uuid.UUID { return e.MemberID }

func (AccountClosureRequested) closure() {}

// MemberOf implements MemberEvent.
func (e MemberErased) MemberOf() uuid.UUID { return e.MemberID }

func (MemberErased) directory() {}
func (MemberErased) closure()   {}
func (MemberErased) retention() {}

// Erased reports whether the member was erased.
func (m Member) Erased() bool { return m.erased }

// ClosureRequestedAt returns when the member asked staff to close the
// account; zero when no request waits.
func (m Member) ClosureRequestedAt() time.Time { return m.closureAskedAt }

// OpenMatchesText says how many pending or active matches a member has.
func OpenMatchesText(n int) string {
	if n == 1 {
		return "the member has 1 pending or active match"
	}
	return fmt.Sprintf("the member has %d pending or active matches", n)
}

// quotesMember reports whether an erasure's reason holds the member's
// name (whole, or a part of it of three letters or more, as a word), login
// or contact email, or phone number, ignoring case.
func quotesMember(reason string, m Member) bool {
	lower := strings.ToLower(reason)
	words := strings.FieldsFunc(lower, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\'' })
	pr := m.profile
	for _, s := range []string{m.email, pr.Contact.Email, pr.Contact.Phone, pr.Name} {
		if s = strings.ToLower(strings.TrimSpace(s)); s != "" && strings.Contains(lower, s) {
			return true
		}
	}
	// A phone number quoted in any format: its last seven digits.
	if digits := onlyDigits(pr.Contact.Phone); len(digits) >= 7 && strings.Contains(onlyDigits(reason), digits[len(digits)-7:]) {
		return true
	}
	for _, part := range strings.Fields(strings.ToLower(pr.Name)) {
		if len([]rune(part)) >= 3 && slices.Contains(words, strings.Trim(part, ".,")) {
			return true
		}
	}
	return false
}

func onlyDigits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// eraseReasonLength bounds the reason recorded with an erasure.
const eraseReasonLength = 200

func decideRequestClosure(p Program, m Member, c RequestAccountClosure) ([]Event, error) {
	if err := checkBasics("memberId", c.MemberID, c.Actor, c.At); err != nil {
		return nil, err
	}
	note, err := cleanNotes("note", c.Note, p.Limits.RequestMessageLength, false)
	if err != nil {
		return nil, err
	}
	if !m.Registered() {
		return nil, refuse(CodeMemberNotFound, "no such member")
	}
	if m.erased {
		return nil, refuse(CodeMemberErased, "this member was erased")
	}
	if !c.Actor.is(m.id, m.role) {
		return nil, refuse(CodeNotYourAccount, "members ask to close their own account")
	}
	if !m.closureAskedAt.IsZero() {
		return nil, refuse(CodeClosureAlreadyRequested, "your request to close the account already waits for staff")
	}
	return []Event{AccountClosureRequested{MemberID: m.id, Note: note, At: c.At.UTC()}}, nil
}

func decideErase(p Program, m Member, c EraseMember) ([]Event, error) {
	if err := checkBasics("memberId", c.MemberID, c.Actor, c.At); err != nil {
		return nil, err
	}
	if c.Actor.Role != RoleStaff && !c.Actor.IsSystem() {
		return nil, refuse(CodeStaffOnly, "only staff erase members")
	}
	reason, err := cleanLine("reason", c.Reason, eraseReasonLength, true)
	if err != nil {
		return nil, err
	}
	if !m.Registered() {
		return nil, refuse(CodeMemberNotFound, "no such member")
	}
	if m.erased {
		return nil, nil
	}
	if c.Actor.ID == m.id {
		return nil, refuse(CodeCannotEraseSelf, "staff cannot erase their own account")
	}
	if open := m.PendingRequests() + m.ActiveMatches() + m.CapacityUsed(); open > 0 {
		return nil, refuse(CodeMemberHasOpenMatch, "%s: end or cancel them first", OpenMatchesText(open))
	}
	if quotesMember(reason, m) {
		return nil, invalid("reason", "must not quote the member's name, email or phone: the reason stays in the record after the erasure")
	}
	if c.Actor.IsSystem() {
		if err := checkRetention(p, m, c.At); err != nil {
			return nil, err
		}
	}
	return []Event{MemberErased{
		MemberID: m.id, Role: m.role, ErasedBy: c.Actor.ID, ActorRole: c.Actor.Role,
		Reason: reason, ClosureRequested: !m.closureAskedAt.IsZero(), At: c.At.UTC(),
	}}, nil
}
