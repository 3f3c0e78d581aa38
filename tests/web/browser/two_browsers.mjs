// two_browsers.mjs: the web client in a real browser. Two Debian chromium
// processes (fresh profiles, so two cookie jars) register, befriend, post,
// message, chat in a room and in a group, each seeing the other's
// messages arrive live; a script injection typed into a message stays
// text, and so does markup in a group name and a post; the register
// form checks fields as they are typed; one screen is
// driven by the keyboard alone; the page fits a phone's width; a reload
// neither loses nor repeats a message. A screenshot of each screen goes
// to $SB_WEB_SHOTS. Usage: node two_browsers.mjs http://127.0.0.1:PORT/
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import puppeteer from 'puppeteer-core';

const url = process.argv[2];
const shots = process.env.SB_WEB_SHOTS || path.join(os.tmpdir(), 'sb-web-shots');
const chromium = process.env.SB_CHROMIUM || '/usr/bin/chromium';
const T = 15000; // every wait is bounded
fs.mkdirSync(shots, { recursive: true });

let failures = 0;
let passes = 0;
function check(cond, what) {
  if (cond) { passes++; console.log('ok   ' + what); } else { failures++; console.log('FAIL ' + what); }
}

async function launch(name) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `sb-chromium-${name}-`));
  const browser = await puppeteer.launch({
    executablePath: chromium,
    headless: true,
    userDataDir: dir,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-dev-shm-usage', '--disable-extensions', '--no-default-browser-check'],
  });
  const page = (await browser.pages())[0] || await browser.newPage();
  await page.setViewport({ width: 1100, height: 900 });
  page.on('pageerror', (e) => { failures++; console.log(`FAIL ${name}: page error: ${e.message}`); });
  page.on('console', (m) => { if (m.type() === 'error') console.log(`${name} console: ${m.text()}`); });
  page.on('dialog', (d) => d.accept());
  return { browser, page, dir, name };
}

async function shot(b, file) {
  await b.page.screenshot({ path: path.join(shots, file), fullPage: true });
}

const textOf = (page, sel) => page.$eval(sel, (e) => e.innerText);

async function waitText(page, sel, text, what) {
  try {
    await page.waitForFunction((s, t) => {
      const e = document.querySelector(s);
      return e && e.innerText.includes(t);
    }, { timeout: T }, sel, text);
    check(true, what);
  } catch (e) {
    check(false, `${what} (${sel} has: ${await textOf(page, sel).catch(() => '?')})`);
  }
}

async function view(b, name) {
  await b.page.click(`.tabs [data-view="${name}"]`);
}

async function type(page, sel, text) {
  await page.click(sel, { clickCount: 3 });
  await page.keyboard.press('Backspace');
  await page.type(sel, text);
}

// Fills and submits a command form found by its data-cmd; returns its output.
async function submit(b, cmd, fields) {
  for (const [k, v] of Object.entries(fields)) await type(b.page, `form[data-cmd="${cmd}"] [name="${k}"]`, v);
  await b.page.$eval(`form[data-cmd="${cmd}"] .out`, (o) => { o.textContent = ''; });
  await b.page.click(`form[data-cmd="${cmd}"] button[type=submit]`);
  await b.page.waitForFunction((c) => document.querySelector(`form[data-cmd="${c}"] .out`).textContent !== '',
    { timeout: T }, cmd);
  return textOf(b.page, `form[data-cmd="${cmd}"] .out`);
}

async function register(b, user, first) {
  const p = b.page;
  await p.goto(url, { waitUntil: 'networkidle0' });
  await shot(b, `01-login-${b.name}.png`);
  await type(p, '#register-form [name=first]', first);
  await type(p, '#register-form [name=last]', 'Tester');
  await type(p, '#register-form [name=name]', user);
  await type(p, '#register-form [name=password]', 'pw-' + user);
  await type(p, '#register-form [name=age]', '200');
  await type(p, '#register-form [name=gender]', 'x');
  check((await textOf(p, '#e-age')) === 'Age must be 0 to 150', `${b.name}: age checked as typed`);
  check(await p.$eval('#register-form button[type=submit]', (x) => x.disabled),
    `${b.name}: register disabled while a field is wrong`);
  await type(p, '#register-form [name=first]', ' lead');
  check((await textOf(p, '#e-first')) === 'First name must be 1 to 64 bytes of printable UTF-8',
    `${b.name}: first name checked as typed`);
  await shot(b, `02-register-checks-${b.name}.png`);
  await type(p, '#register-form [name=first]', first);
  await type(p, '#register-form [name=age]', '30');
  await p.click('#register-form button[type=submit]');
  await p.waitForSelector('#app:not([hidden])', { timeout: T });
  await waitText(p, '#live', 'live', `${b.name}: event stream live`);
  check((await textOf(p, '#who')).startsWith(user), `${b.name}: logged in as ${user}`);
}

