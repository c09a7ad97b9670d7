package projections

import (
	"cmp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"golang.org/x/text/collate"
	"golang.org/x/text/language"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

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

	words []string
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
	if len(q.words) == 0 && q.Words != "" {
		q.words = foldedWords(q.Words)
	}
	if len(q.words) == 0 {
		return true
	}
	have := foldedWords(m.Profile.Name + " " + m.Email + " " + m.Profile.Contact.Email)
	for _, w := range q.words {
		if !slices.ContainsFunc(have, func(h string) bool { return strings.HasPrefix(h, w) }) {
			return false
		}
	}
	return true
}

// Prepare readies the query for many calls of Keep.
func (q DirectoryQuery) Prepare() DirectoryQuery {
	q.words = foldedWords(q.Words)
	return q
}

// foldedWords are the words of text without case or accents, so that
// "cote" and "Côté" find each other: staff type names as they hear them.
func foldedWords(text string) []string {
	words := Words(text)
	for i, w := range words {
		if isASCII(w) {
			continue
		}
		folded, _, err := transform.String(unaccent, w)
		if err == nil {
			words[i] = folded
		}
	}
	return words
}

var unaccent = transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// DirectoryOrder orders members by name as people read names (without
// regard to case or accents: "Côté" among the Cs), then by ID, so that the
// order is total and pages are stable. It is not safe for concurrent use.
type DirectoryOrder struct{ c *collate.Collator }

// NewDirectoryOrder returns an order for one listing.
func NewDirectoryOrder() DirectoryOrder {
	return DirectoryOrder{collate.New(language.Und, collate.Loose)}
}

// Compare orders two members' names and IDs.
func (o DirectoryOrder) Compare(aName string, aID uuid.UUID, bName string, bID uuid.UUID) int {
	return cmp.Or(o.c.CompareString(aName, bName), cmp.Compare(aName, bName), cmp.Compare(aID.String(), bID.String()))
}

// Sort orders members.
func (o DirectoryOrder) Sort(ms []*MemberView) {
	slices.SortFunc(ms, func(a, b *MemberView) int { return o.Compare(a.Profile.Name, a.ID, b.Profile.Name, b.ID) })
}
