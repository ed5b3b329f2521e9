/**
 * The push-pull server of lesson 06: one event feed (event-feed.ts) published four ways at
 * once, so the class can compare them on the same events.
 *
 *   GET /poll?after=ID        short polling: what came after ID, answered at once (often nothing)
 *   GET /long-poll?after=ID   long polling: held until an event comes, or LONG_POLL_TIMEOUT_MS
 *   GET /events               Server-Sent Events: one response that never ends, an event per
 *                             event; resumes after its Last-Event-ID header on a reconnect
 *   /ws?after=ID              WebSocket: a JSON message per event
 *   GET /                     the page with a panel per transport (pages/push-pull/)
 *
 * Polls answer `{"latest": N, "missed": M, "events": [...]}`; every transport carries each
 * event as `{"id", "time", "source", "text"}`. A client that was away longer than the feed's
 * history learns how many events it missed (`missed`, or an SSE `missed` event).
 *
 * Limits: held long polls and open streams are each capped (503 beyond, so a room cannot make
 * the server hold more than it can), and a push client that stops reading is dropped once
 * MAX_STREAM_BUFFER_BYTES wait for it, instead of the server buffering for ever.
 *
 * Never prints: it emits events that the command turns into lines.
 * Leaves out: pings to find dead WebSocket peers (a stream that is gone is found on its next
 * write, and a class session is short).
 */
import { EventEmitter } from 'node:events';
import http from 'node:http';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { formatAddress } from '../core/errors.js';
import { closeServer, listen } from '../tcp/listener.js';
import { originProblem } from '../ws/origin-policy.js';
import { answerHttp, loadPages, requestPath, type HttpAnswer, type PageTable } from '../ws/pages.js';
import type { EventFeed, FeedEvent } from './event-feed.js';
import { formatComment, formatEvent, formatRetry, parseLastEventId } from './sse.js';

/** How long a long poll is held without an event before it is answered with none. */
export const LONG_POLL_TIMEOUT_MS = 25_000;
/** The reconnection delay an SSE client is told to use (the `retry:` field). */
export const SSE_RETRY_MS = 2000;
/** A comment on an idle SSE stream this often, so that proxies do not close it. */
export const SSE_KEEPALIVE_MS = 15_000;
/** Long polls held at once, at most; more get 503. */
export const MAX_WAITING_POLLS = 10_000;
/** SSE and WebSocket clients at once, at most; more get 503. */
export const MAX_STREAMS = 10_000;
/** Bytes waiting for a push client before it counts as not reading, and is dropped. */
export const MAX_STREAM_BUFFER_BYTES = 256 * 1024;
/** Where the WebSocket transport is. */
export const WS_PATH = '/ws';
/** How long streams get to finish when the server closes. */
export const CLOSE_GRACE_MS = 1000;

export type Transport = 'poll' | 'long-poll' | 'sse' | 'ws';

export interface PushPullServerOptions {
  host: string;
  port: number;
  feed: EventFeed;
  longPollTimeoutMs?: number;
  sseKeepaliveMs?: number;
  /** Origins whose pages may open /ws besides the server's own (origin-policy.ts). */
  allowOrigins?: readonly string[];
}

export interface PushPullEvents {
  /** A poll or long poll answered, with how many events it carried. */
  answered: [transport: 'poll' | 'long-poll', remote: string, events: number];
  /** A push client connected; `after` is the id it resumed after (0: from what is kept). */
  subscribed: [transport: 'sse' | 'ws', remote: string, after: number];
  /** A push client left, or was dropped (`reason`). */
  unsubscribed: [transport: 'sse' | 'ws', remote: string, reason: string];
  /** A request for the page or anything else that is not a transport, answered (200, 404…). */
  http: [remote: string, answer: HttpAnswer];
  /** A request refused: a limit, a wrong path or method, a foreign origin. */
  refused: [remote: string, status: number, reason: string];
  error: [err: Error];
}

/** What every transport carries per event. */
export function eventJson(event: FeedEvent): string {
  return JSON.stringify({ id: event.id, time: event.time, source: event.source, text: event.text });
}

