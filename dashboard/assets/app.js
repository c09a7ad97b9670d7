// The staff dashboard. Figures come from programHealth and, for staff, the
// dashboard subscription; the activity feed from matchEvents, resumed after
// the last position seen whenever the connection comes back; queues from
// staffQueue, refreshed on those pushes, and its closure requests also
// polled while the page is visible (closures.js); reports from
// programReport. Everything members wrote (names, notes) is written with
// textContent.

import { ApiError, Live, request } from './graphql.js';
import { barChart, hbarChart, lineChart } from './charts.js';
import { $, announce, day, make, text } from './dom.js';
import { CLOSURE_FIELDS, Closures } from './closures.js';

const TOKEN_KEY = 'mentorship-dashboard-token';

const state = {
  token: sessionStorage.getItem(TOKEN_KEY) || '',
  role: '',
  options: null,
  health: null,
  since: null,
  live: null,
  timers: {},
  poll: 0,
  queue: null,
  report: null,
  found: '',
};

// Members asking to close their account: a queue of its own, which polls
// while the page is visible, as a fallback for a missed push.
const closures = new Closures({ token: () => state.token, refused });

const REASONS = {
  GRACEFUL_EXIT: 'Graceful Exit (not a good fit)',
  GOALS_CONCLUDED: 'Goals concluded',
  MOVED: 'Moved',
  OTHER: 'Other',
  TERM_COMPLETED: 'Term completed',
};
const reasonLabel = (r) => (r === null ? 'No reason given' : REASONS[r] || r);

const EVENTS = {
  MatchRequested: 'requested',
  MatchAccepted: 'accepted',
  MatchDeclined: 'declined',
  MatchCancelled: 'cancelled',
  MatchEnded: 'ended',
};

const HEALTH = `{ programHealth { pending pendingPastWindow nudgeRequests active noFirstSession endingSoon declined cancelled ended
  sessionsThisMonth hoursThisMonth responseWindowDays position } }`;
const QUEUE = `query($days: Int) { staffQueue(pendingOlderThanDays: $days) {
  pendingOlderThan { ...Row } nudgeRequests { ...Row } noFirstSession { ...Row } endingSoon { ...Row } endRequests { ...Row }
  closureRequests { ...Closure } } }
  fragment Row on Match { id status requestedAt acceptedAt daysPending termEndsAt lastNudgedAt nudgeRequested
    mentee { id name } mentor { id name } endRequest { reason note requestedAt requestedBy { id name } } }
  ${CLOSURE_FIELDS}`;
const FIGURES = `requested made declined cancelled ended answered medianDaysToAnswer sessions sessionsWithoutLength cpdHours
  endedByReason { reason count } declinedByReason { reason count }`;
const REPORT = `query($in: ProgramReportInput) { programReport(input: $in) { from to position
  months { month figures { ${FIGURES} } }
  byDiscipline { name figures { requested made sessions cpdHours } }
  byProvince { name figures { requested made sessions cpdHours } }
  total { ${FIGURES} } } }`;

// ---- small helpers -------------------------------------------------------

function formatFigure(key, v) {
  if (key === 'hoursThisMonth') return v.toFixed(1);
  return String(v);
}

function setFigure(key, v) {
  for (const el of document.querySelectorAll(`[data-figure="${key}"]`)) {
    const s = formatFigure(key, v);
    if (el.textContent !== s) {
      text(el, s);
      const card = el.closest('.figure');
      if (card && el.classList.contains('value')) {
        card.classList.remove('changed');
        void card.offsetWidth;
        card.classList.add('changed');
      }
    }
  }
}

function debounce(name, ms, fn) {
  clearTimeout(state.timers[name]);
  state.timers[name] = setTimeout(fn, ms);
}

function isStaff() {
  return state.role === 'STAFF';
}

// ---- signing in and out --------------------------------------------------

function showSignIn(message) {
  $('#app').hidden = true;
  $('#signout').hidden = true;
  text($('#who'), '');
  $('#signin').hidden = false;
  text($('#signin-error'), message || '');
  $('#email').focus();
}

