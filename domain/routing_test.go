package domain_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/mentorship/mentorship/domain"
)

// routes names the routing interfaces an event type implements, as
// domain.Is answers for its type name.
func routes(typ string) string {
	var out []string
	for _, r := range []struct {
		name string
		is   func(string) bool
	}{
		{"match", domain.Is[domain.MatchEvent]},
		{"member", domain.Is[domain.MemberEvent]},
		{"partners", domain.Is[domain.PartnerEvent]},
		{"private", domain.Is[domain.PrivateEvent]},
		{"change", domain.Is[domain.MatchChange]},
		{"status", domain.Is[domain.StatusEvent]},
		{"slot", domain.Is[domain.SlotEvent]},
		{"notice", domain.Is[domain.Notice]},
		{"timerule", domain.Is[domain.TimeRuleEvent]},
		{"directory", domain.Is[domain.DirectoryEvent]},
		{"closure", domain.Is[domain.ClosureEvent]},
		{"retention", domain.Is[domain.RetentionEvent]},
	} {
		if r.is(typ) {
			out = append(out, r.name)
		}
	}
	return strings.Join(out, " ")
}

// The routing of every event type, as the hub, the read models, the
// notifier and the process manager rely on it. A new event type fails here
// until it says what it is.
func TestRoutingOfEveryEventType(t *testing.T) {
	partnerChange := "match partners change"
	want := map[string]string{
		"MemberRegistered":          "member directory retention",
		"ProfileUpdated":            "member directory",
		"MentorCapacityChanged":     "member",
		"MentorAvailabilityChanged": "member",
		"RequestSlotTaken":          "match member slot",
		"RequestSlotActivated":      "match member slot",
		"RequestSlotReleased":       "match member slot",
		"CapacitySlotReserved":      "match member slot",
		"CapacitySlotReleased":      "match member slot",
		"MatchRequested":            partnerChange + " status notice timerule",
		"MatchAccepted":             partnerChange + " status notice timerule",
		"MatchDeclined":             partnerChange + " status notice timerule",
		"MatchCancelled":            partnerChange + " status notice timerule",
		"NudgeRequested":            partnerChange + " notice",
		"MentorNudged":              partnerChange + " notice",
		"ResponseWindowElapsed":     partnerChange + " notice timerule",
		"FirstMeetingReminderDue":   partnerChange + " notice timerule",
		"MatchEnded":                partnerChange + " status notice timerule",
		"ProfileReviewRequested":    "match partners notice timerule",
		"SessionLogged":             "match private change timerule",
		"SessionEdited":             "match private change",
		"DocumentAdded":             "match change",
		"DocumentRemoved":           "match change",
		"MatchEndRequested":         partnerChange,
		"ResourcePublished":         "",
		"ResourceRetired":           "",
		"PersonalDataRevealed":      "",
		"AccountClosureRequested":   "member closure",
		"MemberErased":              "member directory closure retention",
		"MemberSignedIn":            "member retention",
	}
	types := domain.EventTypes()
	for _, typ := range types {
		w, ok := want[typ]
		if !ok {
			t.Errorf("%s: no routing given in this table (routes now: %q)", typ, routes(typ))
			continue
		}
		if got := routes(typ); got != w {
			t.Errorf("%s routes as %q, want %q", typ, got, w)
		}
	}
	for typ := range want {
		if !slices.Contains(types, typ) {
			t.Errorf("%s is in the table but not a registered event type", typ)
		}
	}
	if domain.Is[domain.Event]("NoSuchEvent") || domain.Is[domain.MatchEvent]("") {
		t.Error("an unknown type name routes somewhere")
	}
	if _, ok := domain.ZeroEvent("NoSuchEvent"); ok {
		t.Error("ZeroEvent knows an unknown type name")
	}
}

// filled returns an event of type typ with every UUID field set to a new
// ID, and those IDs by JSON field name.
func filled(t *testing.T, typ string) (domain.Event, map[string]uuid.UUID) {
	t.Helper()
	zero, ok := domain.ZeroEvent(typ)
	if !ok {
		t.Fatalf("ZeroEvent(%q) knows no such type", typ)
	}
	if got := zero.EventType(); got != typ {
		t.Fatalf("ZeroEvent(%q) is a %s", typ, got)
	}
	v := reflect.New(reflect.TypeOf(zero)).Elem()
	ids := map[string]uuid.UUID{}
	for i := range v.NumField() {
		f := v.Type().Field(i)
		if f.Type != reflect.TypeFor[uuid.UUID]() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		id := uuid.New()
		v.Field(i).Set(reflect.ValueOf(id))
		ids[name] = id
	}
	return v.Interface().(domain.Event), ids
}

