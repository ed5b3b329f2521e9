/**
 * The multi-client TCP chat server of lesson 02: the classic thread-per-client chat, done right.
 *
 * One event loop serves every client. Each socket's 'data' handler runs to completion, so there
 * are no threads and no locks, and no client waits on another: where the classic version gives
 * each client a thread that blocks in recv() and send(), here the kernel tells the loop which
 * socket has bytes, and writes queue instead of blocking.
 *
 * This file is the sockets' lifecycle: accept, read lines (LineFramer: a read is not a message),
 * throttle floods, time out the silent, and close. What a line does is chat-room.ts.
 *
 * A client that floods is throttled by a token bucket: its socket is paused until it may send
 * again, so nothing it sent is lost and TCP's flow control slows the sender down for us.
 *
 * Never prints: it emits events (ChatEvents) that chat-log.ts turns into lines.
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { formatAddress } from '../core/errors.js';
import { LineFramer } from '../core/line-framer.js';
import { fullBucket, takeToken, type RateLimit, type TokenBucket } from '../core/token-bucket.js';
import { parseChatLine, say, type LeaveReason } from './chat-protocol.js';
import { ChatRoom, type ChatEvents, type Member } from './chat-room.js';
import { CLOSE_GRACE_MS, KEEPALIVE_MS, closeServer, listen } from './listener.js';

/** The longest line a client may send; a longer one is refused with an error line. */
export const MAX_LINE_BYTES = 1024;
/** How many bytes may wait to be sent to one client before it counts as not reading. */
export const MAX_QUEUE_BYTES = 256 * 1024;
/** A client may send this many seconds' worth of messages at once before the rate applies. */
export const BURST_SECONDS = 2;
/** Messages per second a client may send, after a burst. */
export const RATE_LIMIT: RateLimit = { perSecond: 10, burst: 10 * BURST_SECONDS };
/** A flooding client is told to slow down at most once in this long (and logged once). */
export const THROTTLE_NOTICE_INTERVAL_MS = 10_000;

export interface ChatServerOptions {
  host: string;
  port: number;
  maxLineBytes?: number;
  maxQueueBytes?: number;
  rate?: RateLimit;
  /** Disconnect a client that sends nothing for this long; 0 (the default) never does. */
  idleTimeoutMs?: number;
  /** Called with each accepted socket before the server uses it: --trace (core/trace.ts). */
  tap?: (socket: net.Socket) => void;
}

/** What the server keeps per connection besides the room's Member. */
interface Connection extends Member {
  readonly framer: LineFramer;
  readonly bucket: TokenBucket;
  /** Lines read while throttled, handled as tokens come back (at most one read's worth). */
  pending: string[];
  /** When the client was last told to slow down (one notice per episode, not per line). */
  throttledAtMs: number;
  /** The client sent FIN: end our side once its pending lines are handled. */
  ended: boolean;
  /** --idle-timeout: refreshed by every read, fires when the client has been silent too long. */
  idleTimer?: NodeJS.Timeout;
}

export class ChatServer extends EventEmitter<ChatEvents> {
  readonly room: ChatRoom;
  private readonly options: Required<Omit<ChatServerOptions, 'tap'>>;
  private nextId = 1;
  private bound: net.AddressInfo = { address: '', family: '', port: 0 };
  private closing: Promise<void> | undefined;

  private constructor(private readonly server: net.Server, options: Omit<ChatServerOptions, 'tap'>) {
    super();
    this.options = { maxLineBytes: MAX_LINE_BYTES, maxQueueBytes: MAX_QUEUE_BYTES, rate: RATE_LIMIT, idleTimeoutMs: 0, ...options };
    this.room = new ChatRoom(this, this.options.maxQueueBytes, (member, reason, notice) => this.disconnect(member, reason, notice));
  }

  /** Starts listening; rejects with the system error (EADDRINUSE…) when it cannot. */
  static async listen(options: ChatServerOptions): Promise<ChatServer> {
    // allowHalfOpen: a client may send its last lines and FIN at once (`nc -N`); when they
    // are throttled, we still owe them delivery, and end our side only after that.
    const server = net.createServer({ noDelay: true, allowHalfOpen: true });
    const { tap, ...settings } = options;
    const chat = new ChatServer(server, settings);
    if (tap) server.on('connection', tap);
    server.on('connection', (socket) => chat.accept(socket));
    chat.bound = await listen(server, options.host, options.port);
    server.on('error', (err) => chat.emit('error', err));
    return chat;
  }

  /** The bound address (the real port when 0 was asked for); still known after close(). */
  get host(): string {
    return this.bound.address;
  }

  get port(): number {
    return this.bound.port;
  }

