/**
 * What every WebSocket server of the course does the same way (lessons 04 and 05): an HTTP
 * server that serves the lab's page, and turns requests that ask for it into WebSockets.
 *
 *   listen             http.createServer() + server.listen({ host, port })
 *   the handshake      the 'upgrade' event: the path, the Origin (origin-policy.ts), then the
 *                      ws library checks the key and version and answers 101 with the accept
 *   each connection    a WebSocket from ws, with an 'error' listener from its first moment:
 *                      without one, four bytes of garbage from telnet would crash the server
 *   dead peers         a ping every heartbeat interval; a peer that has not answered the last
 *                      one by the next is terminated (a laptop closed mid-lesson sends nothing)
 *   closing            close 1001 "server shutting down" to every client, then the listener
 *
 * An idle WebSocket should cost the server little more than ws's own objects: a class keeps
 * hundreds open for an hour, and the benchmark holds 10,000 (BENCHMARKS.md, ws-echo). So the
 * listener keeps one entry per connection (its peer and socket) and listens with functions
 * made once per listener, which find the connection from `this` (the emitter), rather than
 * with closures made for every connection. ws itself does the same (`socketOnData`,
 * `receiverOnMessage`: one function for all sockets, the WebSocket found from `this`).
 *
 * permessage-deflate stays off: compression buys little for short messages, costs CPU per
 * message, and zlib's memory fragments badly under many connections (ws's README, "Concurrency
 * limit"). Messages over `maxMessageBytes` are refused by ws itself with close 1009.
 *
 * Never prints: it emits events that each lab's commands turn into lines.
 */
import { EventEmitter } from 'node:events';
import http from 'node:http';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { formatAddress } from '../core/errors.js';
import { closeServer, listen } from '../tcp/listener.js';
import { WEBSOCKET_VERSION } from './handshake.js';
import type { Tracer } from '../core/trace.js';
import { originProblem } from './origin-policy.js';
import { serverTrace, type WsServerTrace } from './ws-trace.js';
import { answerHttp, loadPages, requestPath, type HttpAnswer } from './pages.js';

/** Default interval between pings: a dead peer is gone within two of them. */
export const HEARTBEAT_INTERVAL_MS = 30_000;
/** Default largest message, in bytes: a bigger one is refused with close 1009. */
export const MAX_MESSAGE_BYTES = 1024 * 1024;
/**
 * The most frames one message may come in; more closes with 1008. A peer sending a message in
 * a million one-byte fragments makes the server keep a million small buffers.
 */
export const MAX_FRAGMENTS = 1024;
/** How long clients get to answer the server's close before their sockets are destroyed. */
export const CLOSE_GRACE_MS = 1000;
/** The close every client gets when the server stops (1001: "going away"). */
export const SHUTDOWN_CLOSE = { code: 1001, reason: 'server shutting down' } as const;

export interface WsListenerOptions {
  host: string;
  port: number;
  /** The one path that upgrades to WebSocket, e.g. `/ws`. */
  path: string;
  /** The folder of the lab's page in pages/ (`ws-echo`). */
  lab: string;
  /** Origins accepted besides the page's own; `*` accepts all. */
  allowOrigins?: readonly string[];
  maxMessageBytes?: number;
  heartbeatIntervalMs?: number;
  /** --trace: every handshake and frame (ws-trace.ts). */
  tracer?: Tracer;
}

/** A WebSocket client as the events describe it. */
export interface WsPeer {
  /** 1, 2, 3… in order of arrival. */
  readonly id: number;
  /** The client's address as `host:port`. */
  readonly remote: string;
  /** The page that opened the connection; none for a client that is not a browser. */
  readonly origin: string | undefined;
  readonly userAgent: string | undefined;
  /** The subprotocol the server chose, or '' for none. */
  readonly protocol: string;
  /** Set when the server ended the connection itself, and why (no pong, not reading…). */
  endedBecause?: string;
  /**
   * Set by a lab while it has stopped reading from this client because the client does not
   * read what it is sent: its pongs wait unread too, so a missing pong is not its only fault.
   */
  notReading?: boolean;
}