// Every registered event type answers the routing questions from its own
// fields: an event with a matchId is a MatchEvent naming it, one with a
// memberId a MemberEvent, one with both a SlotEvent, one with a menteeId
// and a mentorId a PartnerEvent, one with an authorId a PrivateEvent; and
// the narrower interfaces only where the wider ones hold.
func TestRoutingFollowsTheEventsFields(t *testing.T) {
	for _, typ := range domain.EventTypes() {
		ev, ids := filled(t, typ)
		_, hasMatch := ids["matchId"]
		_, hasMember := ids["memberId"]
		_, hasMentee := ids["menteeId"]
		_, hasMentor := ids["mentorId"]
		_, hasAuthor := ids["authorId"]

		me, ok := ev.(domain.MatchEvent)
		if ok != hasMatch {
			t.Errorf("%s: MatchEvent %v, has a matchId field %v", typ, ok, hasMatch)
		} else if ok && me.MatchOf() != ids["matchId"] {
			t.Errorf("%s: MatchOf %s, want the matchId %s", typ, me.MatchOf(), ids["matchId"])
		}
		mb, ok := ev.(domain.MemberEvent)
		if ok != hasMember {
			t.Errorf("%s: MemberEvent %v, has a memberId field %v", typ, ok, hasMember)
		} else if ok && mb.MemberOf() != ids["memberId"] {
			t.Errorf("%s: MemberOf %s, want the memberId %s", typ, mb.MemberOf(), ids["memberId"])
		}
		if _, ok := ev.(domain.SlotEvent); ok != (hasMatch && hasMember) {
			t.Errorf("%s: SlotEvent %v, names a match and a member %v", typ, ok, hasMatch && hasMember)
		}
		// The slot events carry the partner as menteeId or mentorId beside
		// the member; only the match's own events name both partners.
		pe, ok := ev.(domain.PartnerEvent)
		if want := hasMentee && hasMentor; ok != want {
			t.Errorf("%s: PartnerEvent %v, has menteeId and mentorId fields %v", typ, ok, want)
		} else if ok {
			if mentee, mentor := pe.Partners(); mentee != ids["menteeId"] || mentor != ids["mentorId"] {
				t.Errorf("%s: Partners %s, %s, want the menteeId and mentorId", typ, mentee, mentor)
			}
		}
		pr, ok := ev.(domain.PrivateEvent)
		if ok != hasAuthor {
			t.Errorf("%s: PrivateEvent %v, has an authorId field %v", typ, ok, hasAuthor)
		} else if ok && pr.Author() != ids["authorId"] {
			t.Errorf("%s: Author %s, want the authorId %s", typ, pr.Author(), ids["authorId"])
		}

		// A match's followers hear of the events of its own stream, so
		// neither a match change nor a time rule's event is a member's.
		_, change := ev.(domain.MatchChange)
		_, rule := ev.(domain.TimeRuleEvent)
		if (change || rule) && hasMember {
			t.Errorf("%s: a member's event routed as a change of the match or a time rule's", typ)
		}
		if _, ok := ev.(domain.PrivateEvent); ok && !change {
			t.Errorf("%s: a private event that changes no match would reach nobody", typ)
		}
		if domain.Is[domain.MatchEvent](typ) != (me != nil) || domain.Is[domain.MemberEvent](typ) != (mb != nil) {
			t.Errorf("%s: Is answers otherwise than the event itself", typ)
		}
	}
}

// A StatusEvent moves a match to the status it names, and every other
// change of a match leaves its status as it was; together they reach every
// status.
func TestStatusEventsMoveTheMatchToTheirStatus(t *testing.T) {
	requested := domain.EvolveMatch(domain.Match{}, domain.MatchRequested{MatchID: matchID, MenteeID: menteeID, MentorID: mentorID, At: t0})
	reached := map[domain.MatchStatus]bool{}
	for _, typ := range domain.EventTypes() {
		ev, _ := filled(t, typ)
		if _, ok := ev.(domain.MatchChange); !ok {
			continue
		}
		got := domain.EvolveMatch(requested, ev).Status()
		if se, ok := ev.(domain.StatusEvent); ok {
			reached[se.MatchStatus()] = true
			if got != se.MatchStatus() {
				t.Errorf("%s: the match is %s after it, but MatchStatus says %s", typ, got, se.MatchStatus())
			}
		} else if got != domain.StatusPending {
			t.Errorf("%s moves the match to %s but is no StatusEvent", typ, got)
		}
	}
	for _, s := range []domain.MatchStatus{domain.StatusPending, domain.StatusActive, domain.StatusDeclined, domain.StatusCancelled, domain.StatusEnded} {
		if !reached[s] {
			t.Errorf("no StatusEvent moves a match to %s", s)
		}
	}
}

// A SlotEvent leaves the member's slot for its match in the state it
// names; a released slot is no longer held.
func TestSlotEventsMoveTheSlotToTheirState(t *testing.T) {
	n := 0
	for _, typ := range domain.EventTypes() {
		ev, _ := filled(t, typ)
		se, ok := ev.(domain.SlotEvent)
		if !ok {
			continue
		}
		n++
		m := domain.EvolveMember(domain.Member{}, domain.MemberRegistered{MemberID: se.MemberOf(), Role: domain.RoleMentee, At: t0})
		if s := se.SlotState(); s != domain.SlotPending && s != domain.SlotReserved {
			// Activating or releasing needs a slot to act on.
			m = domain.EvolveMember(m, domain.RequestSlotTaken{MemberID: se.MemberOf(), MatchID: se.MatchOf(), At: t0})
		}
		m = domain.EvolveMember(m, ev)
		var got domain.SlotState = domain.SlotReleased
		for _, s := range m.Slots() {
			if s.MatchID == se.MatchOf() {
				got = s.State
			}
		}
		if got != se.SlotState() {
			t.Errorf("%s: the slot is %s after it, but SlotState says %s", typ, got, se.SlotState())
		}
	}
	if n == 0 {
		t.Fatal("no SlotEvent")
	}
}