export class PushPullServer extends EventEmitter<PushPullEvents> {
  readonly host: string;
  readonly port: number;
  /** Totals since the start, for the summary on exit. */
  readonly totals = { polls: 0, longPolls: 0, sse: 0, ws: 0 };
  private readonly feed: EventFeed;
  private readonly sockets = new Set<net.Socket>();
  /** Sockets that became WebSockets: they end with a close handshake, not socket.end(). */
  private readonly upgraded = new WeakSet<Duplex>();
  /** What close() must finish: held long polls (answered), streams (ended). */
  private readonly open = new Set<() => void>();
  private waitingPolls = 0;
  private streams = 0;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly server: http.Server,
    private readonly wss: WebSocketServer,
    private readonly pages: PageTable,
    address: net.AddressInfo,
    private readonly options: PushPullServerOptions,
  ) {
    super();
    this.host = address.address;
    this.port = address.port;
    this.feed = options.feed;
  }

  /** Listens; resolves once bound, rejects with the system error (EADDRINUSE…). */
  static async start(options: PushPullServerOptions): Promise<PushPullServer> {
    const pages = await loadPages('push-pull', { wsPath: WS_PATH });
    const server = http.createServer();
    const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 4096 });
    const address = await listen(server, options.host, options.port);
    const pushPull = new PushPullServer(server, wss, pages, address, options);
    server.on('connection', (socket) => {
      pushPull.sockets.add(socket);
      socket.on('error', () => socket.destroy());
      socket.once('close', () => pushPull.sockets.delete(socket));
    });
    server.on('request', (req, res) => pushPull.request(req, res));
    server.on('upgrade', (req, socket: net.Socket, head) => pushPull.upgrade(req, socket, head));
    server.on('error', (err) => pushPull.emit('error', err));
    return pushPull;
  }

  /** `http://127.0.0.1:8002` */
  get url(): string {
    return `http://${formatAddress(this.host, this.port)}`;
  }

  /** Answers held polls, ends streams (WebSockets with 1001), then stops. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const finish of [...this.open]) finish();
      await closeServer(this.server, this.sockets, CLOSE_GRACE_MS, (socket) => {
        if (!this.upgraded.has(socket)) socket.end();
      });
    })();
    return this.closing;
  }

  private request(req: http.IncomingMessage, res: http.ServerResponse): void {
    const remote = peerOf(req.socket);
    res.on('error', () => {}); // a client gone mid-answer: its socket's close says enough
    const path = requestPath(req.url ?? '');
    if (this.closing) return this.refuse(res, remote, 503, 'the server is shutting down');
    if (path !== '/poll' && path !== '/long-poll' && path !== '/events') {
      return void this.emit('http', remote, answerHttp(req, res, this.pages, WS_PATH)); // the page, 404, 426 for /ws…
    }
    if (req.method !== 'GET') return this.refuse(res, remote, 405, `${req.method ?? '?'}: only GET here`, { Allow: 'GET' });
    // A request pipelined behind another on the same connection waits for its turn; one behind a
    // stream that never ends would wait for ever, holding a subscription. Holding is for the front.
    if (!res.socket && path !== '/poll') return this.refuse(res, remote, 400, 'a held request cannot be pipelined behind another; open a new connection');
    const after = afterParam(req.url);
    switch (path) {
      case '/poll':
        this.totals.polls++;
        return this.answerPoll(res, remote, 'poll', after);
      case '/long-poll':
        this.totals.longPolls++;
        return this.longPoll(req, res, remote, after);
      case '/events':
        return this.sse(req, res, remote);
    }
  }

  private answerPoll(res: http.ServerResponse, remote: string, transport: 'poll' | 'long-poll', after: number): void {
    const { events, missed } = this.feed.since(after);
    const body = `{"latest":${this.feed.latestId},"missed":${missed},"events":[${events.map(eventJson).join(',')}]}\n`;
    res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
    this.emit('answered', transport, remote, events.length);
  }

  /** Answers at once if there is news; else holds the request until an event or the timeout. */
  private longPoll(req: http.IncomingMessage, res: http.ServerResponse, remote: string, after: number): void {
    const now = this.feed.since(after);
    if (now.events.length > 0 || now.missed > 0) return this.answerPoll(res, remote, 'long-poll', after);
    if (this.waitingPolls >= MAX_WAITING_POLLS) return this.refuse(res, remote, 503, `${MAX_WAITING_POLLS} long polls are waiting already`, { 'Retry-After': '1' });
    this.waitingPolls++;
    let done = false;
    const release = () => {
      if (done) return false;
      done = true;
      req.socket.off('close', release);
      this.waitingPolls--;
      unsubscribe();
      clearTimeout(timer);
      this.open.delete(finish);
      return true;
    };
    const finish = () => {
      if (release()) this.answerPoll(res, remote, 'long-poll', after);
    };
    const unsubscribe = this.feed.subscribe(finish);
    const timer = setTimeout(finish, this.options.longPollTimeoutMs ?? LONG_POLL_TIMEOUT_MS);
    this.open.add(finish);
    res.on('close', release); // the client gave up waiting
    req.socket.once('close', release); // (its connection, even if this response never began)
  }

  /** One response that never ends: the catch-up first, then each event as it comes. */
  private sse(req: http.IncomingMessage, res: http.ServerResponse, remote: string): void {
    if (this.streams >= MAX_STREAMS) return this.refuse(res, remote, 503, `${MAX_STREAMS} streams are open already`, { 'Retry-After': '5' });
    // A reconnecting EventSource says where it was in Last-Event-ID; a first connection may use ?after=.
    const after = req.headers['last-event-id'] !== undefined ? parseLastEventId(req.headers['last-event-id']) : afterParam(req.url);
    this.totals.sse++;
    this.streams++;
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
    const { events, missed } = this.feed.since(after);
    let text = formatRetry(SSE_RETRY_MS);
    // The catch-up may be long (up to the whole history): it does not count against the limit below.
    if (missed > 0) text += formatEvent({ type: 'missed', data: `{"missed":${missed}}` });
    for (const event of events) text += sseEvent(event);
    res.write(text);
    const limit = MAX_STREAM_BUFFER_BYTES + Buffer.byteLength(text);
    let reason = 'it left';
    const unsubscribe = this.feed.subscribe((event) => {
      if (res.writableLength > limit) {
        reason = 'it stopped reading what it was sent';
        return void res.destroy();
      }
      res.write(sseEvent(event));
    });
    const keepalive = setInterval(() => res.write(formatComment('keep-alive')), this.options.sseKeepaliveMs ?? SSE_KEEPALIVE_MS);
    const end = () => {
      reason = 'the server is shutting down';
      res.end();
    };
    this.open.add(end);
    res.on('close', () => {
      unsubscribe();
      clearInterval(keepalive);
      this.open.delete(end);
      this.streams--;
      this.emit('unsubscribed', 'sse', remote, reason);
    });
    this.emit('subscribed', 'sse', remote, after);
  }

  private upgrade(req: http.IncomingMessage, socket: net.Socket, head: Buffer): void {
    const remote = peerOf(socket);
    const refuse = (status: number, reason: string) => {
      this.emit('refused', remote, status, reason);
      refuseUpgrade(socket, status, reason);
    };
    if (this.closing) return refuse(503, 'the server is shutting down');
    if (requestPath(req.url ?? '') !== WS_PATH) return refuse(404, `the WebSocket is at ${WS_PATH}`);
    const problem = originProblem(req.headers.origin, req.headers.host, this.options.allowOrigins ?? []);
    if (problem) return refuse(403, problem);
    if (this.streams >= MAX_STREAMS) return refuse(503, `${MAX_STREAMS} streams are open already`);
    const after = afterParam(req.url);
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.upgraded.add(socket);
      this.serveWs(ws, remote, after);
    });
  }

  private serveWs(ws: WebSocket, remote: string, after: number): void {
    this.totals.ws++;
    this.streams++;
    ws.on('error', () => {}); // its close reports the end
    const { events, missed } = this.feed.since(after);
    let catchUpBytes = 0;
    const send = (text: string) => {
      catchUpBytes += Buffer.byteLength(text);
      ws.send(text);
    };
    if (missed > 0) send(`{"missed":${missed}}`);
    for (const event of events) send(eventJson(event));
    // As for SSE: the catch-up does not count against the limit.
    const limit = MAX_STREAM_BUFFER_BYTES + catchUpBytes;
    let reason = 'it left';
    const unsubscribe = this.feed.subscribe((event) => {
      if (ws.bufferedAmount > limit) {
        reason = 'it stopped reading what it was sent';
        return void ws.terminate();
      }
      ws.send(eventJson(event));
    });
    const end = () => {
      reason = 'the server is shutting down';
      ws.close(1001, 'server shutting down');
    };
    this.open.add(end);
    ws.once('close', () => {
      unsubscribe();
      this.open.delete(end);
      this.streams--;
      this.emit('unsubscribed', 'ws', remote, reason);
    });
    this.emit('subscribed', 'ws', remote, after);
  }

  private refuse(res: http.ServerResponse, remote: string, status: number, reason: string, headers: Record<string, string> = {}): void {
    this.emit('refused', remote, status, reason);
    const body = `${reason}\n`;
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body), ...headers });
    res.end(body);
  }
}

export function startPushPullServer(options: PushPullServerOptions): Promise<PushPullServer> {
  return PushPullServer.start(options);
}

/** An event as SSE: its id (for Last-Event-ID), its source as the event type, its JSON as data. */
function sseEvent(event: FeedEvent): string {
  return formatEvent({ id: event.id, type: event.source, data: eventJson(event) });
}

/** The `after` query parameter: the id of the last event the client saw; 0 when missing or odd. */
function afterParam(target: string | undefined): number {
  const query = (target ?? '').split('?')[1];
  return parseLastEventId(new URLSearchParams(query ?? '').get('after') ?? undefined);
}

function refuseUpgrade(socket: Duplex, status: number, reason: string): void {
  if (!socket.writable) return void socket.destroy();
  const body = `${reason}\n`;
  socket.once('finish', () => socket.destroy());
  socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

function peerOf(socket: Duplex): string {
  const s = socket as net.Socket;
  return formatAddress(s.remoteAddress ?? '?', s.remotePort ?? 0);
}
