/**
 * The client side of lesson 04: a WebSocket to one server, from the ws library. What the
 * browser's `new WebSocket(url)` does, with the handshake's parts open to experiments: extra
 * headers, an Origin (to see the server's origin policy refuse it), subprotocols.
 *
 *   connect()    a TCP connection, then the HTTP Upgrade request; open() resolves on the
 *                server's 101 answer, or rejects with its other answer (403, 404, 426…)
 *   send()       one message, text or binary: ws frames and masks it
 *   'message'    one whole message, however many frames and reads it took
 *   close()      the close handshake: our close frame, the server's answer, then TCP closes
 *
 * Leaves out: reconnecting (the ws-chat client of lesson 05 does it), permessage-deflate.
 */
import { EventEmitter } from 'node:events';
import type http from 'node:http';
import type net from 'node:net';
import WebSocket from 'ws';
import { NetlabError, formatAddress } from '../core/errors.js';
import type { Tracer } from '../core/trace.js';
import { closeCodeProblem, closeReasonProblem } from './close-codes.js';
import { clientTrace, type ConnectOptions } from './ws-trace.js';

/** Default time the server has to answer the handshake. */
export const HANDSHAKE_TIMEOUT_MS = 5000;
/** How long the server has to answer our close frame before the socket is destroyed. */
export const CLOSE_TIMEOUT_MS = 3000;
/** How much of a refusal's body is read for its reason; the rest is not waited for. */
const REFUSAL_BODY_BYTES = 300;

export interface WsClientOptions {
  url: string;
  origin?: string;
  /** Extra request headers. */
  headers?: Record<string, string>;
  protocols?: string[];
  handshakeTimeoutMs?: number;
  /** The User-Agent header; netlab's own unless set. */
  userAgent?: string;
  /** --trace: the handshake and every frame (ws-trace.ts). */
  tracer?: Tracer;
}

export interface WsClientEvents {
  message: [data: Buffer, isBinary: boolean];
  /** The connection ended: the code of the server's close frame (1006: none came). */
  close: [code: number, reason: string];
  error: [err: Error];
}

export class WsClient extends EventEmitter<WsClientEvents> {
  readonly totals = { messagesSent: 0, messagesReceived: 0 };
  private readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(
    private readonly ws: WebSocket,
    readonly url: string,
    /** The Sec-WebSocket-Key ws made for this handshake. */
    readonly key: string,
    /** The server's 101 answer: its status line and headers. */
    readonly response: http.IncomingMessage,
  ) {
    super();
    ws.on('message', (data: Buffer, isBinary) => {
      this.totals.messagesReceived++;
      this.emit('message', data, isBinary);
    });
    // A bad frame from the server is an 'error' before the close that follows it; whoever uses
    // the client may listen, and nobody listening must not crash the process.
    ws.on('error', (err) => {
      if (this.listenerCount('error') > 0) this.emit('error', err);
    });
    this.closed = new Promise((resolve) =>
      ws.once('close', (code, reason) => {
        const info = { code, reason: reason.toString('utf8') };
        this.emit('close', info.code, info.reason);
        resolve(info);
      }),
    );
  }

