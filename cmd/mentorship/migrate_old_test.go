package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/mentorship/mentorship/blob"
	"github.com/mentorship/mentorship/clock"
	"github.com/mentorship/mentorship/command"
	"github.com/mentorship/mentorship/config"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/eventstore/bolt"
	"github.com/mentorship/mentorship/mail"
	"github.com/mentorship/mentorship/notify"
	"github.com/mentorship/mentorship/process"
)

// oldDataDir is a data directory as a version that did not seal left it:
// every personal text in its log in the clear, accounts in auth.db, a
// document's bytes, an outbox that sent some emails, composed others
// without sending them and never saw the last events, and the process
// manager's saved state.
type oldDataDir struct {
	dir string
	// logins are the accounts' login emails, which auth.db keeps.
	logins []string
	// composed is the last position whose emails the old outbox composed;
	// undelivered counts the emails it composed and never sent.
	composed    eventstore.Position
	undelivered int
	head        eventstore.Position
	headHash    []byte
	document    []byte

	ana, bruno, chidi, erin uuid.UUID
	// matches are the three matches: Ana's with Bruno (ended), Chidi's
	// with Dara (declined) and Chidi's with Fei, requested after the
	// outbox composed its last email.
	matches [3]uuid.UUID
}

// oldDocument is a small PDF, the kind of file partners share.
const oldDocument = "%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"

