/**
 * Browser tests of the chat page of lesson 05 (pages/ws-chat/, served by src/ws/chat-server.ts):
 * real Chromium pages, driven by playwright-core, load the page from a real chat server on
 * 127.0.0.1, port 0, and are used as students would use them: join, type, press Enter, read.
 *
 * What only a browser can show: that two pages chat through the server and list each other,
 * that markup in messages, names and the server's own error texts stays text, that the page
 * reconnects by itself to a restarted server and rejoins as the same user in the same room
 * with what was typed meanwhile, and that two tabs of one origin share a user's token.
 *
 * Left out: the protocol's rules (which fields, which errors, rate limits), which the loopback
 * tests of src/ws/ cover without a browser. The browser is Debian's Chromium at /usr/bin/chromium,
 * as in ws-echo-page.test.ts: without it the tests are skipped on a developer's machine and
 * fail in CI, where they must never be skipped.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { BROWSER_WAIT_MS, useBrowser } from './browser-support.js';
import { errnoCode } from '../../src/core/errors.js';
import { startWsChatServer, type WsChatServer } from '../../src/ws/chat-server.js';

/**
 * Hang guard for a whole test: each drives up to three pages through dozens of waits, which on
 * a loaded two-core CI machine can add up past vitest's default of 20 s without anything being stuck.
 */
const TEST_TIMEOUT_MS = 60_000;

const session = useBrowser();

async function chatServer(port = 0): Promise<WsChatServer> {
  const server = await startWsChatServer({ host: '127.0.0.1', port, path: '/ws' });
  session.cleanup(() => server.close());
  return server;
}

/**
 * A new chat server on the port an old one just left. close() has ended every connection, so
 * the port is normally free at once; the retries (bounded) only absorb a late kernel.
 */
