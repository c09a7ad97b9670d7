package graph_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/graph/generated"
)

// Private values planted around one active match, none of which a member
// outside the match may ever see, whatever they send.
var canaries = []string{"Canaryname", "canarybio", "canary-vera", "canary-mentor", "canarymessage", "canarynotes", "canaryfile"}

// Every mutation and every query of the schema, each sent with every
// private object's ID in every ID argument and every field of its result
// selected, by members outside the match, by an auditor and by nobody: no
// answer carries any of the private values (an auditor sees display names
// only), whether it was refused or not. This walks the
// schema itself, so a payload added later is checked without a change here.
func TestNoPathShowsWhatTheCallerMayNotSee(t *testing.T) {
	e := newEnv(t)
	p := plantCanaries(e)
	veraTok, matchID, ids := p.veraTok, p.matchID, p.ids
	otherMenteeTok, otherMentorTok := p.otherMenteeTok, p.otherMentorTok
	schema := generated.NewExecutableSchema(generated.Config{}).Schema()
	_, auditorTok := e.user(domain.RoleAuditor, "Alex Auditor")
	callers := map[string]string{"another mentee": otherMenteeTok, "another mentor": otherMentorTok, "nobody": "", "an auditor": auditorTok}
	sent := 0
	for _, root := range []*ast.Definition{schema.Mutation, schema.Query} {
		for _, f := range root.Fields {
			if strings.HasPrefix(f.Name, "__") || f.Name == "uploadDocument" {
				continue // uploads are multipart; their payload is the document's, checked through removeDocument
			}
			for _, id := range ids {
				op := "query"
				if root == schema.Mutation {
					op = "mutation"
				}
				doc := fmt.Sprintf("%s { %s%s %s }", op, f.Name, arguments(schema, f.Arguments, id), selection(schema, f.Type.Name(), 3))
				for who, tok := range callers {
					r := e.do(tok, doc, nil)
					sent++
					if r.code() == "GRAPHQL_VALIDATION_FAILED" {
						t.Fatalf("the walk built a document the schema refuses: %s\n%s", doc, truncate(r.raw))
					}
					for _, c := range canaries {
						if who == "an auditor" && c == "Canaryname" {
							continue // auditors see display names
						}
						if strings.Contains(string(r.raw), c) {
							t.Errorf("%s as %s with %s shows %q: %s", f.Name, who, id, c, truncate(r.raw))
						}
					}
				}
			}
		}
	}
	t.Logf("%d operations sent", sent)
	// The planted values are there for those who may see them.
	r := e.ok(veraTok, `query($m: ID!) { match(id: $m) { message partner { contact { email } } mySessions { notes } documents { name } } }`, map[string]any{"m": matchID})
	for _, c := range []string{"canarymessage", "canary-mentor", "canarynotes", "canaryfile"} {
		if !strings.Contains(string(r.raw), c) {
			t.Fatalf("the mentee does not see %q: %s", c, truncate(r.raw))
		}
	}
}

// planted is one active match with private values planted around it, and
// members outside it.
type planted struct {
	veraTok, mentorTok, otherMenteeTok, otherMentorTok string
	matchID, sessionID                                 string
	// ids are the private objects' IDs: both partners, the match, the
	// session and the document.
	ids []string
}

func plantCanaries(e *env) planted {
	t := e.t
	t.Helper()
	vera, veraTok := e.user(domain.RoleMentee, "Vera Canaryname")
	mentor, mentorTok := e.user(domain.RoleMentor, "Max Mentor")
	_, otherMenteeTok := e.user(domain.RoleMentee, "Olga Other")
	_, otherMentorTok := e.user(domain.RoleMentor, "Paul Other")
	e.ok(veraTok, `mutation { updateProfile(input: {name: "Vera Canaryname", biography: "canarybio", contact: {email: "canary-vera@example.org", phone: "+1 555 0100"}}) { userErrors { code } } }`, nil)
	e.ok(mentorTok, `mutation { updateProfile(input: {name: "Max Mentor", biography: "water treatment", contact: {email: "canary-mentor@example.org"}}) { userErrors { code } } }`, nil)
	r := e.ok(veraTok, `mutation($m: ID!) { requestMatch(input: {mentorId: $m, message: "canarymessage"}) { match { id } } }`, map[string]any{"m": gid("Member", mentor.ID)})
	matchID := r.str("requestMatch", "match", "id")
	e.ok(mentorTok, `mutation($m: ID!) { acceptMatch(input: {matchId: $m}) { userErrors { code } } }`, map[string]any{"m": matchID})
	r = e.ok(veraTok, `mutation($m: ID!) { addSession(input: {matchId: $m, date: "2026-04-06", minutes: 60, notes: "canarynotes"}) { session { id } } }`, map[string]any{"m": matchID})
	sessionID := r.str("addSession", "session", "id")
	up := e.upload(veraTok, matchID, "canaryfile.pdf", []byte("%PDF-1.4 canary"), true)
	documentID := up.str("uploadDocument", "document", "id")
	if sessionID == "" || documentID == "" {
		t.Fatalf("setup: session %q, document %q: %s", sessionID, documentID, truncate(up.raw))
	}
	return planted{
		veraTok: veraTok, mentorTok: mentorTok, otherMenteeTok: otherMenteeTok, otherMentorTok: otherMentorTok,
		matchID: matchID, sessionID: sessionID,
		ids: []string{gid("Member", vera.ID), gid("Member", mentor.ID), matchID, sessionID, documentID},
	}
}

