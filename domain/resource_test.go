package domain_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/refusal"
)

type resourceCase struct {
	name  string
	given []domain.Event
	when  domain.ResourceCommand
	then  []domain.Event
	err   *wantRefusal
}

func runResourceCases(t *testing.T, cases []resourceCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			state := domain.Fold(domain.Resource{}, domain.EvolveResource, tc.given...)
			got, err := domain.DecideResource(domain.DefaultProgram(), state, tc.when)
			checkDecision(t, got, err, tc.then, tc.err)
		})
	}
}

func TestPublishResource(t *testing.T) {
	pub := domain.PublishResource{
		ResourceID: resourceID, Actor: staff, Title: " Licensing guide ", Description: "How to apply.",
		URL: "https://example.org/licensing", Audience: domain.AudienceMentees, At: t0,
	}
	withPub := func(f func(*domain.PublishResource)) domain.PublishResource { c := pub; f(&c); return c }
	published := domain.ResourcePublished{
		ResourceID: resourceID, PublishedBy: staffID, Title: "Licensing guide", Description: "How to apply.",
		URL: "https://example.org/licensing", Audience: domain.AudienceMentees, At: t0,
	}
	runResourceCases(t, []resourceCase{
		{name: "staff publish a link", when: pub, then: []domain.Event{published}},
		{
			name: "staff publish a text for everyone",
			when: withPub(func(c *domain.PublishResource) { c.URL, c.Text, c.Audience = "", "Be on time.", domain.AudienceBoth }),
			then: []domain.Event{func() domain.Event {
				e := published
				e.URL, e.Text, e.Audience = "", "Be on time.", domain.AudienceBoth
				return e
			}()},
		},
		{name: "publishing the same resource again decides nothing", given: []domain.Event{published}, when: pub},
		{name: "other contents under a used ID are refused", given: []domain.Event{published}, when: withPub(func(c *domain.PublishResource) { c.Title = "Other" }), err: refused(domain.CodeResourceExists)},
		{name: "mentees do not publish", when: withPub(func(c *domain.PublishResource) { c.Actor = mentee }), err: refused(domain.CodeStaffOnly)},
		{name: "mentors do not publish", when: withPub(func(c *domain.PublishResource) { c.Actor = mentor }), err: refused(domain.CodeStaffOnly)},
		{name: "the system does not publish", when: withPub(func(c *domain.PublishResource) { c.Actor = system }), err: refused(domain.CodeStaffOnly)},
		{name: "the resource ID is required", when: withPub(func(c *domain.PublishResource) { c.ResourceID = uuid.Nil }), err: badInput("resourceId")},
		{name: "the title is required", when: withPub(func(c *domain.PublishResource) { c.Title = "" }), err: badInput("title")},
		{name: "the title has a length limit", when: withPub(func(c *domain.PublishResource) { c.Title = repeat("t", 201) }), err: badInput("title")},
		{name: "the description has a length limit", when: withPub(func(c *domain.PublishResource) { c.Description = repeat("d", 2001) }), err: badInput("description")},
		{name: "a URL or a text is required", when: withPub(func(c *domain.PublishResource) { c.URL = "" }), err: badInput("url")},
		{name: "not both a URL and a text", when: withPub(func(c *domain.PublishResource) { c.Text = "Also this." }), err: badInput("url")},
		{name: "the URL must be http or https", when: withPub(func(c *domain.PublishResource) { c.URL = "ftp://example.org/guide.pdf" }), err: badInput("url")},
		{name: "the URL needs a host", when: withPub(func(c *domain.PublishResource) { c.URL = "https:///guide" }), err: badInput("url")},
		{name: "the URL must not be a script", when: withPub(func(c *domain.PublishResource) { c.URL = "javascript:alert(1)" }), err: badInput("url")},
		{
			name: "an http URL is taken", when: withPub(func(c *domain.PublishResource) { c.URL = "http://example.org/guide" }),
			then: []domain.Event{func() domain.Event { e := published; e.URL = "http://example.org/guide"; return e }()},
		},
		{name: "the URL must be absolute", when: withPub(func(c *domain.PublishResource) { c.URL = "/licensing" }), err: badInput("url")},
		{name: "the URL has a length limit", when: withPub(func(c *domain.PublishResource) { c.URL = "https://example.org/" + repeat("a", 2048) }), err: badInput("url")},
		{name: "the text has a length limit", when: withPub(func(c *domain.PublishResource) { c.URL, c.Text = "", repeat("x", 20001) }), err: badInput("text")},
		{name: "the audience must be known", when: withPub(func(c *domain.PublishResource) { c.Audience = "STAFF" }), err: badInput("audience")},
	})
}

