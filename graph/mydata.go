package graph

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/projections"
)

// MyDataPath is where a signed-in account downloads what the program holds
// about it.
const MyDataPath = "/me/data"

// myData is what the program holds about one account: the answer to "what
// do you hold about me?". The member's own words are in full (profile,
// request messages, meeting logs with notes, file names of their
// uploads); another person's are left out as auditors do not see them
// (domain.AuditView), since they are that person's data.
type myData struct {
	GeneratedAt time.Time           `json:"generatedAt"`
	Position    eventstore.Position `json:"position,string"`
	Account     myAccount           `json:"account"`
	Profile     *domain.Profile     `json:"profile,omitempty"`
	Matches     []myMatch           `json:"matches"`
	Sessions    []mySession         `json:"sessions"`
	Documents   []myDocument        `json:"documents"`
	Emails      []myEmail           `json:"emails"`
}

type myAccount struct {
	ID                uuid.UUID   `json:"id"`
	Role              domain.Role `json:"role"`
	LoginEmail        string      `json:"loginEmail"`
	RegisteredAt      time.Time   `json:"registeredAt"`
	Capacity          *int        `json:"capacity,omitempty"`
	AcceptingRequests *bool       `json:"acceptingRequests,omitempty"`
	ReviewRequestedAt *time.Time  `json:"profileReviewRequestedAt,omitempty"`
}

type myMatch struct {
	ID            uuid.UUID          `json:"id"`
	MyRole        domain.Role        `json:"myRole"`
	Partner       myPartner          `json:"partner"`
	Status        domain.MatchStatus `json:"status"`
	RequestedAt   time.Time          `json:"requestedAt"`
	AcceptedAt    *time.Time         `json:"acceptedAt,omitempty"`
	ClosedAt      *time.Time         `json:"closedAt,omitempty"`
	DeclineReason string             `json:"declineReason,omitempty"`
	EndReason     string             `json:"endReason,omitempty"`
	History       []myEvent          `json:"history"`
}

type myPartner struct {
	ID   uuid.UUID `json:"id"`
	Name string    `json:"name"`
	// Erased tells that the partner's personal data was erased: the
	// match and its history stay, the partner is shown by the erased name.
	Erased bool `json:"erased,omitempty"`
}

type myEvent struct {
	Position   eventstore.Position `json:"position,string"`
	Type       string              `json:"type"`
	ByMe       bool                `json:"byMe"`
	OccurredAt time.Time           `json:"occurredAt"`
	Data       json.RawMessage     `json:"data"`
}

type mySession struct {
	ID        uuid.UUID             `json:"id"`
	MatchID   uuid.UUID             `json:"matchId"`
	Details   domain.SessionDetails `json:"details"`
	LoggedAt  time.Time             `json:"loggedAt"`
	EditedAt  *time.Time            `json:"editedAt,omitempty"`
	Revisions int                   `json:"revisions"`
}

type myDocument struct {
	ID          uuid.UUID `json:"id"`
	MatchID     uuid.UUID `json:"matchId"`
	Name        string    `json:"name"`
	Version     int       `json:"version"`
	Size        int64     `json:"size"`
	ContentType string    `json:"contentType"`
	SHA256      string    `json:"sha256"`
	UploadedAt  time.Time `json:"uploadedAt"`
	Removed     bool      `json:"removed"`
}

type myEmail struct {
	ID        string     `json:"id"`
	MatchID   uuid.UUID  `json:"matchId"`
	Kind      string     `json:"kind"`
	To        string     `json:"to"`
	Subject   string     `json:"subject"`
	Status    string     `json:"status"`
	CreatedAt time.Time  `json:"createdAt"`
	SentAt    *time.Time `json:"sentAt,omitempty"`
}

// MyDataHandler serves GET MyDataPath: a JSON attachment of everything the
// program holds about the signed-in account. Mount it behind Authenticate.
func MyDataHandler(r *Resolver) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodGet {
			w.Header().Set("Allow", http.MethodGet)
			http.Error(w, "only GET is allowed", http.StatusMethodNotAllowed)
			return
		}
		a, ok := ActorFrom(req.Context())
		if !ok {
			w.Header().Set("WWW-Authenticate", "Bearer")
			WriteError(w, req, http.StatusUnauthorized, errUnauthenticated)
			return
		}
		doc, err := r.myData(req, a)
		if err != nil {
			logFor(req.Context(), r.Log).Warn().Err(err).Str("member_id", a.ID.String()).Msg("a member's data could not be gathered")
			WriteError(w, req, http.StatusServiceUnavailable, err)
			return
		}
		body, err := json.MarshalIndent(doc, "", "  ")
		if err != nil {
			WriteError(w, req, http.StatusInternalServerError, err)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Content-Disposition", `attachment; filename="mentorship-my-data.json"`)
		h.Set("Cache-Control", "private, no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(append(body, '\n'))
	})
}

