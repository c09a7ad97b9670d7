package domain

import "github.com/google/uuid"

// Role is the part an account plays. A member's role is fixed when the
// member registers: mentee and mentor accounts are separate.
type Role string

// The roles of accounts, and the role of the program's own processes.
const (
	// RoleMentee is a member who looks for a mentor.
	RoleMentee Role = "MENTEE"
	// RoleMentor is a member who mentors.
	RoleMentor Role = "MENTOR"
	// RoleStaff is a program staff member.
	RoleStaff Role = "STAFF"
	// RoleAuditor reads the history of matches and changes nothing.
	RoleAuditor Role = "AUDITOR"
	// RoleSystem is the program's own processes (process managers, the
	// operator's commands). No account has it.
	RoleSystem Role = "SYSTEM"
)

// SystemActorID is the actor ID recorded in event metadata for the
// program's own processes.
const SystemActorID = "system"

// Actor is who issues a command, as the authentication layer established it.
type Actor struct {
	// ID is the account's member ID; it is uuid.Nil for the system.
	ID uuid.UUID
	// Role is the role the account acts in.
	Role Role
}

// SystemActor returns the actor of the program's own processes.
func SystemActor() Actor { return Actor{Role: RoleSystem} }

// IsSystem reports whether a is the program's own processes.
func (a Actor) IsSystem() bool { return a.Role == RoleSystem }

// MetadataID returns the actor ID to record in event metadata:
// SystemActorID for the system and the member ID otherwise.
func (a Actor) MetadataID() string {
	if a.IsSystem() {
		return SystemActorID
	}
	return a.ID.String()
}

func (a Actor) validate() error {
	switch a.Role {
	case RoleSystem:
		if a.ID != uuid.Nil {
			return invalid("actor", "the system actor has no member ID")
		}
		return nil
	case RoleMentee, RoleMentor, RoleStaff, RoleAuditor:
		if a.ID == uuid.Nil {
			return invalid("actor", "the actor has no member ID")
		}
		return nil
	default:
		return invalid("actor", "unknown role %q", a.Role)
	}
}

// is reports whether a is the member id acting in role.
func (a Actor) is(id uuid.UUID, role Role) bool {
	return a.Role == role && a.ID == id && id != uuid.Nil
}
