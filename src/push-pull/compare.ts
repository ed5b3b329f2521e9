/**
 * `netlab push-pull compare` (lesson 06, "Measured"): one client of each kind against the same
 * push-pull server for the same time, each counting what it cost and how late events came.
 *
 *   short polling   GET /poll?after=ID every pollIntervalMs
 *   long polling    GET /long-poll?after=ID, sent again as soon as it is answered
 *   SSE             GET /events, read with SseReader; on a dropped stream, again with Last-Event-ID
 *   WebSocket       /ws?after=ID
 *
 * Bytes are counted on the clients' own TCP sockets (bytesRead + bytesWritten), so they include
 * every request line, header and frame: what a network would carry, not just the events' JSON.
 * A delay is the time an event reached the client minus the time the server published it (the
 * server's clock: on another machine, clock skew adds to it).
 *
 * Fair by construction: every client starts after the same event id and is judged against the
 * same list, the events published in the measured window as the server's history gives them.
 * Requests and bytes are counted over the window. After it, every client gets a grace period
 * to catch up, so an event published in its last instant is not counted against the slowest
 * pull as missed.
 */
import http from 'node:http';
import net from 'node:net';
import WebSocket from 'ws';
import { NetlabError } from '../core/errors.js';
import { MAX_HISTORY, type FeedEvent } from './event-feed.js';
import { SseReader } from './sse.js';

export type Transport = 'poll' | 'long-poll' | 'sse' | 'ws';
export const TRANSPORTS: readonly Transport[] = ['poll', 'long-poll', 'sse', 'ws'];

export interface CompareOptions {
  /** The server: `http://127.0.0.1:8002`. */
  url: string;
  durationMs: number;
  pollIntervalMs: number;
  /** Time after the window for the clients to catch up; pollIntervalMs + 500 unless set. */
  graceMs?: number;
}

export interface TransportResult {
  transport: Transport;
  /** Events of the window this client received (each counted once). */
  delivered: number;
  /** Events of the window it never received. */
  missed: number;
  /** HTTP requests it made (SSE and WebSocket: one per connection). */
  requests: number;
  /** Bytes its sockets sent and received, headers and framing included. */
  bytes: number;
  /** Delivery delays of the window's events, in milliseconds. */
  delays: number[];
}

interface Poll {
  latest: number;
  events: FeedEvent[];
}

/** Runs the four clients side by side and returns their results, in TRANSPORTS order. */
export async function compareTransports(options: CompareOptions): Promise<TransportResult[]> {
  const base = new URL(options.url);
  const start = await getJson<Poll>(new URL('/poll', base), new http.Agent());
  const after = start.latest;
  const clients = TRANSPORTS.map((transport) => new MeasuringClient(transport, base, after, options.pollIntervalMs));
  for (const client of clients) client.start();
  await delay(options.durationMs);
  const windowEnd = Date.now();
  const costs = clients.map((client) => client.costs());
  await delay(options.graceMs ?? options.pollIntervalMs + 500);
  await Promise.all(clients.map((client) => client.stop()));
  // The judge: every event the server published in the window, from its history.
  const history = await getJson<Poll & { missed: number }>(new URL(`/poll?after=${after}`, base), new http.Agent());
  if (history.missed > 0) {
    throw new NetlabError(
      'NETLAB_ERR_HISTORY_TOO_SHORT',
      `the server no longer keeps ${history.missed} of the events published during the run, so they cannot be judged.`,
      `it keeps the last ${MAX_HISTORY}: measure for less time, or at a lower --rate.`,
    );
  }
  const window = history.events.filter((event) => event.time <= windowEnd);
  return clients.map((client, i) => ({ ...client.result(window), ...costs[i]! }));
}

/** One client of one transport, counting its requests, its bytes and when each event came. */
class MeasuringClient {
  private readonly received = new Map<number, number>(); // event id → arrival time
  private readonly sockets = new Set<net.Socket>();
  private closedBytes = 0;
  private requests = 0;
  private stopped = false;
  private lastId: number;
  private readonly agent: http.Agent;
  private current: { abort: () => void } | undefined;
  private done: Promise<void> = Promise.resolve();

  constructor(
    private readonly transport: Transport,
    private readonly base: URL,
    after: number,
    private readonly pollIntervalMs: number,
  ) {
    this.lastId = after;
    // keepAlive, one socket: what a browser's tab does for one origin. Every socket it opens is counted.
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const track = (socket: net.Socket) => this.track(socket);
    const createConnection = this.agent.createConnection.bind(this.agent);
    this.agent.createConnection = ((opts: net.NetConnectOpts, callback?: unknown) => {
      const socket = (createConnection as (o: unknown, c?: unknown) => net.Socket)(opts, callback);
      track(socket);
      return socket;
    }) as typeof this.agent.createConnection;
  }

  start(): void {
    this.done = this.run().catch(() => undefined);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.current?.abort();
    await this.done;
    this.agent.destroy();
  }

