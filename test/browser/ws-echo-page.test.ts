/**
 * Browser tests of the echo page of lesson 04 (pages/ws-echo/, served by src/ws/echo-server.ts):
 * a real Chromium, driven by playwright-core, loads the page from a real echo server on
 * 127.0.0.1, port 0, and is used as a student would use it: type, press Enter, read the log.
 *
 * What only a browser can show: that the page's own Origin is accepted and another page's is
 * refused, that an echoed `<img onerror>` stays text, that the Content-Security-Policy lets the
 * page work and nothing more, and what the page shows when the server goes away.
 *
 * Left out: the protocol itself (frames, close codes, heartbeats), which the loopback tests of
 * src/ws/ cover without a browser. The browser is Debian's Chromium at /usr/bin/chromium
 * (`apt-get install chromium`; .ci/run installs it). Without it the tests are skipped on a
 * developer's machine and fail in CI, where they must never be skipped.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { BROWSER_WAIT_MS, useBrowser } from './browser-support.js';
import { startWsEchoServer, type WsEchoEvents, type WsEchoServer } from '../../src/ws/echo-server.js';

const session = useBrowser();

async function echoServer(): Promise<WsEchoServer> {
  const server = await startWsEchoServer({ host: '127.0.0.1', port: 0, path: '/ws' });
  session.cleanup(() => server.close());
  return server;
}

/** A new page in a fresh browser context (no cookies, no cache), closed after the test. */
async function newPage(): Promise<Page> {
  const context = await session.browser().newContext();
  session.cleanup(() => context.close());
  context.setDefaultTimeout(BROWSER_WAIT_MS);
  return context.newPage();
}

/** The arguments of the next `event` the server emits. */
function next<K extends keyof WsEchoEvents>(server: WsEchoServer, event: K): Promise<WsEchoEvents[K]> {
  return new Promise((resolve) => server.once(event, ((...args: WsEchoEvents[K]) => resolve(args)) as never));
}

/** Loads the echo page and waits until its WebSocket is open. */
async function openEchoPage(page: Page, server: WsEchoServer): Promise<void> {
  await page.goto(server.pageUrl);
  await page.waitForSelector('#state[data-state="open"]');
}

/** Types `text` in the message box, presses Enter, and waits for its echo in the log. */
async function sendAndAwaitEcho(page: Page, text: string): Promise<void> {
  const received = page.locator('#log li.received');
  const before = await received.count();
  await page.fill('#message', text);
  await page.press('#message', 'Enter');
  await received.nth(before).waitFor();
}

function logLines(page: Page): Promise<string[]> {
  return page.locator('#log li').allTextContents();
}

/**
 * A plain HTTP server on another port of 127.0.0.1, hence another origin, serving a page whose
 * script (a file: no inline script) opens a WebSocket to `wsUrl` and writes what happens to it
 * into `#result`: `data-opened` if it opened, `data-close-code` once it closed.
 */
async function otherOriginSite(wsUrl: string): Promise<string> {
  const files: Record<string, { type: string; body: string }> = {
    '/': {
      type: 'text/html; charset=utf-8',
      body: '<!doctype html><title>another site</title><script src="/probe.js" defer></script><p id="result">waiting</p>',
    },
    '/probe.js': {
      type: 'text/javascript; charset=utf-8',
      body: [
        `const socket = new WebSocket(${JSON.stringify(wsUrl)});`,
        `const result = document.getElementById('result');`,
        `socket.addEventListener('open', () => { result.dataset.opened = 'yes'; });`,
        `socket.addEventListener('close', (event) => { result.dataset.closeCode = String(event.code); result.textContent = 'closed'; });`,
      ].join('\n'),
    },
  };
  const site = http.createServer((req, res) => {
    const file = files[req.url ?? ''];
    res.writeHead(file ? 200 : 404, { 'Content-Type': file?.type ?? 'text/plain' });
    res.end(file?.body ?? 'not found\n');
  });
  session.cleanup(
    () =>
      new Promise<void>((resolve) => {
        site.close(() => resolve());
        site.closeAllConnections(); // the browser's keep-alive sockets would hold close() open
      }),
  );
  await new Promise<void>((resolve, reject) => {
    site.once('error', reject);
    site.listen({ host: '127.0.0.1', port: 0 }, () => resolve());
  });
  return `http://127.0.0.1:${(site.address() as AddressInfo).port}/`;
}

