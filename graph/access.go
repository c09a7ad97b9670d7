package graph

import (
	"context"
	"encoding/base64"
	"net/http"
	"slices"
	"strconv"

	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/graph/model"
	"github.com/mentorship/mentorship/projections"
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

// profileOf turns the profile input into the domain's profile.
func profileOf(in model.UpdateProfileInput) domain.Profile {
	pr := domain.Profile{
		Name:              in.Name,
		Designation:       deref(in.Designation),
		Discipline:        deref(in.Discipline),
		Industry:          deref(in.Industry),
		YearsOfExperience: deref(in.YearsOfExperience),
		Languages:         in.Languages,
		Biography:         deref(in.Biography),
		Focus:             in.Focus,
	}
	if in.Location != nil {
		pr.Location = domain.Location{City: deref(in.Location.City), Province: deref(in.Location.Province)}
	}
	if len(in.Skills) > 0 {
		pr.Skills = map[string]int{}
		for _, s := range in.Skills {
			pr.Skills[s.Skill] = s.Rating
		}
	}
	if p := in.Preferences; p != nil {
		pr.Preferences.MeetingFormats = p.MeetingFormats
		pr.Preferences.MeetingFrequency = deref(p.MeetingFrequency)
		if pp := p.Partner; pp != nil {
			pr.Preferences.Partner = domain.PartnerPreferences{
				Disciplines: pp.Disciplines, Industries: pp.Industries, Provinces: pp.Provinces, Languages: pp.Languages,
				MinYearsOfExperience: deref(pp.MinYearsOfExperience), Notes: deref(pp.Notes),
			}
		}
	}
	if c := in.Contact; c != nil {
		pr.Contact = domain.Contact{Email: deref(c.Email), Phone: deref(c.Phone)}
		if c.PreferredMethod != nil {
			pr.Contact.PreferredMethod = domain.ContactMethod(*c.PreferredMethod)
		}
	}
	return pr
}

func sessionDetails(date domain.Date, minutes, value *int, notes *string) domain.SessionDetails {
	return domain.SessionDetails{Date: date, Minutes: deref(minutes), Value: deref(value), Notes: deref(notes)}
}