// writeOldDataDir writes the history of a small program the way a version
// before sealing did: the command service and the accounts over the
// embedded store itself, and one member's registration appended directly
// as domain.Encode makes it, with every text a unique word so that a copy
// of it anywhere can be found. The history runs from twenty days ago to
// yesterday, so that no time rule falls due when a server starts on it.
func writeOldDataDir(t *testing.T) oldDataDir {
	t.Helper()
	o := oldDataDir{dir: t.TempDir(), document: []byte(oldDocument)}
	ctx := context.Background()
	store, err := bolt.Open(o.dir, bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(time.Now().UTC().Add(-20 * 24 * time.Hour).Truncate(time.Second))
	program := domain.DefaultProgram()
	commands, err := command.New(store, program, clk, command.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(flag.NewFlagSet("old", flag.ContinueOnError), []string{"--data-dir", o.dir}, noEnv, "data-dir")
	if err != nil {
		t.Fatal(err)
	}
	accounts, closers, err := newAccounts(cfg, zerolog.Nop(), clk, commands)
	if err != nil {
		t.Fatal(err)
	}
	sender, err := mail.NewMailbox(filepath.Join(o.dir, mail.DirName), mail.MailboxOptions{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	notifier, err := notify.Open(o.dir, store, sender, clk, notify.Options{Logger: zerolog.Nop(), Settings: notify.Settings{
		ProgramName: cfg.ProgramName, StaffEmail: cfg.StaffEmail, FrontendURL: cfg.FrontendURL, Program: program,
	}})
	if err != nil {
		t.Fatal(err)
	}
	must := func(_ command.Result, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	as := func(id uuid.UUID, role domain.Role) command.Request {
		return command.Request{Actor: domain.Actor{ID: id, Role: role}}
	}
	account := func(role domain.Role, name, email string) uuid.UUID {
		t.Helper()
		register := accounts.Register
		if role == domain.RoleStaff {
			register = accounts.CreateOperatorAccount
		}
		r, err := register(ctx, role, name, email, storyPassword)
		if err != nil {
			t.Fatal(err)
		}
		o.logins = append(o.logins, email)
		return r.MemberID
	}
	profile := func(id uuid.UUID, role domain.Role, word, phone string) {
		t.Helper()
		must(commands.UpdateProfile(ctx, as(id, role), id, domain.Profile{
			Name:        word + " Profilename",
			Discipline:  program.Disciplines[0],
			Location:    domain.Location{City: word + "ville", Province: program.Provinces[0]},
			Biography:   word + " biography about hydrogeology",
			Preferences: domain.Preferences{Partner: domain.PartnerPreferences{Notes: word + " partnernotes"}},
			Contact:     domain.Contact{Email: strings.ToLower(word) + ".contact@old.example", Phone: phone, PreferredMethod: domain.ContactEmail},
		}))
		if role == domain.RoleMentor {
			must(commands.SetMentorCapacity(ctx, as(id, role), id, 2))
			must(commands.SetAcceptingRequests(ctx, as(id, role), id, true))
		}
	}

	o.ana = account(domain.RoleMentee, "Anaquilla Feathermoor", "anaquilla.login@old.example")
	o.bruno = account(domain.RoleMentor, "Brunovic Vantablack", "brunovic.login@old.example")
	sam := account(domain.RoleStaff, "Samwise Staffordshire", "samwise.login@old.example")
	o.chidi, o.erin = uuid.New(), uuid.New()
	dara, fei := uuid.New(), uuid.New()
	must(commands.RegisterMember(ctx, as(o.chidi, domain.RoleMentee), o.chidi, domain.RoleMentee, "Chidiebere Okonkwomarsh", "chidiebere.registered@old.example"))
	must(commands.RegisterMember(ctx, as(fei, domain.RoleMentor), fei, domain.RoleMentor, "Feilong Lindqvistoye", "feilong.registered@old.example"))
	must(commands.RegisterMember(ctx, as(o.erin, domain.RoleMentee), o.erin, domain.RoleMentee, "Erinyes Threadgoode", "erinyes.registered@old.example"))
	// Dara's registration goes into the log as an old server stored it.
	enc, err := domain.Encode(domain.MemberRegistered{MemberID: dara, Role: domain.RoleMentor, Name: "Daravanh Featherstonehaugh", Email: "daravanh.registered@old.example", At: clk.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Append(ctx, domain.MemberStream(dara), eventstore.NoStream(), eventstore.EventData{
		ID: uuid.New(), Type: enc.Type, SchemaVersion: enc.SchemaVersion, Data: enc.Data,
		Metadata: eventstore.Metadata{ActorID: dara.String(), ActorRole: string(domain.RoleMentor), CorrelationID: uuid.NewString(), OccurredAt: clk.Now()},
	}); err != nil {
		t.Fatal(err)
	}
	profile(o.ana, domain.RoleMentee, "Anaquilla", "+1 (555) 010-4711")
	profile(o.bruno, domain.RoleMentor, "Brunovic", "+1 (555) 010-4712")
	profile(dara, domain.RoleMentor, "Daravanh", "+1 (555) 010-4713")
	profile(fei, domain.RoleMentor, "Feilong", "+1 (555) 010-4714")
	if _, _, err := commands.PublishResource(ctx, as(sam, domain.RoleStaff), domain.PublishResource{ResourceID: uuid.New(), Title: "Program handbook", URL: "https://example.org/handbook", Audience: domain.AudienceBoth}); err != nil {
		t.Fatal(err)
	}

	// Ana and Bruno's match; the old server sent its emails.
	clk.Advance(24 * time.Hour)
	m1, res, err := commands.RequestMatch(ctx, as(o.ana, domain.RoleMentee), o.bruno, "Anaquilla requestmessage about aquifers")
	must(res, err)
	must(commands.AcceptMatch(ctx, as(o.bruno, domain.RoleMentor), m1))
	if err := notifier.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if err := notifier.DeliverDue(ctx, clk.Now()); err != nil {
		t.Fatal(err)
	}
	clk.Advance(24 * time.Hour)
	session := uuid.New()
	must(commands.LogSession(ctx, as(o.ana, domain.RoleMentee), m1, session, domain.SessionDetails{Date: program.Today(clk.Now()), Minutes: 45, Notes: "Anaquilla sessionnotes first", Value: 4}))
	must(commands.EditSession(ctx, as(o.ana, domain.RoleMentee), m1, session, domain.SessionDetails{Date: program.Today(clk.Now()), Minutes: 50, Notes: "Anaquilla sessionnotes edited", Value: 5}))
	blobs, err := blob.Open(ctx, blob.DefaultURL(o.dir), program.DocumentContentTypes, program.Limits.DocumentSize)
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"Anaquilla-kept-plan.pdf", "Anaquilla-removed-draft.pdf"} {
		st, err := blobs.Put(ctx, bytes.NewReader(o.document), name)
		if err != nil {
			t.Fatal(err)
		}
		blobs.Keep(st)
		doc := uuid.New()
		must(commands.AddDocument(ctx, as(o.ana, domain.RoleMentee), domain.AddDocument{MatchID: m1, DocumentID: doc, Name: name, Size: st.Size, ContentType: st.ContentType, SHA256: st.SHA256}))
		if i == 1 {
			must(commands.RemoveDocument(ctx, as(o.bruno, domain.RoleMentor), m1, doc))
		}
	}
	if err := blobs.Close(); err != nil {
		t.Fatal(err)
	}
	must(commands.RequestMatchEnd(ctx, as(o.ana, domain.RoleMentee), m1, program.EndReasons[0], "Anaquilla endrequest note"))
	must(commands.EndMatch(ctx, as(sam, domain.RoleStaff), m1, program.EndReasons[0], o.ana, "Samwise endnote to both"))

	// Chidi's request to Dara waits, is nudged and declined.
	m2, res, err := commands.RequestMatch(ctx, as(o.chidi, domain.RoleMentee), dara, "Chidiebere requestmessage about geomatics")
	must(res, err)
	clk.Advance(15 * 24 * time.Hour)
	must(commands.MarkResponseWindowElapsed(ctx, m2))
	must(commands.RequestNudge(ctx, as(o.chidi, domain.RoleMentee), m2))
	must(commands.NudgeMentor(ctx, as(sam, domain.RoleStaff), m2, "Samwise nudgenote for Daravanh"))
	must(commands.DeclineMatch(ctx, as(dara, domain.RoleMentor), m2, program.DeclineReasons[0], "Daravanh declinemessage fully booked"))

	// The process manager catches up and saves its state; the outbox
	// composes the emails of everything so far and stops before sending
	// them.
	manager, err := process.Open(o.dir, store, commands, clk, process.Options{Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	if err := manager.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := manager.RunDue(ctx, clk.Now()); err != nil {
		t.Fatal(err)
	}
	if err := manager.Close(); err != nil {
		t.Fatal(err)
	}
	if err := notifier.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	due, err := notifier.Outbox().Due(clk.Now().Add(time.Hour), 1000)
	if err != nil {
		t.Fatal(err)
	}
	o.undelivered = len(due)
	if err := notifier.Close(); err != nil {
		t.Fatal(err)
	}
	if o.composed, err = store.Head(ctx); err != nil {
		t.Fatal(err)
	}

	// What the outbox never saw: Erin's erasure and Chidi's request to Fei.
	clk.Advance(2 * 24 * time.Hour)
	must(commands.RequestAccountClosure(ctx, as(o.erin, domain.RoleMentee), o.erin, "Erinyes closurenote moving abroad"))
	must(commands.EraseMember(ctx, as(sam, domain.RoleStaff), o.erin, "the member asked"))
	m3, res, err := commands.RequestMatch(ctx, as(o.chidi, domain.RoleMentee), fei, "Chidiebere requestmessage about surveying")
	must(res, err)
	o.matches = [3]uuid.UUID{m1, m2, m3}

	o.head, o.headHash = store.HeadHash()
	for i := len(closers) - 1; i >= 0; i-- {
		if err := closers[i](); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	if o.undelivered == 0 || o.composed >= o.head {
		t.Fatalf("the old outbox holds %d undelivered emails and composed up to %d of %d: the history lacks what the test needs", o.undelivered, o.composed, o.head)
	}
	return o
}

// personalTexts returns every personal text of the events of the log in
// dir, read as stored.
func personalTexts(t *testing.T, dir string) []string {
	t.Helper()
	store, err := bolt.Open(dir, bolt.Options{MustExist: true})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	recs, err := store.ReadAll(context.Background(), eventstore.Start, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, rec := range recs {
		ev, err := domain.Decode(rec.Type, rec.SchemaVersion, rec.Data)
		if err != nil {
			t.Fatal(err)
		}
		if p, ok := ev.(domain.Personal); ok {
			p.MapPersonal(func(_ uuid.UUID, s string) string {
				if s != "" && !slices.Contains(texts, s) {
					texts = append(texts, s)
				}
				return s
			})
		}
	}
	return texts
}

// filesHolding returns, for each text, the files under dir (relative to
// it) whose bytes hold the text as it is or as JSON writes it.
func filesHolding(t *testing.T, dir string, texts []string) map[string][]string {
	t.Helper()
	found := map[string][]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		for _, text := range texts {
			quoted, _ := json.Marshal(text)
			if bytes.Contains(b, []byte(text)) || bytes.Contains(b, quoted[1:len(quoted)-1]) {
				found[text] = append(found[text], rel)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}
