// app.js: the Switchboard web client. Each form and button runs one
// command of script mode through the web role and shows the lines that
// script mode would print for it, as text (never as HTML). Lists get
// buttons for what one does next with an item (accept, join, message).
import { cmd, Events, getSession, newRid, post } from './api.js';
import { checkers, hhmmss, validateForm } from './check.js';

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

const state = { user: null, server: null, room: 'lobby', events: null, view: 'messages' };

// ---- output ------------------------------------------------------------

function show(out, r) {
  out.textContent = (r.lines || []).join('\n');
  out.classList.toggle('ok', !!r.ok);
  out.classList.toggle('bad', !r.ok);
}

function setLive(on) {
  const el = $('#live');
  el.textContent = on ? 'live' : (state.user ? 'reconnecting…' : 'not connected');
  el.classList.toggle('off', !on);
}

function logLine(list, d) {
  const li = document.createElement('li');
  const t = document.createElement('time');
  t.dateTime = new Date(d.time_ms).toISOString();
  t.textContent = hhmmss(d.time_ms);
  li.append(t, document.createTextNode(d.line));
  li.dataset.seq = String(d.seq);
  list.append(li);
  list.scrollTop = list.scrollHeight;
}

function bump(view) {
  if (state.view === view) return;
  const b = $(`.tabs [data-view="${view}"] .badge`);
  b.hidden = false;
  b.textContent = String(Number(b.textContent || 0) + 1);
}

function setRoom(name) {
  state.room = name;
  $('#room-now').textContent = name;
  $('#delete-room').disabled = name === 'lobby';
}

function onDelivery(d) {
  if (d.kind === 'room' || d.kind === 'room_closed') {
    logLine($('#roomlog'), d);
    if (d.kind === 'room_closed' && d.group === state.room) setRoom('lobby');
    bump('rooms');
  } else {
    logLine($('#inbox'), d);
    bump('messages');
  }
}

// ---- screens -----------------------------------------------------------

function showView(name) {
  state.view = name;
  for (const b of $$('.tabs button')) {
    const on = b.dataset.view === name;
    if (on) b.setAttribute('aria-current', 'page'); else b.removeAttribute('aria-current');
    if (on) { const badge = $('.badge', b); if (badge) { badge.hidden = true; badge.textContent = ''; } }
  }
  for (const v of $$('.view')) v.hidden = v.id !== 'v-' + name;
  const first = $(`#v-${name} [data-list]`);
  if (first) first.click(); // a screen shows fresh lists
}

function showAuth() {
  if (state.events) state.events.close();
  state.events = null;
  state.user = null;
  $('#auth').hidden = false;
  $('#app').hidden = true;
  $('#logout').hidden = true;
  $('#who').textContent = '';
  setLive(false);
  $('#login-form [name=name]').focus();
}

function showApp(user, server) {
  state.user = user;
  state.server = server;
  $('#auth').hidden = true;
  $('#app').hidden = false;
  $('#logout').hidden = false;
  $('#who').textContent = server ? `${user} (${server})` : user;
  const saved = sessionStorage.getItem('sb.room.' + user);
  setRoom(saved || 'lobby');
  state.events = new Events(user, {
    delivery: onDelivery,
    state: setLive,
    ended: (e) => { show($('#login-form .out'), { ok: false, lines: [e.line] }); showAuth(); },
  });
  state.events.open();
  showView('messages');
}

// ---- lists -------------------------------------------------------------

function button(label, fn) {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = label;
  b.addEventListener('click', fn);
  return b;
}

// What one can do with an item of each list (i: its index in the reply).
const actions = {
  'list-invite': (r, i) => [button('Accept', () => act('accept-invite', [r.names[i]], 'list-invite'))],
  'list-friend': (r, i) => [button('Message', () => prefill('messages', 'send', 'to', r.names[i]))],
  'list-group': (r, i) => [button('Join', () => act('join-group', [r.names[i]], 'list-joined'))],
  'list-joined': (r, i) => [button('Message', () => prefill('messages', 'send-group', 'group', r.names[i]))],
  'list-rooms': (r, i) => {
    const name = r.rooms[i].name;
    if (name === state.room) return [];
    return [button(name === 'lobby' ? 'Back to lobby' : 'Enter', () =>
      name === 'lobby' ? leaveRoom() : act('join-room', [name], 'list-rooms'))];
  },
  'list-users': (r, i) => {
    const name = r.users[i].name;
    if (name === state.user) return [];
    return [button('Profile', () => act('show-profile', [name])),
      button('Invite', () => act('invite', [name])),
      button('Private', () => prefill('messages', 'private', 'to', name))];
  },
};

async function refresh(list) {
  const btn = $(`[data-list="${list}"]`);
  const ul = $('#' + btn.dataset.target);
  const r = await cmd(list, []);
  ul.replaceChildren();
  (r.lines || []).forEach((line, i) => {
    const li = document.createElement('li');
    li.append(document.createTextNode(line));
    const more = r.ok && r.reply && actions[list] && itemCount(r.reply) > i ? actions[list](r.reply, i) : [];
    li.append(...more);
    ul.append(li);
  });
}

function itemCount(reply) {
  const arr = Object.values(reply).find(Array.isArray);
  return arr ? arr.length : 0;
}

function prefill(view, command, field, value) {
  showView(view);
  const input = $(`form[data-cmd="${command}"] [name="${field}"]`);
  input.value = value;
  const next = $(`form[data-cmd="${command}"] [name="text"]`);
  (next || input).focus();
}

