// GraphQL over HTTP for queries and mutations, and over one WebSocket
// (graphql-transport-ws) for the live subscriptions, which are opened
// again with fresh variables (a `since` position) after every reconnect.

/** An error the API answered, with its extensions.code. */
export class ApiError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

/** Runs a query or mutation, signed in with token when given. */
export async function request(query, variables, token) {
  const headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
  if (token) headers.Authorization = 'Bearer ' + token;
  let res;
  try {
    res = await fetch('/graphql', { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  } catch {
    throw new ApiError('NETWORK', 'The server cannot be reached.');
  }
  let body;
  try {
    body = await res.json();
  } catch {
    throw new ApiError('BAD_RESPONSE', `The server answered ${res.status} without a GraphQL response.`);
  }
  if (body.errors && body.errors.length > 0) {
    const e = body.errors[0];
    throw new ApiError((e.extensions && e.extensions.code) || 'ERROR', e.message);
  }
  return body.data;
}

/** Close codes after which reconnecting with the same token is useless. */
const REFUSED = new Set([4401, 4403]);

/**
 * Live keeps one graphql-transport-ws connection open, reconnecting with a
 * growing pause, and re-subscribes every subscription on each connection.
 */
export class Live {
  /**
   * @param {{token: string, onState: (state: string) => void, onConnected: (again: boolean) => void, onRefused: () => void}} opts
   */
  constructor(opts) {
    this.opts = opts;
    this.subs = new Map();
    this.next = 0;
    this.retry = 0;
    this.ready = false;
    this.connectedOnce = false;
    this.stopped = false;
  }

  start() {
    this.stopped = false;
    this.open();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.ws) this.ws.close(1000, 'signed out');
  }

  /**
   * Drops the connection as a network failure would, staying away for at
   * least pause milliseconds: a way to watch the page resume.
   */
  drop(pause = 0) {
    this.pause = pause;
    if (this.ws) this.ws.close(4499, 'dropped by the page');
  }

  open() {
    const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/graphql';
    const ws = new WebSocket(url, 'graphql-transport-ws');
    this.ws = ws;
    this.ready = false;
    this.opts.onState('connecting');
    ws.onopen = () => {
      ws.send(JSON.stringify({ type: 'connection_init', payload: { Authorization: 'Bearer ' + this.opts.token } }));
    };
    ws.onmessage = (ev) => {
      let m;
      try {
        m = JSON.parse(ev.data);
      } catch {
        return;
      }
      const sub = m.id ? this.subs.get(m.id) : undefined;
      switch (m.type) {
        case 'connection_ack': {
          this.ready = true;
          this.retry = 0;
          this.opts.onState('live');
          for (const [id, s] of this.subs) this.send(id, s);
          const again = this.connectedOnce;
          this.connectedOnce = true;
          this.opts.onConnected(again);
          break;
        }
        case 'ping':
          ws.send(JSON.stringify({ type: 'pong' }));
          break;
        case 'next':
          if (sub) {
            if (m.payload.errors && m.payload.errors.length > 0) sub.error(m.payload.errors[0]);
            else sub.next(m.payload.data);
          }
          break;
        case 'error':
          if (sub) {
            this.subs.delete(m.id);
            sub.error(Array.isArray(m.payload) ? m.payload[0] : m.payload);
          }
          break;
        case 'complete':
          // The server ended a stream the page still wants (it drops a
          // subscriber that fell behind): subscribe again, resuming
          // through variables().
          if (sub) {
            setTimeout(() => {
              if (this.ready && this.ws === ws && this.subs.get(m.id) === sub) this.send(m.id, sub);
            }, 250);
          }
          break;
        default:
      }
    };
    ws.onclose = (ev) => {
      if (ws !== this.ws) return;
      this.ready = false;
      if (this.stopped) {
        this.opts.onState('off');
        return;
      }
      if (REFUSED.has(ev.code)) {
        this.opts.onState('refused');
        this.opts.onRefused();
        return;
      }
      this.opts.onState('reconnecting');
      const wait = Math.max(this.pause || 0, Math.min(8000, 200 * 2 ** this.retry++));
      this.pause = 0;
      this.timer = setTimeout(() => this.open(), wait);
    };
  }

  /**
   * Subscribes; variables() is called on every (re)subscription so that a
   * stream can resume after the last position it delivered.
   */
  subscribe(query, variables, next, error) {
    const id = String(++this.next);
    const s = { query, variables, next, error };
    this.subs.set(id, s);
    if (this.ready) this.send(id, s);
    return id;
  }

  send(id, s) {
    this.ws.send(JSON.stringify({ id, type: 'subscribe', payload: { query: s.query, variables: s.variables() } }));
  }
}
