package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/mentorship/mentorship/config"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/eventstore/kurrent"
	"github.com/mentorship/mentorship/eventstore/kurrent/kurrenttest"
	"github.com/mentorship/mentorship/internal/redistest"
	"github.com/mentorship/mentorship/lease"
	"github.com/mentorship/mentorship/mail/smtptest"
	notifyredis "github.com/mentorship/mentorship/notify/redis"
	processredis "github.com/mentorship/mentorship/process/redis"
	"github.com/mentorship/mentorship/projections/readmodeltest"
	redisrm "github.com/mentorship/mentorship/projections/redis"
)

// workerHolders returns the process IDs holding the notifier's and the
// process manager's leases (0 when free).
func workerHolders(t *testing.T, c *goredis.Client, ns string) (notifier, manager int) {
	t.Helper()
	pid := func(name string) int {
		l, err := lease.New(c, name, lease.Options{})
		if err != nil {
			t.Fatal(err)
		}
		tok, err := l.Holder(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		_, p, _ := strings.Cut(lease.OwnerOf(tok), ":")
		n, _ := strconv.Atoi(p)
		return n
	}
	return pid(notifyredis.LeaseName(ns)), pid(processredis.LeaseName(ns))
}

// waitWorkers waits until one process holds both worker leases and
// returns how long that took.
func waitWorkers(t *testing.T, c *goredis.Client, ns string, pid int, within time.Duration) time.Duration {
	t.Helper()
	started := time.Now()
	for {
		n, m := workerHolders(t, c, ns)
		if n == pid && m == pid {
			return time.Since(started)
		}
		if time.Since(started) > within {
			t.Fatalf("the worker leases are held by %d and %d, not %d, after %s", n, m, pid, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// metric returns the line of a metric in an instance's /metrics.
func metricLine(t *testing.T, url, prefix string) string {
	t.Helper()
	_, body := get(t, url+"/metrics")
	for line := range strings.SplitSeq(body, "\n") {
		if strings.HasPrefix(line, prefix) {
			return line
		}
	}
	return ""
}

// emailsOwed counts the emails the program owes for the events of a log:
// one per event and recipient, as the notifier composes them.
func emailsOwed(events []eventstore.RecordedEvent) int {
	per := map[string]int{
		"MatchRequested": 1, "MatchAccepted": 3, "MatchDeclined": 1,
		"ResponseWindowElapsed": 1, "FirstMeetingReminderDue": 2,
	}
	n := 0
	for _, e := range events {
		n += per[e.Type]
	}
	return n
}

// matchHistories returns the event types of every match stream, each
// history joined with spaces, counted.
func matchHistories(t *testing.T, store eventstore.Store) (map[string]int, []eventstore.RecordedEvent) {
	t.Helper()
	recs, err := store.ReadAll(context.Background(), eventstore.Start, 0)
	if err != nil {
		t.Fatal(err)
	}
	byStream := map[string][]string{}
	for _, r := range recs {
		if strings.HasPrefix(r.Stream, domain.MatchCategory+"-") {
			byStream[r.Stream] = append(byStream[r.Stream], r.Type)
		}
	}
	out := map[string]int{}
	for _, types := range byStream {
		out[strings.Join(types, " ")]++
	}
	return out, recs
}

// Two server processes share KurrentDB (its protocol test server), Redis
// and an SMTP relay that takes its time over each message. A third,
// running 22 days in the past, leaves requests and matches whose time
// rules are due by now. The first instance takes both worker leases and
// fires those rules; a burst of requests, accepts and declines goes
// through it while its notifier works through the slow relay; then it is
// killed without warning. The second instance, whose clock runs 22 days
// ahead, stood by healthy, takes both leases within the lease's TTL, fires
// the rules that are due by its clock, and delivers what the first left.
// Every email the log owes reaches the relay, each Message-ID once
// (except, at most, the one email whose attempt the kill cut short after
// the relay read it: that one is sent again with the same Message-ID,
// which the relay can drop, and the survivor logs it as in doubt); every
// time rule fired once; and the read models equal a rebuild of the log.
func TestWorkersFailoverDeliversEveryEmailAndFiresEveryRuleOnce(t *testing.T) {
	rc, ns := redistest.Client(t)
	kdb := kurrenttest.New(t)
	relay := smtptest.Start(t, smtptest.Options{Delay: 150 * time.Millisecond})
	const ttl = time.Second
	const day = 24 * time.Hour
	shared := []string{"--kurrentdb-url", kdb.ConnectionString(), "--redis-url", redistest.URL(), "--redis-prefix", ns,
		"--smtp-host", relay.Host(), "--smtp-port", strconv.Itoa(relay.Port()), "--smtp-tls", "none",
		"--worker-lease-ttl", ttl.String(), "--signup-limit", "off"}
	withClock := func(offset time.Duration) []string {
		return append(slices.Clone(shared), "--clock-offset", offset.String())
	}

	var out strings.Builder
	settings := map[string]string{"MENTORSHIP_MASTER_KEY_URL": testMasterKey, "MENTORSHIP_REDIS_URL": redistest.URL(), "MENTORSHIP_REDIS_PREFIX": ns}
	err := run(context.Background(), []string{"users", "create", "--role", "staff", "--email", "staff@example.org", "--name", "Staff Person",
		"--data-dir", t.TempDir(), "--kurrentdb-url", kdb.ConnectionString()},
		func(k string) string { return settings[k] }, strings.NewReader(storyPassword+"\n"), &out, io.Discard)
	if err != nil {
		t.Fatalf("users create: %v\n%s", err, out.String())
	}

	// 22 days ago: every member registers; two requests stay pending and
	// two are accepted.
	past := startChild(t, withClock(-22*day)...)
	const pairs = 14
	mentees, mentors := make([]string, pairs), make([]string, pairs)
	mentorIDs := make([]string, pairs)
	for i := range pairs {
		mentees[i], mentors[i] = fmt.Sprintf("mentee%d@example.org", i), fmt.Sprintf("mentor%d@example.org", i)
		c := &client{t: t, url: past.URL}
		c.gql(`mutation($e: String!) { registerMentee(input: {name: "Mentee Person", email: $e, password: "`+storyPassword+`"}) { token } }`, map[string]any{"e": mentees[i]})
		d := c.gql(`mutation($e: String!) { registerMentor(input: {name: "Mentor Person", email: $e, password: "`+storyPassword+`"}) { viewer { id } } }`, map[string]any{"e": mentors[i]})
		mentorIDs[i] = dig(d, "registerMentor", "viewer", "id").(string)
	}
	as := func(url, kind, email string) *client {
		c := &client{t: t, url: url}
		c.login(kind, email)
		return c
	}
	request := func(url string, i int) string {
		t.Helper()
		d := as(url, "Mentee", mentees[i]).gql(`mutation($m: ID!) { requestMatch(input: {mentorId: $m, message: "Hello"}) { match { id } userErrors { code } } }`, map[string]any{"m": mentorIDs[i]})
		id, _ := dig(d, "requestMatch", "match", "id").(string)
		if id == "" {
			t.Fatalf("request %d: %v", i, d)
		}
		return id
	}
	answer := func(url string, i int, match, verb string) {
		t.Helper()
		d := as(url, "Mentor", mentors[i]).gql(`mutation($id: ID!) { `+verb+`(input: {matchId: $id}) { match { status } userErrors { code } } }`, map[string]any{"id": match})
		if errs, _ := dig(d, verb, "userErrors").([]any); len(errs) > 0 || dig(d, verb, "match") == nil {
			t.Fatalf("%s %d: %v", verb, i, d)
		}
	}
	for i := range 4 {
		id := request(past.URL, i)
		if i >= 2 {
			answer(past.URL, i, id, "acceptMatch")
		}
	}
	if err := past.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := past.cmd.Wait(); err != nil {
		t.Fatalf("the past instance did not stop cleanly: %v\n%s", err, past.logs.String())
	}

	// Today: a takes both worker leases; b, 22 days ahead, stands by and
	// is ready.
	a := startChild(t, withClock(0)...)
	waitWorkers(t, rc, ns, a.cmd.Process.Pid, 30*time.Second)
	b := startChild(t, withClock(22*day)...)
	waitReady(t, b.URL, 30*time.Second)
	if got := metricLine(t, b.URL, `mentorship_worker_lease_held{follower="notifier"}`); !strings.HasSuffix(got, " 0") {
		t.Errorf("the standby's lease metric: %q", got)
	}
	if got := metricLine(t, a.URL, `mentorship_worker_lease_held{follower="notifier"}`); !strings.HasSuffix(got, " 1") {
		t.Errorf("the holder's lease metric: %q", got)
	}

	// The burst through a: six requests, three accepted, one declined,
	// two left pending.
	var introduced string
	for i := 4; i < 10; i++ {
		id := request(a.URL, i)
		if i == 4 {
			introduced = id
		}
		switch {
		case i <= 6:
			answer(a.URL, i, id, "acceptMatch")
		case i == 7:
			answer(a.URL, i, id, "declineMatch")
		}
	}
	// Kill a while its notifier still has emails to deliver.
	waiting, err := rc.ZCard(context.Background(), "{"+notifyredis.LeaseName(ns)+"}:due").Result()
	if err != nil {
		t.Fatal(err)
	}
	if waiting == 0 {
		t.Fatalf("every email was delivered before the kill (%d received); the relay is too quick for this test", len(relay.Messages()))
	}
	deliveredBefore := len(relay.Messages())
	if err := a.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = a.cmd.Wait()
	killed := time.Now()
	took := waitWorkers(t, rc, ns, b.cmd.Process.Pid, 10*ttl)
	t.Logf("killed the holder with %d emails waiting (%d delivered); the survivor took both leases %s later (lease TTL %s)", waiting, deliveredBefore, took, ttl)
	if limit := ttl + ttl/3 + 500*time.Millisecond; took > limit {
		t.Errorf("the takeover took %s, more than the TTL and one poll (%s)", took, limit)
	}
	if got := metricLine(t, b.URL, `mentorship_worker_lease_held{follower="process_manager"}`); !strings.HasSuffix(got, " 1") {
		t.Errorf("the survivor's lease metric: %q", got)
	}

	// The burst goes on through b, once it projects the read models too
	// (their leases are the projector's, with a TTL of their own), so that
	// its mutations read their writes: one accepted, one declined, two
	// pending.
	for h := leaseHolders(t, rc, ns); h["members"] != b.cmd.Process.Pid || h["matches"] != b.cmd.Process.Pid; h = leaseHolders(t, rc, ns) {
		if time.Now().After(killed.Add(20 * time.Second)) {
			t.Fatalf("the survivor does not project: read model leases %v", h)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for i := 10; i < pairs; i++ {
		id := request(b.URL, i)
		switch i {
		case 10:
			answer(b.URL, i, id, "acceptMatch")
		case 11:
			answer(b.URL, i, id, "declineMatch")
		}
	}

	store, err := kurrent.Open(context.Background(), kdb.ConnectionString(), kurrent.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	// Every time rule fired once: by a for the past's matches (or by b,
	// had a died first) and by b, whose clock says 22 days passed, for
	// those made through a. Matches made through b are not due.
	want := map[string]int{
		"MatchRequested ResponseWindowElapsed":                 4, // 0, 1 from the past; 8, 9 through a
		"MatchRequested MatchAccepted FirstMeetingReminderDue": 5, // 2, 3 from the past; 4, 5, 6 through a
		"MatchRequested MatchDeclined":                         2, // 7 through a, 11 through b
		"MatchRequested MatchAccepted":                         1, // 10 through b
		"MatchRequested":                                       2, // 12, 13 through b
	}
	var histories map[string]int
	var recs []eventstore.RecordedEvent
	deadline := time.Now().Add(60 * time.Second)
	for {
		histories, recs = matchHistories(t, store)
		owed := emailsOwed(recs)
		if fmt.Sprint(histories) == fmt.Sprint(want) && len(relay.CountByMessageID()) >= owed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the matches' histories are %v, want %v; the relay has %d distinct emails of %d owed", histories, want, len(relay.CountByMessageID()), owed)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Nothing more comes: the outbox has nothing waiting, and a moment
	// later the log and the relay are as they were.
	for {
		n, err := rc.ZCard(context.Background(), "{"+notifyredis.LeaseName(ns)+"}:due").Result()
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d emails still wait in the outbox", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(2 * time.Second)
	histories, recs = matchHistories(t, store)
	if fmt.Sprint(histories) != fmt.Sprint(want) {
		t.Errorf("later, the matches' histories are %v, want %v", histories, want)
	}
	owed := emailsOwed(recs)
	counts := relay.CountByMessageID()
	if len(counts) != owed {
		t.Errorf("the relay received %d distinct emails; the log owes %d", len(counts), owed)
	}
	entries, err := rc.HGetAll(context.Background(), "{"+notifyredis.LeaseName(ns)+"}:entries").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != owed {
		t.Errorf("the outbox holds %d emails; the log owes %d", len(entries), owed)
	}
	var twice []string
	for mid, n := range counts {
		id, _, _ := strings.Cut(mid, "@")
		if v, ok := entries[id]; !ok || !strings.Contains(v, `"status":"SENT"`) {
			t.Errorf("the relay received %s, which the outbox does not show as sent: %s", mid, v)
		}
		if n > 1 {
			twice = append(twice, id)
		}
		if n > 2 {
			t.Errorf("the relay received %s %d times", mid, n)
		}
	}

	// The shared read models are exactly those of the log.
	keys, closeKeys, err := openKeys(context.Background(), config.Config{MasterKeyURL: testMasterKey}, store, false)
	if err != nil {
		t.Fatal(err)
	}
	defer closeKeys()
	events := readmodeltest.Events(t, sealStore(store, keys))
	rm := redisrm.New(rc, redisrm.Options{Prefix: ns, Logger: zerolog.Nop()})
	position := func() (eventstore.Position, error) {
		members, err := rm.Members.Position()
		if err != nil {
			return 0, err
		}
		matches, err := rm.Matches.Position()
		return min(members, matches), err
	}
	for {
		pos, err := position()
		if err != nil {
			t.Fatal(err)
		}
		if pos >= events[len(events)-1].Position {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the read models stand at %d of %d", pos, events[len(events)-1].Position)
		}
		time.Sleep(20 * time.Millisecond)
	}
	got := readmodeltest.Models{Members: rm.Members, Matches: rm.Matches, Position: position}
	readmodeltest.Compare(t, domain.DefaultProgram(), time.Now(), events, readmodeltest.Reference(t, events), got)

	// Staff see a match's emails, from Redis, on the survivor.
	staff := &client{t: t, url: b.URL}
	staff.login("Staff", "staff@example.org")
	d := staff.gql(`query($id: ID!) { match(id: $id) { emails { kind status } } }`, map[string]any{"id": introduced})
	if es, _ := dig(d, "match", "emails").([]any); len(es) != 6 || !strings.Contains(fmt.Sprint(es), "MATCH_MADE") || !strings.Contains(fmt.Sprint(es), "FIRST_MEETING_REMINDER") ||
		strings.Contains(fmt.Sprint(es), "PENDING") || strings.Contains(fmt.Sprint(es), "FAILING") {
		t.Errorf("staff see the accepted match's emails as %v; want the request, the acceptance, two introductions and two reminders, all sent", es)
	}

	// Only the attempt the kill cut short may have reached the relay
	// twice, and the survivor said so.
	if err := b.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_ = b.cmd.Wait()
	if len(twice) > 1 {
		t.Errorf("%d emails reached the relay twice: %v", len(twice), twice)
	}
	for _, id := range twice {
		logged := false
		for line := range strings.SplitSeq(b.logs.String(), "\n") {
			logged = logged || (strings.Contains(line, `"message_id":"`+id+`"`) && strings.Contains(line, "cut short"))
		}
		if !logged {
			t.Errorf("%s reached the relay twice without the survivor logging it as in doubt", id)
		}
	}
	t.Logf("%d emails owed and delivered, %d of them twice with the same Message-ID", owed, len(twice))
}
