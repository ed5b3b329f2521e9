/**
 * Browser tests of the comparison page of lesson 06 (pages/push-pull/, served by
 * src/push-pull/push-pull-server.ts): a real Chromium, driven by playwright-core, loads the page
 * from a real push-pull server on 127.0.0.1, port 0, and the test publishes events into the
 * server's feed as an instructor would, then reads the four panels as the class would.
 *
 * What only a browser can show: that fetch, EventSource and WebSocket in a page all get every
 * event in order under the page's Content-Security-Policy, what each panel counts (requests,
 * bytes, delay), that an instructor's `<img onerror>` stays text, and that all four catch up,
 * without a gap or a repeat, after the server is stopped and started again on the same feed.
 *
 * Left out: the transports' own rules (long-poll timeout, Last-Event-ID parsing, limits), which
 * the loopback tests of test/push-pull/ cover without a browser. The browser is Debian's
 * Chromium at /usr/bin/chromium, as in ws-echo-page.test.ts: without it the tests are skipped
 * on a developer's machine and fail in CI, where they must never be skipped.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { BROWSER_WAIT_MS, useBrowser } from './browser-support.js';
import { errnoCode } from '../../src/core/errors.js';
import { EventFeed, type FeedEvent } from '../../src/push-pull/event-feed.js';
import { eventJson, startPushPullServer, type PushPullServer } from '../../src/push-pull/push-pull-server.js';

/**
 * Hang guard for the restart test: it waits out the server's SSE `retry:` (2 s) and the page's
 * reconnect delays, which on a loaded two-core CI machine can add up past vitest's 20 s.
 */
const RESTART_TEST_TIMEOUT_MS = 60_000;

const PANELS = ['poll', 'long-poll', 'sse', 'ws'] as const;
type Panel = (typeof PANELS)[number];
type Counter = 'requests' | 'bytes' | 'delay' | 'events';

const session = useBrowser();

async function pushPullServer(feed: EventFeed, port = 0): Promise<PushPullServer> {
  const server = await startPushPullServer({ host: '127.0.0.1', port, feed });
  session.cleanup(() => server.close());
  return server;
}

/**
 * A new server on the port an old one just left. close() has ended every connection, so the
 * port is normally free at once; the retries (bounded) only absorb a late kernel.
 */
