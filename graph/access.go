package graph

import (
	"context"
	"encoding/base64"
	"fmt"
	"github.com/99designs/gqlgen/graphql"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/graph/model"
	"github.com/mentorship/mentorship/projections"
	"github.com/mentorship/mentorship/refusal"
)

// signedIn returns the actor or UNAUTHENTICATED.
func signedIn(ctx context.Context) (domain.Actor, error) {
	a, ok := ActorFrom(ctx)
	if !ok {
		return domain.Actor{}, errUnauthenticated
	}
	return a, nil
}

// requireRole returns the actor when it holds one of roles, UNAUTHENTICATED
// when nobody is signed in and FORBIDDEN otherwise.
func requireRole(ctx context.Context, roles ...domain.Role) (domain.Actor, error) {
	a, err := signedIn(ctx)
	if err != nil {
		return a, err
	}
	if !slices.Contains(roles, a.Role) {
		return a, errForbidden
	}
	return a, nil
}

var members = []domain.Role{domain.RoleMentee, domain.RoleMentor}

// request builds the command request of a mutation.
func request(ctx context.Context, a domain.Actor, clientMutationID *string) command.Request {
	req := command.Request{Actor: a, CorrelationID: requestIDFrom(ctx)}
	if clientMutationID != nil && *clientMutationID != "" {
		// The client's ID is scoped to the actor, so that two members
		// cannot collide.
		req.CommandID = a.ID.String() + ":" + *clientMutationID
		req.Input = inputFingerprint(ctx)
	}
	return req
}

type requestIDKey struct{}