// Every subscription, opened by a member outside the match with every
// private ID and every field selected, carries none of the private values
// while the match's partners change it; a change of the member's own,
// made last, shows the stream was live throughout.
func TestNoSubscriptionShowsWhatTheCallerMayNotSee(t *testing.T) {
	e := newEnv(t)
	p := plantCanaries(e)
	schema := generated.NewExecutableSchema(generated.Config{}).Schema()
	c := e.dial(p.otherMenteeTok)
	n := 0
	for _, f := range schema.Subscription.Fields {
		for _, id := range p.ids {
			n++
			c.subscribe(fmt.Sprint(n), fmt.Sprintf("subscription { %s%s %s }", f.Name, arguments(schema, f.Arguments, id), selection(schema, f.Type.Name(), 3)), nil)
		}
	}
	e.waitSubscribers(len(p.ids)) // myMatchUpdates, once per ID
	e.ok(p.veraTok, `mutation($s: ID!) { editSession(input: {sessionId: $s, date: "2026-04-06", minutes: 90, notes: "canarynotes again"}) { userErrors { code } } }`, map[string]any{"s": p.sessionID})
	e.ok(p.mentorTok, `mutation { updateProfile(input: {name: "Max Mentor", biography: "water treatment", contact: {email: "canary-mentor@example.org", phone: "+1 555 0199"}}) { userErrors { code } } }`, nil)
	mentor, _ := e.user(domain.RoleMentor, "Nora Newmentor")
	mine := e.ok(p.otherMenteeTok, `mutation($m: ID!) { requestMatch(input: {mentorId: $m}) { match { id } } }`, map[string]any{"m": gid("Member", mentor.ID)}).str("requestMatch", "match", "id")
	for {
		m := c.read()
		raw, _ := json.Marshal(m)
		for _, canary := range canaries {
			if strings.Contains(string(raw), canary) {
				t.Fatalf("a subscription showed %q: %s", canary, raw)
			}
		}
		if m["type"] == "next" && strings.Contains(string(raw), mine) {
			return
		}
	}
}

// arguments fills a field's arguments: every ID with id, and every other
// required value with a plausible one.
func arguments(schema *ast.Schema, args ast.ArgumentDefinitionList, id string) string {
	var parts []string
	for _, a := range args {
		if v := value(schema, a.Type, id, a.Type.NonNull || a.Type.Name() == "ID", 0); v != "" {
			parts = append(parts, a.Name+": "+v)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// value returns a literal of type t, or "" to leave an optional one out.
func value(schema *ast.Schema, t *ast.Type, id string, needed bool, depth int) string {
	if !needed || depth > 3 {
		return ""
	}
	if t.Elem != nil {
		return "[]"
	}
	switch t.Name() {
	case "ID":
		return fmt.Sprintf("%q", id)
	case "String":
		return `"x"`
	case "Int":
		return "1"
	case "Boolean":
		return "true"
	case "Date":
		return `"2026-04-06"`
	case "Time":
		return `"2026-04-06T12:00:00Z"`
	case "Position":
		return `"1"`
	}
	def := schema.Types[t.Name()]
	switch def.Kind {
	case ast.Enum:
		return def.EnumValues[0].Name
	case ast.InputObject:
		var fields []string
		for _, f := range def.Fields {
			if v := value(schema, f.Type, id, f.Type.NonNull || f.Type.Name() == "ID", depth+1); v != "" {
				fields = append(fields, f.Name+": "+v)
			}
		}
		return "{" + strings.Join(fields, ", ") + "}"
	}
	return ""
}

// selection selects every field of a type that takes no required
// argument, objects down to depth levels.
func selection(schema *ast.Schema, typeName string, depth int) string {
	def := schema.Types[typeName]
	if def == nil || def.Kind == ast.Scalar || def.Kind == ast.Enum {
		return ""
	}
	var b strings.Builder
	b.WriteString("{ __typename")
	var fields ast.FieldList
	switch def.Kind {
	case ast.Interface, ast.Union:
		for _, p := range schema.GetPossibleTypes(def) {
			fmt.Fprintf(&b, " ... on %s %s", p.Name, selection(schema, p.Name, depth))
		}
	default:
		fields = def.Fields
	}
	for _, f := range fields {
		if strings.HasPrefix(f.Name, "__") || requiresArguments(f) {
			continue
		}
		sub := schema.Types[f.Type.Name()]
		if sub.Kind == ast.Object || sub.Kind == ast.Interface || sub.Kind == ast.Union {
			if depth == 0 {
				continue
			}
			fmt.Fprintf(&b, " %s %s", f.Name, selection(schema, sub.Name, depth-1))
			continue
		}
		b.WriteString(" " + f.Name)
	}
	b.WriteString(" }")
	return b.String()
}

func requiresArguments(f *ast.FieldDefinition) bool {
	for _, a := range f.Arguments {
		if a.Type.NonNull && a.DefaultValue == nil {
			return true
		}
	}
	return false
}
