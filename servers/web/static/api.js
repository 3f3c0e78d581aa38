// api.js: the page's side of the web role's API. Every state change is a
// POST of JSON carrying the session's CSRF token; a form submission gets
// one request id (time-ordered, like the system's own) and is re-sent with
// that same id when the network fails, so the server applies it once.
// Live messages come as server-sent events: each delivery is shown once
// (its seq is remembered for this tab) and then acknowledged, and only
// the acknowledgement lets the server delete it from the mailbox.

let csrf = '';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

// 6 bytes of Unix milliseconds, big-endian, then 10 random bytes.
export function newRid() {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  let t = Date.now();
  for (let i = 5; i >= 0; i--) {
    b[i] = t % 256;
    t = Math.floor(t / 256);
  }
  return hex(b);
}

export async function getSession() {
  const res = await fetch('/api/session', { credentials: 'same-origin' });
  const j = await res.json();
  if (j.csrf) csrf = j.csrf;
  return j;
}

// POSTs body; on a network failure or a 502/503/504, tries again (up to
// three times) with the same body, request id included.
export async function post(path, body) {
  for (let attempt = 0; ; attempt++) {
    let res;
    try {
      res = await fetch(path, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
        body: JSON.stringify(body || {}),
      });
    } catch (e) {
      if (attempt < 3) { await sleep(400 * (attempt + 1)); continue; }
      return { ok: false, lines: ['Cannot reach the server; try again'] };
    }
    if (res.status >= 502 && res.status <= 504 && attempt < 3) {
      await sleep(400 * (attempt + 1));
      continue;
    }
    let j;
    try { j = await res.json(); } catch (e) { j = { ok: false, error: 'HTTP ' + res.status }; }
    if (j.csrf) csrf = j.csrf;
    if (!j.lines) j.lines = j.error ? [j.error] : [];
    return j;
  }
}

export function cmd(name, args) {
  return post('/api/cmd', { cmd: name, args: args || [], rid: newRid() });
}

// The event stream of the logged-in user. onDelivery(d) must show d
// before it returns: the acknowledgement follows it.
export class Events {
  constructor(user, handlers) {
    this.key = 'sb.seen.' + user;
    this.seen = Number(sessionStorage.getItem(this.key) || 0);
    this.h = handlers;
    this.acking = false;
    this.ackWanted = 0;
  }

  open() {
    this.es = new EventSource('/api/events?after=' + this.seen);
    this.es.addEventListener('hello', () => this.h.state(true));
    this.es.addEventListener('delivery', (ev) => this.delivery(JSON.parse(ev.data)));
    this.es.addEventListener('session', (ev) => {
      this.close();
      this.h.ended(JSON.parse(ev.data));
    });
    this.es.onerror = () => this.h.state(false);
  }

  close() {
    if (this.es) this.es.close();
    this.es = null;
    this.h.state(false);
  }

  delivery(d) {
    if (d.seq <= this.seen) return; // shown already (a re-sent event)
    this.h.delivery(d);
    this.seen = d.seq;
    sessionStorage.setItem(this.key, String(d.seq));
    this.ack(d.seq);
  }

  // One acknowledgement in flight; later ones fold into the next.
  async ack(seq) {
    this.ackWanted = Math.max(this.ackWanted, seq);
    if (this.acking) return;
    this.acking = true;
    while (this.ackWanted > 0) {
      const upto = this.ackWanted;
      const r = await post('/api/ack', { seq: upto });
      if (this.ackWanted === upto) this.ackWanted = 0;
      if (!r.ok) break; // the server keeps it; the next event retries
    }
    this.acking = false;
  }
}
