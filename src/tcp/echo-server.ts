/**
 * The TCP echo server of lesson 01: every byte a client sends comes back to it unchanged.
 *
 * The BSD socket calls a C or Python course writes by hand are all here, as node:net does them:
 *   socket + bind + listen  →  net.createServer() and server.listen({ host, port })
 *   accept                  →  the 'connection' event, one net.Socket per client
 *   recv                    →  the socket's 'data' events (a chunk: whatever one read returned)
 *   send                    →  socket.write(chunk), pausing reads while the kernel buffer is full
 *   shutdown / close        →  'end' (the peer sent FIN), socket.end(), 'close'
 *
 * With `oneAtATime`, the server behaves like the classic sequential loop
 * `while (true) { conn = accept(); serve(conn); }`: the kernel still completes every handshake,
 * but only one client is read from; the others wait, their bytes unread, until it leaves.
 * That is the lesson's demonstration of why such a server stalls everyone.
 *
 * Never prints: it emits events (see EchoServerEvents) that commands turn into log lines.
 * Leaves out: limits on connection count (an echo holds no state per client beyond the
 * socket, and back-pressure bounds each client's buffer).
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { errnoCode, formatAddress } from '../core/errors.js';
import { CLOSE_GRACE_MS, KEEPALIVE_MS, closeServer, listen } from './listener.js';


export interface EchoServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Serve one client at a time, like a sequential accept loop (lesson 01). */
  oneAtATime?: boolean;
  /** Called with each accepted socket before the server uses it: --trace (core/trace.ts). */
  tap?: (socket: net.Socket) => void;
}

/** One accepted client, as the events describe it. */
export interface EchoConnection {
  /** 1, 2, 3… in order of arrival. */
  readonly id: number;
  /** The client's address as `host:port`. */
  readonly remote: string;
}

/** How a connection ended, in the words the log uses. */
export type CloseReason = 'closed' | 'reset' | 'error' | 'server closing';

export interface EchoCloseInfo {
  reason: CloseReason;
  bytesReceived: number;
  bytesEchoed: number;
  /** The socket error, for 'reset' and 'error'. */
  error?: Error;
}

export interface EchoServerEvents {
  /** A client connected; `waitingBehind` > 0 when --one-at-a-time makes it wait. */
  connection: [conn: EchoConnection, waitingBehind: number];
  /** --one-at-a-time: a waiting client's turn has come. */
  serving: [conn: EchoConnection];
  /** One read: the bytes exactly as the kernel delivered them (already on their way back). */
  data: [conn: EchoConnection, chunk: Buffer];
  /** The client sent FIN: it will send nothing more (it may still be reading). */
  end: [conn: EchoConnection];
  close: [conn: EchoConnection, info: EchoCloseInfo];
  /** A server-level error after listening started; connections' errors come with 'close'. */
  error: [err: Error];
}

/** A running echo server: where it listens, and close(). */
export class EchoServer extends EventEmitter<EchoServerEvents> {
  private readonly sockets = new Map<net.Socket, EchoConnection>();
  /** --one-at-a-time: the client being served, and the ones waiting in arrival order. */
  private current: net.Socket | undefined;
  private readonly queue: net.Socket[] = [];
  private nextId = 1;
  private closing: Promise<void> | undefined;
  private bound: net.AddressInfo = { address: '', family: '', port: 0 };

  /** Totals since the start, for the summary on exit. */
  readonly totals = { connections: 0, bytesEchoed: 0 };

  private constructor(
    private readonly server: net.Server,
    private readonly oneAtATime: boolean,
  ) {
    super();
  }