  /** Connects and completes the handshake; see the header for what it rejects with. */
  static open(options: WsClientOptions): Promise<WsClient> {
    return new Promise((resolve, reject) => {
      const headers = { 'User-Agent': options.userAgent ?? 'netlab', ...options.headers };
      let key = '';
      const trace = options.tracer && clientTrace(options.tracer);
      // As ws reads the URL: https: is wss: too.
      const secure = ['wss:', 'https:'].includes(new URL(options.url).protocol);
      const ws = new WebSocket(options.url, options.protocols ?? [], {
        // (@types/ws types this as net.createConnection's overloads; ws calls it with options only.)
        ...(trace && { createConnection: ((opts: ConnectOptions) => trace.createConnection(opts, secure)) as typeof net.createConnection }),
        headers,
        origin: options.origin,
        handshakeTimeout: options.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS,
        perMessageDeflate: false,
        // ws 8's close timer (lib/websocket.js, closeTimeout); @types/ws 8.18 does not list it.
        ...{ closeTimeout: CLOSE_TIMEOUT_MS },
        // The last look at the request before it goes: note the key ws made, then send it.
        finishRequest: (request) => {
          key = String(request.getHeader('sec-websocket-key') ?? '');
          request.end();
        },
      });
      let response: http.IncomingMessage | undefined;
      ws.once('upgrade', (res) => {
        response = res;
        trace?.response(res);
      });
      ws.once('open', () => {
        ws.off('error', fail);
        trace?.open();
        // A server may greet in the same packet as its 101. Hold what arrives until the caller
        // has its listeners on and calls resume(), or the greeting would be lost.
        ws.pause();
        resolve(new WsClient(ws, options.url, key, response!));
      });
      const fail = (err: Error) => reject(handshakeError(err, options));
      ws.once('error', fail);
      // Any answer but 101: say what it was, with the body's first line (netlab's servers say
      // why there). With this listener, ws leaves the request to us: read the body, then abort.
      ws.once('unexpected-response', (req, res) => {
        trace?.response(res);
        ws.off('error', fail);
        ws.on('error', () => {}); // the abort below makes ws report one
        let body = '';
        // The body's first bytes are enough, and a body that never ends must not hold us.
        const timer = setTimeout(() => done(), options.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS);
        const done = () => {
          clearTimeout(timer);
          reject(refusedHandshake(res.statusCode ?? 0, res.statusMessage ?? '', body));
          req.destroy();
        };
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body = (body + chunk).slice(0, REFUSAL_BODY_BYTES);
          if (body.includes('\n') || body.length >= REFUSAL_BODY_BYTES) done();
        });
        res.once('end', done);
        res.once('error', done);
      });
    });
  }

  /** Starts delivering messages (see open()): call it once the listeners are on. */
  resume(): void {
    this.ws.resume();
  }

  /** The subprotocol the server chose, or '' for none. */
  get protocol(): string {
    return this.ws.protocol;
  }

  /** True until the close handshake starts. */
  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Sends one message; resolves once it is written to the socket. */
  send(data: string | Buffer, binary = typeof data !== 'string'): Promise<void> {
    return new Promise((resolve, reject) => {
      this.ws.send(data, { binary }, (err) => (err ? reject(err) : resolve()));
      this.totals.messagesSent++;
    });
  }

  /** Resolves when the connection is closed, by either side, with the server's close code. */
  whenClosed(): Promise<{ code: number; reason: string }> {
    return this.closed;
  }

  /**
   * Starts the close handshake (if not started) and resolves when the connection is closed:
   * with the server's code, or 1006 when it did not answer within CLOSE_TIMEOUT_MS. Throws at
   * once for a code or reason no close frame may carry (RFC 6455, sections 5.5 and 7.4).
   */
  close(code = 1000, reason = ''): Promise<{ code: number; reason: string }> {
    const problem = closeCodeProblem(code) ?? closeReasonProblem(reason);
    if (problem) throw new RangeError(`close(${code}, …): ${problem}`);
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(code, reason);
    return this.closed;
  }

  /** Ends the connection at once, without a close handshake. */
  terminate(): void {
    this.ws.terminate();
  }
}

export function openWsClient(options: WsClientOptions): Promise<WsClient> {
  return WsClient.open(options);
}

/** A server that answered the handshake with something other than 101. */
function refusedHandshake(status: number, statusText: string, body: string): NetlabError {
  const why = body.split('\n', 1)[0]?.trim();
  const hint =
    status === 403
      ? 'a netlab server accepts pages from other origins with --allow-origin.'
      : status === 404
        ? 'check the path: netlab servers take WebSockets at /ws.'
        : status === 426 || status === 400
          ? 'that server does not take this handshake; is it a WebSocket server?'
          : 'is this a WebSocket server? A plain web server answers 200 or 404.';
  return new NetlabError('NETLAB_ERR_HANDSHAKE_REFUSED', `${status} ${statusText} instead of 101${why ? `: ${why}` : ''}.`, hint);
}

/** The host and port a ws:// or wss:// URL points to (the port written, or 80 / 443). */
export function urlAddress(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  const host = parsed.hostname.startsWith('[') ? parsed.hostname.slice(1, -1) : parsed.hostname;
  return { host, port: Number(parsed.port) || (parsed.protocol === 'wss:' ? 443 : 80) };
}

/** A handshake that failed before any answer: a timeout, or the TCP connection itself. */
function handshakeError(err: Error & { code?: string }, options: WsClientOptions): Error {
  const { host, port } = urlAddress(options.url);
  const where = formatAddress(host, port);
  const notWebSocket = 'is it a WebSocket server? A plain TCP server (netlab tcp-echo serve) does not answer an Upgrade.';
  if (/handshake has timed out/i.test(err.message)) {
    const ms = options.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS;
    const sentence = `${where} accepted the connection but did not answer the handshake within ${ms} ms.`;
    return new NetlabError('NETLAB_ERR_HANDSHAKE_TIMEOUT', sentence, notWebSocket, { cause: err });
  }
  if (err.code?.startsWith('HPE_')) {
    return new NetlabError('NETLAB_ERR_NOT_HTTP', `${where} answered the handshake with something that is not HTTP.`, notWebSocket, { cause: err });
  }
  return err; // ECONNREFUSED and friends: the command turns them into a sentence
}