// Runs a command from a button; its lines go to the screen's first output.
async function act(command, args, thenRefresh) {
  const r = await cmd(command, args);
  const out = $(`#v-${state.view} .out`);
  if (out) show(out, r);
  if (r.ok) after(command, args);
  if (thenRefresh) refresh(thenRefresh);
  return r;
}

// What a successful command changes on the page.
function after(command, args) {
  if (command === 'join-room' || command === 'create-room') setRoom(args[0]);
  if (command === 'leave-room' || (command === 'delete-room' && args[0] === state.room)) setRoom('lobby');
  if (state.user) sessionStorage.setItem('sb.room.' + state.user, state.room);
  const refreshes = { invite: null, 'accept-invite': 'list-friend', post: 'receive-post',
    'create-group': 'list-joined', 'join-group': 'list-joined', 'create-room': 'list-rooms',
    'join-room': 'list-rooms', 'leave-room': 'list-rooms', 'delete-room': 'list-rooms' };
  if (refreshes[command]) refresh(refreshes[command]);
}

async function leaveRoom() {
  const r = await cmd('leave-room', []);
  show($('#room-out'), r);
  if (r.ok) after('leave-room', []);
}

// ---- forms -------------------------------------------------------------

function wireCommandForms() {
  for (const form of $$('form[data-cmd]')) {
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const names = form.dataset.fields.split(' ');
      const args = names.map((n) => form.elements[n].value);
      const btn = $('button[type=submit]', form);
      btn.disabled = true;
      const r = await cmd(form.dataset.cmd, args);
      btn.disabled = false;
      show($('.out', form), r);
      if (r.ok) {
        after(form.dataset.cmd, args);
        if (form.elements.text) form.elements.text.value = '';
      }
    });
  }
  for (const b of $$('[data-list]')) b.addEventListener('click', () => refresh(b.dataset.list));
}

async function login(name, password, out) {
  const r = await post('/api/login', { name, password });
  show(out, r);
  if (r.ok) showApp(r.user, r.server);
  return r;
}

function wireAuth() {
  const lf = $('#login-form');
  lf.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    await login(lf.elements.name.value, lf.elements.password.value, $('.out', lf));
  });
  const rf = $('#register-form');
  const regCheck = checkers.register;
  validateForm(rf, regCheck);
  rf.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!validateForm(rf, regCheck, true)) return;
    const e = rf.elements;
    const body = { name: e.name.value, password: e.password.value, first: e.first.value,
      last: e.last.value, gender: e.gender.value, age: Number(e.age.value), rid: newRid() };
    const r = await post('/api/register', body);
    show($('.out', rf), r);
    if (r.ok) {
      const l = await login(body.name, body.password, $('.out', rf));
      $('.out', rf).textContent = r.lines.concat(l.lines).join('\n');
    }
  });
}

function wireProfile() {
  const pf = $('#profile-form');
  validateForm(pf, checkers.profile);
  pf.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!validateForm(pf, checkers.profile, true)) return;
    const e = pf.elements;
    const r = await cmd('set-profile', [e.first.value, e.last.value, e.age.value, e.gender.value]);
    show($('.out', pf), r);
  });
}

async function clockOffset() {
  let best = null;
  for (let i = 0; i < 4; i++) {
    const t0 = Date.now();
    const r = await post('/api/time', {});
    const t1 = Date.now();
    if (!r.ok) return r;
    const rtt = t1 - t0 + r.rtt_ms;
    // Cristian: the server's clock was read about half the round trip ago
    const server = r.server_ms + Math.round((t1 - t0) / 2);
    if (!best || rtt < best.rtt) best = { server, offset: server - t1, rtt };
  }
  const sign = best.offset >= 0 ? '+' : '-';
  return { ok: true, lines: [`Server time ${new Date(best.server).toISOString()}, ` +
    `offset ${sign}${Math.abs(best.offset)} ms, round trip ${best.rtt} ms`] };
}

function wireTools() {
  $('#time').addEventListener('click', async () => show($('#tools-out'), await clockOffset()));
  $('#whoami').addEventListener('click', async () => show($('#tools-out'), await cmd('whoami', [])));
  $('#delete').addEventListener('click', async () => {
    if (!window.confirm(`Delete the account ${state.user} and everything of it?`)) return;
    const r = await cmd('delete', []);
    show($('#delete-out'), r);
    if (r.ok) { show($('#login-form .out'), r); showAuth(); }
  });
  $('#leave-room').addEventListener('click', leaveRoom);
  $('#delete-room').addEventListener('click', async () => {
    const r = await cmd('delete-room', [state.room]);
    show($('#room-out'), r);
    if (r.ok) after('delete-room', [state.room]);
  });
  $('#logout').addEventListener('click', async () => {
    const r = await cmd('logout', []);
    show($('#login-form .out'), r);
    if (r.ok || r.code === 'UNAUTHENTICATED') showAuth();
  });
}

async function boot() {
  for (const b of $$('.tabs button')) b.addEventListener('click', () => showView(b.dataset.view));
  wireCommandForms();
  wireAuth();
  wireProfile();
  wireTools();
  let s;
  try { s = await getSession(); } catch (e) { s = { user: null }; }
  if (s.user) showApp(s.user, s.server); else showAuth();
}

boot();
