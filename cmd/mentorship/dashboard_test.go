package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/mentorship/mentorship/internal/browsertest"
	"github.com/mentorship/mentorship/mail/smtptest"
)

// signUp signs up a mentee and a mentor with the given names (their first
// names, lower case, at example.org) and returns both and the mentor's ID.
func signUp(t *testing.T, url, mentee, mentor string) (*client, *client, string) {
	t.Helper()
	a, b := &client{t: t, url: url}, &client{t: t, url: url}
	d := a.gql(`mutation($in: RegisterInput!) { registerMentee(input: $in) { token } }`,
		map[string]any{"in": map[string]any{"name": mentee, "email": strings.ToLower(strings.Fields(mentee)[0]) + "@example.org", "password": storyPassword}})
	a.token = dig(d, "registerMentee", "token").(string)
	d = b.gql(`mutation($in: RegisterInput!) { registerMentor(input: $in) { token viewer { id } } }`,
		map[string]any{"in": map[string]any{"name": mentor, "email": strings.ToLower(strings.Fields(mentor)[0]) + "@example.org", "password": storyPassword}})
	b.token = dig(d, "registerMentor", "token").(string)
	a.gql(`mutation($in: UpdateProfileInput!) { updateProfile(input: $in) { userErrors { code } } }`,
		map[string]any{"in": map[string]any{"name": mentee, "discipline": "CIVIL", "location": map[string]any{"province": "AB"}}})
	return a, b, dig(d, "registerMentor", "viewer", "id").(string)
}

// requestMentor lets a mentee request a mentor and returns the match's ID.
func requestMentor(mentee *client, mentorID string) string {
	d := mentee.gql(`mutation($m: ID!) { requestMatch(input: {mentorId: $m}) { match { id } } }`, map[string]any{"m": mentorID})
	return dig(d, "requestMatch", "match", "id").(string)
}

// pair signs up a mentee and a mentor and lets the mentee request the
// mentor; it returns both and the match's ID.
func pair(t *testing.T, url, mentee, mentor string) (*client, *client, string) {
	t.Helper()
	a, b, mentorID := signUp(t, url, mentee, mentor)
	return a, b, requestMentor(a, mentorID)
}