async function pushPullServerOnSamePort(feed: EventFeed, port: number): Promise<PushPullServer> {
  for (let tries = 1; ; tries++) {
    try {
      return await pushPullServer(feed, port);
    } catch (err) {
      if (errnoCode(err) !== 'EADDRINUSE' || tries === 20) throw err;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** A new page in a fresh browser context, closed after the test. */
async function newPage(): Promise<Page> {
  const context = await session.browser().newContext({ viewport: { width: 1280, height: 720 } });
  session.cleanup(() => context.close());
  context.setDefaultTimeout(BROWSER_WAIT_MS);
  return context.newPage();
}

/** Waits until every panel says its transport works: first poll answered, long poll sent, SSE and WebSocket open. */
async function allConnected(page: Page): Promise<void> {
  for (const panel of PANELS) await page.waitForSelector(`#panel-${panel}[data-state="open"]`);
}

/** Loads the page, polling every 200 ms, and waits until all four transports are connected. */
async function openPage(page: Page, server: PushPullServer, query = '?poll=200'): Promise<void> {
  await page.goto(`${server.url}/${query}`);
  await allConnected(page);
}

/** Waits until every panel lists the event with this id. */
async function allShow(page: Page, id: number): Promise<void> {
  for (const panel of PANELS) await page.locator(`#panel-${panel} li[data-id="${id}"]`).waitFor();
}

/** The ids a panel lists, top to bottom (newest first). */
async function shownIds(page: Page, panel: Panel): Promise<number[]> {
  const labels = await page.locator(`#panel-${panel} li[data-id] .id`).allTextContents();
  return labels.map((label) => Number(label.replace('#', '')));
}

function shownTexts(page: Page, panel: Panel): Promise<string[]> {
  return page.locator(`#panel-${panel} li[data-id] .text`).allTextContents();
}

async function counter(page: Page, panel: Panel, name: Counter): Promise<number> {
  return Number(await page.textContent(`#panel-${panel} [data-counter="${name}"]`));
}

/**
 * Waits until a counter shows another number than `from`, and returns it. (A locator filter,
 * not waitForFunction: the page's CSP forbids the eval that a waited-for function needs.)
 */
async function counterChangesFrom(page: Page, panel: Panel, name: Counter, from: number): Promise<number> {
  const shown = page.locator(`#panel-${panel} [data-counter="${name}"]`);
  await shown.filter({ hasNotText: new RegExp(`^${from}$`) }).waitFor();
  return Number(await shown.textContent());
}

/** What SSE data and WebSocket messages carry for these events: their JSON, in UTF-8 bytes. */
function jsonBytes(events: readonly FeedEvent[]): number {
  return events.reduce((sum, event) => sum + Buffer.byteLength(eventJson(event)), 0);
}

describe('the push-pull page in Chromium', () => {
  it('shows every published event in all four panels, newest first, and counts what each transport cost', async () => {
    const feed = new EventFeed();
    const server = await pushPullServer(feed);
    const page = await newPage();
    await openPage(page, server);
    expect(await page.textContent('#poll-ms')).toBe('200');

    // "café ☕": 7 characters, 10 bytes in UTF-8; the byte counters count bytes.
    const published = [feed.publish('first', 'instructor'), feed.publish('café ☕', 'instructor'), feed.publish('third', 'tick')];
    await allShow(page, 3);

    for (const panel of PANELS) {
      expect(await shownIds(page, panel), panel).toEqual([3, 2, 1]);
      expect(await shownTexts(page, panel), panel).toEqual(['third', 'café ☕', 'first']);
      expect(await page.getAttribute(`#panel-${panel} li[data-id="2"]`, 'data-source'), panel).toBe('instructor');
      expect(await counter(page, panel, 'events'), panel).toBe(3);
      expect(await counter(page, panel, 'bytes'), panel).toBeGreaterThan(0);
      // The delay depends on the machine: only that it is a whole number of ms is checked.
      expect(Number.isInteger(await counter(page, panel, 'delay')), panel).toBe(true);
    }
    // Push: one request each, and exactly the events' JSON as bytes.
    for (const panel of ['sse', 'ws'] as const) {
      expect(await counter(page, panel, 'requests'), panel).toBe(1);
      expect(await counter(page, panel, 'bytes'), panel).toBe(jsonBytes(published));
    }
    // A long poll answered by an event is sent again: at least two so far.
    expect(await counter(page, 'long-poll', 'requests')).toBeGreaterThanOrEqual(2);
    // Pull: short polls go on whether or not anything happens, and each answer costs bytes.
    const polls = await counter(page, 'poll', 'requests');
    const pollBytes = await counter(page, 'poll', 'bytes');
    const later = await counterChangesFrom(page, 'poll', 'requests', await counterChangesFrom(page, 'poll', 'requests', polls));
    expect(later).toBeGreaterThanOrEqual(polls + 2);
    expect(await counter(page, 'poll', 'bytes')).toBeGreaterThan(pollBytes);
    expect(await counter(page, 'poll', 'events')).toBe(3);
    expect(await counter(page, 'sse', 'requests')).toBe(1);
    expect(await counter(page, 'ws', 'requests')).toBe(1);
  });

  it('shows markup in an event as text: no element is created, no script runs, the CSP holds', async () => {
    const feed = new EventFeed();
    const server = await pushPullServer(feed);
    const page = await newPage();
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    const consoleErrors: string[] = [];
    page.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push(`${msg.text()} (${msg.location().url})`);
    });
    page.on('pageerror', (err) => consoleErrors.push(err.message));
    // The page's own violation reports, through a binding: both bypass the page's CSP.
    const violations: string[] = [];
    await page.exposeFunction('netlabReportViolation', (what: string) => void violations.push(what));
    await page.addInitScript(
      `document.addEventListener('securitypolicyviolation', (event) => {
        window.netlabReportViolation(event.effectiveDirective + ' blocked ' + event.blockedURI);
      });`,
    );

    const response = await page.goto(`${server.url}/?poll=200`);
    const csp = response?.headers()['content-security-policy'];
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    await allConnected(page);

    const attack = '<img src=x onerror=alert(1)>';
    feed.publish(attack, 'instructor');
    feed.publish('<b>bold?</b> & "quoted"', 'instructor');
    await allShow(page, 2);
    for (const panel of PANELS) {
      expect(await shownTexts(page, panel), panel).toEqual(['<b>bold?</b> & "quoted"', attack]);
      expect(await page.locator(`#panel-${panel} .events img, #panel-${panel} .events b`).count(), panel).toBe(0);
    }
    expect(dialogs).toEqual([]);
    expect(violations).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });

  it('catches up on load with the events the server keeps, and lists only the newest 50', async () => {
    const feed = new EventFeed();
    const server = await pushPullServer(feed);
    for (let n = 1; n <= 60; n++) feed.publish(`tick ${n}`, 'tick');
    const page = await newPage();
    await openPage(page, server);
    await allShow(page, 60);

    const newest50 = Array.from({ length: 50 }, (_, i) => 60 - i);
    for (const panel of PANELS) {
      expect(await shownIds(page, panel), panel).toEqual(newest50);
      expect(await counter(page, panel, 'events'), panel).toBe(60);
    }
  });

  it('polls every ?poll= ms, within 100 to 60000, and every 1000 ms without it', async () => {
    const server = await pushPullServer(new EventFeed());
    const page = await newPage();
    for (const [query, shown] of [['', '1000'], ['?poll=250', '250'], ['?poll=5', '100'], ['?poll=999999', '60000'], ['?poll=often', '1000']]) {
      await page.goto(`${server.url}/${query}`);
      expect(await page.textContent('#poll-ms'), query).toBe(shown);
    }
  });

  it(
    'catches up in all four panels, with no gap and no repeat, after the server stops and a new one starts on the same feed',
    async () => {
      const feed = new EventFeed();
      const server = await pushPullServer(feed);
      const page = await newPage();
      await openPage(page, server);
      feed.publish('before the restart', 'instructor');
      await allShow(page, 1);

      await server.close();
      // The WebSocket sees the close at once; the other three find out on their next request.
      await page.waitForSelector('#panel-ws[data-state="closed"]');
      feed.publish('while the server was away', 'instructor');
      const again = await pushPullServerOnSamePort(feed, server.port);
      feed.publish('after the restart', 'instructor');

      await allShow(page, 3);
      for (const panel of PANELS) {
        expect(await shownIds(page, panel), panel).toEqual([3, 2, 1]);
        expect(await counter(page, panel, 'events'), panel).toBe(3);
      }
      // SSE reconnected by itself, the WebSocket by the page's script: more than one request each.
      expect(await counter(page, 'sse', 'requests')).toBeGreaterThanOrEqual(2);
      expect(await counter(page, 'ws', 'requests')).toBeGreaterThanOrEqual(2);
      await allConnected(page);
      expect(again.port).toBe(server.port);
    },
    RESTART_TEST_TIMEOUT_MS,
  );
});