func (r *Resolver) myData(req *http.Request, a domain.Actor) (myData, error) {
	ctx := req.Context()
	doc := myData{GeneratedAt: r.Clock.Now().UTC(), Matches: []myMatch{}, Sessions: []mySession{}, Documents: []myDocument{}, Emails: []myEmail{}}
	var err error
	if doc.Position, err = r.Store.Head(ctx); err != nil {
		return doc, err
	}
	v, ok, err := r.Members.Member(a.ID)
	if err != nil {
		return doc, err
	}
	if !ok {
		doc.Account = myAccount{ID: a.ID, Role: a.Role}
		return doc, nil
	}
	doc.Account = myAccount{ID: v.ID, Role: v.Role, LoginEmail: v.Email, RegisteredAt: v.RegisteredAt}
	if v.Role == domain.RoleMentor {
		capacity, accepting := v.Capacity, v.Accepting
		doc.Account.Capacity, doc.Account.AcceptingRequests = &capacity, &accepting
	}
	if !v.ReviewRequested.IsZero() {
		doc.Account.ReviewRequestedAt = &v.ReviewRequested
	}
	if v.Role != domain.RoleMentee && v.Role != domain.RoleMentor {
		return doc, nil
	}
	profile := v.Profile
	doc.Profile = &profile
	matches, err := r.Matches.MatchesOf(a.ID, projections.AllMatches)
	if err != nil {
		return doc, err
	}
	for _, m := range matches {
		mm, err := r.myMatch(req, a, m)
		if err != nil {
			return doc, err
		}
		doc.Matches = append(doc.Matches, mm)
		for _, d := range m.Documents {
			if d.UploaderID == a.ID {
				doc.Documents = append(doc.Documents, myDocument{ID: d.ID, MatchID: m.ID, Name: d.Name, Version: d.Version, Size: d.Size,
					ContentType: d.ContentType, SHA256: d.SHA256, UploadedAt: d.AddedAt, Removed: d.Removed})
			}
		}
		if r.Outbox == nil {
			continue
		}
		emails, err := r.Outbox.ForMatch(m.ID)
		if err != nil {
			return doc, err
		}
		for _, e := range emails {
			if e.RecipientID == a.ID {
				doc.Emails = append(doc.Emails, myEmail{ID: e.ID, MatchID: e.MatchID, Kind: string(e.Kind), To: e.To, Subject: e.Subject,
					Status: string(e.Status), CreatedAt: e.CreatedAt, SentAt: timePtr(e.SentAt)})
			}
		}
	}
	sessions, err := r.Matches.SessionsOf(a.ID, uuid.Nil)
	if err != nil {
		return doc, err
	}
	for _, s := range sessions {
		doc.Sessions = append(doc.Sessions, mySession{ID: s.ID, MatchID: s.MatchID, Details: s.Details, LoggedAt: s.LoggedAt,
			EditedAt: timePtr(s.EditedAt), Revisions: s.Revisions})
	}
	return doc, nil
}

// myMatch is one of the member's matches with its history: the member's
// own events in full, the others' as auditors see them.
func (r *Resolver) myMatch(req *http.Request, a domain.Actor, m *projections.MatchView) (myMatch, error) {
	out := myMatch{ID: m.ID, Status: m.Status, RequestedAt: m.RequestedAt, AcceptedAt: timePtr(m.AcceptedAt), ClosedAt: timePtr(m.ClosedAt),
		DeclineReason: m.DeclineReason, EndReason: m.EndReason, History: []myEvent{}}
	partner := m.MentorID
	out.MyRole = domain.RoleMentee
	if a.ID == m.MentorID {
		partner, out.MyRole = m.MenteeID, domain.RoleMentor
	}
	out.Partner.ID = partner
	p, ok, err := r.Members.Member(partner)
	if err != nil {
		return out, err
	}
	if ok {
		out.Partner.Name, out.Partner.Erased = p.Profile.Name, p.Erased()
	}
	hist, err := projections.MatchHistory(req.Context(), r.Store, m.ID)
	if err != nil {
		return out, err
	}
	for _, h := range hist {
		byMe := h.ActorID == a.ID.String()
		data := []byte(h.Data)
		if !byMe {
			data, _ = domain.AuditView(h.Type, data)
		}
		out.History = append(out.History, myEvent{Position: h.Position, Type: h.Type, ByMe: byMe, OccurredAt: h.OccurredAt, Data: data})
	}
	return out, nil
}
