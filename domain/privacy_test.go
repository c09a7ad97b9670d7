package domain_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/refusal"
)

func TestRevealPersonalData(t *testing.T) {
	ask := domain.RevealPersonalData{Actor: staff, Reason: "  A member's complaint about a match. ", Scope: "format=ndjson&match=x", At: t0}
	evs, err := domain.DecideRevealPersonalData(ask)
	if err != nil {
		t.Fatal(err)
	}
	want := []domain.Event{domain.PersonalDataRevealed{ActorID: staff.ID, ActorRole: domain.RoleStaff, Reason: "A member's complaint about a match.", Scope: "format=ndjson&match=x", At: t0}}
	if diff := cmp.Diff(want, evs); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	operator := ask
	operator.Actor = domain.SystemActor()
	if _, err := domain.DecideRevealPersonalData(operator); err != nil {
		t.Fatalf("the operator: %v", err)
	}
	for name, tc := range map[string]struct {
		change func(*domain.RevealPersonalData)
		code   refusal.Code
	}{
		"an auditor":        {func(c *domain.RevealPersonalData) { c.Actor = auditor }, domain.CodeStaffOnly},
		"a mentee":          {func(c *domain.RevealPersonalData) { c.Actor = mentee }, domain.CodeStaffOnly},
		"no reason":         {func(c *domain.RevealPersonalData) { c.Reason = "  " }, refusal.CodeInvalidInput},
		"a reason too long": {func(c *domain.RevealPersonalData) { c.Reason = strings.Repeat("r", 501) }, refusal.CodeInvalidInput},
		"two lines":         {func(c *domain.RevealPersonalData) { c.Reason = "a\nb" }, refusal.CodeInvalidInput},
	} {
		c := ask
		tc.change(&c)
		_, err := domain.DecideRevealPersonalData(c)
		var derr *refusal.Error
		if !errors.As(err, &derr) || derr.Code != tc.code {
			t.Errorf("%s: %v", name, err)
		}
	}
}
