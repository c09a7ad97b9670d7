package domain

import (
	"fmt"
	"net/url"
	"time"

	"github.com/google/uuid"
)

// Audience says which members see a resource.
type Audience string

// The audiences of a resource.
const (
	// AudienceMentees shows a resource to mentees.
	AudienceMentees Audience = "MENTEES"
	// AudienceMentors shows a resource to mentors.
	AudienceMentors Audience = "MENTORS"
	// AudienceBoth shows a resource to every member.
	AudienceBoth Audience = "BOTH"
)

// Includes reports whether members of role see resources for a.
func (a Audience) Includes(role Role) bool {
	switch role {
	case RoleMentee:
		return a == AudienceMentees || a == AudienceBoth
	case RoleMentor:
		return a == AudienceMentors || a == AudienceBoth
	default:
		return false
	}
}

// ResourcePublished records a program resource that staff published: a link
// or a text, for mentees, mentors or both.
type ResourcePublished struct {
	ResourceID  uuid.UUID `json:"resourceId"`
	PublishedBy uuid.UUID `json:"publishedBy"`
	Title       string    `json:"title"`
	Description string    `json:"description,omitempty"`
	URL         string    `json:"url,omitempty"`
	Text        string    `json:"text,omitempty"`
	Audience    Audience  `json:"audience"`
	At          time.Time `json:"at"`
}

// ResourceRetired records staff withdrawing a resource.
type ResourceRetired struct {
	ResourceID uuid.UUID `json:"resourceId"`
	RetiredBy  uuid.UUID `json:"retiredBy"`
	At         time.Time `json:"at"`
}

// EventType names the event.
func (ResourcePublished) EventType() string { return "ResourcePublished" }

// EventType names the event.
func (ResourceRetired) EventType() string { return "ResourceRetired" }

// Resource is the state of one resource stream. Build it with
// EvolveResource; the zero Resource was never published.
type Resource struct {
	published ResourcePublished
	retired   bool
}

// ID returns the resource's ID.
func (r Resource) ID() uuid.UUID { return r.published.ResourceID }

// Exists reports whether the resource was published.
func (r Resource) Exists() bool { return r.published.ResourceID != uuid.Nil }

// Retired reports whether staff retired the resource.
func (r Resource) Retired() bool { return r.retired }

// Audience returns who sees the resource.
func (r Resource) Audience() Audience { return r.published.Audience }

// EvolveResource returns the state after e. Events of other aggregates
// leave the state as it is.
func EvolveResource(r Resource, e Event) Resource {
	switch e := e.(type) {
	case ResourcePublished:
		r.published = e
	case ResourceRetired:
		r.retired = true
	}
	return r
}

// ResourceCommand is a command decided on a resource's stream.
type ResourceCommand interface {
	// resource returns the ID of the resource whose stream the command
	// targets.
	resource() uuid.UUID
}

// PublishResource publishes a resource: a title, an optional description,
// and either a URL or a text. Only staff publish. Publishing the same
// resource again decides nothing.
type PublishResource struct {
	ResourceID  uuid.UUID
	Actor       Actor
	Title       string
	Description string
	URL         string
	Text        string
	Audience    Audience
	At          time.Time
}

// RetireResource withdraws a published resource. Only staff retire;
// retiring again decides nothing.
type RetireResource struct {
	ResourceID uuid.UUID
	Actor      Actor
	At         time.Time
}

func (c PublishResource) resource() uuid.UUID { return c.ResourceID }
func (c RetireResource) resource() uuid.UUID  { return c.ResourceID }

// DecideResource decides cmd against the state of the resource's stream.
func DecideResource(p Program, r Resource, cmd ResourceCommand) ([]Event, error) {
	if r.Exists() && cmd.resource() != uuid.Nil && r.ID() != cmd.resource() {
		return nil, fmt.Errorf("decide resource: state of resource %s given for resource %s", r.ID(), cmd.resource())
	}
	switch c := cmd.(type) {
	case PublishResource:
		return decidePublish(p, r, c)
	case RetireResource:
		return decideRetire(r, c)
	default:
		return nil, fmt.Errorf("decide resource: unknown command %T", cmd)
	}
}

func checkStaff(idField string, id uuid.UUID, actor Actor, at time.Time) error {
	if err := checkBasics(idField, id, actor, at); err != nil {
		return err
	}
	if actor.Role != RoleStaff {
		return refuse(CodeStaffOnly, "only staff manage resources")
	}
	return nil
}

func cleanURL(s string, max int) (string, error) {
	s, err := cleanLine("url", s, max, false)
	if err != nil || s == "" {
		return s, err
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", invalid("url", "must be an http or https address")
	}
	return s, nil
}

func decidePublish(p Program, r Resource, c PublishResource) ([]Event, error) {
	if err := checkStaff("resourceId", c.ResourceID, c.Actor, c.At); err != nil {
		return nil, err
	}
	l := p.Limits
	title, err := cleanLine("title", c.Title, l.ResourceTitleLength, true)
	if err != nil {
		return nil, err
	}
	desc, err := cleanNotes("description", c.Description, l.ResourceDescriptionLength, false)
	if err != nil {
		return nil, err
	}
	link, err := cleanURL(c.URL, l.URLLength)
	if err != nil {
		return nil, err
	}
	text, err := cleanNotes("text", c.Text, l.ResourceTextLength, false)
	if err != nil {
		return nil, err
	}
	if (link == "") == (text == "") {
		return nil, invalid("url", "give either a URL or a text")
	}
	switch c.Audience {
	case AudienceMentees, AudienceMentors, AudienceBoth:
	default:
		return nil, invalid("audience", "%q is not %s, %s or %s", c.Audience, AudienceMentees, AudienceMentors, AudienceBoth)
	}
	e := ResourcePublished{
		ResourceID: c.ResourceID, PublishedBy: c.Actor.ID, Title: title, Description: desc,
		URL: link, Text: text, Audience: c.Audience, At: c.At.UTC(),
	}
	if r.Exists() {
		old := r.published
		if old.Title == e.Title && old.Description == e.Description && old.URL == e.URL &&
			old.Text == e.Text && old.Audience == e.Audience {
			return nil, nil
		}
		return nil, refuse(CodeResourceExists, "a different resource was published under this ID")
	}
	return []Event{e}, nil
}

func decideRetire(r Resource, c RetireResource) ([]Event, error) {
	if err := checkStaff("resourceId", c.ResourceID, c.Actor, c.At); err != nil {
		return nil, err
	}
	if !r.Exists() {
		return nil, refuse(CodeResourceNotFound, "no such resource")
	}
	if r.retired {
		return nil, nil
	}
	return []Event{ResourceRetired{ResourceID: c.ResourceID, RetiredBy: c.Actor.ID, At: c.At.UTC()}}, nil
}
