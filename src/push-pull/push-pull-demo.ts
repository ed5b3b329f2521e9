/**
 * `netlab demo push-pull`: lesson 06 in one terminal, for a projector. A push-pull server on a
 * free port and four clients in this process, one per transport, each line tagged with it:
 * `poll` (short polling), `lpoll` (long polling), `sse` (Server-Sent Events), `ws` (WebSocket).
 *
 * The script publishes three ticks at set moments (serve's ticker draws random ones), so every
 * run tells the same story: the poller asks every second, mostly hears nothing, and gets each
 * event up to a second late; the long poll is held until an event comes and answered at once;
 * the SSE response and the WebSocket stay open and carry each event as it is published. Then
 * what each paid: requests, bytes on its TCP sockets (headers and frames included, as in
 * compare.ts), and delays (arrival minus the event's `time`).
 *
 * Leaves out: reconnecting and resuming (Last-Event-ID, `?after=` on a new WebSocket), which
 * lesson 06 does by hand with curl; `netlab push-pull compare` (compare.ts) measures at length.
 */
import { once } from 'node:events';
import type { Output } from '../core/output.js';
import type { DemoPace } from '../lessons/demo-pace.js';
import { EventFeed } from './event-feed.js';
import { LongPoller, Poller, SseListener, TAG, WsListener } from './push-pull-demo-clients.js';
import { logPushPullServer, pushPullTotals } from './push-pull-log.js';
import { startPushPullServer } from './push-pull-server.js';

const SERVER = 'server';

/** How often the short poller asks, and how many times: at 0 s, 1 s, … 7 s. */
const POLL_INTERVAL_MS = 1000;
const POLLS = 8;
/** When the server publishes, in ms after the clients are in: between polls, irregularly. */
const PUBLISH_AT_MS = [1500, 4200, 5600];

export async function runPushPullDemo(output: Output, pace: DemoPace): Promise<void> {
  const feed = new EventFeed();
  const server = await startPushPullServer({ host: '127.0.0.1', port: 0, feed });
  const poller = new Poller(server.url, output);
  const longPoller = new LongPoller(server.url, output);
  const sse = new SseListener(server.url, output);
  const ws = new WsListener(server.url, output);
  try {
    output.event(`push-pull server listening on 127.0.0.1:${server.port} · ${server.url}/`, SERVER);
    logPushPullServer(server, feed, output, { tag: SERVER }); // the log `netlab push-pull serve` prints
    output.note(`four clients: poll asks every ${POLL_INTERVAL_MS / 1000} s; lpoll asks and is held until there is news; sse and ws stay open`);

    // The push clients first, so that they are listening when the first event comes.
    await pace.step();
    await sse.connect();
    await pace.step();
    await ws.connect();
    await pace.step();
    longPoller.start();

    // The timeline runs in real time even with --slow: a pause before each poll would stretch
    // the poll interval, and the delays the summary measures with it.
    let previousMs = 0;
    for (const action of timeline()) {
      if (action.atMs > previousMs) await delay(action.atMs - previousMs);
      previousMs = action.atMs;
      if (action.kind === 'poll') {
        await poller.poll();
      } else {
        const event = feed.publish(`tick ${feed.latestId + 1}`, 'tick');
        // Each push transport's copy has arrived (and the next long poll has gone) before the next step.
        await Promise.all([longPoller.arrivals.until(event.id), sse.arrivals.until(event.id), ws.arrivals.until(event.id)]);
      }
    }

    await pace.step();
    longPoller.hangUp();
    await pace.step();
    const sseLeft = once(server, 'unsubscribed');
    sse.hangUp();
    await sseLeft;
    await pace.step();
    const wsLeft = once(server, 'unsubscribed');
    await ws.hangUp();
    await wsLeft;

    output.note('what each paid (bytes on its TCP sockets, request lines, headers and frames included):');
    const published = feed.latestId;
    output.event(`in all: ${poller.cost(published)}`, TAG.poll);
    output.event(`in all: ${longPoller.cost(published)}`, TAG.longPoll);
    output.event(`in all: ${sse.cost(published)}`, TAG.sse);
    output.event(`in all: ${ws.cost(published)}`, TAG.ws);
  } finally {
    // Silent, and safe after a hang-up: what is still open if the script failed half way.
    poller.close();
    longPoller.close();
    sse.close();
    ws.close();
    await server.close();
  }
  output.event(`push-pull server stopped · ${pushPullTotals(server, feed)}`, SERVER);
  output.note('try it in two terminals: `netlab push-pull serve`, then curl, `netlab ws-echo connect` or the page;');
  output.note('measure with `netlab push-pull compare` (lesson 06)');
}

/** The script at full speed: each poll and each publication, in order of time. */
function timeline(): Array<{ atMs: number; kind: 'poll' | 'publish' }> {
  const polls = Array.from({ length: POLLS }, (_, i) => ({ atMs: i * POLL_INTERVAL_MS, kind: 'poll' as const }));
  const publications = PUBLISH_AT_MS.map((atMs) => ({ atMs, kind: 'publish' as const }));
  // A poll and a publication at the same moment: the poll first (sort is stable).
  return [...polls, ...publications].sort((a, b) => a.atMs - b.atMs);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
