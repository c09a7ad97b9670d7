package graph

import (
	"context"
	"encoding/base64"
	"github.com/99designs/gqlgen/graphql"
	"net/http"
	"slices"
	"strconv"

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

// page slices a list for Relay pagination with offset cursors.
func page[T any](items []T, first *int, after *string, max int) ([]T, []string, *model.PageInfo, error) {
	n := max
	if first != nil {
		if *first < 0 || *first > max {
			return nil, nil, nil, badInput("first must be between 0 and " + strconv.Itoa(max))
		}
		n = *first
	}
	start := 0
	if after != nil && *after != "" {
		b, err := base64.RawURLEncoding.DecodeString(*after)
		off, err2 := strconv.Atoi(string(b))
		if err != nil || err2 != nil || off < 0 || off >= len(items)+1 {
			return nil, nil, nil, badInput("invalid cursor")
		}
		start = off + 1
	}
	start = min(start, len(items))
	end := min(start+n, len(items))
	out := items[start:end]
	cursors := make([]string, len(out))
	for i := range out {
		cursors[i] = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(start + i)))
	}
	info := &model.PageInfo{HasNextPage: end < len(items), HasPreviousPage: start > 0}
	if len(cursors) > 0 {
		info.StartCursor, info.EndCursor = &cursors[0], &cursors[len(cursors)-1]
	}
	return out, cursors, info, nil
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