// poll waits, on every animation frame, until the expression is true in the
// page, for at most within.
func poll(ctx context.Context, t *testing.T, what, expr string, within time.Duration) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(within))); err != nil {
		page, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('main').innerText`))
		t.Fatalf("%s: %v\nthe page shows:\n%s", what, err, page)
	}
}

// signInToDashboard opens the dashboard, signs in through its form as the
// staff member or auditor with the given email, and waits until the page is
// live.
func signInToDashboard(ctx context.Context, t *testing.T, url, role, email string) {
	t.Helper()
	err := chromedp.Do(ctx,
		chromedp.Navigate(url+"/dashboard"),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`input[name="role"][value=%q]`, role))),
		chromedp.SendKeys(chromedp.CSS("#email"), email),
		chromedp.SendKeys(chromedp.CSS("#password"), storyPassword+kb.Enter),
		chromedp.WaitVisible(chromedp.CSS("#app")),
	)
	if err != nil {
		t.Fatalf("signing in to the dashboard as %s: %v", email, err)
	}
	poll(ctx, t, "the page goes live", `document.querySelector('#live').dataset.state === 'live'`, 10*time.Second)
}

func eval[T any](ctx context.Context, t *testing.T, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// The staff dashboard in headless Chromium against the real server: staff
// sign in and see the figures; a mentor accepting through another client
// shows on the page within a second without a reload, with no layout
// shift; a nudge sent from the page, by keyboard alone, reaches the
// mentor's mailbox through SMTP; a match found by a partner's name is
// ended with Graceful Exit and the other partner emailed; after its
// connection drops, the page
// resumes the activity feed after the last position it saw, missing
// nothing; the page fits 1280×800 and a tablet; a mentee's token is
// refused. With UPDATE_SCREENSHOT=1 it saves the README's screenshot.
func TestDashboardInABrowser(t *testing.T) {
	ctx := browsertest.New(t, browsertest.Options{Width: 1280, Height: 800})
	relay := smtptest.Start(t, smtptest.Options{})
	dir := t.TempDir()
	createOperator(t, dir, "staff", "staff@example.org")
	createOperator(t, dir, "auditor", "auditor@example.org")
	serve := func(offset time.Duration) *testServer {
		return startServer(t, dir, "--smtp-host", relay.Host(), "--smtp-port", strconv.Itoa(relay.Port()), "--smtp-tls", "none",
			"--clock-offset", offset.String(), "--signup-limit", "off")
	}

	// Fifteen days ago: one request still waits, one match was made and
	// met.
	ts := serve(0)
	_, _, waiting := pair(t, ts.URL, "Wendy Waiting", "Walter Slow")
	met, metMentor, metMatch := pair(t, ts.URL, "Ada Lovelace", "Grace Hopper")
	metMentor.gql(`mutation($m: ID!) { acceptMatch(input: {matchId: $m}) { userErrors { code } } }`, map[string]any{"m": metMatch})
	today := time.Now().UTC().Format("2006-01-02")
	met.gql(`mutation($m: ID!, $d: Date!) { addSession(input: {matchId: $m, date: $d, minutes: 90}) { userErrors { code } } }`, map[string]any{"m": metMatch, "d": today})
	ts.Stop(t)

	ts = serve(15 * 24 * time.Hour)
	_, fresh, freshMatch := pair(t, ts.URL, "Noah Newcomer", "Nadia Quick")
	wanted := map[string]string{"pending": "2", "active": "1", "pendingPastWindow": "1", "hoursThisMonth": "1.5"}
	if time.Now().UTC().Add(15*24*time.Hour).Format("2006-01") != today[:7] {
		wanted["hoursThisMonth"] = "0.0" // the meeting's month has passed on the server's clock
	}

	// Staff sign in through the form.
	signInToDashboard(ctx, t, ts.URL, "STAFF", "staff@example.org")
	for k, v := range wanted {
		poll(ctx, t, "figure "+k, fmt.Sprintf(`document.querySelector('[data-figure=%q]').textContent === %q`, k, v), 5*time.Second)
	}
	poll(ctx, t, "the reports are drawn", `document.querySelectorAll('#c-matches rect').length > 0 && document.querySelector('#r-table tfoot').textContent.includes('Total')`, 5*time.Second)
	if tok := eval[string](ctx, t, `sessionStorage.getItem('mentorship-dashboard-token') || ''`); tok == "" {
		t.Fatal("the token is not in the session storage")
	}

	// Another client accepts a match: the page shows it without a reload.
	eval[bool](ctx, t, `(() => {
		window.shifts = 0;
		new PerformanceObserver((l) => { for (const e of l.getEntries()) if (!e.hadRecentInput) window.shifts += e.value; }).observe({type: 'layout-shift'});
		const el = document.querySelector('[data-figure="active"]');
		window.acceptShownAt = 0;
		new MutationObserver(() => { if (el.textContent === '2' && !window.acceptShownAt) window.acceptShownAt = Date.now(); }).observe(el, {childList: true, characterData: true, subtree: true});
		return true; })()`)
	started := time.Now()
	fresh.gql(`mutation($m: ID!) { acceptMatch(input: {matchId: $m}) { userErrors { code } } }`, map[string]any{"m": freshMatch})
	answered := time.Now()
	poll(ctx, t, "the accepted match shows within 1 s", `document.querySelector('[data-figure="active"]').textContent === '2' && document.querySelector('[data-figure="pending"]').textContent === '1'`, time.Second)
	total := time.Since(started)
	shownAt := eval[int64](ctx, t, `window.acceptShownAt`)
	t.Logf("accept answered after %v; the page showed it %d ms after the answer arrived (%v after sending it)",
		answered.Sub(started).Round(time.Millisecond), shownAt-answered.UnixMilli(), total.Round(time.Millisecond))
	if total > time.Second {
		t.Fatalf("the page took %v to show the accepted match", total)
	}
	poll(ctx, t, "the activity feed shows the acceptance", `document.querySelector('#activity').textContent.includes('accepted')`, 2*time.Second)
	poll(ctx, t, "the queues refresh", `document.querySelector('#q-noFirstSession').textContent.includes('Noah Newcomer') || document.querySelector('#q-pendingOlderThan').textContent.includes('Wendy')`, 2*time.Second)
	if s := eval[float64](ctx, t, `window.shifts`); s > 0.001 {
		t.Errorf("the live update shifted the layout (cumulative shift %.4f)", s)
	}

	// A nudge from the page, by keyboard: focus the row's button, Enter,
	// type a note, Tab to the send button, Enter.
	before := len(relay.Messages())
	err := chromedp.Do(ctx,
		chromedp.Focus(chromedp.CSS(`#q-pendingOlderThan button`)),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(`#nudge-dialog`)),
		chromedp.SendKeys(chromedp.CSS(`#nudge-note`), "Wendy is keen to hear from you."),
		chromedp.KeyEvent(kb.Tab),
		chromedp.KeyEvent(kb.Tab),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitNotVisible(chromedp.CSS(`#nudge-dialog`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	if eval[string](ctx, t, `document.activeElement ? document.activeElement.id : ''`) == "nudge-send" {
		t.Fatal("the dialog is open still")
	}
	nudged := func() bool {
		for _, m := range relay.Messages()[before:] {
			if strings.Contains(strings.Join(m.To, ","), "walter@example.org") && strings.Contains(m.Subject, "Wendy Waiting is waiting for your answer") {
				return true
			}
		}
		return false
	}
	// Each wait is for one more message than arrived so far: the
	// nudge's, or an earlier email still on its way.
	for n := before + 1; !nudged(); n++ {
		relay.WaitFor(n, 30*time.Second)
	}
	poll(ctx, t, "the queue shows the nudge", `document.querySelector('#q-pendingOlderThan').textContent.includes('mentor nudged')`, 5*time.Second)
	_ = waiting

	// Ada asks staff to end her match: the request shows in the queue
	// live; staff end it with her reason, Graceful Exit, filled in; Grace,
	// who did not ask, gets the program's standard email, and the figures
	// move.
	met.url = ts.URL
	met.token = "" // fifteen days on, her session has lapsed
	met.login("Mentee", "ada@example.org")
	met.gql(`mutation($m: ID!) { requestMatchEnd(input: {matchId: $m, reason: "GRACEFUL_EXIT", note: "Not a good fit, Ada wrote."}) { userErrors { code } } }`, map[string]any{"m": metMatch})
	poll(ctx, t, "the request shows in the queue", `document.querySelector('#q-endRequests').textContent.includes('Ada Lovelace asked')`, 2*time.Second)
	before = len(relay.Messages())
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#q-endRequests button`)),
		chromedp.WaitVisible(chromedp.CSS(`#end-dialog`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	if got := eval[string](ctx, t, `document.querySelector('#end-reason').value + '|' + document.querySelector('input[name="end-by"]:checked').value + '|' + document.querySelector('#end-note').value`); got != "GRACEFUL_EXIT|mentee|Not a good fit, Ada wrote." {
		t.Fatalf("the end dialog is not filled in from Ada's request: %q", got)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#end-send")),
		chromedp.WaitNotVisible(chromedp.CSS(`#end-dialog`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	poll(ctx, t, "the ended match shows", `document.querySelector('[data-figure="active"]').textContent === '1' && document.querySelector('[data-figure="ended"]').textContent === '1'`, 2*time.Second)
	poll(ctx, t, "the request leaves the queue", `!document.querySelector('#q-endRequests').textContent.includes('Ada Lovelace')`, 2*time.Second)
	// Staff also find a partner's active matches by name, for a request
	// made by phone or email.
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#find-words"), "nadia"+kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(`#q-found button`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	closed := func() bool {
		for _, m := range relay.Messages()[before:] {
			if strings.Contains(strings.Join(m.To, ","), "grace@example.org") && strings.Contains(m.Subject, "Your match with Ada Lovelace has been closed") {
				return true
			}
		}
		return false
	}
	for n := before + 1; !closed(); n++ {
		relay.WaitFor(n, 30*time.Second)
	}

	// The connection drops; a request made meanwhile shows once it is
	// back, once, because the page resumes after the last position seen.
	rita, _, raj := signUp(t, ts.URL, "Rita Reconnect", "Raj Later")
	eval[bool](ctx, t, `(window.mentorshipDashboard.drop(3000), true)`)
	poll(ctx, t, "the page notices the drop", `document.querySelector('#live').dataset.state !== 'live'`, 2*time.Second)
	missed := requestMentor(rita, raj)
	if state := eval[string](ctx, t, `document.querySelector('#live').dataset.state`); state == "live" {
		t.Fatal("the request was made after the page had reconnected: the test proves nothing")
	}
	short := missed[len(missed)-8:]
	poll(ctx, t, "the missed request shows after the reconnection", fmt.Sprintf(`document.querySelector('#live').dataset.state === 'live' && document.querySelector('#activity').textContent.includes(%q)`, short), 10*time.Second)
	if n := eval[int](ctx, t, fmt.Sprintf(`[...document.querySelectorAll('#activity li')].filter((li) => li.textContent.includes(%q)).length`, short)); n != 1 {
		t.Fatalf("the missed request shows %d times", n)
	}
	poll(ctx, t, "the figures catch up", `document.querySelector('[data-figure="pending"]').textContent === '2'`, 2*time.Second)

	// 1280×800 and a tablet: nothing overflows sideways.
	for _, size := range [][2]int64{{1280, 800}, {820, 1180}, {1180, 820}} {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(size[0], size[1])); err != nil {
			t.Fatal(err)
		}
		if over := eval[bool](ctx, t, `document.documentElement.scrollWidth > document.documentElement.clientWidth`); over {
			t.Errorf("at %d×%d the page is wider than the window", size[0], size[1])
		}
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 800)); err != nil {
		t.Fatal(err)
	}
	// The page's headers keep it to its own origin.
	res, err := http.Get(ts.URL + "/dashboard")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") {
		t.Errorf("Content-Security-Policy %q", csp)
	}

	// A mentee's token is refused: the page signs out with the reason.
	mentee := &client{t: t, url: ts.URL}
	mentee.login("Mentee", "ada@example.org")
	err = chromedp.Do(ctx,
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`sessionStorage.setItem('mentorship-dashboard-token', %q)`, mentee.token)),
		chromedp.Reload(),
		chromedp.WaitVisible(chromedp.CSS("#signin")),
	)
	if err != nil {
		t.Fatal(err)
	}
	poll(ctx, t, "the mentee is refused", `document.querySelector('#signin-error').textContent.includes('refused')`, 5*time.Second)
	if eval[bool](ctx, t, `!document.querySelector('#app').hidden || sessionStorage.getItem('mentorship-dashboard-token') !== null`) {
		t.Fatal("the page kept a mentee's token or showed the program to them")
	}

	// An auditor signs in through the same form and reads the figures and
	// reports, without queues or actions, and downloads the CSV.
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`input[name="role"][value="AUDITOR"]`)),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('#email').value = ''`),
		chromedp.SendKeys(chromedp.CSS("#email"), "auditor@example.org"),
		chromedp.SendKeys(chromedp.CSS("#password"), storyPassword+kb.Enter),
		chromedp.WaitVisible(chromedp.CSS("#app")),
	)
	if err != nil {
		t.Fatal(err)
	}
	poll(ctx, t, "the auditor sees the figures", `document.querySelector('#live').dataset.state === 'live' && document.querySelector('[data-figure="active"]').textContent === '1'`, 5*time.Second)
	if eval[bool](ctx, t, `!document.querySelector('#queues').hidden || document.querySelector('#readonly').hidden`) {
		t.Fatal("an auditor is offered the queues' actions")
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#r-csv"))); err != nil {
		t.Fatal(err)
	}
	poll(ctx, t, "the CSV downloads", `document.querySelector('#announce').textContent.includes('downloaded as CSV')`, 5*time.Second)

	if os.Getenv("UPDATE_SCREENSHOT") == "1" {
		screenshot(t, ctx)
	}
}

// screenshot saves docs/dashboard.png: the page at 1280×800, scrolled
// whole, for a simulated program with two years of history.
func screenshot(t *testing.T, ctx context.Context) {
	dir := t.TempDir()
	runSeed(t, "--mentors", "80", "--mentees", "260", "--events", "16000", "--seed", "11", "--data-dir", dir)
	createOperator(t, dir, "staff", "staff@example.org")
	ts := startServer(t, dir)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 800)); err != nil {
		t.Fatal(err)
	}
	signInToDashboard(ctx, t, ts.URL, "STAFF", "staff@example.org")
	poll(ctx, t, "the page is ready", `document.querySelectorAll('#c-matches rect').length > 10`, 10*time.Second)
	eval[bool](ctx, t, `(document.querySelectorAll('.changed').forEach((e) => e.classList.remove('changed')), true)`)
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("..", "..", "docs", "dashboard.png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}
