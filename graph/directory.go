package graph

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/graph/model"
	"github.com/mentorship/mentorship/projections"
)

// The directory's words are bounded, so that a lookup's cost stays small.
const (
	maxDirectoryWords  = 10
	maxDirectoryLength = 200
)

// memberDirectory lists the members staff look for, by name.
func (r *Resolver) memberDirectory(ctx context.Context, filter *model.MemberFilter, first *int, after *string) (*model.MemberConnection, error) {
	a, err := requireRole(ctx, domain.RoleStaff)
	if err != nil {
		return nil, err
	}
	q := projections.DirectoryQuery{Roles: []domain.Role{domain.RoleMentee, domain.RoleMentor}}
	var status *model.MemberStatus
	days := int(r.program().ResponseWindow / (24 * time.Hour))
	if f := filter; f != nil {
		if err := domain.CheckText("words", deref(f.Words), domain.SingleLine); err != nil {
			return nil, badInput(err.Error())
		}
		if w := deref(f.Words); len(w) > maxDirectoryLength || len(projections.Words(w)) > maxDirectoryWords {
			return nil, badInput(fmt.Sprintf("words: at most %d words and %d characters", maxDirectoryWords, maxDirectoryLength))
		}
		for _, role := range f.Roles {
			if role != model.RoleMentee && role != model.RoleMentor {
				return nil, badInput("roles: the directory lists mentees and mentors")
			}
		}
		q.Words, q.Disciplines, q.Provinces = deref(f.Words), f.Disciplines, f.Provinces
		if len(f.Roles) > 0 {
			q.Roles = q.Roles[:0]
			for _, role := range f.Roles {
				q.Roles = append(q.Roles, domain.Role(role))
			}
		}
		status = f.Status
		if f.PendingOlderThanDays != nil {
			if status == nil || *status != model.MemberStatusPendingOlderThan {
				return nil, badInput("pendingOlderThanDays goes with status PENDING_OLDER_THAN")
			}
			if *f.PendingOlderThanDays < 0 || *f.PendingOlderThanDays > 3650 {
				return nil, badInput("pendingOlderThanDays must be between 0 and 3650")
			}
			days = *f.PendingOlderThanDays
		}
	}
	found, err := r.Members.Scan(q.Prepare().Keep)
	if err != nil {
		return nil, err
	}
	if status != nil {
		now := r.Clock.Now()
		kept := found[:0]
		for _, m := range found {
			has, err := r.hasStatus(m.ID, *status, now, days)
			if err != nil {
				return nil, err
			}
			if has {
				kept = append(kept, m)
			}
		}
		found = kept
	}
	order := projections.NewDirectoryOrder()
	order.Sort(found)
	n := 20
	if first != nil {
		if *first < 0 || *first > maxPage {
			return nil, badInput(fmt.Sprintf("first must be between 0 and %d", maxPage))
		}
		n = *first
	}
	// A cursor names the member it follows, not an index, so that pages
	// go on where they left off while members join or change names.
	start := 0
	if after != nil && *after != "" {
		name, id, err := parseMemberCursor(*after)
		if err != nil {
			return nil, err
		}
		start, _ = slices.BinarySearchFunc(found, 0, func(v *projections.MemberView, _ int) int {
			if order.Compare(v.Profile.Name, v.ID, name, id) <= 0 {
				return -1
			}
			return 1
		})
	}
	end := min(start+n, len(found))
	conn := &model.MemberConnection{Edges: make([]*model.MemberEdge, 0, end-start), TotalCount: len(found),
		PageInfo: &model.PageInfo{HasNextPage: end < len(found), HasPreviousPage: start > 0}}
	for _, v := range found[start:end] {
		m, err := r.showMember(a, v)
		if err != nil {
			return nil, err
		}
		conn.Edges = append(conn.Edges, &model.MemberEdge{Cursor: memberCursor(v), Node: m})
	}
	if k := len(conn.Edges); k > 0 {
		conn.PageInfo.StartCursor, conn.PageInfo.EndCursor = &conn.Edges[0].Cursor, &conn.Edges[k-1].Cursor
	}
	return conn, nil
}

// memberCursor names a member's place in the directory: the name and ID.
func memberCursor(v *projections.MemberView) string {
	return base64.RawURLEncoding.EncodeToString([]byte("m1\x00" + v.ID.String() + "\x00" + v.Profile.Name))
}

func parseMemberCursor(c string) (string, uuid.UUID, error) {
	bad := badInput("invalid cursor")
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return "", uuid.Nil, bad
	}
	parts := strings.SplitN(string(raw), "\x00", 3)
	if len(parts) != 3 || parts[0] != "m1" {
		return "", uuid.Nil, bad
	}
	id, err := uuid.Parse(parts[1])
	if err != nil {
		return "", uuid.Nil, bad
	}
	return parts[2], id, nil
}

// hasStatus reports whether a member stands where the directory's status
// asks: a pending request (one that has waited days or more), an active
// match, or neither.
func (r *Resolver) hasStatus(id uuid.UUID, status model.MemberStatus, now time.Time, days int) (bool, error) {
	switch status {
	case model.MemberStatusPendingRequest:
		pending, err := r.Matches.MatchesOf(id, projections.PendingMatches)
		return len(pending) > 0, err
	case model.MemberStatusPendingOlderThan:
		pending, err := r.Matches.MatchesOf(id, projections.PendingMatches)
		for _, m := range pending {
			if now.Sub(m.RequestedAt) >= time.Duration(days)*24*time.Hour {
				return true, nil
			}
		}
		return false, err
	case model.MemberStatusActiveMatch:
		active, err := r.Matches.MatchesOf(id, projections.ActiveMatches)
		return len(active) > 0, err
	case model.MemberStatusNoMatch:
		open, err := projections.OpenMatches(r.Matches, id)
		return open == 0, err
	}
	return false, nil
}