  /** Requests made and bytes carried so far. */
  costs(): { requests: number; bytes: number } {
    let bytes = this.closedBytes;
    for (const socket of this.sockets) bytes += socket.bytesRead + socket.bytesWritten;
    return { requests: this.requests, bytes };
  }

  /** How this client did on the window's events. */
  result(window: readonly FeedEvent[]): TransportResult {
    const delays: number[] = [];
    for (const event of window) {
      const at = this.received.get(event.id);
      if (at !== undefined) delays.push(Math.max(0, at - event.time));
    }
    return { transport: this.transport, delivered: delays.length, missed: window.length - delays.length, delays, ...this.costs() };
  }

  private track(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => {
      this.sockets.delete(socket);
      this.closedBytes += socket.bytesRead + socket.bytesWritten;
    });
  }

  private receive(events: readonly FeedEvent[]): void {
    const now = Date.now();
    for (const event of events) {
      if (!this.received.has(event.id)) this.received.set(event.id, now);
      this.lastId = Math.max(this.lastId, event.id);
    }
  }

  private async run(): Promise<void> {
    switch (this.transport) {
      case 'poll':
        while (!this.stopped) {
          const began = Date.now();
          await this.poll('/poll');
          await delay(Math.max(0, this.pollIntervalMs - (Date.now() - began)));
        }
        return;
      case 'long-poll':
        while (!this.stopped) if (!(await this.poll('/long-poll'))) await delay(200);
        return;
      case 'sse':
        while (!this.stopped) await this.sse();
        return;
      case 'ws':
        while (!this.stopped) await this.ws();
        return;
    }
  }

  /** One poll; false when it failed. */
  private async poll(path: string): Promise<boolean> {
    if (this.stopped) return true;
    this.requests++;
    try {
      const answer = await getJson<Poll>(new URL(`${path}?after=${this.lastId}`, this.base), this.agent, (abort) => (this.current = { abort }));
      this.receive(answer.events);
      return true;
    } catch {
      return false;
    }
  }

  /** One SSE stream, until it ends or the client stops. */
  private sse(): Promise<void> {
    this.requests++;
    return new Promise((resolve) => {
      const reader = new SseReader();
      const headers = this.lastId > 0 ? { 'Last-Event-ID': String(this.lastId) } : undefined;
      // A stream that ends (or never began: a 503) is opened again after a pause, not in a loop.
      const again = () => setTimeout(resolve, this.stopped ? 0 : 200);
      const req = http.get(new URL('/events', this.base), { agent: this.agent, headers }, (res) => {
        res.once('close', again);
        if (res.statusCode !== 200) return void res.resume();
        res.on('data', (chunk: Buffer) => {
          try {
            for (const event of reader.push(chunk)) {
              if (event.type === 'tick' || event.type === 'instructor') this.receive([JSON.parse(event.data) as FeedEvent]);
            }
          } catch {
            req.destroy(); // not the stream a push-pull server sends: drop it
          }
        });
      });
      this.current = { abort: () => req.destroy() };
      req.once('error', again);
    });
  }

  /** One WebSocket, until it closes or the client stops. */
  private ws(): Promise<void> {
    this.requests++;
    return new Promise((resolve) => {
      const url = new URL(`/ws?after=${this.lastId}`, this.base);
      url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
      const socket = new WebSocket(url, {
        perMessageDeflate: false,
        createConnection: ((opts: net.NetConnectOpts) => {
          const s = net.connect({ ...opts, path: undefined } as net.NetConnectOpts);
          this.track(s);
          return s;
        }) as typeof net.createConnection,
      });
      socket.on('message', (data) => {
        try {
          const message = JSON.parse(String(data)) as FeedEvent | { missed: number };
          if ('id' in message) this.receive([message]);
        } catch {
          socket.terminate(); // not what a push-pull server sends
        }
      });
      socket.on('error', () => {});
      socket.once('close', () => (this.stopped ? resolve() : void setTimeout(resolve, 200)));
      this.current = { abort: () => socket.terminate() };
    });
  }
}

/** GET `url` and parse its JSON body; `onStart` receives a way to abort it. */
function getJson<T>(url: URL, agent: http.Agent, onStart?: (abort: () => void) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.once('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`${url.pathname}: HTTP ${res.statusCode ?? '?'}`));
        try {
          resolve(JSON.parse(body) as T);
        } catch (err) {
          reject(err);
        }
      });
      res.once('error', reject);
    });
    req.once('error', reject);
    onStart?.(() => req.destroy());
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Mean, 95th percentile and maximum of some delays, in milliseconds (0 for none). */
export function summarize(delays: readonly number[]): { mean: number; p95: number; max: number } {
  if (delays.length === 0) return { mean: 0, p95: 0, max: 0 };
  const sorted = [...delays].sort((a, b) => a - b);
  const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
  // Nearest rank: the smallest value with at least 95 % of the values at or below it.
  const p95 = sorted[Math.max(0, Math.ceil(0.95 * sorted.length) - 1)]!;
  return { mean, p95, max: sorted[sorted.length - 1]! };
}
