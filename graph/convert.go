package graph

import (
	"time"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/graph/model"
	"github.com/mentorship/mentorship/projections"
)

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func intPtr(n int) *int {
	if n == 0 {
		return nil
	}
	return &n
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// memberModel shows a member's public profile. Contact information travels
// in Private, for the contact resolver to show or withhold.
//
// A page of search results converts a member per hit, so the member, the
// objects it points to and the optional values are allocated together in
// one block rather than one by one: the pointers into the block keep it
// alive as long as any of them is in use.
func memberModel(v *projections.MemberView) *model.Member {
	pr := v.Profile
	b := &memberBlock{}
	m := &b.member
	*m = model.Member{
		ID:                model.GlobalID(model.KindMember, v.ID),
		Role:              model.Role(v.Role),
		Name:              pr.Name,
		Designation:       b.str(0, pr.Designation),
		Discipline:        b.str(1, pr.Discipline),
		Industry:          b.str(2, pr.Industry),
		Location:          &b.location,
		YearsOfExperience: b.int(0, pr.YearsOfExperience),
		Languages:         orEmpty(pr.Languages),
		Biography:         b.str(3, pr.Biography),
		Focus:             orEmpty(pr.Focus),
		Preferences:       &b.preferences,
		Available:         v.Open(),
		Erased:            v.Erased(),
		MemberID:          v.ID,
		Private:           pr.Contact,
		SkillRatings:      pr.Skills,
	}
	b.location = model.Location{City: b.str(4, pr.Location.City), Province: b.str(5, pr.Location.Province)}
	b.preferences = model.MeetingPreferences{
		MeetingFormats:   orEmpty(pr.Preferences.MeetingFormats),
		MeetingFrequency: b.str(6, pr.Preferences.MeetingFrequency),
		Partner:          &b.partner,
	}
	b.partner = model.PartnerPreferences{
		Disciplines:          orEmpty(pr.Preferences.Partner.Disciplines),
		Industries:           orEmpty(pr.Preferences.Partner.Industries),
		Provinces:            orEmpty(pr.Preferences.Partner.Provinces),
		Languages:            orEmpty(pr.Preferences.Partner.Languages),
		MinYearsOfExperience: b.int(1, pr.Preferences.Partner.MinYearsOfExperience),
		Notes:                b.str(7, pr.Preferences.Partner.Notes),
	}
	if !v.ClosureRequested.IsZero() {
		m.Closure = &model.ClosureRequest{Member: m, Note: strPtr(v.ClosureNote), RequestedAt: v.ClosureRequested}
	}
	if v.Role == domain.RoleMentor {
		b.capacity, b.accepting = v.Capacity, v.Accepting
		m.Capacity, m.AcceptingRequests = &b.capacity, &b.accepting
	}
	return m
}

// memberBlock holds a member as the API shows it and everything its
// fields point to, so that memberModel allocates them at once.
type memberBlock struct {
	member      model.Member
	location    model.Location
	preferences model.MeetingPreferences
	partner     model.PartnerPreferences
	strs        [8]string
	ints        [2]int
	capacity    int
	accepting   bool
}

// str is strPtr with the string kept in the block's slot i.
func (b *memberBlock) str(i int, s string) *string {
	if s == "" {
		return nil
	}
	b.strs[i] = s
	return &b.strs[i]
}

// int is intPtr with the number kept in the block's slot i.
func (b *memberBlock) int(i int, n int) *int {
	if n == 0 {
		return nil
	}
	b.ints[i] = n
	return &b.ints[i]
}

func matchModel(v *projections.MatchView) *model.Match {
	return &model.Match{
		ID:                  model.GlobalID(model.KindMatch, v.ID),
		Status:              model.MatchStatus(v.Status),
		Message:             strPtr(v.Message),
		RequestedAt:         v.RequestedAt,
		AcceptedAt:          timePtr(v.AcceptedAt),
		ClosedAt:            timePtr(v.ClosedAt),
		DeclineReason:       strPtr(v.DeclineReason),
		EndReason:           strPtr(v.EndReason),
		WindowElapsedMarked: v.WindowElapsed,
		NudgeRequested:      v.NudgeRequested,
		LastNudgedAt:        timePtr(v.LastNudgeAt),
		Position:            v.Position,
		MatchID:             v.ID,
		MenteeID:            v.MenteeID,
		MentorID:            v.MentorID,
		EndAsk:              endAskModel(v.EndAsk),
		HasSessions:         v.SessionCount > 0,
	}
}

func endAskModel(a *projections.EndAsk) *model.EndAsk {
	if a == nil {
		return nil
	}
	return &model.EndAsk{By: a.By, Reason: a.Reason, Note: strPtr(a.Note), At: a.At}
}

// matchAsOfModel shows a match's state computed from its history.
func matchAsOfModel(m domain.Match, pos model.Position) *model.Match {
	end := m.EndReason()
	return &model.Match{
		ID:             model.GlobalID(model.KindMatch, m.ID()),
		Status:         model.MatchStatus(m.Status()),
		RequestedAt:    m.RequestedAt(),
		AcceptedAt:     timePtr(m.AcceptedAt()),
		ClosedAt:       timePtr(m.ClosedAt()),
		EndReason:      strPtr(end),
		LastNudgedAt:   timePtr(m.LastNudgeAt()),
		NudgeRequested: m.NudgeRequested(),
		Position:       pos,
		MatchID:        m.ID(),
		MenteeID:       m.MenteeID(),
		MentorID:       m.MentorID(),
		HasSessions:    m.HasSessions(),
	}
}

func sessionModel(s projections.SessionView) *model.Session {
	d := s.Details
	return &model.Session{
		ID:        model.GlobalID(model.KindSession, s.ID),
		Date:      d.Date,
		Minutes:   intPtr(d.Minutes),
		Notes:     strPtr(d.Notes),
		Value:     intPtr(d.Value),
		LoggedAt:  s.LoggedAt,
		EditedAt:  timePtr(s.EditedAt),
		Revisions: s.Revisions,
		MatchID:   s.MatchID,
	}
}

func resourceModel(r projections.ResourceView) *model.Resource {
	return &model.Resource{
		ID:          model.GlobalID(model.KindResource, r.ID),
		Title:       r.Title,
		Description: strPtr(r.Description),
		URL:         strPtr(r.URL),
		Text:        strPtr(r.Text),
		Audience:    model.Audience(r.Audience),
		PublishedAt: r.PublishedAt,
		Retired:     r.Retired,
	}
}

func documentModel(d projections.DocumentView) *model.Document {
	return &model.Document{
		ID:          model.GlobalID(model.KindDocument, d.ID),
		Name:        d.Name,
		Version:     d.Version,
		Size:        int(d.Size),
		ContentType: d.ContentType,
		Sha256:      d.SHA256,
		UploadedAt:  d.AddedAt,
		Removed:     d.Removed,
		DownloadURL: downloadURL(d.ID),
		UploaderID:  d.UploaderID,
	}
}

func dashboardModel(d projections.Dashboard) *model.Dashboard {
	return &model.Dashboard{
		ID:      "dashboard",
		Pending: d.Pending, Active: d.Active, Declined: d.Declined, Cancelled: d.Cancelled, Ended: d.Ended,
		AcceptanceRate: d.AcceptanceRate, DeclineRate: d.DeclineRate, MedianDaysToResponse: d.MedianDaysToResponse,
		SessionsThisMonth: d.SessionsThisMonth, HoursThisMonth: float64(d.MinutesThisMonth) / 60,
		Position: d.Position,
	}
}