// memberMatches lists a member's matches for staff; null for others.
func (r *Resolver) memberMatches(ctx context.Context, obj *model.Member, group *model.MatchGroup, first *int, after *string) (*model.MatchConnection, error) {
	a, _ := ActorFrom(ctx)
	if a.Role != domain.RoleStaff {
		return nil, nil
	}
	matches, err := r.Matches.MatchesOf(obj.MemberID, groupOf(group))
	if err != nil {
		return nil, err
	}
	return matchConnection(a, matches, first, after)
}

// matchConnection pages a member's matches as a must see them.
func matchConnection(a domain.Actor, all []*projections.MatchView, first *int, after *string) (*model.MatchConnection, error) {
	items, cursors, info, err := page(all, first, after, maxPage, matchKey)
	if err != nil {
		return nil, err
	}
	conn := &model.MatchConnection{Edges: make([]*model.MatchEdge, len(items)), PageInfo: info, TotalCount: len(all)}
	for i, m := range items {
		conn.Edges[i] = &model.MatchEdge{Cursor: cursors[i], Node: asSeenBy(a, matchModel(m))}
	}
	return conn, nil
}

// recommendedMentors ranks the open mentors for a mentee: the viewer
// (mentees) or the mentee staff name.
func (r *Resolver) recommendedMentors(ctx context.Context, menteeID *string, first *int) ([]*model.MentorRecommendation, error) {
	a, err := requireRole(ctx, domain.RoleMentee, domain.RoleStaff)
	if err != nil {
		return nil, err
	}
	n := 10
	if first != nil {
		if *first < 0 || *first > maxPage {
			return nil, badInput(fmt.Sprintf("first must be between 0 and %d", maxPage))
		}
		n = *first
	}
	id := a.ID
	switch {
	case menteeID != nil && a.Role == domain.RoleStaff:
		if id, err = model.ParseID(*menteeID, model.KindMember); err != nil {
			return nil, err
		}
	case menteeID != nil:
		// A mentee asks for their own recommendations only.
		if id, err = model.ParseID(*menteeID, model.KindMember); err != nil {
			return nil, err
		}
		if id != a.ID {
			return nil, errForbidden
		}
	case a.Role == domain.RoleStaff:
		return nil, badInput("menteeId is required for staff")
	}
	mentee, ok, err := r.Members.Member(id)
	if err != nil {
		return nil, err
	}
	if !ok || mentee.Role != domain.RoleMentee {
		return nil, errNotFound
	}
	taken := map[uuid.UUID]bool{}
	for _, g := range []projections.MatchGroup{projections.PendingMatches, projections.ActiveMatches} {
		matches, err := r.Matches.MatchesOf(id, g)
		if err != nil {
			return nil, err
		}
		for _, m := range matches {
			taken[m.MentorID] = true
		}
	}
	// Every member is scored as the scan goes, without copies; only the
	// best are read whole and explained.
	best := &projections.Recommender{Mentee: mentee, Exclude: taken, N: n}
	if _, err := r.Members.Scan(best.Consider); err != nil {
		return nil, err
	}
	top, err := r.Members.MembersByID(best.Top())
	if err != nil {
		return nil, err
	}
	var recs []projections.Recommendation
	for _, v := range top {
		if v != nil {
			recs = append(recs, projections.Score(mentee, v))
		}
	}
	out := make([]*model.MentorRecommendation, 0, len(recs))
	for _, rec := range recs {
		m, err := r.showMember(a, rec.Mentor)
		if err != nil {
			return nil, err
		}
		if m == nil {
			continue
		}
		mr := &model.MentorRecommendation{Mentor: m, Score: rec.Score, Reasons: make([]*model.RecommendationReason, len(rec.Reasons))}
		for i, why := range rec.Reasons {
			values := why.Values
			if values == nil {
				values = []string{}
			}
			mr.Reasons[i] = &model.RecommendationReason{Kind: model.RecommendationReasonKind(why.Kind), Points: why.Points, Values: values, Text: why.Text}
		}
		out = append(out, mr)
	}
	return out, nil
}

// profileReview is the prompt to review the profile after a match ended.
func (r *Resolver) profileReview(ctx context.Context, v *model.Viewer) (*model.ProfileReview, error) {
	if v.Role != model.RoleMentee && v.Role != model.RoleMentor {
		return nil, nil
	}
	m, err := r.member(ctx, v.Actor.ID)
	if err != nil || m == nil || !m.ReviewDue() {
		return nil, err
	}
	return &model.ProfileReview{
		AskedAt:  m.ReviewRequested,
		Sections: []model.ProfileSection{model.ProfileSectionFocus, model.ProfileSectionSkills, model.ProfileSectionPreferences},
	}, nil
}

// matchOfStatusEvent is the match a pushed status change is about, as the
// subscriber may see it now: at least as new as the change.
func (r *Resolver) matchOfStatusEvent(ctx context.Context, e *model.MatchStatusEvent) (*model.Match, error) {
	a, err := signedIn(ctx)
	if err != nil {
		return nil, err
	}
	id, err := model.ParseID(e.MatchID, model.KindMatch)
	if err != nil {
		return nil, err
	}
	// matchEvents reads the log itself, ahead of the read models: wait
	// until they show the change, so that a client's cached match never
	// goes back to an older status.
	if err := r.waitShown(ctx, e.Position); err != nil {
		return nil, err
	}
	m, err := r.visibleMatch(a, id)
	if err != nil {
		return nil, err
	}
	if m == nil {
		return nil, errNotFound
	}
	return m, nil
}
