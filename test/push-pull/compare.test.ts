/**
 * The measuring clients of `netlab push-pull compare` (src/push-pull/compare.ts) on a short run
 * against a real server: every transport gets every event of the window, polling makes many
 * more requests than push, and push delivers well within the poll interval.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { compareTransports, summarize } from '../../src/push-pull/compare.js';
import { EventFeed } from '../../src/push-pull/event-feed.js';
import { startPushPullServer } from '../../src/push-pull/push-pull-server.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('compareTransports', () => {
  it('on a short run, is consistent: nothing missed, polling asks far more often, push stays under the poll interval', async () => {
    const feed = new EventFeed();
    const server = await startPushPullServer({ host: '127.0.0.1', port: 0, feed });
    cleanups.push(() => server.close());
    const ticks = setInterval(() => feed.publish('tick', 'tick'), 40);
    cleanups.push(() => clearInterval(ticks));

    const pollIntervalMs = 400;
    const results = await compareTransports({ url: server.url, durationMs: 2000, pollIntervalMs });
    const by = Object.fromEntries(results.map((r) => [r.transport, r]));
    expect(results.map((r) => r.transport)).toEqual(['poll', 'long-poll', 'sse', 'ws']);
    const published = by.poll!.delivered + by.poll!.missed;
    expect(published).toBeGreaterThan(10);
    for (const r of results) {
      expect({ transport: r.transport, missed: r.missed }).toEqual({ transport: r.transport, missed: 0 });
      expect(r.delivered).toBe(published);
      expect(r.bytes).toBeGreaterThan(0);
    }
    expect(by.sse!.requests).toBe(1);
    expect(by.ws!.requests).toBe(1);
    expect(by.poll!.requests).toBeGreaterThan(by.sse!.requests + 2);
    // Push: each event as it is published, not at the next poll.
    expect(summarize(by.sse!.delays).p95).toBeLessThan(pollIntervalMs);
    expect(summarize(by.ws!.delays).p95).toBeLessThan(pollIntervalMs);
  });
});

describe('summarize', () => {
  it('gives the mean, the nearest-rank 95th percentile and the maximum', () => {
    expect(summarize([])).toEqual({ mean: 0, p95: 0, max: 0 });
    const hundred = Array.from({ length: 100 }, (_, i) => 100 - i); // 100 … 1, unsorted
    expect(summarize(hundred)).toEqual({ mean: 50.5, p95: 95, max: 100 });
    expect(summarize([7])).toEqual({ mean: 7, p95: 7, max: 7 });
  });
});