async function chatServerOnSamePort(port: number): Promise<WsChatServer> {
  for (let tries = 1; ; tries++) {
    try {
      return await chatServer(port);
    } catch (err) {
      if (errnoCode(err) !== 'EADDRINUSE' || tries === 20) throw err;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** A fresh browser context (its own cookies and storage, one origin's tabs share them), closed after the test. */
async function newContext(): Promise<BrowserContext> {
  const context = await session.browser().newContext();
  session.cleanup(() => context.close());
  context.setDefaultTimeout(BROWSER_WAIT_MS);
  return context;
}

/**
 * The chat page, loaded and connected. It records every text its status line shows in
 * `window.netlabStatusLog` (an init script: it runs before the page's own, outside its CSP).
 */
async function openChat(server: WsChatServer, context?: BrowserContext): Promise<Page> {
  const page = await (context ?? (await newContext())).newPage();
  await page.addInitScript(
    `window.netlabStatusLog = [];
    new MutationObserver(() => {
      const text = document.getElementById('status')?.textContent;
      if (text !== undefined && text !== window.netlabStatusLog.at(-1)) window.netlabStatusLog.push(text);
    }).observe(document, { subtree: true, childList: true, characterData: true });`,
  );
  await page.goto(server.pageUrl);
  await page.waitForSelector('#status[data-state="connected"]');
  return page;
}

/** Fills the form, presses Join, and waits until the page says who and where it is. */
async function join(page: Page, name: string, room = 'lobby'): Promise<void> {
  await page.fill('#name', name);
  await page.fill('#room', room);
  await page.click('#join');
  await page.waitForSelector(`#identity[data-joined="yes"]`);
  expect(await page.textContent('#identity')).toBe(`you are ${name} in ${room}`);
}

/** What the status line showed since it last said "connected". */
async function statusSinceConnected(page: Page): Promise<string[]> {
  const log = (await page.evaluate('window.netlabStatusLog')) as string[];
  return log.slice(log.lastIndexOf('connected') + 1);
}

/** Types a line in the message box and presses Enter. */
async function type(page: Page, text: string): Promise<void> {
  await page.fill('#message', text);
  await page.press('#message', 'Enter');
}

/** Waits for a line of the message list with this exact text and kind (message, private, error…). */
async function line(page: Page, kind: string, text: string): Promise<void> {
  await page.locator(`#messages li.${kind}`).filter({ hasText: text }).first().waitFor();
  expect(await lines(page, kind)).toContain(text);
}

function lines(page: Page, kind: string): Promise<string[]> {
  return page.locator(`#messages li.${kind}`).allTextContents();
}

/**
 * Waits until the page's user list is exactly `names`: each one there, and no more items.
 * (Not page.waitForFunction(): its polling evaluates a string, which the page's CSP refuses.)
 */
async function users(page: Page, names: string[]): Promise<void> {
  for (const name of names) await page.locator(`#users li[data-name="${name}"]`).waitFor();
  await page.locator(`#users li:nth-child(${names.length + 1})`).waitFor({ state: 'detached' });
  const shown = await page.locator('#users li').evaluateAll((items) => items.map((item) => item.getAttribute('data-name')));
  expect(shown).toEqual(names);
}

describe('the WebSocket chat page in Chromium', { timeout: TEST_TIMEOUT_MS }, () => {
  it('lets two pages join a room and chat: each sees the other and the user list shows both', async () => {
    const server = await chatServer();
    const alice = await openChat(server);
    // Anything the Content-Security-Policy blocks, or any script error, shows up here.
    const consoleErrors: string[] = [];
    alice.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push(msg.text());
    });
    alice.on('pageerror', (err) => consoleErrors.push(err.message));
    expect(await alice.isDisabled('#message')).toBe(true);
    expect(await alice.inputValue('#room')).toBe('lobby');

    await join(alice, 'alice');
    expect(await alice.isEnabled('#message')).toBe(true);
    const bob = await openChat(server);
    await join(bob, 'bob');
    await line(alice, 'notice', 'bob joined lobby (2 here)');
    await users(alice, ['alice', 'bob']);
    await users(bob, ['alice', 'bob']);
    expect(await alice.locator('#users li').allTextContents()).toEqual(['alice (you)', 'bob']);

    await type(alice, 'hello bob');
    await line(bob, 'message', 'alice: hello bob');
    // The sender's line turns from "sending…" into the server's copy, which carries its id.
    await line(alice, 'message', 'alice: hello bob');
    expect(await alice.inputValue('#message')).toBe('');
    await type(bob, '/me waves');
    await line(alice, 'message', '* bob waves');
    await type(bob, 'hi alice');
    await line(alice, 'message', 'bob: hi alice');
    expect(await lines(alice, 'message')).toEqual(['alice: hello bob', '* bob waves', 'bob: hi alice']);
    expect(await lines(alice, 'pending')).toEqual([]);

    // A third page gets the room's history when it joins.
    const carol = await openChat(server);
    await join(carol, 'carol');
    await line(carol, 'history', 'bob: hi alice');
    expect(await lines(carol, 'history')).toEqual(['alice: hello bob', '* bob waves', 'bob: hi alice']);
    expect(consoleErrors).toEqual([]);
  });

  it('shows markup in messages, names and error texts as text, and runs none of it', async () => {
    const server = await chatServer();
    const alice = await openChat(server);
    await join(alice, 'alice');
    const bob = await openChat(server);
    await join(bob, 'bob');

    // Under the page's CSP an inline onerror would not run anyway; the element count is what
    // shows that the page never parsed the text as HTML.
    const attack = '<img src=x onerror="window.netlabXss=1">';
    await type(bob, attack);
    await line(alice, 'message', `bob: ${attack}`);
    await line(bob, 'message', `bob: ${attack}`);

    // The server's own error texts may quote what was sent: they are text too.
    await type(alice, '/msg <img/src=x> hi');
    await line(alice, 'error', 'error: no one called <img/src=x> is connected');
    await type(alice, '/join <b>room</b>');
    await line(alice, 'error', 'error: a room name has only letters, digits, - _ . and starts with a letter or digit');
    expect(await alice.textContent('#identity')).toBe('you are alice in lobby');

    // A name with markup is refused by the server, and the page shows why.
    const eve = await openChat(server);
    await eve.fill('#name', '<i>eve</i>');
    await eve.click('#join');
    await line(eve, 'error', 'error: a name has only letters, digits, - _ . and starts with a letter or digit');
    expect(await eve.textContent('#identity')).toBe('not joined');
    expect(await eve.isDisabled('#message')).toBe(true);
    // Then under a valid name, the markup arrives once more, in the room's history.
    await join(eve, 'eve');
    await line(eve, 'history', `bob: ${attack}`);

    for (const page of [alice, bob, eve]) {
      expect(await page.locator('img, b, i').count()).toBe(0);
      expect(await page.locator('#messages li *').count()).toBe(0);
      expect(await page.evaluate('window.netlabXss')).toBeUndefined();
    }
  });

  it('reconnects by itself when the server restarts, rejoins the same room, and sends what was typed meanwhile', async () => {
    const first = await chatServer();
    const port = first.port;
    const alice = await openChat(first);
    await join(alice, 'alice', 'lab-3');
    const bob = await openChat(first);
    await join(bob, 'bob', 'lab-3');
    await users(alice, ['alice', 'bob']);

    await first.close();
    await line(alice, 'notice', 'connection closed: 1001 "server shutting down"');
    await alice.waitForSelector('#status[data-state="reconnecting"]');
    expect(await alice.textContent('#status')).toMatch(/^reconnecting in \d+\.\d s \(attempt \d+\)$/);
    // The first attempt waits a random 0 to 1 s.
    expect((await statusSinceConnected(alice))[0]).toMatch(/^reconnecting in (0\.\d|1\.0) s \(attempt 1\)$/);
    expect(await alice.textContent('#identity')).toBe('rejoining lab-3 as alice…');
    // While disconnected the box still takes messages; they wait in the queue.
    await type(alice, 'typed while away');
    await line(alice, 'queued', 'alice: typed while away (queued: sent after reconnecting)');
    expect(await alice.textContent('#queue-note')).toBe('1 message queued: sent after reconnecting');

    const second = await chatServerOnSamePort(port);
    expect(second.port).toBe(port);
    for (const page of [alice, bob]) {
      await page.waitForSelector('#identity[data-joined="yes"]');
      expect(await page.textContent('#status')).toBe('connected');
    }
    expect(await alice.textContent('#identity')).toBe('you are alice in lab-3');
    expect(await bob.textContent('#identity')).toBe('you are bob in lab-3');
    await line(alice, 'message', 'alice: typed while away');
    expect(await alice.isHidden('#queue-note')).toBe(true);
    // Bob gets it live, or in the history of his rejoin if alice was back first: once either way.
    await bob.locator('#messages li', { hasText: 'alice: typed while away' }).waitFor();
    await users(bob, ['alice', 'bob']);
    await users(alice, ['alice', 'bob']);
    const seen = (await bob.locator('#messages li').allTextContents()).filter((text) => text === 'alice: typed while away');
    expect(seen).toHaveLength(1);

    // The successful join reset the count: the next drop starts again at attempt 1.
    await second.close();
    await alice.waitForSelector('#status[data-state="reconnecting"]');
    expect((await statusSinceConnected(alice))[0]).toMatch(/^reconnecting in (0\.\d|1\.0) s \(attempt 1\)$/);
  });

  it('waits a random 0 to 1 s before the first reconnect, then half to all of a ceiling that doubles up to 30 s', async () => {
    const server = await chatServer();
    const page = await openChat(server);
    // The page's schedule is a pure function of the attempt and a random source: called here
    // with the two ends of Math.random()'s range, 0 and (nearly) 1. It is the CLI client's
    // (src/ws/backoff.ts), so one lesson section describes both.
    const delays = (random: string) => page.evaluate(`[1, 2, 3, 4, 5, 6, 7, 8, 20].map((n) => reconnectDelayMs(n, () => ${random}))`);
    expect(await delays('0')).toEqual([0, 1000, 2000, 4000, 8000, 15_000, 15_000, 15_000, 15_000]);
    expect(await delays('1')).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000, 30_000]);
  });

  it('lets the same user join from two tabs with the token in localStorage, and a private message reaches both', async () => {
    const server = await chatServer();
    const context = await newContext();
    const tab1 = await openChat(server, context);
    await join(tab1, 'alice');
    const tab2 = await openChat(server, context);
    await join(tab2, 'alice');
    const token = (page: Page) => page.evaluate(`localStorage.getItem('netlab.ws-chat.token.alice')`);
    expect(await token(tab1)).toMatch(/^[0-9a-f]{32}$/);
    expect(await token(tab2)).toBe(await token(tab1));

    // Without the token (another browser context, so other storage) the name is someone else's.
    const carol = await openChat(server);
    await carol.fill('#name', 'alice');
    await carol.click('#join');
    await line(carol, 'error', 'error: "alice" is taken; choose another name');
    expect(await carol.textContent('#identity')).toBe('not joined');
    await join(carol, 'carol');
    await users(carol, ['alice', 'carol']);
    await type(carol, '/msg alice psst');
    for (const tab of [tab1, tab2]) await line(tab, 'private', '(private) carol → alice: psst');
    await line(carol, 'private', '(private) carol → alice: psst');
    expect(await lines(carol, 'pending')).toEqual([]);
    // What one tab says, the other sees as the same user's.
    await type(tab2, 'from the second tab');
    await line(tab1, 'message', 'alice: from the second tab');
  });

  it('rejoins the same name and room after a reload of the tab, and /join moves to another room', async () => {
    const server = await chatServer();
    const page = await openChat(server);
    await join(page, 'alice', 'kitchen');
    await page.reload();
    await page.waitForSelector('#identity[data-joined="yes"]');
    expect(await page.textContent('#identity')).toBe('you are alice in kitchen');
    await users(page, ['alice']);

    await type(page, '/join garden');
    await page.locator('#identity', { hasText: 'you are alice in garden' }).waitFor();
    await line(page, 'notice', 'you are alice in garden');
    expect(await page.textContent('#users-title')).toBe('In garden (1)');
  });

  it('renames with /nick and keeps the token under the new name; Leave closes with 1000 and does not reconnect', async () => {
    const server = await chatServer();
    const page = await openChat(server);
    await join(page, 'alice');
    const token = await page.evaluate(`localStorage.getItem('netlab.ws-chat.token.alice')`);
    await type(page, '/nick al');
    await line(page, 'notice', 'alice is now al');
    await users(page, ['al']);
    expect(await page.textContent('#identity')).toBe('you are al in lobby');
    expect(await page.evaluate(`localStorage.getItem('netlab.ws-chat.token.al')`)).toBe(token);
    expect(await page.evaluate(`localStorage.getItem('netlab.ws-chat.token.alice')`)).toBeNull();

    const closed = new Promise<number>((resolve) => server.once('close', (_conn, info) => resolve(info.code)));
    await page.click('#leave');
    expect(await closed).toBe(1000);
    await page.waitForSelector('#status[data-state="disconnected"]');
    // The close listener chose "disconnected", not a reconnect: the status never said reconnecting.
    expect(await statusSinceConnected(page)).toEqual(['disconnected']);
    expect(await page.textContent('#identity')).toBe('not joined');
    expect(await page.isDisabled('#message')).toBe(true);
    expect(await page.isHidden('#connect-now')).toBe(true);

    // Join opens a new connection; the token still holds for the new name.
    await join(page, 'al');
    expect(await page.textContent('#status')).toBe('connected');
  });
});