describe('the WebSocket echo page in Chromium', () => {
  it('opens a WebSocket to its own server, sends what is typed on Enter, and logs the echo', async () => {
    const server = await echoServer();
    const page = await newPage();
    const connected = next(server, 'connection');
    await openEchoPage(page, server);
    const [peer] = await connected;
    // The browser sends the Origin of the page; the page's own is accepted.
    expect(peer.origin).toBe(new URL(server.pageUrl).origin);

    const message = next(server, 'message');
    await sendAndAwaitEcho(page, 'hello, echo');
    const [, data, isBinary] = await message;
    expect(data.toString('utf8')).toBe('hello, echo');
    expect(isBinary).toBe(false);
    expect(await logLines(page)).toEqual(['> hello, echo', '< hello, echo']);
    expect(await page.inputValue('#message')).toBe('');
  });

  it('sends with the Send button too', async () => {
    const server = await echoServer();
    const page = await newPage();
    await openEchoPage(page, server);
    await page.fill('#message', 'by button');
    await page.click('#send');
    await page.locator('#log li.received').waitFor();
    expect(await logLines(page)).toEqual(['> by button', '< by button']);
  });

  it('shows an echoed HTML tag as text: no element is created and no script runs', async () => {
    const server = await echoServer();
    const page = await newPage();
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await openEchoPage(page, server);
    const attack = '<img src=x onerror=alert(1)>';
    await sendAndAwaitEcho(page, attack);
    expect(await logLines(page)).toEqual([`> ${attack}`, `< ${attack}`]);
    expect(await page.locator('#log img').count()).toBe(0);
    expect(await page.locator('#log li *').count()).toBe(0);
    expect(dialogs).toEqual([]);
  });

  it('is served with a Content-Security-Policy, and works without breaking it or logging an error', async () => {
    const server = await echoServer();
    const page = await newPage();
    // Not even the browser's own request for an icon may fail (the page names favicon.svg).
    const consoleErrors: string[] = [];
    page.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push(`${msg.text()} (${msg.location().url})`);
    });
    page.on('pageerror', (err) => consoleErrors.push(err.message));
    // The page's own violation reports, through a binding: both bypass the page's CSP.
    const violations: string[] = [];
    let onViolation = () => {};
    await page.exposeFunction('netlabReportViolation', (what: string) => {
      violations.push(what);
      onViolation();
    });
    // Browser-side code is written as strings: the test tsconfig has Node's types, not the DOM's.
    await page.addInitScript(
      `document.addEventListener('securitypolicyviolation', (event) => {
        window.netlabReportViolation(event.effectiveDirective + ' blocked ' + event.blockedURI);
      });`,
    );

    const response = await page.goto(server.pageUrl);
    const csp = response?.headers()['content-security-policy'];
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    await page.waitForSelector('#state[data-state="open"]');
    await sendAndAwaitEcho(page, 'within the policy');
    expect(violations).toEqual([]);
    expect(consoleErrors).toEqual([]);

    // The listener works: an inline script, which the policy forbids, is reported.
    const reported = new Promise<void>((resolve) => (onViolation = resolve));
    await page.evaluate(`{
      const script = document.createElement('script');
      script.textContent = 'document.title = "inline ran"';
      document.body.append(script);
    }`);
    await reported;
    expect(violations).toEqual(['script-src-elem blocked inline']);
    expect(await page.title()).not.toBe('inline ran');
  });

  it("refuses a page from another origin with 403, and that page's socket closes with 1006", async () => {
    const server = await echoServer();
    const site = await otherOriginSite(server.url);
    const page = await newPage();
    const refused = next(server, 'refused');
    let connections = 0;
    server.on('connection', () => connections++);

    await page.goto(site);
    const [refusal] = await refused;
    expect(refusal.status).toBe(403);
    expect(refusal.reason).toContain(`Origin ${new URL(site).origin}`);
    // The browser does not see the 403, only a WebSocket that never opened (RFC 6455, 7.1.5).
    await page.waitForSelector('#result[data-close-code]');
    expect(await page.getAttribute('#result', 'data-close-code')).toBe('1006');
    expect(await page.getAttribute('#result', 'data-opened')).toBeNull();
    expect(connections).toBe(0);
  });

  it('shows the closed state with code 1001 and offers to connect again when the server stops', async () => {
    const server = await echoServer();
    const page = await newPage();
    await openEchoPage(page, server);
    expect(await page.isHidden('#reconnect')).toBe(true);

    await server.close();
    await page.waitForSelector('#state[data-state="closed"]');
    expect(await page.textContent('#state')).toBe('closed: 1001 "server shutting down"');
    await page.waitForSelector('#reconnect', { state: 'visible' });
    expect(await page.textContent('#reconnect')).toBe('Connect again');
    expect(await page.isDisabled('#message')).toBe(true);
    expect(await page.isDisabled('#send')).toBe(true);
  });
});