  /**
   * Starts listening. Resolves once the port is bound; rejects with the system error
   * (EADDRINUSE, EACCES, EADDRNOTAVAIL, ENOTFOUND…) when it cannot be.
   */
  static async listen(options: EchoServerOptions): Promise<EchoServer> {
    // allowHalfOpen: when a client sends FIN we may still owe it bytes; we end our side
    // ourselves once they are written. pauseOnConnect: a waiting client is not read from.
    const oneAtATime = options.oneAtATime ?? false;
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: oneAtATime, noDelay: true });
    const echo = new EchoServer(server, oneAtATime);
    if (options.tap) server.on('connection', options.tap);
    server.on('connection', (socket) => echo.accept(socket));
    echo.bound = await listen(server, options.host, options.port);
    server.on('error', (err) => echo.emit('error', err));
    return echo;
  }

  /** The bound address (the real port when 0 was asked for); still known after close(). */
  get host(): string {
    return this.bound.address;
  }

  get port(): number {
    return this.bound.port;
  }

  /** Clients connected right now, served or waiting. */
  get connectionCount(): number {
    return this.sockets.size;
  }

  /**
   * Stops accepting, sends FIN to every client, and resolves once all sockets are closed;
   * clients that do not close within CLOSE_GRACE_MS are destroyed. Safe to call twice.
   */
  close(): Promise<void> {
    this.closing ??= closeServer(this.server, this.sockets.keys(), CLOSE_GRACE_MS, (socket) => {
      // A paused socket never reads the client's FIN, so resume it to let the close finish.
      socket.end();
      socket.resume();
    });
    return this.closing;
  }

  private accept(socket: net.Socket): void {
    const conn: EchoConnection = {
      id: this.nextId++,
      remote: formatAddress(socket.remoteAddress ?? '?', socket.remotePort ?? 0),
    };
    this.sockets.set(socket, conn);
    this.totals.connections++;
    let reason: CloseReason = 'closed';
    let error: Error | undefined;

    // Every emitter gets an 'error' listener: without one, a client's reset crashes the server.
    socket.on('error', (err) => {
      error = err;
      reason = errnoCode(err) === 'ECONNRESET' || errnoCode(err) === 'EPIPE' ? 'reset' : 'error';
    });
    socket.on('data', (chunk: Buffer) => {
      // While the server closes, we have already sent FIN: what the client still sends is read
      // (so its FIN arrives) but cannot be echoed.
      if (!socket.writable) return;
      // send(): when the kernel's buffer is full, stop reading until it drains, so a client
      // that sends without reading cannot make the server buffer without bound.
      if (!socket.write(chunk)) socket.pause();
      // Logging comes after the echo is on its way, never in front of it.
      this.emit('data', conn, chunk);
    });
    socket.on('drain', () => socket.resume());
    socket.setKeepAlive(true, KEEPALIVE_MS);
    socket.on('end', () => {
      this.emit('end', conn);
      socket.end(); // after the bytes still queued: the echo of a half-closed client arrives
    });
    socket.on('close', () => {
      this.sockets.delete(socket);
      this.totals.bytesEchoed += socket.bytesWritten;
      if (this.closing && reason === 'closed') reason = 'server closing';
      this.emit('close', conn, { reason, bytesReceived: socket.bytesRead, bytesEchoed: socket.bytesWritten, error });
      if (socket === this.current) this.serveNext();
      else if (this.queue.includes(socket)) this.queue.splice(this.queue.indexOf(socket), 1);
    });

    if (!this.oneAtATime) {
      this.emit('connection', conn, 0);
    } else if (this.current === undefined) {
      this.current = socket;
      this.emit('connection', conn, 0);
      socket.resume();
    } else {
      this.queue.push(socket);
      this.emit('connection', conn, this.queue.length);
    }
  }

  /** --one-at-a-time: the next waiting client is "accepted" now. */
  private serveNext(): void {
    this.current = this.queue.shift();
    if (this.current === undefined) return;
    this.emit('serving', this.sockets.get(this.current)!);
    this.current.resume();
  }
}

/**
 * Starts a TCP echo server (DESIGN.md's `start…Server` contract). Resolves once it listens;
 * rejects with the system error when the address cannot be bound.
 */
export function startEchoServer(options: EchoServerOptions): Promise<EchoServer> {
  return EchoServer.listen(options);
}
