// The queue of members asking staff to close their account
// (staffQueue.closureRequests), and erasing them (eraseMember), for staff.
//
// A closure request or an erasure makes the dashboard subscription push,
// and every push refreshes the whole staff queue, this list with it. As a
// fallback for a missed push, a visible page also asks for this one list
// every EVERY milliseconds, skipping a turn when a push has just brought
// it; a hidden tab asks nothing. The list is drawn again only when it
// changed, so that a refresh never moves focus or the rows under the
// reader.

import { request } from './graphql.js';
import { $, announce, day, make, text } from './dom.js';

/**
 * How often a visible page asks for the list without a push, in
 * milliseconds: the fallback, at a cost of one small query per visible
 * staff tab every so often.
 */
const EVERY = 15000;

/** How long to wait after a failed poll before trying again. */
const AFTER_FAILURE = 5000;

const CLOSURES = `{ staffQueue { closureRequests { ...Closure } } }`;

/** The fields of a closure request the queue shows; part of the staff queue's query too. */
export const CLOSURE_FIELDS = `fragment Closure on ClosureRequest { member { id name } note requestedAt openMatches }`;

const ERASE = `mutation($in: EraseMemberInput!) { eraseMember(input: $in) {
  member { id name erased } userErrors { code field message } } }`;

function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}

/** Why the member cannot be erased yet, in words; '' when they can. */
function openMatchesText(n) {
  if (n === 0) return '';
  return `${plural(n, 'open match', 'open matches')}: end or cancel ${n === 1 ? 'it' : 'them'} first, or the erasure is refused.`;
}

/** The words of a text, lower case, letters and digits only. */
function words(s) {
  return s.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter((w) => w !== '');
}

/**
 * What in a reason quotes the member, in words, or '': their name (any
 * word of it), an email address, or three words in a row of their note.
 * The reason stays in the audit record after the member's data is erased,
 * so it must not bring that data back.
 */
function quotesMember(reason, c) {
  const said = words(reason);
  const name = words(c.member.name).filter((w) => w.length > 1);
  if (name.some((w) => said.includes(w))) return 'The reason names the member: leave the name out, the record already says who was erased.';
  if (/\S@\S/.test(reason)) return 'The reason has an email address: leave it out.';
  const note = words(c.note || '');
  const saidText = ` ${said.join(' ')} `;
  for (let i = 0; i + 3 <= note.length; i++) {
    if (saidText.includes(` ${note.slice(i, i + 3).join(' ')} `)) return 'The reason quotes the member’s note: say why in your own words.';
  }
  return '';
}

/** A refusal of the input in words, naming the field it is about. */
function inputError(e) {
  return e.field === 'reason' ? `The reason ${e.message}.` : e.message;
}

/** The queue of closure requests with its Erase… action. */
export class Closures {
  /**
   * @param {{token: () => string, refused: (e: Error) => boolean}} opts
   *   token gives the signed-in token; refused signs out on an
   *   UNAUTHENTICATED or FORBIDDEN answer and tells whether it did.
   */
  constructor(opts) {
    this.opts = opts;
    this.list = [];
    this.refusals = new Map();
    this.drawn = '';
    this.shownAt = -Infinity;
    this.changedAt = -Infinity;
    this.running = false;
    this.current = null;
    this.onVisibility = () => {
      if (document.hidden) clearTimeout(this.timer);
      else this.tick();
    };
    $('#erase-form').addEventListener('submit', (ev) => this.erase(ev));
  }

  /** Starts asking for the list while the page is visible. */
  start() {
    this.running = true;
    document.addEventListener('visibilitychange', this.onVisibility);
    this.schedule(EVERY);
  }

  /** Stops asking and takes the members' names off the page (on signing out). */
  stop() {
    this.running = false;
    clearTimeout(this.timer);
    document.removeEventListener('visibilitychange', this.onVisibility);
    this.list = [];
    this.refusals.clear();
    this.render();
  }

  schedule(ms) {
    clearTimeout(this.timer);
    if (!this.running || document.hidden) return;
    this.timer = setTimeout(() => this.tick(), ms);
  }

  async tick() {
    const since = performance.now() - this.shownAt;
    if (since < EVERY) {
      this.schedule(EVERY - since);
      return;
    }
    let wait = EVERY;
    try {
      await this.refresh();
    } catch (e) {
      if (this.opts.refused(e)) return;
      wait = AFTER_FAILURE;
    }
    this.schedule(wait);
  }

  /** Asks for the list now and shows it. */
  async refresh() {
    const askedAt = performance.now();
    const d = await request(`${CLOSURES} ${CLOSURE_FIELDS}`, {}, this.opts.token());
    this.show(d.staffQueue.closureRequests, askedAt);
  }