async function signIn(ev) {
  ev.preventDefault();
  const form = ev.target;
  const role = form.role.value;
  const email = form.email.value.trim();
  const password = form.password.value;
  if (!email || !password) {
    text($('#signin-error'), 'Enter your email and password.');
    return;
  }
  const field = role === 'AUDITOR' ? 'loginAuditor' : 'loginStaff';
  try {
    const d = await request(`mutation($in: LoginInput!) { r: ${field}(input: $in) { token userErrors { code message } } }`,
      { in: { email, password } });
    if (d.r.userErrors.length > 0 || !d.r.token) {
      text($('#signin-error'), d.r.userErrors.map((e) => e.message).join(' ') || 'Signing in failed.');
      return;
    }
    form.password.value = '';
    state.token = d.r.token;
    sessionStorage.setItem(TOKEN_KEY, state.token);
    await start();
  } catch (e) {
    text($('#signin-error'), e.message);
  }
}

function stop() {
  closures.stop();
  if (state.live) state.live.stop();
  state.live = null;
  clearInterval(state.poll);
  for (const t of Object.values(state.timers)) clearTimeout(t);
  state.timers = {};
}

async function signOut(message) {
  const token = state.token;
  stop();
  state.token = '';
  state.role = '';
  sessionStorage.removeItem(TOKEN_KEY);
  if (token && !message) {
    try {
      await request('mutation { logout { ok } }', {}, token);
    } catch {
      // The session ends with its expiry anyway.
    }
  }
  setLive('off');
  showSignIn(message);
}

/** Turns an API refusal into the sign-in form with a reason. */
function refused(e) {
  if (e instanceof ApiError && (e.code === 'UNAUTHENTICATED' || e.code === 'FORBIDDEN')) {
    signOut(e.code === 'FORBIDDEN'
      ? 'This page is for staff and auditors: the account signed in may not see it.'
      : 'Your session has ended: sign in again.');
    return true;
  }
  return false;
}

// ---- starting -------------------------------------------------------------

async function start() {
  let d;
  try {
    d = await request(`{ viewer { role member { name } } programOptions { endReasons disciplines provinces responseWindowDays } }`, {}, state.token);
  } catch (e) {
    if (e.code === 'UNAUTHENTICATED') return signOut('Your session has ended: sign in again.');
    return showSignIn(e.message);
  }
  if (!d.viewer) return signOut('Your session has ended: sign in again.');
  if (d.viewer.role !== 'STAFF' && d.viewer.role !== 'AUDITOR') {
    const who = d.viewer.role.toLowerCase();
    return signOut(`This page is for staff and auditors: a ${who}'s account is refused.`);
  }
  state.role = d.viewer.role;
  state.options = d.programOptions;
  $('#signin').hidden = true;
  $('#app').hidden = false;
  $('#signout').hidden = false;
  text($('#who'), `${(d.viewer.member && d.viewer.member.name) || ''} · ${isStaff() ? 'staff' : 'auditor'}`);
  $('#readonly').hidden = isStaff();
  $('#queues').hidden = !isStaff();
  fillReportForm();
  try {
    await Promise.all([refreshHealth(), isStaff() ? refreshQueue() : null, refreshReport()]);
  } catch (e) {
    if (refused(e)) return;
    announce(e.message);
  }
  state.since = state.health ? state.health.position : null;
  follow();
  if (isStaff()) closures.start();
  $('#main').focus();
}

function follow() {
  const live = new Live({
    token: state.token,
    onState: setLive,
    onConnected: (again) => {
      if (again) refreshSoon(true);
    },
    onRefused: () => signOut('Your session has ended: sign in again.'),
  });
  state.live = live;
  live.subscribe('subscription($since: Position) { matchEvents(since: $since) { position type matchId status occurredAt } }',
    () => ({ since: state.since }),
    (data) => {
      const ev = data.matchEvents;
      state.since = ev.position;
      addActivity(ev);
      refreshSoon(true);
    },
    (err) => announce(`Live activity stopped: ${err.message}`));
  if (isStaff()) {
    live.subscribe('subscription { dashboard { pending active declined cancelled ended sessionsThisMonth hoursThisMonth position } }',
      () => ({}),
      (data) => {
        applyCounts(data.dashboard);
        refreshSoon(false);
      },
      (err) => announce(`Live figures stopped: ${err.message}`));
  } else {
    // Auditors have no dashboard subscription (it is staff's); meetings
    // logged show on the next status change or within half a minute.
    state.poll = setInterval(() => refreshHealth().catch(refused), 30000);
  }
  live.start();
}

