package projections

import (
	"cmp"
	"slices"
	"strings"

	"github.com/mentorship/mentorship/domain"
)

// DirectoryQuery is what staff look members up by. Every condition given
// must hold; the match status, which needs the matches read model, is
// left to the caller.
type DirectoryQuery struct {
	// Words each begin a word of the member's name, login email or
	// contact email, in any case.
	Words string
	// Roles, Disciplines and Provinces, when not empty, list the values
	// a member may have.
	Roles       []domain.Role
	Disciplines []string
	Provinces   []string
}

// Keep reports whether m meets the query.
func (q DirectoryQuery) Keep(m *MemberView) bool {
	if len(q.Roles) > 0 && !slices.Contains(q.Roles, m.Role) {
		return false
	}
	if len(q.Disciplines) > 0 && !slices.Contains(q.Disciplines, m.Profile.Discipline) {
		return false
	}
	if len(q.Provinces) > 0 && !slices.Contains(q.Provinces, m.Profile.Location.Province) {
		return false
	}
	want := Words(q.Words)
	if len(want) == 0 {
		return true
	}
	have := Words(m.Profile.Name + " " + m.Email + " " + m.Profile.Contact.Email)
	for _, w := range want {
		if !slices.ContainsFunc(have, func(h string) bool { return strings.HasPrefix(h, w) }) {
			return false
		}
	}
	return true
}

// SortDirectory orders members by name, in any case, then by ID, so that
// pages are stable.
func SortDirectory(ms []*MemberView) {
	slices.SortFunc(ms, func(a, b *MemberView) int {
		return cmp.Or(
			cmp.Compare(strings.ToLower(a.Profile.Name), strings.ToLower(b.Profile.Name)),
			cmp.Compare(a.ID.String(), b.ID.String()),
		)
	})
}