// WithRequestID is HTTP middleware that keeps the ID id returns for each
// request, which errors then carry as extensions.correlationId and events
// as their correlation ID. A nil id keeps none.
func WithRequestID(id func(context.Context) string, next http.Handler) http.Handler {
	if id == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := context.WithValue(r.Context(), requestIDKey{}, id(r.Context()))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// requestIDFrom returns the ID of the request ctx belongs to.
func requestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// page slices a list for Relay pagination with keyset cursors. key gives
// each item a string that is unique and sorts as the list is to be read
// (page sorts by it), led by a letter of the list's kind; a cursor is an
// item's key, and the page after it starts at the first item whose key
// sorts after it. An item added before the cursor, or the cursor's own
// item leaving the list (a pending match accepted), so neither repeats
// nor skips what comes after, as an offset would.
func page[T any](items []T, first *int, after *string, max int, key func(T) string) ([]T, []string, *model.PageInfo, error) {
	n := max
	if first != nil {
		if *first < 0 || *first > max {
			return nil, nil, nil, badInput("first must be between 0 and " + strconv.Itoa(max))
		}
		n = *first
	}
	keys := make([]string, len(items))
	order := make([]int, len(items))
	for i, it := range items {
		keys[i], order[i] = key(it), i
	}
	slices.SortStableFunc(order, func(a, b int) int { return strings.Compare(keys[a], keys[b]) })
	start := 0
	if after != nil && *after != "" {
		b, err := base64.RawURLEncoding.DecodeString(*after)
		if err != nil || !validCursorKey(string(b)) || len(items) > 0 && b[0] != keys[0][0] {
			return nil, nil, nil, badInput("invalid cursor")
		}
		k := string(b)
		start = sort.Search(len(order), func(i int) bool { return keys[order[i]] > k })
	}
	end := min(start+n, len(items))
	out := make([]T, 0, end-start)
	cursors := make([]string, 0, end-start)
	for _, i := range order[start:end] {
		out = append(out, items[i])
		cursors = append(cursors, base64.RawURLEncoding.EncodeToString([]byte(keys[i])))
	}
	info := &model.PageInfo{HasNextPage: end < len(items), HasPreviousPage: start > 0}
	if len(cursors) > 0 {
		info.StartCursor, info.EndCursor = &cursors[0], &cursors[len(cursors)-1]
	}
	return out, cursors, info, nil
}

// timeKey writes t so that keys sort as times do, or the other way round
// with newestFirst: seconds from year 1 and nanoseconds, in fixed-width
// hexadecimal.
func timeKey(t time.Time, newestFirst bool) string {
	sec, nsec := uint64(t.Unix())^1<<63, uint32(t.Nanosecond())
	if newestFirst {
		sec, nsec = ^sec, ^nsec
	}
	return fmt.Sprintf("%016x%08x", sec, nsec)
}

// cursorKeys are the shapes of the keys below, by their leading letter.
var cursorKeys = map[byte]*regexp.Regexp{
	'm': regexp.MustCompile(`^m[0-9a-f]{24}` + uuidPattern + `$`),
	's': regexp.MustCompile(`^s[0-9]{4}-[0-9]{2}-[0-9]{2}[0-9a-f]{24}` + uuidPattern + `$`),
	'r': regexp.MustCompile(`^r[0-9a-f]{24}` + uuidPattern + `$`),
	'h': regexp.MustCompile(`^h[0-9a-f]{16}$`),
}

const uuidPattern = `[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`

// validCursorKey reports whether k is a key of one of the paged lists, as
// page writes them: a cursor the server never gave is refused rather than
// read as a place in the list.
func validCursorKey(k string) bool {
	if k == "" {
		return false
	}
	re := cursorKeys[k[0]]
	return re != nil && re.MatchString(k)
}

// The keys of the paged lists: a member's matches newest request first,
// meeting logs by session date then log time, resources newest first, a
// match's history by position.
func matchKey(m *projections.MatchView) string {
	return "m" + timeKey(m.RequestedAt, true) + m.ID.String()
}

func sessionKey(s projections.SessionView) string {
	return "s" + s.Details.Date.String() + timeKey(s.LoggedAt, false) + s.ID.String()
}

func resourceKey(r projections.ResourceView) string {
	return "r" + timeKey(r.PublishedAt, true) + r.ID.String()
}

func historyKey(h projections.HistoryEntry) string {
	return fmt.Sprintf("h%016x", uint64(h.Position))
}

func groupOf(g *model.MatchGroup) projections.MatchGroup {
	if g == nil {
		return projections.AllMatches
	}
	switch *g {
	case model.MatchGroupPending:
		return projections.PendingMatches
	case model.MatchGroupActive:
		return projections.ActiveMatches
	case model.MatchGroupPast:
		return projections.PastMatches
	}
	return projections.AllMatches
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// patchOf turns the profile input into a patch: a field left out of the
// input is left out of the patch, and an explicit null clears the field.
func patchOf(in model.UpdateProfileInput) domain.ProfilePatch {
	var pp domain.ProfilePatch
	str := func(to *domain.Change[string], o graphql.Omittable[*string]) { change(to, o, deref) }
	num := func(to *domain.Change[int], o graphql.Omittable[*int]) { change(to, o, deref) }
	list := func(to *domain.Change[[]string], o graphql.Omittable[[]string]) { change(to, o, slices.Clip) }
	str(&pp.Name, in.Name)
	str(&pp.Designation, in.Designation)
	str(&pp.Discipline, in.Discipline)
	str(&pp.Industry, in.Industry)
	num(&pp.YearsOfExperience, in.YearsOfExperience)
	list(&pp.Languages, in.Languages)
	str(&pp.Biography, in.Biography)
	list(&pp.Focus, in.Focus)
	if l, ok := in.Location.ValueOK(); ok {
		if l == nil { // null clears the whole location
			l = &model.LocationInput{City: graphql.OmittableOf[*string](nil), Province: graphql.OmittableOf[*string](nil)}
		}
		str(&pp.City, l.City)
		str(&pp.Province, l.Province)
	}
	if sk, ok := in.Skills.ValueOK(); ok {
		m := map[string]int{}
		for _, s := range sk {
			m[s.Skill] = s.Rating
		}
		if len(m) == 0 {
			m = nil
		}
		pp.Skills = domain.To(m)
	}
	if p, ok := in.Preferences.ValueOK(); ok {
		if p == nil {
			p = &model.MeetingPreferencesInput{
				MeetingFormats: graphql.OmittableOf[[]string](nil), MeetingFrequency: graphql.OmittableOf[*string](nil),
				Partner: graphql.OmittableOf[*model.PartnerPreferencesInput](nil),
			}
		}
		list(&pp.MeetingFormats, p.MeetingFormats)
		str(&pp.MeetingFrequency, p.MeetingFrequency)
		if pt, ok := p.Partner.ValueOK(); ok {
			if pt == nil {
				pt = &model.PartnerPreferencesInput{
					Disciplines: graphql.OmittableOf[[]string](nil), Industries: graphql.OmittableOf[[]string](nil),
					Provinces: graphql.OmittableOf[[]string](nil), Languages: graphql.OmittableOf[[]string](nil),
					MinYearsOfExperience: graphql.OmittableOf[*int](nil), Notes: graphql.OmittableOf[*string](nil),
				}
			}
			list(&pp.PartnerDisciplines, pt.Disciplines)
			list(&pp.PartnerIndustries, pt.Industries)
			list(&pp.PartnerProvinces, pt.Provinces)
			list(&pp.PartnerLanguages, pt.Languages)
			num(&pp.PartnerMinYears, pt.MinYearsOfExperience)
			str(&pp.PartnerNotes, pt.Notes)
		}
	}
	if c, ok := in.Contact.ValueOK(); ok {
		if c == nil {
			c = &model.ContactInput{Email: graphql.OmittableOf[*string](nil), Phone: graphql.OmittableOf[*string](nil), PreferredMethod: graphql.OmittableOf[*model.ContactMethod](nil)}
		}
		str(&pp.ContactEmail, c.Email)
		str(&pp.ContactPhone, c.Phone)
		if v, ok := c.PreferredMethod.ValueOK(); ok {
			var m domain.ContactMethod
			if v != nil {
				m = domain.ContactMethod(*v)
			}
			pp.ContactPreferredWay = domain.To(m)
		}
	}
	return pp
}

// checkSkills refuses a Skills Self-Assessment that rates a skill twice,
// which a map would keep silently as the last rating.
func checkSkills(in graphql.Omittable[[]*model.SkillRatingInput]) error {
	seen := map[string]bool{}
	for _, s := range in.Value() {
		if seen[s.Skill] {
			return &refusal.Error{Code: refusal.CodeInvalidInput, Field: "skills", Message: s.Skill + " is rated more than once"}
		}
		seen[s.Skill] = true
	}
	return nil
}

// change sets to from an input field sent (null included), turned into
// the domain's value by value.
func change[V, T any](to *domain.Change[T], o graphql.Omittable[V], value func(V) T) {
	if v, ok := o.ValueOK(); ok {
		*to = domain.To(value(v))
	}
}

func sessionDetails(date domain.Date, minutes, value *int, notes *string) domain.SessionDetails {
	return domain.SessionDetails{Date: date, Minutes: deref(minutes), Value: deref(value), Notes: deref(notes)}
}
