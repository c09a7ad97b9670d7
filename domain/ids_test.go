package domain_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/refusal"
)

func TestEventID(t *testing.T) {
	a := domain.EventID("match", "cmd-1", "0")
	if a != domain.EventID("match", "cmd-1", "0") {
		t.Error("the same cause gave different IDs")
	}
	if a.Version() != 5 || a.Variant() != uuid.RFC4122 {
		t.Errorf("ID %s is not a version 5 UUID", a)
	}
	others := []uuid.UUID{
		domain.EventID("match", "cmd-1", "1"),
		domain.EventID("match", "cmd-2", "0"),
		domain.EventID("member", "cmd-1", "0"),
		domain.EventID("match", "cmd-1"),
		domain.EventID("match", "cmd-10"),
		domain.EventID("matchcmd-1", "0"),
	}
	seen := map[uuid.UUID]bool{a: true}
	for _, id := range others {
		if seen[id] {
			t.Errorf("two different causes gave ID %s", id)
		}
		seen[id] = true
	}
	if domain.EventID("ab", "c") == domain.EventID("a", "bc") || domain.EventID("x", "a0:b") == domain.EventID("x", "a", "b") {
		t.Error("parts are not length-prefixed")
	}
}

func TestStreamNames(t *testing.T) {
	for got, want := range map[string]string{
		domain.MatchStream(matchID):       "match-0000000e-0000-4000-8000-000000000001",
		domain.MemberStream(menteeID):     "member-0000000a-0000-4000-8000-000000000001",
		domain.ResourceStream(resourceID): "resource-00000011-0000-4000-8000-000000000001",
	} {
		if got != want {
			t.Errorf("stream %q, want %q", got, want)
		}
	}
}

func TestActorMetadataID(t *testing.T) {
	if got := domain.SystemActor().MetadataID(); got != domain.SystemActorID {
		t.Errorf("system MetadataID = %q", got)
	}
	if got := mentee.MetadataID(); got != menteeID.String() {
		t.Errorf("mentee MetadataID = %q", got)
	}
	if !domain.SystemActor().IsSystem() || staff.IsSystem() {
		t.Error("IsSystem is wrong")
	}
}

func TestRefusalCode(t *testing.T) {
	_, err := domain.DecideMatch(domain.DefaultProgram(), domain.Match{}, domain.AcceptMatch{MatchID: matchID, Actor: mentor, At: t0})
	if got := refusal.CodeOf(err); got != domain.CodeMatchNotFound {
		t.Errorf("refusal.CodeOf = %q", got)
	}
	if got := refusal.CodeOf(nil); got != "" {
		t.Errorf("refusal.CodeOf(nil) = %q", got)
	}
	if err.Error() != "MATCH_NOT_FOUND: no such match" {
		t.Errorf("Error() = %q", err.Error())
	}
	_, err = domain.DecideMatch(domain.DefaultProgram(), domain.Match{}, domain.AcceptMatch{Actor: mentor, At: t0})
	if err.Error() != "INVALID_INPUT: matchId: is required" {
		t.Errorf("Error() = %q", err.Error())
	}
}
