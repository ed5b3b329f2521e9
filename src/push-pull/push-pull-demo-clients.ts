/**
 * The four scripted clients of `netlab demo push-pull` (push-pull-demo.ts), one per transport,
 * each printing what it sends and receives under its tag, and counting what it cost: requests
 * made and bytes on its own TCP sockets (request lines, headers and frames included, as
 * compare.ts counts them), and each event's delay (arrival minus the event's `time`).
 *
 *   Poller       GET /poll?after=ID, once per call to poll()
 *   LongPoller   GET /long-poll?after=ID, asked again as soon as each answer comes
 *   SseListener  GET /events, one response that stays open, read with SseReader
 *   WsListener   /ws?after=0, a message per event
 */
import http from 'node:http';
import type net from 'node:net';
import type { Output } from '../core/output.js';
import { bytes, count, visible } from '../core/text-view.js';
import { openWsClient, type WsClient } from '../ws/ws-client.js';
import { summarize } from './compare.js';
import type { FeedEvent } from './event-feed.js';
import { WS_PATH } from './push-pull-server.js';
import { SseReader } from './sse.js';

/** Each transport's tag: at most 6 characters, so every line's `│` stays in one column. */
export const TAG = { poll: 'poll', longPoll: 'lpoll', sse: 'sse', ws: 'ws' } as const;

/** A poll's answer (push-pull-server.ts, answerPoll). */
interface PollAnswer {
  latest: number;
  missed: number;
  events: FeedEvent[];
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
export class Poller extends DemoClient {
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
export class LongPoller extends DemoClient {
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
export class SseListener extends DemoClient {
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
export class WsListener extends DemoClient {
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