func TestRetireResource(t *testing.T) {
	published := domain.ResourcePublished{ResourceID: resourceID, PublishedBy: staffID, Title: "Guide", Text: "Read.", Audience: domain.AudienceBoth, At: t0}
	retire := domain.RetireResource{ResourceID: resourceID, Actor: staff, At: days(1)}
	retired := domain.ResourceRetired{ResourceID: resourceID, RetiredBy: staffID, At: days(1)}
	runResourceCases(t, []resourceCase{
		{name: "staff retire a resource", given: []domain.Event{published}, when: retire, then: []domain.Event{retired}},
		{name: "retiring again decides nothing", given: []domain.Event{published, retired}, when: retire},
		{name: "a resource never published is not found", when: retire, err: refused(domain.CodeResourceNotFound)},
		{name: "mentors do not retire", given: []domain.Event{published}, when: domain.RetireResource{ResourceID: resourceID, Actor: mentor, At: days(1)}, err: refused(domain.CodeStaffOnly)},
		{name: "auditors do not retire", given: []domain.Event{published}, when: domain.RetireResource{ResourceID: resourceID, Actor: auditor, At: days(1)}, err: refused(domain.CodeStaffOnly)},
	})
}

func TestResourceState(t *testing.T) {
	r := domain.Fold(domain.Resource{}, domain.EvolveResource,
		domain.ResourcePublished{ResourceID: resourceID, PublishedBy: staffID, Title: "Guide", Text: "Read.", Audience: domain.AudienceMentors, At: t0})
	if !r.Exists() || r.ID() != resourceID || r.Retired() || r.Audience() != domain.AudienceMentors {
		t.Errorf("published: exists %v, id %v, retired %v, audience %v", r.Exists(), r.ID(), r.Retired(), r.Audience())
	}
	r = domain.EvolveResource(r, domain.ResourceRetired{ResourceID: resourceID, RetiredBy: staffID, At: t0})
	if !r.Retired() {
		t.Error("the resource is not retired")
	}
	_, err := domain.DecideResource(domain.DefaultProgram(), r, domain.RetireResource{ResourceID: otherMatchID, Actor: staff, At: t0})
	if err == nil || refusal.CodeOf(err) != "" {
		t.Errorf("state of another resource: got %v, want an error that is not a refusal", err)
	}
}

func TestAudienceIncludes(t *testing.T) {
	for _, tc := range []struct {
		audience domain.Audience
		role     domain.Role
		want     bool
	}{
		{domain.AudienceMentees, domain.RoleMentee, true},
		{domain.AudienceMentees, domain.RoleMentor, false},
		{domain.AudienceMentors, domain.RoleMentor, true},
		{domain.AudienceMentors, domain.RoleMentee, false},
		{domain.AudienceBoth, domain.RoleMentee, true},
		{domain.AudienceBoth, domain.RoleMentor, true},
		{domain.AudienceBoth, domain.RoleStaff, false},
	} {
		if got := tc.audience.Includes(tc.role); got != tc.want {
			t.Errorf("%s.Includes(%s) = %v, want %v", tc.audience, tc.role, got, tc.want)
		}
	}
}