async function befriend(a, b) {
  await view(a, 'friends');
  check((await submit(a, 'invite', { id: 'bob' })) === 'Success!', 'ann invites bob: Success!');
  check((await submit(a, 'invite', { id: 'bob' })) === 'Already invited', 'ann invites again: Already invited');
  await view(b, 'friends');
  await waitText(b.page, '#invites', 'ann', 'bob sees the invitation from ann');
  await b.page.click('#invites li button');
  await waitText(b.page, '#friends', 'ann', 'bob accepts: ann is a friend');
  await shot(b, '03-friends.png');
}

async function posts(a, b) {
  await view(a, 'posts');
  check((await submit(a, 'post', { text: 'hello   from ann' })) === 'Success!', 'ann posts');
  await view(b, 'posts');
  await waitText(b.page, '#feed', 'ann: hello from ann', "bob's feed shows ann's post, words joined");
  await shot(b, '04-posts.png');
}

async function messages(a, b) {
  await view(a, 'messages');
  await view(b, 'messages');
  check((await submit(a, 'send', { to: 'bob', text: 'hi bob' })) === 'Success!', 'ann sends to bob');
  await waitText(b.page, '#inbox', '<<<ann->bob: hi bob>>>', 'bob sees it live');
  check((await submit(b, 'send', { to: 'ann', text: 'hi ann' })) === 'Success!', 'bob answers');
  await waitText(a.page, '#inbox', '<<<bob->ann: hi ann>>>', 'ann sees it live');
  check((await submit(a, 'send', { to: 'nobody', text: 'x' })) === 'No such user exist', 'send to nobody');
  const evil = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>';
  await submit(a, 'send', { to: 'bob', text: evil });
  await waitText(b.page, '#inbox', '<img src=x onerror="window.__xss=1">', 'markup in a message shows as text');
  check(await b.page.evaluate(() => window.__xss === undefined && !document.querySelector('#inbox img, #inbox script')),
    'the markup did not run');
  check((await submit(b, 'private', { to: 'ann', text: 'psst' })) === 'Success!', 'bob sends privately');
  await waitText(a.page, '#inbox', '<<<bob->ann: psst>>>', 'ann gets the private message');
  await shot(b, '05-messages.png');
}

async function groups(a, b) {
  await view(a, 'groups');
  check((await submit(a, 'create-group', { group: 'g1' })) === 'Success!', 'ann creates g1');
  await view(b, 'groups');
  await waitText(b.page, '#groups', 'g1', 'bob lists g1');
  await b.page.click('#groups li button');
  await waitText(b.page, '#joined', 'g1', 'bob joins g1');
  await shot(b, '06-groups.png');
  await view(a, 'messages');
  await view(b, 'messages');
  check((await submit(a, 'send-group', { group: 'g1', text: 'to all' })) === 'Success!', 'ann sends to g1');
  await waitText(b.page, '#inbox', '<<<ann->GROUP<g1>: to all>>>', 'bob sees the group message');
  await waitText(a.page, '#inbox', '<<<ann->GROUP<g1>: to all>>>', 'ann sees her own group message');
}

async function rooms(a, b) {
  await view(a, 'rooms');
  check((await submit(a, 'create-room', { room: 'r1' })) === 'Success!', 'ann creates r1');
  await view(b, 'rooms');
  await waitText(b.page, '#rooms', 'r1 1', 'bob sees r1 with 1 member');
  const enter = await b.page.$$('#rooms li button');
  for (const btn of enter) if ((await btn.evaluate((x) => x.parentElement.innerText)).startsWith('r1')) await btn.click();
  await waitText(b.page, '#room-now', 'r1', 'bob is in r1');
  await waitText(b.page, '#rooms', 'r1 2', 'r1 has 2 members');
  check((await submit(a, 'say', { text: 'welcome' })) === 'Success!', 'ann says');
  await waitText(b.page, '#roomlog', '<<<ann->ROOM<r1>: welcome>>>', 'bob sees it live');
  check((await submit(b, 'say', { text: 'thanks' })) === 'Success!', 'bob says');
  await waitText(a.page, '#roomlog', '<<<bob->ROOM<r1>: thanks>>>', 'ann sees it live');
  await shot(b, '07-rooms.png');
  await a.page.click('#delete-room');
  await waitText(b.page, '#roomlog', '<<<ROOM<r1> deleted by ann; you are in lobby>>>', 'bob told r1 closed');
  await waitText(b.page, '#room-now', 'lobby', "bob's page is back in lobby");
}

// Markup in a group name and a post: shown as text in bob's lists.
async function markupInLists(a, b) {
  const g = '<img/src=x/onerror=window.__xss=4>';
  await view(a, 'groups');
  check((await submit(a, 'create-group', { group: g })) === 'Success!', 'a group named with markup');
  await view(a, 'posts');
  check((await submit(a, 'post', { text: '<b id=xss>bold</b>' })) === 'Success!', 'a post with markup');
  await view(b, 'groups');
  await waitText(b.page, '#groups', g, 'the group name shows as text');
  await view(b, 'posts');
  await waitText(b.page, '#feed', 'ann: <b id=xss>bold</b>', 'the post shows as text');
  check(await b.page.evaluate(() => window.__xss === undefined && !document.querySelector('#groups img, #xss')),
    'no markup ran or became an element');
}