  /** Tells every client the server is shutting down, closes, and resolves when all are gone. */
  close(): Promise<void> {
    const notice = Buffer.from(say.notice('server shutting down'));
    this.closing ??= closeServer(
      this.server,
      this.room.everyone.map((member) => member.socket),
      CLOSE_GRACE_MS,
      (socket) => {
        socket.end(notice);
        socket.resume(); // a throttled (paused) client would never read the FIN that answers ours
      },
    );
    return this.closing;
  }

  private accept(socket: net.Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    const conn: Connection = {
      id: this.nextId++,
      remote: formatAddress(socket.remoteAddress ?? '?', socket.remotePort ?? 0),
      name: this.room.guestName(),
      socket,
      framer: new LineFramer(this.options.maxLineBytes),
      bucket: fullBucket(this.options.rate, Date.now()),
      pending: [],
      throttledAtMs: -Infinity,
      ended: false,
    };
    // Every socket gets an 'error' listener: without one, a client's reset crashes the server.
    socket.on('error', () => (conn.leaving ??= 'connection lost'));
    socket.on('data', (chunk: Buffer) => this.read(conn, chunk));
    socket.on('end', () => {
      // `printf hi | nc -N`: the last line may have no newline; it is still a line.
      const rest = conn.framer.flush();
      if (rest !== '') this.takeLine(conn, rest);
      conn.ended = true;
      if (conn.pending.length === 0) socket.end();
    });
    socket.on('close', () => {
      clearTimeout(conn.idleTimer);
      this.room.leave(conn, !this.closing);
    });
    // Keepalive probes find a client whose link died while the chat was quiet.
    socket.setKeepAlive(true, KEEPALIVE_MS);
    const idleMs = this.options.idleTimeoutMs;
    if (idleMs > 0) {
      // Not socket.setTimeout(): that counts our writes as activity, so a silent client in a
      // busy room would never time out.
      conn.idleTimer = setTimeout(() => this.disconnect(conn, 'timed out', `disconnected: idle for ${idleMs / 1000} s`), idleMs);
      conn.idleTimer.unref();
    }
    this.room.join(conn);
  }

  private read(conn: Connection, chunk: Buffer): void {
    conn.idleTimer?.refresh();
    for (const item of conn.framer.push(chunk)) {
      if (item.kind === 'too-long') {
        this.room.refuse(conn, `line longer than ${this.options.maxLineBytes} bytes; it was not sent`);
      } else {
        this.takeLine(conn, item.text);
      }
    }
  }

  /** One complete line: queued behind throttled ones, or handled as the rate limit allows. */
  private takeLine(conn: Connection, line: string): void {
    if (conn.pending.length > 0) conn.pending.push(line);
    else if (parseChatLine(line).kind !== 'empty') this.throttle(conn, line);
  }

  /** Handles a line now if the client's bucket has a token; otherwise pauses the client. */
  private throttle(conn: Connection, line: string): void {
    const waitMs = takeToken(conn.bucket, this.options.rate, Date.now());
    if (waitMs === 0) {
      this.room.handle(conn, line);
      return;
    }
    conn.socket.pause();
    conn.pending.push(line);
    const now = Date.now();
    if (now - conn.throttledAtMs > THROTTLE_NOTICE_INTERVAL_MS) {
      this.emit('throttled', conn);
      this.room.send(conn, say.notice(`slow down: more than ${this.options.rate.perSecond} messages a second; yours are delayed, not lost`));
    }
    conn.throttledAtMs = now;
    setTimeout(() => this.drain(conn), waitMs).unref();
  }

  /** Handles throttled lines as tokens come back, then reads from the client again. */
  private drain(conn: Connection): void {
    if (this.closing) return;
    while (conn.pending.length > 0 && !conn.socket.destroyed) {
      const waitMs = takeToken(conn.bucket, this.options.rate, Date.now());
      if (waitMs > 0) {
        setTimeout(() => this.drain(conn), waitMs).unref();
        return;
      }
      conn.idleTimer?.refresh(); // a client whose lines are still being delivered is not idle
      this.room.handle(conn, conn.pending.shift()!);
    }
    if (conn.ended) conn.socket.end();
    else conn.socket.resume();
  }

  /** Ends one connection with a last notice; the leave is announced when the socket closes. */
  private disconnect(member: Member, reason: LeaveReason, notice: string): void {
    if (member.leaving) return;
    member.leaving = reason;
    // A client that does not read would never let end() finish: destroy it outright.
    if (reason === 'disconnected for not reading') {
      member.socket.destroy();
      return;
    }
    member.socket.end(say.notice(notice));
    setTimeout(() => member.socket.destroy(), CLOSE_GRACE_MS).unref();
  }
}

/** Starts a chat server (DESIGN.md's `start…Server`); resolves once it listens. */
export function startChatServer(options: ChatServerOptions): Promise<ChatServer> {
  return ChatServer.listen(options);
}