/** A request the server did not upgrade, and why. */
export interface WsRefusal {
  remote: string;
  /** A handshake (an upgrade request), or a request that was not even readable HTTP. */
  what?: 'request';
  status: number;
  reason: string;
}

export interface WsListenerEvents {
  /** A new WebSocket; `socket` is its TCP socket, for a lab that batches its writes (cork). */
  connection: [ws: WebSocket, peer: WsPeer, socket: net.Socket];
  /** A plain HTTP request, answered (the page, a 404, a 426…). */
  http: [remote: string, answer: HttpAnswer];
  /** A handshake that was refused before ws saw it, or that ws found invalid. */
  refused: [refusal: WsRefusal];
  error: [err: Error];
}

/** What the listener keeps for each open WebSocket. */
interface Connection {
  readonly peer: WsPeer;
  readonly socket: net.Socket;
}

export class WsListener extends EventEmitter<WsListenerEvents> {
  readonly host: string;
  readonly port: number;
  /** `ws://127.0.0.1:8000/ws` */
  readonly url: string;
  /** `http://127.0.0.1:8000/`, where the page is. */
  readonly pageUrl: string;
  readonly heartbeatIntervalMs: number;
  private readonly connections = new Map<WebSocket, Connection>();
  /**
   * The WebSockets pinged by the last beat that have not answered yet. Empty between a beat's
   * pongs and the next beat, so an idle connection costs nothing here most of the time.
   */
  private readonly unanswered = new Set<WebSocket>();
  /** Plain HTTP sockets (a browser's keep-alive, a handshake in progress); an upgraded socket leaves. */
  private readonly sockets = new Set<net.Socket>();
  private readonly heartbeat: NodeJS.Timeout;
  // The listener's handlers, one function each for every connection (see the header).
  private readonly onSocketClose: (this: net.Socket) => void;
  private readonly onPong: (this: WebSocket) => void;
  private readonly onWsClose: (this: WebSocket) => void;
  private nextId = 1;
  private closingPromise: Promise<void> | undefined;
  private readonly trace: WsServerTrace | undefined;

  private constructor(
    private readonly server: http.Server,
    private readonly wss: WebSocketServer,
    address: net.AddressInfo,
    private readonly options: WsListenerOptions,
  ) {
    super();
    this.host = address.address;
    this.port = address.port;
    const where = formatAddress(this.host, this.port);
    this.url = `ws://${where}${options.path}`;
    this.pageUrl = `http://${where}/`;
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? HEARTBEAT_INTERVAL_MS;
    this.trace = options.tracer && serverTrace(options.tracer);
    this.heartbeat = setInterval(() => this.beat(), this.heartbeatIntervalMs);
    const { sockets, connections, unanswered } = this;
    this.onSocketClose = function () {
      sockets.delete(this);
    };
    this.onPong = function () {
      unanswered.delete(this);
    };
    this.onWsClose = function () {
      connections.delete(this);
      unanswered.delete(this);
    };
  }

