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
import http from 'node:http';
import type net from 'node:net';
import type { Output } from '../core/output.js';
import { bytes, count, visible } from '../core/text-view.js';
import type { DemoPace } from '../lessons/demo-pace.js';
import { openWsClient, type WsClient } from '../ws/ws-client.js';
import { summarize } from './compare.js';
import { EventFeed, type FeedEvent } from './event-feed.js';
import { startPushPullServer, WS_PATH } from './push-pull-server.js';
import { SseReader } from './sse.js';

const SERVER = 'server';
/** Each transport's tag: at most 6 characters, so every line's `│` stays in one column. */
const TAG = { poll: 'poll', longPoll: 'lpoll', sse: 'sse', ws: 'ws' } as const;

/** How often the short poller asks, and how many times: at 0 s, 1 s, … 7 s. */
const POLL_INTERVAL_MS = 1000;
const POLLS = 8;
/** When the server publishes, in ms after the clients are in: between polls, irregularly. */
const PUBLISH_AT_MS = [1500, 4200, 5600];

/** A poll's answer (push-pull-server.ts, answerPoll). */
interface PollAnswer {
  latest: number;
  missed: number;
  events: FeedEvent[];
}

export async function runPushPullDemo(output: Output, pace: DemoPace): Promise<void> {
  const feed = new EventFeed();
  const server = await startPushPullServer({ host: '127.0.0.1', port: 0, feed });
  const poller = new Poller(server.url, output);
  const longPoller = new LongPoller(server.url, output);
  const sse = new SseListener(server.url, output);
  const ws = new WsListener(server.url, output);
  try {
    output.event(`push-pull server listening on 127.0.0.1:${server.port} · ${server.url}/`, SERVER);
    // The server's log, as `netlab push-pull serve` prints it.
    feed.subscribe((event) => output.event(`#${event.id} ${event.source}: ${visible(event.text)}`, SERVER));
    server.on('subscribed', (transport, remote) => output.peer(remote, `${transport === 'sse' ? 'SSE stream' : 'WebSocket'} open`, SERVER));
    server.on('unsubscribed', (transport, remote, reason) => output.peer(remote, `${transport === 'sse' ? 'SSE stream' : 'WebSocket'} closed: ${reason}`, SERVER));
    server.on('refused', (remote, status, reason) => output.peer(remote, `refused ${status}: ${reason}`, SERVER));
    server.on('error', (err) => output.warn(`server error: ${err.message}`));
    output.note(`four clients: poll asks every ${POLL_INTERVAL_MS / 1000} s; lpoll asks and is held until there is news; sse and ws stay open`);

    // The push clients first, so that they are listening when the first event comes.
    await pace.step();
    await sse.connect();
    await pace.step();
    await ws.connect();
    await pace.step();
    longPoller.start();

    let previousMs = 0;
    for (const action of timeline()) {
      await pace.step();
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
  const { polls, longPolls, sse: streams, ws: sockets } = server.totals;
  output.event(
    `push-pull server stopped · ${count(feed.latestId, 'event')}, ${count(polls, 'poll')}, ${count(longPolls, 'long poll')}, ${count(streams, 'SSE stream')}, ${count(sockets, 'WebSocket')}`,
    SERVER,
  );
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

/** What one client has received: the newest id, each event's delay, and a wait for an id. */
class Arrivals {
  lastId = 0;
  readonly delaysMs: number[] = [];
  private readonly waiters = new Set<{ id: number; resolve: () => void; reject: (err: Error) => void }>();
  private failure: Error | undefined;

  /** Records events as they arrive; returns them as `#1 "tick 1", 2 ms after it was published`. */
  got(events: readonly FeedEvent[]): string {
    const now = Date.now();
    const shown = events.map((event) => {
      const delayMs = Math.max(0, now - event.time);
      if (event.id > this.lastId) {
        this.lastId = event.id;
        this.delaysMs.push(delayMs);
      }
      return `#${event.id} "${visible(event.text)}", ${delayMs} ms after it was published`;
    });
    for (const waiter of [...this.waiters]) {
      if (waiter.id <= this.lastId) {
        this.waiters.delete(waiter);
        waiter.resolve();
      }
    }
    return shown.length === 0 ? 'no events: nothing new' : shown.join('; ');
  }

  /** Resolves once event `id` has arrived; rejects if the client failed first. */
  until(id: number): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (id <= this.lastId) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.add({ id, resolve, reject }));
  }

  fail(err: Error): void {
    this.failure ??= err;
    for (const waiter of this.waiters) waiter.reject(err);
    this.waiters.clear();
  }
}

/** Requests made and bytes carried by one client, counted on the sockets it used. */
class Costs {
  requests = 0;
  private readonly sockets = new Set<net.Socket>();

  track(socket: net.Socket): void {
    this.sockets.add(socket); // a keep-alive socket comes back for every request: counted once
  }

  /** `3 of 3 events · 8 requests (5 empty) · 2,647 bytes · delay mean 576 ms, max 807 ms` */
  describe(arrivals: Arrivals, published: number, aboutRequests = ''): string {
    let total = 0;
    for (const socket of this.sockets) total += socket.bytesRead + socket.bytesWritten;
    const { mean, max } = summarize(arrivals.delaysMs);
    const delays = `delay mean ${Math.round(mean)} ms, max ${Math.round(max)} ms`;
    return `${arrivals.delaysMs.length} of ${count(published, 'event')} · ${count(this.requests, 'request')}${aboutRequests} · ${bytes(total)} · ${delays}`;
  }
}

/** What the four clients share: where the server is, what they received, what it cost them. */
abstract class DemoClient {
  readonly arrivals = new Arrivals();
  protected readonly costs = new Costs();
  protected stopped = false;

  constructor(
    protected readonly base: string,
    protected readonly output: Output,
  ) {}

  /** The summary line's figures, for `published` events. */
  cost(published: number): string {
    return this.costs.describe(this.arrivals, published);
  }
}

/** Short polling: GET /poll?after=ID, answered at once, news or not. One keep-alive connection. */
class Poller extends DemoClient {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  /** Answers with no event in them. */
  empty = 0;

  /** One poll; resolves once its answer is shown. */
  async poll(): Promise<void> {
    const path = `/poll?after=${this.arrivals.lastId}`;
    this.output.sent(`GET ${path}`, TAG.poll);
    this.costs.requests++;
    const answer = JSON.parse(await get(this.base + path, this.agent, this.costs).body) as PollAnswer;
    if (answer.events.length === 0) this.empty++;
    this.output.received(`200 · ${this.arrivals.got(answer.events)}`, TAG.poll);
  }

  override cost(published: number): string {
    return this.costs.describe(this.arrivals, published, ` (${this.empty} empty)`);
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Long polling: GET /long-poll?after=ID, held by the server until there is news; then again. */
class LongPoller extends DemoClient {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  private current: { abort: () => void } | undefined;

  /** Sends the first long poll; each answer sends the next at once, until hangUp(). */
  start(): void {
    const path = `/long-poll?after=${this.arrivals.lastId}`;
    this.output.sent(`GET ${path}`, TAG.longPoll);
    this.costs.requests++;
    const sentAt = performance.now();
    const request = get(this.base + path, this.agent, this.costs);
    this.current = request;
    request.body
      .then((body) => {
        const heldS = ((performance.now() - sentAt) / 1000).toFixed(1);
        const answer = JSON.parse(body) as PollAnswer;
        // Without news for LONG_POLL_TIMEOUT_MS (a very slow --slow) it is answered empty: ask again.
        this.output.received(`200, held ${heldS} s · ${this.arrivals.got(answer.events)}`, TAG.longPoll);
        if (!this.stopped) this.start();
      })
      .catch((err: unknown) => {
        // An abort by hangUp() is no failure.
        if (!this.stopped) this.arrivals.fail(err instanceof Error ? err : new Error(String(err)));
      });
  }

  /** Gives up the request being held: its connection closes, and the server lets it go. */
  hangUp(): void {
    this.output.event('done: giving up the held request (its connection closes)', TAG.longPoll);
    this.close();
  }

  /** Stops without a word; safe to call twice. */
  close(): void {
    this.stopped = true;
    this.current?.abort();
    this.agent.destroy();
  }
}

/** Server-Sent Events: GET /events, one response that stays open; its lines shown as they come. */
class SseListener extends DemoClient {
  private readonly reader = new SseReader();
  /** The end of the last chunk, when it stopped inside a line. */
  private partial = '';
  private request: http.ClientRequest | undefined;

  /** Resolves once the response has begun (status and headers); the events follow on it. */
  connect(): Promise<void> {
    this.output.sent('GET /events', TAG.sse);
    this.costs.requests++;
    return new Promise((resolve, reject) => {
      // Its own connection, not a pooled one: this response never ends.
      const req = http.get(`${this.base}/events`, { agent: false }, (res) => {
        if (res.statusCode !== 200) return reject(new Error(`/events: HTTP ${res.statusCode ?? '?'}`));
        this.output.received(`200 · ${res.headers['content-type'] ?? '?'} · the response stays open`, TAG.sse);
        resolve();
        res.setEncoding('utf8');
        res.on('data', (text: string) => this.read(text));
        res.once('close', () => this.failed(new Error('the SSE stream ended')));
      });
      this.request = req;
      req.once('socket', (socket: net.Socket) => this.costs.track(socket));
      req.once('error', (err) => {
        reject(err); // (if the response had begun, connect() has resolved already: no effect)
        this.failed(err);
      });
    });
  }

  /** Closes the stream's connection, as EventSource.close() does. */
  hangUp(): void {
    this.output.event('done: closing the stream (EventSource.close())', TAG.sse);
    this.close();
  }

  /** Stops without a word; safe to call twice. */
  close(): void {
    this.stopped = true;
    this.request?.destroy();
  }

  /**
   * Shows each complete line as it came (the blank line that ends an event left out), then
   * records the events. The server ends lines with LF only (sse.ts), so splitting on it is enough.
   */
  private read(text: string): void {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop()!;
    for (const line of lines) if (line !== '') this.output.received(line, TAG.sse);
    try {
      const events = this.reader.push(text).flatMap((event) => {
        const data = JSON.parse(event.data) as FeedEvent | { missed: number };
        return 'id' in data ? [data] : [];
      });
      if (events.length > 0) this.arrivals.got(events);
    } catch (err) {
      this.failed(err instanceof Error ? err : new Error(String(err)));
      this.request?.destroy();
    }
  }

  private failed(err: Error): void {
    if (!this.stopped) this.arrivals.fail(err);
  }
}

/** WebSocket: /ws?after=ID with lesson 04's client; each event one text message. */
class WsListener extends DemoClient {
  private client: WsClient | undefined;

  /** Resolves once the handshake is done (101). */
  async connect(): Promise<void> {
    const path = `${WS_PATH}?after=0`;
    this.output.sent(`GET ${path} · Upgrade: websocket`, TAG.ws);
    this.costs.requests++;
    const client = await openWsClient({ url: `${this.base.replace(/^http:/, 'ws:')}${path}` });
    this.client = client;
    this.costs.track(client.response.socket as net.Socket);
    this.output.received('101 Switching Protocols', TAG.ws);
    client.on('message', (data) => {
      const text = data.toString('utf8');
      this.output.received(text, TAG.ws);
      try {
        const message = JSON.parse(text) as FeedEvent | { missed: number };
        if ('id' in message) this.arrivals.got([message]);
      } catch (err) {
        this.arrivals.fail(err instanceof Error ? err : new Error(String(err)));
        client.terminate();
      }
    });
    void client.whenClosed().then(() => this.stopped || this.arrivals.fail(new Error('the WebSocket closed')));
    client.resume();
  }

  /** The close handshake; resolves once the connection is closed. */
  async hangUp(): Promise<void> {
    this.stopped = true;
    this.output.event('done: sending a close frame (ws.close(1000))', TAG.ws);
    await this.client?.close(1000);
  }

  /** Ends the connection at once, without a word, if it is still open; safe to call twice. */
  close(): void {
    this.stopped = true;
    this.client?.terminate();
  }
}

/** GET `url`; `body` resolves with a 200's body, rejects for any other status or a failure. */
function get(url: string, agent: http.Agent, costs: Costs): { body: Promise<string>; abort: () => void } {
  let req: http.ClientRequest | undefined;
  const body = new Promise<string>((resolve, reject) => {
    req = http.get(url, { agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.once('end', () => (res.statusCode === 200 ? resolve(text) : reject(new Error(`${new URL(url).pathname}: HTTP ${res.statusCode ?? '?'}`))));
      res.once('error', reject);
    });
    req.once('socket', (socket: net.Socket) => costs.track(socket));
    req.once('error', reject);
  });
  return { body, abort: () => req?.destroy() };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