function setLive(s) {
  const labels = { off: 'Not connected', connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…', refused: 'Refused' };
  $('#live').dataset.state = s;
  text($('#live-text'), labels[s] || s);
}

/** Refreshes what the pushes do not carry, soon, once per burst. */
function refreshSoon(withReport) {
  debounce('health', 60, () => {
    refreshHealth().catch(refused);
    if (isStaff()) refreshQueue().catch(refused);
  });
  if (withReport) debounce('report', 600, () => refreshReport().catch(refused));
}

// ---- figures ---------------------------------------------------------------

function applyCounts(c) {
  for (const k of ['pending', 'active', 'declined', 'cancelled', 'ended', 'sessionsThisMonth', 'hoursThisMonth']) {
    if (c[k] !== undefined) setFigure(k, c[k]);
  }
  state.counts = { ...(state.counts || {}), ...c };
  drawStatus();
}

async function refreshHealth() {
  const d = await request(HEALTH, {}, state.token);
  const h = d.programHealth;
  // A push newer than this answer has already shown fresher counts.
  if (state.counts && state.counts.position && BigInt(state.counts.position) > BigInt(h.position)) {
    for (const k of ['pendingPastWindow', 'nudgeRequests', 'noFirstSession', 'endingSoon', 'responseWindowDays']) setFigure(k, h[k]);
  } else {
    for (const [k, v] of Object.entries(h)) if (k !== 'position') setFigure(k, v);
    state.counts = h;
  }
  state.health = h;
  drawStatus();
}

function drawStatus() {
  const c = state.counts;
  if (!c) return;
  const names = ['Pending', 'Active', 'Declined', 'Cancelled', 'Ended'];
  const keys = ['pending', 'active', 'declined', 'cancelled', 'ended'];
  hbarChart($('#status-chart'), {
    label: 'Matches by status: ' + keys.map((k, i) => `${names[i]} ${c[k]}`).join(', '),
    categories: names,
    series: [{ name: 'Matches', values: keys.map((k) => c[k]), colour: 0 }],
  });
}

// ---- queues ----------------------------------------------------------------

async function refreshQueue() {
  const days = state.options ? state.options.responseWindowDays : 14;
  const askedAt = performance.now();
  const d = await request(QUEUE, { days }, state.token);
  state.queue = d.staffQueue;
  for (const key of ['pendingOlderThan', 'nudgeRequests', 'noFirstSession', 'endingSoon', 'endRequests']) {
    renderQueue(key, d.staffQueue[key]);
  }
  closures.show(d.staffQueue.closureRequests, askedAt);
}

function renderQueue(key, matches) {
  const count = document.querySelector(`[data-count="${key}"]`);
  if (count) text(count, String(matches.length));
  const list = $('#q-' + key);
  const focused = document.activeElement && list.contains(document.activeElement) ? document.activeElement.dataset.focusKey : null;
  const rows = matches.map((m) => {
    const li = make('li', 'row');
    const who = make('p', 'who');
    who.append(make('strong', '', m.mentee.name), document.createTextNode(' → '), make('strong', '', m.mentor.name));
    const what = make('p', 'meta');
    if (m.status === 'PENDING') {
      let s = `waiting ${m.daysPending} days, requested ${day(m.requestedAt)}`;
      if (m.lastNudgedAt) s += `; mentor nudged ${day(m.lastNudgedAt)}`;
      text(what, s);
    } else if (m.endRequest) {
      const r = m.endRequest;
      let s = `${r.requestedBy.name} asked ${day(r.requestedAt)}: ${reasonLabel(r.reason)}`;
      if (r.note) s += ` — “${r.note}”`;
      text(what, s);
    } else {
      text(what, `matched ${day(m.acceptedAt)}, term ends ${day(m.termEndsAt)}`);
    }
    const actions = make('div', 'row-actions');
    if (m.status === 'PENDING') {
      const b = make('button', '', 'Nudge mentor');
      b.type = 'button';
      b.dataset.focusKey = key + m.id + 'nudge';
      b.setAttribute('aria-label', `Nudge ${m.mentor.name} about ${m.mentee.name}'s request`);
      b.addEventListener('click', () => openNudge(m));
      actions.append(b);
    } else if (m.status === 'ACTIVE') {
      const b = make('button', '', 'End match…');
      b.type = 'button';
      b.dataset.focusKey = key + m.id + 'end';
      b.setAttribute('aria-label', `End the match of ${m.mentee.name} and ${m.mentor.name}`);
      b.addEventListener('click', () => openEnd(m));
      actions.append(b);
    }
    li.append(who, what, actions);
    return li;
  });
  if (rows.length === 0) rows.push(make('li', 'empty', key === 'found' ? 'No active match found.' : 'Nothing waiting.'));
  list.replaceChildren(...rows);
  if (focused) {
    const again = list.querySelector(`[data-focus-key="${CSS.escape(focused)}"]`);
    if (again) again.focus();
  }
}

let current = null;

function openNudge(m) {
  current = m;
  text($('#nudge-what'), `${m.mentee.name} has waited ${m.daysPending} days for ${m.mentor.name}.`);
  $('#nudge-note').value = '';
  text($('#nudge-error'), '');
  $('#nudge-dialog').showModal();
}

async function sendNudge(ev) {
  ev.preventDefault();
  const m = current;
  const note = $('#nudge-note').value.trim();
  const button = $('#nudge-send');
  button.disabled = true;
  try {
    const d = await request(`mutation($in: NudgeMentorInput!) { nudgeMentor(input: $in) { match { id lastNudgedAt } userErrors { code field message } } }`,
      { in: { matchId: m.id, note: note || null } }, state.token);
    const errs = d.nudgeMentor.userErrors;
    if (errs.length > 0) {
      text($('#nudge-error'), errs.map((e) => e.message).join(' '));
      return;
    }
    $('#nudge-dialog').close();
    announce(`${m.mentor.name} was nudged; the email is on its way.`);
    refreshSoon(false);
  } catch (e) {
    if (!refused(e)) text($('#nudge-error'), e.message);
  } finally {
    button.disabled = false;
  }
}

function openEnd(m) {
  current = m;
  text($('#end-what'), `${m.mentee.name} and ${m.mentor.name}, matched ${day(m.acceptedAt)}.`);
  text($('#end-mentee'), m.mentee.name);
  text($('#end-mentor'), m.mentor.name);
  const select = $('#end-reason');
  select.replaceChildren(...state.options.endReasons.map((r) => {
    const o = make('option', '', reasonLabel(r));
    o.value = r;
    return o;
  }));
  $('#end-note').value = '';
  // A partner's request fills in their reason and who asked.
  if (m.endRequest) {
    select.value = m.endRequest.reason;
    const asker = m.endRequest.requestedBy.id === m.mentor.id ? 'mentor' : 'mentee';
    const radio = document.querySelector(`input[name="end-by"][value="${asker}"]`);
    if (radio) radio.checked = true;
    $('#end-note').value = m.endRequest.note || '';
  }
  text($('#end-error'), '');
  $('#end-dialog').showModal();
}

async function sendEnd(ev) {
  ev.preventDefault();
  const m = current;
  const note = $('#end-note').value.trim();
  if (!note) {
    text($('#end-error'), 'Write a note: it is kept with the match.');
    $('#end-note').focus();
    return;
  }
  const by = document.querySelector('input[name="end-by"]:checked').value === 'mentor' ? m.mentor.id : m.mentee.id;
  const button = $('#end-send');
  button.disabled = true;
  try {
    const d = await request(`mutation($in: EndMatchInput!) { endMatch(input: $in) { match { id status } userErrors { code field message } } }`,
      { in: { matchId: m.id, reason: $('#end-reason').value, requestedBy: by, note } }, state.token);
    const errs = d.endMatch.userErrors;
    if (errs.length > 0) {
      text($('#end-error'), errs.map((e) => e.message).join(' '));
      return;
    }
    $('#end-dialog').close();
    announce(`The match of ${m.mentee.name} and ${m.mentor.name} has ended.`);
    refreshSoon(true);
    if (state.found) findMatches();
  } catch (e) {
    if (!refused(e)) text($('#end-error'), e.message);
  } finally {
    button.disabled = false;
  }
}

// Staff hear of a partner's wish to end a match outside the program (by
// email or phone): they find the partner's active matches here.
const FIND = `query($f: MemberFilter) { memberDirectory(filter: $f, first: 10) { edges { node { id
  matches(group: ACTIVE, first: 5) { edges { node { id status requestedAt acceptedAt termEndsAt mentee { id name } mentor { id name } } } } } } } }`;

async function findMatches(ev) {
  if (ev) ev.preventDefault();
  const words = $('#find-words').value.trim();
  if (!words) {
    text($('#find-error'), 'Enter words of a name or an email.');
    $('#find-words').focus();
    return;
  }
  try {
    const d = await request(FIND, { f: { words, status: 'ACTIVE_MATCH' } }, state.token);
    text($('#find-error'), '');
    const seen = new Set();
    const found = [];
    for (const e of d.memberDirectory.edges) {
      for (const m of (e.node.matches ? e.node.matches.edges : [])) {
        if (!seen.has(m.node.id)) {
          seen.add(m.node.id);
          found.push(m.node);
        }
      }
    }
    state.found = words;
    renderQueue('found', found);
  } catch (e) {
    if (!refused(e)) text($('#find-error'), e.message);
  }
}

// ---- activity --------------------------------------------------------------

function addActivity(ev) {
  const list = $('#activity');
  const li = make('li', 'event');
  const time = make('time', '', ev.occurredAt.slice(0, 16).replace('T', ' '));
  time.dateTime = ev.occurredAt;
  const status = make('span', 'status status-' + ev.status.toLowerCase(), ev.status.toLowerCase());
  li.append(time, document.createTextNode(` Match ${ev.matchId.slice(-8)} ${EVENTS[ev.type] || ev.type} `), status);
  li.dataset.position = ev.position;
  list.prepend(li);
  while (list.children.length > 12) list.lastElementChild.remove();
}

// ---- reports ---------------------------------------------------------------

function monthString(d) {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}`;
}

function fillReportForm() {
  const now = new Date();
  if (!$('#r-to').value) $('#r-to').value = monthString(now);
  if (!$('#r-from').value) $('#r-from').value = monthString(new Date(now.getFullYear(), now.getMonth() - 11, 1));
  for (const [id, values] of [['#r-discipline', state.options.disciplines], ['#r-province', state.options.provinces]]) {
    const select = $(id);
    const keep = select.value;
    const all = make('option', '', 'All');
    all.value = '*';
    const none = make('option', '', 'Not stated');
    none.value = '';
    select.replaceChildren(all, ...values.map((v) => {
      const o = make('option', '', v);
      o.value = v;
      return o;
    }), none);
    select.value = keep || '*';
  }
}

function reportInput() {
  const from = $('#r-from').value;
  const to = $('#r-to').value;
  const input = { from, to };
  const d = $('#r-discipline').value;
  const p = $('#r-province').value;
  if (d !== '*') input.disciplines = [d];
  if (p !== '*') input.provinces = [p];
  return input;
}

async function refreshReport() {
  const input = reportInput();
  if (!/^\d{4}-\d{2}$/.test(input.from) || !/^\d{4}-\d{2}$/.test(input.to)) {
    text($('#report-error'), 'Choose the first and last months.');
    return;
  }
  try {
    const d = await request(REPORT, { in: input }, state.token);
    text($('#report-error'), '');
    state.report = d.programReport;
    drawReport(d.programReport);
  } catch (e) {
    if (e instanceof ApiError && e.code === 'BAD_USER_INPUT') {
      text($('#report-error'), e.message);
      return;
    }
    throw e;
  }
}

function short(month) {
  const [y, m] = month.split('-');
  return ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][Number(m) - 1] + ' ' + y.slice(2);
}

function drawReport(r) {
  const months = r.months.map((m) => short(m.month));
  const f = r.months.map((m) => m.figures);
  barChart($('#c-matches'), {
    label: `Matches per month from ${r.from} to ${r.to}: made ${r.total.made}, declined ${r.total.declined}, cancelled ${r.total.cancelled}, ended ${r.total.ended}`,
    categories: months,
    series: [
      { name: 'Made', values: f.map((x) => x.made), colour: 0 },
      { name: 'Declined', values: f.map((x) => x.declined), colour: 1 },
      { name: 'Cancelled', values: f.map((x) => x.cancelled), colour: 2 },
      { name: 'Ended', values: f.map((x) => x.ended), colour: 3 },
    ],
  });
  const reasons = [...new Set(f.flatMap((x) => x.endedByReason.map((e) => e.reason)))].sort();
  barChart($('#c-ends'), {
    label: 'Matches ended per month, by reason: ' + r.total.endedByReason.map((e) => `${reasonLabel(e.reason)} ${e.count}`).join(', '),
    categories: months,
    stacked: true,
    series: reasons.map((reason, i) => ({
      name: reasonLabel(reason),
      colour: i % 6,
      values: f.map((x) => (x.endedByReason.find((e) => e.reason === reason) || { count: 0 }).count),
    })),
  });
  lineChart($('#c-median'), {
    label: `Median days to an answer per month; over the span ${r.total.medianDaysToAnswer === null ? 'no answers' : r.total.medianDaysToAnswer.toFixed(1) + ' days'}`,
    categories: months,
    unit: ' d',
    series: [{ name: 'Median days to an answer', values: f.map((x) => x.medianDaysToAnswer), colour: 4 }],
  });
  barChart($('#c-sessions'), {
    label: `Meetings and CPD hours per month: ${r.total.sessions} meetings, ${r.total.cpdHours.toFixed(1)} hours`,
    categories: months,
    series: [
      { name: 'Meetings', values: f.map((x) => x.sessions), colour: 5 },
      { name: 'CPD hours', values: f.map((x) => x.cpdHours), colour: 0 },
    ],
  });
  for (const [id, groups, what] of [['#c-discipline', r.byDiscipline, 'discipline'], ['#c-province', r.byProvince, 'province']]) {
    hbarChart($(id), {
      label: `Matches requested and made by ${what}`,
      categories: groups.map((g) => g.name || 'Not stated'),
      series: [
        { name: 'Requested', values: groups.map((g) => g.figures.requested), colour: 2 },
        { name: 'Made', values: groups.map((g) => g.figures.made), colour: 0 },
      ],
    });
  }
  const row = (label, x, head) => {
    const tr = document.createElement('tr');
    const th = make('th', '', label);
    th.scope = 'row';
    tr.append(th);
    const median = x.medianDaysToAnswer === null ? '–' : x.medianDaysToAnswer.toFixed(1);
    for (const v of [x.requested, x.made, x.declined, x.cancelled, x.ended, median, x.sessions, x.sessionsWithoutLength, x.cpdHours.toFixed(1)]) {
      tr.append(make(head ? 'th' : 'td', 'num', String(v)));
    }
    return tr;
  };
  $('#r-table tbody').replaceChildren(...r.months.map((m) => row(m.month, m.figures, false)));
  $('#r-table tfoot').replaceChildren(row('Total', r.total, true));
}

async function downloadCSV() {
  const input = reportInput();
  const q = new URLSearchParams({ format: 'csv', from: input.from, to: input.to });
  if (input.disciplines) q.set('discipline', input.disciplines[0]);
  if (input.provinces) q.set('province', input.provinces[0]);
  let res;
  try {
    res = await fetch('/reports/export?' + q, { headers: { Authorization: 'Bearer ' + state.token } });
  } catch {
    text($('#report-error'), 'The server cannot be reached.');
    return;
  }
  if (!res.ok) {
    text($('#report-error'), (await res.text()).trim() || `The export failed (${res.status}).`);
    return;
  }
  const blob = await res.blob();
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = `mentorship-report-${input.from}-${input.to}.csv`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  announce('The report was downloaded as CSV.');
}

// ---- wiring ----------------------------------------------------------------

$('#signin-form').addEventListener('submit', signIn);
$('#signout').addEventListener('click', () => signOut());
$('#nudge-form').addEventListener('submit', sendNudge);
$('#end-form').addEventListener('submit', sendEnd);
$('#find-form').addEventListener('submit', findMatches);
for (const b of document.querySelectorAll('dialog [data-close]')) {
  b.addEventListener('click', () => b.closest('dialog').close());
}
$('#report-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  refreshReport().catch((e) => refused(e) || text($('#report-error'), e.message));
});
$('#r-csv').addEventListener('click', () => downloadCSV());

// For tests and operators: drop the live connection to watch it resume.
window.mentorshipDashboard = { drop: (pause) => state.live && state.live.drop(pause), since: () => state.since };

if (state.token) start();
else showSignIn();
