/**
 * What every browser test shares (lessons 04 and 05): Debian's Chromium at /usr/bin/chromium,
 * driven by playwright-core, headless, one browser per test file, and cleanups run after each
 * test in reverse order. Without Chromium the tests are skipped on a developer's machine and
 * fail in CI, where they must never be skipped (`apt-get install chromium`; .ci/run does so).
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';

export const CHROMIUM = '/usr/bin/chromium';
const MISSING_CHROMIUM = `Chromium is not installed at ${CHROMIUM}: install it with \`apt-get install chromium\` (.ci/run does so in CI)`;

/**
 * As root Chromium needs --no-sandbox. The rest keep it from connecting anywhere but where a
 * test sends it: no update checks, component downloads, sync or QUIC probes (this machine
 * refuses those connections, and a test must not depend on the network).
 */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Hang guard for each browser wait (not a performance threshold): shorter than vitest's 20 s
 * test timeout, so a stuck wait fails with Playwright's message naming what it waited for.
 */
export const BROWSER_WAIT_MS = 10_000;

export interface BrowserSession {
  /** The file's browser; only called from a test, which is skipped when there is none. */
  browser: () => Browser;
  /** Registers a cleanup, run after the test (the last registered first). */
  cleanup: (fn: () => unknown) => void;
}

/** Installs the hooks of a browser test file; call it once, at the top level. */
export function useBrowser(): BrowserSession {
  let browser: Browser | undefined;
  const cleanups: Array<() => unknown> = [];
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      // Said once here: the default reporter counts skipped tests but does not print their note.
      if (!process.env.CI) console.warn(`Skipping the browser tests. ${MISSING_CHROMIUM}.`);
      return;
    }
    // Hang guard under vitest's 20 s hook timeout: a Chromium that never starts fails with Playwright's log.
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 15_000 });
  });
  afterAll(async () => {
    await browser?.close();
  });
  beforeEach((context) => {
    if (existsSync(CHROMIUM)) return;
    // A skipped browser test in CI would be a green run that checked nothing.
    if (process.env.CI) throw new Error(`${MISSING_CHROMIUM}. Browser tests never skip in CI.`);
    context.skip(MISSING_CHROMIUM);
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return { browser: () => browser!, cleanup: (fn) => void cleanups.push(fn) };
}