async function others(a, b) {
  await view(b, 'users');
  await waitText(b.page, '#users', 'ann online', 'users: ann online');
  await waitText(b.page, '#users', 'bob online', 'users: bob online');
  await shot(b, '08-users.png');
  await view(b, 'profile');
  await type(b.page, '#profile-form [name=first]', 'Bob');
  await type(b.page, '#profile-form [name=last]', 'Builder');
  await type(b.page, '#profile-form [name=age]', '41');
  await type(b.page, '#profile-form [name=gender]', 'm');
  await b.page.click('#profile-form button[type=submit]');
  await waitText(b.page, '#profile-form .out', 'Success!', 'bob sets his profile');
  check((await submit(b, 'show-profile', { id: 'bob' })) === 'bob: Bob Builder, 41, m', 'show-profile');
  await shot(b, '09-profile.png');
  await view(b, 'tools');
  await b.page.click('#time');
  await b.page.waitForFunction(() => document.querySelector('#tools-out').textContent !== '', { timeout: T });
  const t = await textOf(b.page, '#tools-out');
  check(/^Server time \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z, offset [+-]\d+ ms, round trip \d+ ms$/.test(t),
    `clock offset line: ${t}`);
  await b.page.click('#whoami');
  await waitText(b.page, '#tools-out', 'bob on app-', 'whoami');
  const d = await submit(b, 'draw', { count: '3' });
  check(/^\d+\n\d+\n\d+$/.test(d), 'draw 3 gives three numbers');
  await shot(b, '10-tools.png');
}

// The keyboard alone: Tab to the post field, type, Enter.
async function keyboard(b) {
  await view(b, 'posts');
  await b.page.focus('.tabs [data-view="posts"]');
  for (let i = 0; i < 12; i++) {
    await b.page.keyboard.press('Tab');
    if (await b.page.evaluate(() => document.activeElement.name === 'text')) break;
  }
  check(await b.page.evaluate(() => document.activeElement.name === 'text'), 'Tab reaches the post field');
  await b.page.keyboard.type('typed only');
  await b.page.keyboard.press('Enter');
  await waitText(b.page, 'form[data-cmd="post"] .out', 'Success!', 'Enter posts it');
}

async function reloadKeepsOnce(a, b) {
  await b.page.reload({ waitUntil: 'load' });
  await waitText(b.page, '#live', 'live', 'after a reload the stream is live again');
  await view(a, 'messages');
  await submit(a, 'send', { to: 'bob', text: 'after reload' });
  await waitText(b.page, '#inbox', '<<<ann->bob: after reload>>>', 'a message after the reload arrives');
  await new Promise((r) => setTimeout(r, 500));
  const inbox = await textOf(b.page, '#inbox');
  check(inbox.split('after reload').length === 2, 'once');
  check(!inbox.includes('hi bob'), 'messages shown (and acknowledged) before the reload are not shown again');
}

async function phone(b) {
  await b.page.setViewport({ width: 360, height: 740, isMobile: true });
  await view(b, 'messages');
  check(await b.page.evaluate(() => document.documentElement.scrollWidth <= 360), 'no sideways scrolling at 360 px');
  await shot(b, '11-phone.png');
}

async function logout(a, b) {
  await a.page.click('#logout');
  await waitText(a.page, '#login-form .out', 'Bye!', 'ann logs out: Bye!');
  await view(b, 'users');
  await waitText(b.page, '#users', 'ann offline', 'bob sees ann offline');
}

async function main() {
  const a = await launch('ann');
  const b = await launch('bob');
  try {
    await register(a, 'ann', 'Ann');
    await register(b, 'bob', 'Bob');
    await befriend(a, b);
    await posts(a, b);
    await messages(a, b);
    await groups(a, b);
    await rooms(a, b);
    await markupInLists(a, b);
    await others(a, b);
    await keyboard(b);
    await reloadKeepsOnce(a, b);
    await phone(b);
    await logout(a, b);
  } catch (e) {
    failures++;
    console.log('FAIL ' + e.stack);
    await shot(a, 'zz-failure-ann.png').catch(() => {});
    await shot(b, 'zz-failure-bob.png').catch(() => {});
  } finally {
    for (const x of [a, b]) {
      await x.browser.close().catch(() => {});
      fs.rmSync(x.dir, { recursive: true, force: true });
    }
  }
  console.log(`screenshots in ${shots}`);
  console.log(`${passes} passed, ${failures} failed`);
  process.exit(failures === 0 ? 0 : 1);
}

main();
