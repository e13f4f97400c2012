// Real-browser end-to-end test: the real server binary, Debian's Chromium,
// two users in two browser contexts chatting through static/app.js.
//
//   cargo build --bin palaver && npm ci --prefix e2e && node --test e2e/chat.test.mjs
//
// Environment: PALAVER_BIN (default target/debug/palaver), CHROMIUM
// (default /usr/bin/chromium), E2E_SHOTS (default target/e2e). Every wait is
// bounded; the server is killed at the end, pass or fail.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.resolve(ROOT, process.env.PALAVER_BIN || 'target/debug/palaver');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SHOTS = path.resolve(ROOT, process.env.E2E_SHOTS || 'target/e2e');
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync',
];
/** How long one step may wait for the page to show something. */
const STEP_MS = 15_000;
const SERVER_START_MS = 30_000;
const PASSWORD = 'correct horse battery';
const ROOM = 'e2e-lobby';
const OTHER_ROOM = 'e2e-elsewhere';

const server = { child: null, port: 0, dir: '', log: [] };
let browser;
/** name -> {context, page} */
const users = {};

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function url(p) {
  return `http://127.0.0.1:${server.port}${p}`;
}

function serverLog() {
  return server.log.join('').split('\n').slice(-40).join('\n');
}

/** Start the binary on the current port and data dir; resolve once it answers. */
async function startServer() {
  const child = spawn(BIN, ['serve'], {
    env: {
      ...process.env,
      CHAT_BIND: `127.0.0.1:${server.port}`,
      CHAT_DATA_DIR: server.dir,
      CHAT_BCRYPT_COST: '4',
      // The paging test seeds messages in a burst.
      CHAT_SEND_RATE: '1000',
      CHAT_SEND_BURST: '1000',
      CHAT_LOG: process.env.CHAT_LOG || 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.child = child;
  child.stdout.on('data', (d) => server.log.push(d.toString()));
  child.stderr.on('data', (d) => server.log.push(d.toString()));
  let exited = null;
  child.on('exit', (code, signal) => { exited = { code, signal }; });
  const deadline = Date.now() + SERVER_START_MS;
  while (Date.now() < deadline) {
    if (exited) {
      throw new Error(`palaver exited early (${JSON.stringify(exited)}):\n${serverLog()}`);
    }
    try {
      const res = await fetch(url('/'), { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
    } catch (_) { /* not listening yet */ }
    await sleep(100);
  }
  throw new Error(`palaver did not answer within ${SERVER_START_MS} ms:\n${serverLog()}`);
}

/** SIGTERM, then SIGKILL if it has not exited within 5 s. */
async function stopServer() {
  const child = server.child;
  server.child = null;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await gone;
  clearTimeout(timer);
}

process.on('exit', () => {
  if (server.child) server.child.kill('SIGKILL');
});

async function newUser(name, viewport = { width: 1280, height: 800 }) {
  const context = await browser.newContext({ viewport, colorScheme: 'light' });
  context.setDefaultTimeout(STEP_MS);
  context.setDefaultNavigationTimeout(STEP_MS);
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    // Refused connections while the server restarts are expected noise.
    const network = /WebSocket connection|Failed to load resource|net::ERR_/.test(msg.text());
    if (msg.type() === 'error' && !network) problems.push(`console error: ${msg.text()}`);
  });
  users[name] = { context, page, problems };
  return users[name];
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
}

function messageBodies(page) {
  return page.locator('#messages li.message .body').allTextContents();
}

/** A stored message (not a pending one) whose body contains `text`. */
function message(page, text) {
  return page.locator('#messages li.message[data-seq]', { has: page.locator('.body', { hasText: text }) }).last();
}

/** Send `text` with the composer and wait until it is stored. */
async function say(page, text) {
  await page.locator('#composer textarea').fill(text);
  await page.locator('#composer textarea').press('Enter');
  await page.locator('#messages li.message:not(.pending)[data-seq] .body', { hasText: text }).last().waitFor();
}

/** Open a room page (unless it is open) and wait for the live connection. */
async function openRoom(page, room) {
  if (new URL(page.url()).pathname !== `/rooms/${room}`) await page.goto(url(`/rooms/${room}`));
  await page.locator('#status[data-state="connected"]').waitFor();
}

/** Use a message's toolbar: reply, react, edit or delete. */
async function act(page, li, action) {
  await li.scrollIntoViewIfNeeded();
  await li.hover();
  await li.locator(`.actions button[data-action="${action}"]`).click();
}

/** Scroll the list up until message `seq` has been paged in. */
async function loadBackTo(page, seq) {
  const deadline = Date.now() + STEP_MS;
  while (await page.locator(`#m${seq}`).count() === 0) {
    assert.ok(Date.now() < deadline, `#m${seq} never loaded`);
    await page.locator('#messages').evaluate((list) => { list.scrollTop = 0; });
    await sleep(200);
  }
}

/** Whether the element is inside the visible part of the message list. */
function inView(page, selector) {
  return page.locator(selector).evaluate((node) => {
    const box = node.getBoundingClientRect();
    const list = document.getElementById('messages').getBoundingClientRect();
    return box.top >= list.top - 1 && box.top < list.bottom;
  });
}

/** Mark the document, so a later check can prove no reload happened. */
async function markDocument(page) {
  await page.evaluate(() => { window.__e2eMark = 'same-document'; });
}

async function assertSameDocument(page) {
  assert.equal(await page.evaluate(() => window.__e2eMark), 'same-document', 'the page was reloaded');
}

describe('Palaver in a real browser', { timeout: 180_000 }, () => {
  before(async () => {
    assert.ok(fs.existsSync(BIN), `no server binary at ${BIN}: run cargo build --bin palaver`);
    assert.ok(fs.existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}: apt-get install chromium`);
    fs.mkdirSync(SHOTS, { recursive: true });
    server.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'palaver-e2e-'));
    server.port = await freePort();
    await startServer();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 60_000 });
  });

  after(async () => {
    if (browser) await browser.close().catch(() => {});
    await stopServer();
    if (server.dir) fs.rmSync(server.dir, { recursive: true, force: true });
  });

  it('registers alice and bob through the real form', async () => {
    for (const name of ['alice', 'bob']) {
      const { page } = await newUser(name);
      await page.goto(url('/register'));
      await page.fill('input[name="username"]', name);
      await page.fill('input[name="password"]', PASSWORD);
      await Promise.all([page.waitForURL(url('/')), page.click('form[action="/register"] button[type="submit"]')]);
      await page.getByText(`Welcome back, ${name}`).waitFor();
    }
  });

  it('alice creates a room with the home page form', async () => {
    const { page } = users.alice;
    await page.fill('form[action="/rooms"] input[name="name"]', ROOM);
    await Promise.all([
      page.waitForURL(url(`/rooms/${ROOM}`)),
      page.click('form[action="/rooms"] button[type="submit"]'),
    ]);
    await page.locator('h1', { hasText: `# ${ROOM}` }).waitFor();
  });

  it('bob finds the room on the home page and opens it', async () => {
    const { page } = users.bob;
    await page.goto(url('/'));
    await Promise.all([page.waitForURL(url(`/rooms/${ROOM}`)), page.click(`.room-list a:text("# ${ROOM}")`)]);
  });

  it('both status dots say connected', async () => {
    for (const name of ['alice', 'bob']) {
      const { page } = users[name];
      await page.locator('#status[data-state="connected"]').waitFor();
      assert.match(await page.locator('#status .status-text').textContent(), /connected/i);
      await markDocument(page);
    }
  });

  it('each sees the other in the online list', async () => {
    for (const [name, other] of [['alice', 'bob'], ['bob', 'alice']]) {
      const { page } = users[name];
      await page.locator('#online-list li', { hasText: other }).waitFor();
      await page.locator('#online-counter', { hasText: '2 online' }).waitFor();
    }
  });

  it('the room list in the sidebar shows the room', async () => {
    const { page } = users.bob;
    const link = page.locator('#room-list li.current a');
    assert.equal(await link.textContent(), `# ${ROOM}`);
    assert.equal(await link.getAttribute('href'), `/rooms/${ROOM}`);
  });

  it('bob sees "alice is typing…" while alice types', async () => {
    await users.alice.page.locator('#composer textarea').pressSequentially('Hi Bob', { delay: 30 });
    await users.bob.page.locator('#typing', { hasText: 'alice is typing' }).waitFor();
  });

  it('alice sends with Enter and bob sees it without reloading', async () => {
    const alice = users.alice.page;
    const bob = users.bob.page;
    await alice.locator('#composer textarea').press('Enter');
    await alice.locator('#messages li.message:not(.pending)[data-seq] .body', { hasText: 'Hi Bob' }).waitFor();
    await bob.locator('#messages li.message[data-seq] .body', { hasText: 'Hi Bob' }).waitFor();
    assert.equal(await alice.locator('#composer textarea').inputValue(), '', 'the composer was cleared');
    await assertSameDocument(alice);
    await assertSameDocument(bob);
  });

  it('bob replies with the Send button and alice sees it without reloading', async () => {
    const alice = users.alice.page;
    const bob = users.bob.page;
    await bob.locator('#composer textarea').fill('Hello Alice!\nTwo lines, <b>not bold</b>');
    await bob.click('#composer button[type="submit"]');
    const body = alice.locator('#messages li.message[data-seq] .body', { hasText: 'Hello Alice!' });
    await body.waitFor();
    assert.equal(await body.textContent(), 'Hello Alice!\nTwo lines, <b>not bold</b>', 'shown as text');
    assert.equal(await alice.locator('#messages .body b').count(), 0, 'user text became markup');
    await assertSameDocument(alice);
    await assertSameDocument(bob);
  });

  it('both pages show the same messages once each, in seq order', async () => {
    for (const name of ['alice', 'bob']) {
      const { page } = users[name];
      await page.locator('#messages li.message.pending').waitFor({ state: 'detached' });
      const seqs = await page.locator('#messages li.message').evaluateAll(
        (items) => items.map((li) => Number(li.dataset.seq)),
      );
      assert.deepEqual(seqs, [1, 2], `${name}'s messages`);
      assert.deepEqual(await messageBodies(page), ['Hi Bob', 'Hello Alice!\nTwo lines, <b>not bold</b>']);
      const author = await page.locator('#m1 .author').textContent();
      assert.equal(author, 'alice');
    }
  });

  it('takes screenshots of both browsers and of a 360 px wide phone', async () => {
    await shot(users.alice.page, 'alice-1280');
    await shot(users.bob.page, 'bob-1280');
    const phone = await newUser('phone', { width: 360, height: 740 });
    // The same account as bob, in a new browser: log in like a person.
    await phone.page.goto(url(`/rooms/${ROOM}`));
    await phone.page.fill('input[name="username"]', 'bob');
    await phone.page.fill('input[name="password"]', PASSWORD);
    await Promise.all([
      phone.page.waitForURL(url(`/rooms/${ROOM}`)),
      phone.page.click('form[action="/login"] button[type="submit"]'),
    ]);
    await phone.page.locator('#status[data-state="connected"]').waitFor();
    const width = await phone.page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 360, `the page is ${width} px wide at 360 px`);
    await shot(phone.page, 'phone-360');
    await phone.page.click('#side-toggle');
    await phone.page.locator('#sidebar.open #online-list li', { hasText: 'alice' }).waitFor();
    await shot(phone.page, 'phone-360-sidebar');
    await phone.context.close();
  });

  it('reconnects after a server restart and resumes without gaps or duplicates', async () => {
    const alice = users.alice.page;
    const bob = users.bob.page;
    await stopServer();
    await bob.locator('#status:not([data-state="connected"])').waitFor();
    await shot(bob, 'bob-reconnecting');
    await startServer();
    for (const page of [alice, bob]) await page.locator('#status[data-state="connected"]').waitFor({ timeout: 30_000 });
    await alice.locator('#composer textarea').fill('Back again');
    await alice.locator('#composer textarea').press('Enter');
    await bob.locator('#messages li.message[data-seq="3"] .body', { hasText: 'Back again' }).waitFor();
    assert.deepEqual(await messageBodies(bob), ['Hi Bob', 'Hello Alice!\nTwo lines, <b>not bold</b>', 'Back again']);
    await assertSameDocument(bob);
  });

  it('scrolling to the top loads older messages and keeps the reader in place', async () => {
    const alice = users.alice.page;
    const bob = users.bob.page;
    // 130 more messages (seq 4..133) through the JSON API, as alice.
    const statuses = await alice.evaluate(async (room) => {
      const out = [];
      for (let i = 1; i <= 130; i += 1) {
        const res = await fetch(`/api/rooms/${room}/messages`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ body: `seeded ${i}`, client_id: `seed-${i}` }),
        });
        out.push(res.status);
      }
      return out;
    }, ROOM);
    assert.deepEqual([...new Set(statuses)], [201]);
    // Bob, live, got every one of them in order.
    await bob.locator('#m133 .body', { hasText: 'seeded 130' }).waitFor();
    // A fresh page shows the latest 100 (seq 34..133); scrolling up pages in the rest.
    await bob.reload();
    await bob.locator('#status[data-state="connected"]').waitFor();
    assert.equal(await bob.locator('#messages li.message').first().getAttribute('data-seq'), '34');
    // Scroll to the top and note where #m34 is, before the page can react.
    const topBefore = await bob.locator('#messages').evaluate((list) => {
      list.scrollTop = 0;
      return document.querySelector('#m34 .body').getBoundingClientRect().top;
    });
    await bob.locator('#m1').waitFor({ state: 'attached' });
    await bob.locator('#messages li.start').waitFor({ state: 'attached' });
    const seqs = await bob.locator('#messages li.message').evaluateAll(
      (items) => items.map((li) => Number(li.dataset.seq)),
    );
    assert.deepEqual(seqs, Array.from({ length: 133 }, (_, i) => i + 1));
    // The text that was at the top is still where the reader left it.
    const topAfter = await bob.locator('#m34 .body').evaluate((body) => body.getBoundingClientRect().top);
    assert.ok(Math.abs(topAfter - topBefore) < 5, `#m34 moved from ${topBefore} to ${topAfter}`);
    await shot(bob, 'bob-history');
  });

  it('falls back to long-polling when WebSockets cannot connect', async () => {
    const poller = await newUser('carol');
    // Every WebSocket this browser opens is closed at once, like a proxy
    // that refuses upgrades.
    await poller.context.routeWebSocket(/\/ws$/, (ws) => ws.close({ code: 1011 }));
    await poller.page.goto(url('/register'));
    await poller.page.fill('input[name="username"]', 'carol');
    await poller.page.fill('input[name="password"]', PASSWORD);
    await Promise.all([poller.page.waitForURL(url('/')), poller.page.click('form[action="/register"] button[type="submit"]')]);
    await poller.page.goto(url(`/rooms/${ROOM}`));
    const page = poller.page;
    await page.locator('#status[data-state="connected"] .status-text', { hasText: 'long-polling' })
      .waitFor({ timeout: 30_000 });
    await markDocument(page);
    // Receiving: alice (WebSocket) -> carol (long-poll).
    await users.alice.page.locator('#composer textarea').fill('Can you hear me, Carol?');
    await users.alice.page.locator('#composer textarea').press('Enter');
    await page.locator('#messages li.message[data-seq] .body', { hasText: 'Can you hear me, Carol?' }).waitFor();
    // Sending: carol (JSON API) -> alice (WebSocket).
    await page.locator('#composer textarea').fill('Loud and clear');
    await page.locator('#composer textarea').press('Enter');
    await users.alice.page.locator('#messages li.message[data-seq] .body', { hasText: 'Loud and clear' }).waitFor();
    await page.locator('#messages li.message:not(.pending) .body', { hasText: 'Loud and clear' }).waitFor();
    // Actions go through the JSON API; their events come back through the poll.
    const question = message(page, 'Can you hear me, Carol?');
    await act(page, question, 'react');
    await page.locator('.picker button.emoji', { hasText: '👀' }).click();
    await question.locator('.reactions button.reaction[aria-pressed="true"]', { hasText: '👀 1' }).waitFor();
    await message(users.alice.page, 'Can you hear me, Carol?')
      .locator('.reactions button.reaction[title="carol"]', { hasText: '👀 1' }).waitFor();
    await assertSameDocument(page);
    await shot(page, 'carol-long-polling');
    await poller.context.close();
  });

  it('an image sent with a preview shows up for the other user live', async (t) => {
    const alice = users.alice.page;
    const bob = users.bob.page;
    if (await alice.locator('#uploader input[type="file"]').count() === 0) {
      t.skip('this build has no upload form');
      return;
    }
    for (const page of [alice, bob]) {
      await markDocument(page);
      await page.locator('#messages').evaluate((list) => { list.scrollTop = list.scrollHeight; });
    }
    // A picture drawn by the browser, so the test needs no fixture files.
    const png = await alice.evaluate(() => {
      const canvas = document.createElement('canvas');
      canvas.width = 160;
      canvas.height = 100;
      const g = canvas.getContext('2d');
      const fill = g.createLinearGradient(0, 0, 160, 100);
      fill.addColorStop(0, '#3b5bdb');
      fill.addColorStop(1, '#51cf66');
      g.fillStyle = fill;
      g.fillRect(0, 0, 160, 100);
      return canvas.toDataURL('image/png').split(',')[1];
    });
    await alice.setInputFiles('#uploader input[type="file"]', {
      name: 'gradient.png', mimeType: 'image/png', buffer: Buffer.from(png, 'base64'),
    });
    await alice.locator('#uploader .upload-preview img').waitFor();
    await alice.fill('#uploader input[name="caption"]', 'A very small picture');
    await shot(alice, 'alice-upload-preview');
    await alice.click('#uploader button[type="submit"]');
    const figure = bob.locator('#messages li.message[data-seq] figure.attachment.kind-image');
    await figure.waitFor();
    assert.equal(await figure.locator('figcaption a').textContent(), 'gradient.png');
    await bob.locator('#messages li.message[data-seq] .body', { hasText: 'A very small picture' }).waitFor();
    const loaded = await figure.locator('img').evaluate((img) => (img.complete && img.naturalWidth > 0) ||
      new Promise((resolve) => {
        img.addEventListener('load', () => resolve(img.naturalWidth > 0), { once: true });
        img.addEventListener('error', () => resolve(false), { once: true });
        setTimeout(() => resolve(img.complete && img.naturalWidth > 0), 10_000);
      }));
    assert.ok(loaded, 'the thumbnail loads');
    await alice.locator('#uploader .upload-preview').waitFor({ state: 'hidden' });
    await assertSameDocument(alice);
    await assertSameDocument(bob);
    await shot(bob, 'bob-upload');

    // Dropping a file on the chat picks it like the file picker does.
    await alice.evaluate(() => {
      const file = new File(['notes dropped on the chat\n'], 'dropped.txt', { type: 'text/plain' });
      const data = new DataTransfer();
      data.items.add(file);
      const zone = document.querySelector('#messages');
      for (const type of ['dragenter', 'dragover', 'drop']) {
        zone.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: data }));
      }
    });
    await alice.locator('#uploader .upload-preview', { hasText: 'dropped.txt' }).waitFor();
    await alice.click('#uploader button[type="submit"]');
    const dropped = bob.locator('#messages li.message[data-seq] figure.attachment.kind-text figcaption a', { hasText: 'dropped.txt' });
    await dropped.waitFor();
  });

  it('without JavaScript the room page still sends through the form', async () => {
    const nojs = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1280, height: 800 } });
    nojs.setDefaultTimeout(STEP_MS);
    try {
      const page = await nojs.newPage();
      await page.goto(url(`/rooms/${ROOM}`));
      await page.fill('input[name="username"]', 'alice');
      await page.fill('input[name="password"]', PASSWORD);
      await Promise.all([page.waitForURL(url(`/rooms/${ROOM}`)), page.click('form[action="/login"] button[type="submit"]')]);
      assert.equal(await page.locator('#status').isVisible(), false, 'a status dot that can never turn green');
      await page.fill('#composer textarea', 'Sent without JavaScript');
      await Promise.all([page.waitForLoadState('load'), page.click('#composer button[type="submit"]')]);
      await page.locator('#messages li.message .body', { hasText: 'Sent without JavaScript' }).waitFor();
      await shot(page, 'alice-nojs');
      // ...and bob, live, sees it.
      await users.bob.page.locator('#messages li.message[data-seq] .body', { hasText: 'Sent without JavaScript' }).waitFor();
    } finally {
      await nojs.close();
    }
  });

  it('the home page offers to continue in the last room', async () => {
    const { page } = users.alice;
    await page.goto(url('/'));
    const link = page.locator('#continue a');
    await link.waitFor();
    assert.equal(await link.textContent(), `# ${ROOM}`);
    assert.equal(await link.getAttribute('href'), `/rooms/${ROOM}`);
    await shot(page, 'alice-home');
  });

  it('the room page also reads well in dark mode', async () => {
    const { page } = users.bob;
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.locator('#status[data-state="connected"]').waitFor();
    await shot(page, 'bob-dark');
    await page.emulateMedia({ colorScheme: 'light' });
  });

  // ---- conversation features (issue 6): reactions, edits, deletions,
  // replies, unread badges, direct messages, mentions.

  it('alice reacts to bob\'s message and edits her own; bob sees both live', async () => {
    const alice = users.alice.page;
    const bob = users.bob.page;
    await openRoom(alice, ROOM);
    await openRoom(bob, ROOM);
    await say(bob, 'React to this, please');
    const target = message(alice, 'React to this, please');
    await target.waitFor();
    await act(alice, target, 'react');
    await alice.locator('.picker button.emoji', { hasText: '👍' }).click();
    // Bob sees alice's reaction (not pressed: it is not his), alice sees it pressed.
    const bobsView = message(bob, 'React to this, please').locator('.reactions button.reaction');
    await bobsView.filter({ hasText: '👍 1' }).waitFor();
    assert.equal(await bobsView.getAttribute('aria-pressed'), 'false');
    assert.equal(await bobsView.getAttribute('title'), 'alice');
    const alicesView = target.locator('.reactions button.reaction[aria-pressed="true"]', { hasText: '👍 1' });
    await alicesView.waitFor();
    // Bob adds his: the same toggle, now 2, and the tooltip names both.
    await bobsView.click();
    await bobsView.filter({ hasText: '👍 2' }).and(bob.locator('[aria-pressed="true"]')).waitFor();
    await target.locator('.reactions button.reaction', { hasText: '👍 2' }).waitFor();
    assert.equal(await bobsView.getAttribute('title'), 'alice, bob');

    // Alice edits her own message in place: Enter saves.
    await say(alice, 'This has a tpyo');
    const mine = message(alice, 'This has a tpyo');
    await message(bob, 'This has a tpyo').waitFor();
    const seq = await mine.getAttribute('data-seq');
    await act(alice, mine, 'edit');
    const editor = alice.locator(`#m${seq} .editor textarea`);
    assert.equal(await editor.inputValue(), 'This has a tpyo');
    await editor.fill('This had a **typo**');
    await editor.press('Enter');
    await alice.locator(`#m${seq} .editor`).waitFor({ state: 'detached' });
    const edited = bob.locator(`#m${seq}`);
    await edited.locator('.body', { hasText: 'This had a typo' }).waitFor();
    await edited.locator('.body .edited', { hasText: '(edited)' }).waitFor();
    assert.match(await edited.locator('.edited').getAttribute('title'), /^Edited /);
    // Markdown-lite, rendered by the server and rebuilt as DOM nodes.
    assert.equal(await edited.locator('.body strong').textContent(), 'typo');
    // Bob may not edit or delete alice's message; alice may not edit bob's.
    await edited.hover();
    assert.equal(await edited.locator('.actions button[data-action="edit"]').count(), 0);
    assert.equal(await edited.locator('.actions button[data-action="delete"]').count(), 0);
    assert.equal(await target.locator('.actions button[data-action="edit"]').count(), 0);
    // Esc cancels an edit without sending anything.
    await act(alice, alice.locator(`#m${seq}`), 'edit');
    await editor.fill('never sent');
    await editor.press('Escape');
    await alice.locator(`#m${seq} .editor`).waitFor({ state: 'detached' });
    assert.equal(await alice.locator(`#m${seq} .body`).textContent(), 'This had a typo (edited)');
    await shot(bob, 'bob-reactions-edit');
  });

  it('alice deletes a message and bob sees the tombstone', async () => {
    const alice = users.alice.page;
    const bob = users.bob.page;
    await say(alice, 'Oops, wrong room');
    const mine = message(alice, 'Oops, wrong room');
    const seq = await mine.getAttribute('data-seq');
    await bob.locator(`#m${seq} .body`, { hasText: 'Oops, wrong room' }).waitFor();
    await act(alice, mine, 'delete');
    await alice.locator(`#m${seq} .confirm button.danger`).click();
    for (const page of [alice, bob]) {
      await page.locator(`#m${seq}.deleted .body.tombstone`, { hasText: 'This message was deleted' }).waitFor();
      assert.equal(await page.locator(`#m${seq} .actions`).count(), 0, 'a tombstone has no actions');
    }
    assert.equal(await bob.locator('#messages .body', { hasText: 'Oops, wrong room' }).count(), 0);
    // A fresh page shows the tombstone too (the server's own rendering).
    await bob.reload();
    await bob.locator('#status[data-state="connected"]').waitFor();
    await bob.locator(`#m${seq}.deleted .body.tombstone`).waitFor();
    await markDocument(bob);
  });

  it('bob replies to an old message; alice sees the quote and it takes her to the original', async () => {
    const alice = users.alice.page;
    const bob = users.bob.page;
    // The very first message (seq 1) is older than a fresh page shows.
    await loadBackTo(bob, 1);
    const original = bob.locator('#m1');
    await act(bob, original, 'reply');
    await bob.locator('#replying', { hasText: 'Replying to alice' }).waitFor();
    assert.match(await bob.locator('#replying').textContent(), /Hi Bob/);
    await bob.locator('#composer textarea').fill('Replying to the very first one');
    await bob.locator('#composer textarea').press('Enter');
    await bob.locator('#replying').waitFor({ state: 'hidden' });
    await alice.reload();
    await alice.locator('#status[data-state="connected"]').waitFor();
    assert.equal(await alice.locator('#m1').count(), 0, 'a fresh page does not show seq 1');
    const reply = message(alice, 'Replying to the very first one');
    await reply.waitFor();
    const quote = reply.locator('.reply-quote');
    assert.equal(await quote.locator('.quote-user').textContent(), 'alice');
    assert.match(await quote.locator('.quote-text').textContent(), /^Hi Bob/);
    await quote.click();
    await alice.locator('#m1.flash').waitFor();
    assert.ok(await inView(alice, '#m1'), 'the original is scrolled into view');
    // Live, too: bob sees his reply with its quote without reloading.
    await message(bob, 'Replying to the very first one').locator('.reply-quote', { hasText: 'alice' }).waitFor();
    await shot(alice, 'alice-reply-jump');
    await alice.locator('#messages').evaluate((list) => { list.scrollTop = list.scrollHeight; });
  });

  it('an unread badge appears in another room and clears when the room is read, in every tab', async () => {
    const alice = users.alice.page;
    const bob = users.bob.page;
    const status = await bob.evaluate(async (name) => (await fetch('/api/rooms', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name }),
    })).status, OTHER_ROOM);
    assert.equal(status, 201);
    await openRoom(bob, OTHER_ROOM);
    // A second tab of bob's, in the same room.
    const bob2 = await users.bob.context.newPage();
    await openRoom(bob2, OTHER_ROOM);
    await say(alice, 'Bob, are you there?');
    for (const page of [bob, bob2]) {
      const badge = page.locator(`#room-list li[data-room="${ROOM}"] .badge.unread`);
      await badge.waitFor();
      assert.equal(await badge.textContent(), '1');
      await page.waitForFunction(() => document.title.startsWith('(1) '));
      assert.equal(await page.locator('#room-list li.current .badge').count(), 0, 'never a badge on the room being read');
    }
    await shot(bob, 'bob-unread-badge');
    // Bob opens the room in the first tab: the badge goes, in the second tab too.
    await Promise.all([bob.waitForURL(url(`/rooms/${ROOM}`)), bob.click(`#room-list li[data-room="${ROOM}"] a`)]);
    await bob.locator('#status[data-state="connected"]').waitFor();
    await message(bob, 'Bob, are you there?').waitFor();
    await bob2.locator(`#room-list li[data-room="${ROOM}"] .badge`).waitFor({ state: 'detached' });
    await bob2.waitForFunction(() => !document.title.startsWith('('));
    assert.equal(await bob.locator('#room-list .badge').count(), 0);
    await bob2.close();
    await markDocument(bob);
  });

  it('alice starts a direct conversation from the sidebar and they talk in private', async () => {
    const alice = users.alice.page;
    const bob = users.bob.page;
    await alice.locator('#start-dm input[name="users"]').fill('bob');
    await Promise.all([
      alice.waitForURL(/\/rooms\/dm-[0-9a-f]+$/),
      alice.locator('#start-dm button[type="submit"]').click(),
    ]);
    const dmPath = new URL(alice.url()).pathname;
    assert.match(await alice.locator('#room-title').textContent(), /bob/);
    assert.doesNotMatch(await alice.locator('#room-title').textContent(), /dm-/);
    assert.match(await alice.title(), /^bob · Palaver$/);
    await alice.locator('#status[data-state="connected"]').waitFor();
    // Bob, in the public room, sees it appear among his direct messages.
    const entry = bob.locator('#dm-list li a', { hasText: 'alice' });
    await entry.waitFor();
    assert.equal(await entry.getAttribute('href'), dmPath);
    await say(alice, 'Just between us');
    await bob.locator(`#dm-list li[data-room] .badge.unread`).waitFor();
    await Promise.all([bob.waitForURL(url(dmPath)), entry.click()]);
    await bob.locator('#status[data-state="connected"]').waitFor();
    await message(bob, 'Just between us').waitFor();
    await say(bob, 'Secret hello back');
    await message(alice, 'Secret hello back').waitFor();
    assert.match(await bob.locator('#composer textarea').getAttribute('placeholder'), /alice/);
    await shot(alice, 'alice-dm');
    await markDocument(bob);
  });

  it('a mention of bob is highlighted for him and counted separately when he is elsewhere', async () => {
    const alice = users.alice.page;
    const bob = users.bob.page;
    await openRoom(alice, ROOM);
    // Alice read bob's last DM just before leaving it: nothing is unread there.
    await alice.locator('#dm-list li .badge').waitFor({ state: 'detached' });
    // Bob is elsewhere: a mention in the public room gets its own badge.
    await openRoom(bob, OTHER_ROOM);
    await say(alice, 'Hey @bob, have a look');
    await bob.locator(`#room-list li[data-room="${ROOM}"] .badge.mention`, { hasText: '@1' }).waitFor();
    await Promise.all([bob.waitForURL(url(`/rooms/${ROOM}`)), bob.click(`#room-list li[data-room="${ROOM}"] a`)]);
    const seen = message(bob, 'have a look');
    await seen.waitFor();
    assert.ok(await seen.evaluate((li) => li.classList.contains('mentions-me')), 'the message is highlighted');
    await seen.locator('a.mention.me', { hasText: '@bob' }).waitFor();
    assert.equal(await seen.locator('a.mention.me').getAttribute('href'), '/users/bob');
    // Live, with the tab in the background and notifications allowed: a notification.
    await bob.evaluate(() => {
      window.__notifications = [];
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
      window.Notification = class {
        constructor(title, options) { window.__notifications.push({ title, body: options.body }); }
        static get permission() { return 'granted'; }
        addEventListener() {}
        close() {}
      };
    });
    await say(alice, 'Still there, @bob?');
    const live = message(bob, 'Still there,');
    await live.waitFor();
    assert.ok(await live.evaluate((li) => li.classList.contains('mentions-me')));
    const notes = await bob.evaluate(() => window.__notifications);
    assert.deepEqual(notes.map((n) => n.title), [`alice mentioned you in # ${ROOM}`]);
    // Alice's own view is not highlighted: the mention is not hers.
    assert.ok(!(await message(alice, 'Still there,').evaluate((li) => li.classList.contains('mentions-me'))));
    await bob.evaluate(() => { delete document.visibilityState; });
    await shot(bob, 'bob-mention');
    await markDocument(bob);
  });

  it('takes screenshots of the new features on desktop and at 360 px', async () => {
    const bob = users.bob.page;
    await bob.locator('#messages').evaluate((list) => { list.scrollTop = list.scrollHeight; });
    const last = bob.locator('#messages li.message[data-seq]').last();
    await last.hover();
    await shot(bob, 'bob-1280-features');
    const phone = await newUser('phone2', { width: 360, height: 740 });
    await phone.page.goto(url(`/rooms/${ROOM}`));
    await phone.page.fill('input[name="username"]', 'bob');
    await phone.page.fill('input[name="password"]', PASSWORD);
    await Promise.all([
      phone.page.waitForURL(url(`/rooms/${ROOM}`)),
      phone.page.click('form[action="/login"] button[type="submit"]'),
    ]);
    await phone.page.locator('#status[data-state="connected"]').waitFor();
    // A tap shows a message's toolbar; reply mode fits on a phone.
    const tapped = message(phone.page, 'have a look');
    await tapped.locator('.body').click();
    await tapped.locator('.actions button[data-action="reply"]').click();
    await phone.page.locator('#replying').waitFor();
    const width = await phone.page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 360, `the page is ${width} px wide at 360 px`);
    await shot(phone.page, 'phone-360-features');
    await phone.page.locator('#replying .cancel-reply').click();
    await act(phone.page, message(phone.page, 'have a look'), 'react');
    await phone.page.locator('.picker').waitFor();
    const pickerRight = await phone.page.locator('.picker').evaluate((p) => p.getBoundingClientRect().right);
    assert.ok(pickerRight <= 360, `the reaction picker reaches ${pickerRight} px`);
    await shot(phone.page, 'phone-360-picker');
    await phone.page.keyboard.press('Escape');
    await phone.page.click('#side-toggle');
    await phone.page.locator('#sidebar.open #dm-list li', { hasText: 'alice' }).waitFor();
    await shot(phone.page, 'phone-360-sidebar-dms');
    await phone.context.close();
    // The home page lists the DM by who it is with.
    const alice = users.alice.page;
    await alice.goto(url('/'));
    const dm = alice.locator('.room-list li[data-room^="dm-"] a');
    assert.equal(await dm.textContent(), 'bob');
    await shot(alice, 'alice-home-dms');
  });

  it('without JavaScript, messages can be reacted to, edited and deleted through forms', async () => {
    const nojs = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1280, height: 800 } });
    nojs.setDefaultTimeout(STEP_MS);
    try {
      const page = await nojs.newPage();
      await page.goto(url(`/rooms/${ROOM}`));
      await page.fill('input[name="username"]', 'alice');
      await page.fill('input[name="password"]', PASSWORD);
      await Promise.all([page.waitForURL(url(`/rooms/${ROOM}`)), page.click('form[action="/login"] button[type="submit"]')]);
      await page.fill('#composer textarea', 'Edit me without JavaScript');
      await Promise.all([page.waitForLoadState('load'), page.click('#composer button[type="submit"]')]);
      const li = page.locator('#messages li.message', { has: page.locator('.body', { hasText: 'Edit me without JavaScript' }) });
      const seq = await li.getAttribute('data-seq');
      const id = await li.getAttribute('data-id');
      const item = () => page.locator(`#messages li.message[data-id="${id}"]`);
      await item().locator('details.msg-forms > summary').click();
      await item().locator('details.msg-forms .edit-form button').scrollIntoViewIfNeeded();
      await shot(page, 'alice-nojs-actions');
      await Promise.all([page.waitForLoadState('load'), item().locator('.react-picker button', { hasText: '🎉' }).click()]);
      await item().locator('.reactions button.reaction[aria-pressed="true"]', { hasText: '🎉 1' }).waitFor();
      await item().locator('details.msg-forms > summary').click();
      await item().locator('.edit-form textarea').fill('Edited without JavaScript');
      await Promise.all([page.waitForLoadState('load'), item().locator('.edit-form button[type="submit"]').click()]);
      await item().locator('.body', { hasText: 'Edited without JavaScript' }).waitFor();
      await item().locator('.edited').waitFor();
      await users.bob.page.locator(`#m${seq} .body`, { hasText: 'Edited without JavaScript' }).waitFor();
      await item().locator('details.msg-forms > summary').click();
      await Promise.all([page.waitForLoadState('load'), item().locator('button.danger').click()]);
      await item().locator('.body.tombstone').waitFor();
      await users.bob.page.locator(`#m${seq}.deleted`).waitFor();
    } finally {
      await nojs.close();
    }
  });

  it('no page logged a script error', () => {
    for (const [name, { problems }] of Object.entries(users)) {
      assert.deepEqual(problems, [], `${name}'s browser`);
    }
  });
});