  /** Loads the page, listens, and resolves once listening; rejects with the system error. */
  static async start(options: WsListenerOptions): Promise<WsListener> {
    const pages = await loadPages(options.lab, { wsPath: options.path });
    const wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      maxPayload: options.maxMessageBytes ?? MAX_MESSAGE_BYTES,
      maxFragments: MAX_FRAGMENTS,
      // The listener keeps its own map of connections; ws's `wss.clients` would be a second
      // one, with one more 'close' listener on every WebSocket.
      clientTracking: false,
    });
    const server = http.createServer();
    const address = await listen(server, options.host, options.port);
    const listener = new WsListener(server, wss, address, options);
    server.on('connection', (socket) => listener.track(socket));
    server.on('request', (req, res) => listener.emit('http', peerOf(req.socket), answerHttp(req, res, pages, options.path)));
    server.on('upgrade', (req, socket: net.Socket, head) => listener.upgrade(req, socket, head));
    server.on('error', (err) => listener.emit('error', err));
    wss.on('wsClientError', (err, socket, req) => {
      listener.emit('refused', { remote: peerOf(req.socket), status: 400, reason: err.message });
      refuse(socket, 400, err.message);
    });
    // A request Node's HTTP server refuses before any handler sees it: say so in the log, and
    // answer as Node would without this listener (https://nodejs.org/api/http.html#event-clienterror).
    server.on('clientError', (err: Error & { code?: string }, socket) => {
      const { status, body } = clientErrorAnswer(err.code);
      listener.emit('refused', { remote: peerOf(socket), what: 'request', status, reason: `${body} (${err.code ?? err.message})` });
      if (err.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
      refuse(socket, status, body);
    });
    return listener;
  }

  /**
   * Ends a client that misbehaves without a close handshake (it might never read one): the
   * socket is destroyed, and its 'close' event reports 1006 with `reason` in `endedBecause`.
   */
  terminate(ws: WebSocket, reason: string): void {
    const peer = this.connections.get(ws)?.peer;
    if (peer) peer.endedBecause ??= reason;
    ws.terminate();
  }

  /** Sends close 1001 to every client, waits for them briefly, then stops. Safe to call twice. */
  close(): Promise<void> {
    this.closingPromise ??= (async () => {
      clearInterval(this.heartbeat);
      const upgraded = new Set<net.Socket>();
      for (const [ws, { socket }] of this.connections) {
        upgraded.add(socket);
        ws.resume(); // a paused (throttled) client's answer to our close would never be read
        ws.close(SHUTDOWN_CLOSE.code, SHUTDOWN_CLOSE.reason);
      }
      // Plain HTTP sockets (a browser's keep-alive) are ended too; WebSockets finish their close.
      await closeServer(this.server, [...this.sockets, ...upgraded], CLOSE_GRACE_MS, (socket) => {
        if (!upgraded.has(socket)) socket.end();
      });
    })();
    return this.closingPromise;
  }

  /** True once close() has been called. */
  get closing(): boolean {
    return this.closingPromise !== undefined;
  }

  /** The peer of an open WebSocket (undefined once it has closed). */
  peerOf(ws: WebSocket): WsPeer | undefined {
    return this.connections.get(ws)?.peer;
  }

  /** The TCP socket of an open WebSocket, for a lab that batches its writes (cork). */
  socketOf(ws: WebSocket): net.Socket | undefined {
    return this.connections.get(ws)?.socket;
  }

  private track(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('error', destroySocket); // before the upgrade; ws has its own after
    socket.on('close', this.onSocketClose);
  }

  private upgrade(req: http.IncomingMessage, socket: net.Socket, head: Buffer): void {
    const remote = peerOf(socket);
    this.trace?.upgrade(req, socket);
    if (this.closing) return refuse(socket, 503, 'the server is shutting down');
    if (requestPath(req.url ?? '') !== this.options.path) {
      this.emit('refused', { remote, status: 404, reason: `no WebSocket at ${req.url ?? ''} (it is at ${this.options.path})` });
      return refuse(socket, 404, `no WebSocket here: it is at ${this.options.path}`);
    }
    // ws would say 405 too, but only without a 'wsClientError' listener; this one says it itself.
    if (req.method !== 'GET') {
      this.emit('refused', { remote, status: 405, reason: `a ${req.method ?? '?'} request cannot become a WebSocket (only GET)` });
      return refuse(socket, 405, 'a WebSocket handshake is a GET request');
    }
    const origin = req.headers.origin;
    const problem = originProblem(origin, req.headers.host, this.options.allowOrigins ?? []);
    if (problem) {
      this.emit('refused', { remote, status: 403, reason: `${problem} (--allow-origin adds it)` });
      return refuse(socket, 403, problem);
    }
    // RFC 6455, section 4.4: a version the server does not speak gets an error "and a
    // |Sec-WebSocket-Version| header field indicating the version(s) the server is capable of
    // understanding". ws would also take the draft version 8; netlab speaks the RFC's only.
    const version = req.headers['sec-websocket-version'];
    if (version !== undefined && version !== WEBSOCKET_VERSION) {
      this.emit('refused', { remote, status: 426, reason: `Sec-WebSocket-Version ${version}: only ${WEBSOCKET_VERSION} is spoken here` });
      // RFC 9110, section 7.8: a 426 "MUST send an Upgrade header field", and a sender of Upgrade
      // "MUST also send an "upgrade" connection option in the Connection header field".
      const headers = { Connection: 'Upgrade, close', Upgrade: 'websocket', 'Sec-WebSocket-Version': WEBSOCKET_VERSION };
      return refuse(socket, 426, `this server speaks WebSocket version ${WEBSOCKET_VERSION} only`, headers);
    }
    // Read now, so the callback below does not keep the whole request alive with the connection.
    const userAgent = req.headers['user-agent'];
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      // From here on ws owns the socket: it destroys it on an error and reports the close.
      this.sockets.delete(socket);
      socket.off('error', destroySocket);
      socket.off('close', this.onSocketClose);
      this.trace?.open(socket);
      const peer: WsPeer = { id: this.nextId++, remote, origin, userAgent, protocol: ws.protocol };
      this.connections.set(ws, { peer, socket });
      // Without an 'error' listener, four bytes of garbage would crash the server: this one is
      // there until the lab has added its own, and goes once it has (one listener is a function;
      // two are an array, one more object on every connection).
      ws.on('error', ignoreError);
      ws.on('pong', this.onPong);
      ws.on('close', this.onWsClose);
      this.emit('connection', ws, peer, socket);
      if (ws.listenerCount('error') > 1) ws.off('error', ignoreError);
    });
  }

  /** Pings everyone; terminates whoever did not answer the previous ping. */
  private beat(): void {
    for (const [ws, { peer }] of this.connections) {
      // A client whose reading the lab paused (a rate limit) has its pongs waiting unread
      // behind its messages: it is not dead. One paused because it does not read is.
      if (ws.isPaused && !peer.notReading) continue;
      if (this.unanswered.has(ws)) {
        // Bytes still waiting in this process for a peer that owes a pong: it is not reading
        // (the lab may have let it read again for a moment, so notReading alone can miss it).
        const stalled = peer.notReading === true || ws.bufferedAmount > 0;
        this.terminate(ws, stalled ? 'it stopped reading what it was sent' : `no pong within ${this.heartbeatIntervalMs / 1000} s`);
        continue;
      }
      this.unanswered.add(ws);
      ws.ping();
    }
  }
}