  /**
   * Shows a list answered to a request sent at askedAt (performance.now()),
   * unless the page changed it since: an answer older than an erasure
   * would bring the erased member back for a moment.
   */
  show(list, askedAt) {
    if (askedAt < this.changedAt) return;
    this.shownAt = Math.max(this.shownAt, askedAt);
    this.list = list;
    // A refusal stays by its row until the member's open matches change.
    for (const [id, r] of this.refusals) {
      const c = list.find((x) => x.member.id === id);
      if (!c || c.openMatches !== r.openMatches) this.refusals.delete(id);
    }
    this.render();
  }

  render() {
    const key = JSON.stringify([this.list, [...this.refusals]]);
    if (key === this.drawn) return;
    this.drawn = key;
    text(document.querySelector('[data-count="closureRequests"]'), String(this.list.length));
    const list = $('#q-closureRequests');
    const focused = document.activeElement && list.contains(document.activeElement) ? document.activeElement.dataset.focusKey : null;
    const rows = this.list.map((c, i) => this.row(c, i));
    if (rows.length === 0) rows.push(make('li', 'empty', 'Nothing waiting.'));
    list.replaceChildren(...rows);
    if (focused) {
      const again = list.querySelector(`[data-focus-key="${CSS.escape(focused)}"]`);
      if (again) again.focus();
    }
  }

  row(c, i) {
    const li = make('li', 'row closure');
    li.dataset.member = c.member.id;
    const who = make('p', 'who');
    who.append(make('strong', '', c.member.name));
    const asked = make('p', 'meta clamp', `asked ${day(c.requestedAt)}` + (c.note ? ` — “${c.note}”` : ', without a note'));
    const state = make('p', 'meta state');
    state.id = `closure-state-${i}`;
    const refusal = this.refusals.get(c.member.id);
    if (refusal) {
      state.classList.add('error');
      text(state, `Not erased: ${refusal.message}`);
    } else if (c.openMatches > 0) {
      state.classList.add('warn');
      text(state, openMatchesText(c.openMatches));
    } else {
      text(state, 'No open match: ready to erase.');
    }
    const actions = make('div', 'row-actions');
    const b = make('button', '', 'Erase…');
    b.type = 'button';
    b.dataset.focusKey = 'erase' + c.member.id;
    b.setAttribute('aria-label', `Erase ${c.member.name}'s personal data`);
    b.setAttribute('aria-describedby', state.id);
    b.addEventListener('click', () => this.open(c));
    actions.append(b);
    li.append(who, asked, state, actions);
    return li;
  }

  open(c) {
    this.current = c;
    text($('#erase-what'), `${c.member.name} asked on ${day(c.requestedAt)} to close the account${c.note ? ':' : ', without a note.'}`);
    const note = $('#erase-note');
    note.hidden = !c.note;
    text(note, c.note ? `“${c.note}”` : '');
    const open = $('#erase-open');
    open.hidden = c.openMatches === 0;
    text(open, openMatchesText(c.openMatches));
    $('#erase-reason').value = '';
    text($('#erase-error'), '');
    $('#erase-dialog').showModal();
    $('#erase-reason').focus();
  }

  async erase(ev) {
    ev.preventDefault();
    const c = this.current;
    const input = $('#erase-reason');
    const reason = input.value.trim();
    const wrong = reason ? quotesMember(reason, c) : 'Write the reason: the audit record keeps it.';
    if (wrong) {
      text($('#erase-error'), wrong);
      input.focus();
      return;
    }
    const button = $('#erase-send');
    button.disabled = true;
    try {
      const d = await request(ERASE, { in: { memberId: c.member.id, reason } }, this.opts.token());
      const errs = d.eraseMember.userErrors;
      if (errs.some((e) => e.code === 'INVALID_INPUT')) {
        // The reason is refused: staff can fix it in the dialog.
        text($('#erase-error'), errs.map(inputError).join(' '));
        input.focus();
        return;
      }
      $('#erase-dialog').close();
      if (errs.length > 0) {
        const message = errs.map((e) => e.message).join(' ');
        this.refusals.set(c.member.id, { message, openMatches: c.openMatches });
        this.render();
        announce(`${c.member.name} was not erased: ${message}`);
        this.focusRow(c.member.id);
        return;
      }
      this.changedAt = performance.now();
      const at = this.list.findIndex((x) => x.member.id === c.member.id);
      this.list = this.list.filter((x) => x.member.id !== c.member.id);
      this.refusals.delete(c.member.id);
      this.render();
      announce(`${c.member.name}'s personal data was erased: partners now see “erased member”.`);
      const next = this.list[Math.min(Math.max(at, 0), this.list.length - 1)];
      if (next) this.focusRow(next.member.id);
      else $('#q7-h').focus();
    } catch (e) {
      if (!this.opts.refused(e)) text($('#erase-error'), e.message);
    } finally {
      button.disabled = false;
    }
  }

  focusRow(id) {
    const b = $('#q-closureRequests').querySelector(`[data-focus-key="${CSS.escape('erase' + id)}"]`);
    if (b) b.focus();
  }
}