export function startWsListener(options: WsListenerOptions): Promise<WsListener> {
  return WsListener.start(options);
}

function destroySocket(this: net.Socket): void {
  this.destroy();
}

function ignoreError(): void {}

/** Node's own answers to requests its parser refuses: too big, too slow, or not HTTP at all. */
function clientErrorAnswer(code: string | undefined): { status: number; body: string } {
  if (code === 'HPE_HEADER_OVERFLOW') return { status: 431, body: 'the request headers are too large' };
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return { status: 408, body: 'the request took too long to arrive' };
  return { status: 400, body: 'not HTTP/1.1 the server can read (lines end with CR LF)' };
}

/** Refuses a handshake with a plain HTTP answer and closes the socket. */
function refuse(socket: Duplex, status: number, message: string, headers: Record<string, string> = {}): void {
  if (!socket.writable) return void socket.destroy();
  const body = `${message}\n`;
  const { Connection: connection = 'close', ...others } = headers;
  const lines = [
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}`,
    `Connection: ${connection}`,
    'Content-Type: text/plain; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...Object.entries(others).map(([name, value]) => `${name}: ${value}`),
  ];
  socket.once('finish', () => socket.destroy());
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
}

function peerOf(socket: Duplex): string {
  const s = socket as net.Socket;
  return formatAddress(s.remoteAddress ?? '?', s.remotePort ?? 0);
}
