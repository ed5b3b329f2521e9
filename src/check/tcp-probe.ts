/**
 * The scripted client every TCP-based check drives: a raw node:net socket that keeps all it
 * has received, so a check can wait for "the echo of these bytes" or "a line containing this
 * token" without caring how the kernel cut the stream into reads.
 *
 * It never fails a check on its own except when it cannot connect: waits resolve to true or
 * false, and the check decides what a false means (the failure's words are the check's).
 * Every probe is destroyed when its check ends (CheckContext.defer).
 *
 * A wait's condition runs on every read, and a server may send megabytes in thousands of reads,
 * so a read costs only its own bytes: they are appended to a buffer that doubles when full (a
 * few copies in all, not one of everything per read), and their "\n"s added to an index of
 * complete lines. waitForLine() then searches each byte once, however long the wait.
 *
 * Leaves out: everything past MAX_KEPT_BYTES (only counted), and writes that wait for the
 * peer to read (write() resolves once the kernel has the bytes).
 */
import { once } from 'node:events';
import net from 'node:net';
import { failToReach, type CheckContext } from './checklist.js';
import { Waiters } from './probe-waiters.js';

/** At most this much of what a probe receives is kept; a check never needs more. */
export const MAX_KEPT_BYTES = 16 * 1024 * 1024;
/** The kept bytes' first buffer; each next one is twice as large, up to MAX_KEPT_BYTES. */
const FIRST_BUFFER_BYTES = 64 * 1024;
const LF = 0x0a;
const CR = 0x0d;

/**
 * A connection to the server under test, as a check sees it: what came back (bytes, text,
 * lines), whether the server ended or reset it, and waits for any of that.
 */
export class TcpProbe {
  /** The server sent FIN. */
  ended = false;
  /** The connection is gone (FIN both ways, or a reset). */
  closed = false;
  /** The error that ended the connection, if it did not end cleanly (ECONNRESET…). */
  error: Error | undefined;
  /** Every byte received, counted even past MAX_KEPT_BYTES. */
  bytesReceived = 0;
  /** The kept bytes are buffer[0, keptBytes); the rest is room to grow. */
  private buffer = Buffer.alloc(0);
  private keptBytes = 0;
  /** Where each complete line ends: the index of its "\n" in the kept bytes. */
  private readonly lineEnds: number[] = [];
  /** Who takes the bytes instead, after divert(). */
  private consumer: ((chunk: Buffer) => void) | undefined;
  /** What to do before the socket is destroyed at the end of the check, after beforeDestroy(). */
  private goodbye: (() => Promise<void>) | undefined;
  private readonly waiters = new Waiters();

  private constructor(readonly socket: net.Socket) {
    socket.on('error', (err) => (this.error = err));
    socket.on('data', (chunk: Buffer) => {
      this.bytesReceived += chunk.length;
      if (this.consumer) this.consumer(chunk);
      else this.keep(chunk);
      this.waiters.notify();
    });
    socket.on('end', () => {
      this.ended = true;
      this.waiters.notify();
    });
    socket.on('close', () => {
      this.closed = true;
      this.waiters.notify();
    });
  }

  /**
   * Connects to the target, or fails the check with the reason in one sentence (refused,
   * unknown host, timed out) and a hint naming `serveCommand`. Destroyed when the check ends.
   */
  static async connect(ctx: CheckContext, serveCommand: string): Promise<TcpProbe> {
    const { host, port } = ctx.target;
    const socket = net.connect({ host, port });
    let probe: TcpProbe | undefined;
    ctx.defer(async () => {
      await probe?.goodbye?.().catch(() => {});
      socket.destroy();
    });
    socket.setNoDelay(true);
    const timer = setTimeout(() => socket.destroy(Object.assign(new Error('connect timed out'), { code: 'ETIMEDOUT' })), ctx.waitMs * 2);
    try {
      await once(socket, 'connect');
    } catch (err) {
      failToReach(err, ctx.target, serveCommand);
    } finally {
      clearTimeout(timer);
    }
    probe = new TcpProbe(socket);
    return probe;
  }

  /** The bytes kept so far, in order (up to MAX_KEPT_BYTES): a view, not a copy, and cheap to call. */
  bytes(): Buffer {
    return this.buffer.subarray(0, this.keptBytes);
  }

  /** What was received as UTF-8 text. Decodes all of it: for after a wait, not in its condition. */
  text(): string {
    return this.bytes().toString('utf8');
  }

  /** How many complete lines (each ended by "\n") have been received. */
  get lineCount(): number {
    return this.lineEnds.length;
  }

  /** Complete line `index` (from 0), decoded as UTF-8, without its "\n" or a "\r" before it. */
  line(index: number): string {
    const start = index === 0 ? 0 : this.lineEnds[index - 1]! + 1;
    let end = this.lineEnds[index]!;
    if (end > start && this.buffer[end - 1] === CR) end--;
    return this.buffer.toString('utf8', start, end);
  }

  /** The complete lines received so far, as line() gives each. */
  lines(): string[] {
    return Array.from({ length: this.lineCount }, (_, i) => this.line(i));
  }

  /** Writes and resolves once the bytes are handed to the kernel. Never rejects. */
  write(data: string | Buffer): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve();
      this.socket.write(data, () => resolve());
    });
  }

  /**
   * Resolves true as soon as `condition` holds (checked on every read, FIN and close), false
   * after `ms` without it.
   */
  waitFor(condition: (probe: TcpProbe) => boolean, ms: number): Promise<boolean> {
    return this.waiters.until(() => condition(this), ms);
  }

  /** Resolves true once at least `count` bytes have arrived in all, false after `ms`. */
  waitForBytes(count: number, ms: number): Promise<boolean> {
    return this.waitFor((probe) => probe.bytesReceived >= count, ms);
  }

  /**
   * Resolves true once a complete line contains `text`, which holds no "\n" (a line received
   * before the call counts), false after `ms`. Each byte is searched once, however many reads
   * the wait sees: the search is for the text's UTF-8 bytes, with no line decoded.
   */
  waitForLine(text: string, ms: number): Promise<boolean> {
    const wanted = Buffer.from(text, 'utf8');
    let from = 0; // no match starts before this
    return this.waitFor(() => {
      const at = this.bytes().indexOf(wanted, from);
      if (at === -1) {
        from = Math.max(from, this.keptBytes - wanted.length + 1);
        return false;
      }
      from = at;
      return this.lineComplete(at + wanted.length);
    }, ms);
  }

  /** Whether a complete line contains `text`, which holds no "\n": waitForLine() without the wait. */
  hasLine(text: string): boolean {
    const wanted = Buffer.from(text, 'utf8');
    // The first match is the earliest: if its line is not complete, no line with one is.
    const at = this.bytes().indexOf(wanted);
    return at !== -1 && this.lineComplete(at + wanted.length);
  }

  /**
   * From now on, hands every chunk received to `consumer` (before any wait looks again) instead
   * of keeping it: for a protocol that reads the stream itself, as WsProbe does after the
   * handshake. What was kept until then stays in bytes().
   */
  divert(consumer: (chunk: Buffer) => void): void {
    this.consumer = consumer;
  }

  /**
   * When the check ends, runs `goodbye` (a protocol's own closing, such as WebSocket's close
   * handshake) before the socket is destroyed. It cannot be a cleanup of its own: a check's
   * cleanups run side by side, and the destroy would not wait for it.
   */
  beforeDestroy(goodbye: () => Promise<void>): void {
    this.goodbye = goodbye;
  }

  /** FIN: "I will send nothing more", while still reading. */
  end(): void {
    this.socket.end();
  }

  /** Aborts the connection with a reset (RST), as a crashed client or a pulled cable would. */
  reset(): void {
    this.socket.resetAndDestroy();
  }

  /** Whether the line that byte `at` is in has ended: a "\n" was received at `at` or after it. */
  private lineComplete(at: number): boolean {
    return (this.lineEnds.at(-1) ?? -1) >= at;
  }

  /** Appends a read to the kept bytes (as much as fits) and indexes the lines it ends. */
  private keep(chunk: Buffer): void {
    const piece = chunk.subarray(0, MAX_KEPT_BYTES - this.keptBytes);
    if (piece.length === 0) return;
    const needed = this.keptBytes + piece.length;
    if (needed > this.buffer.length) {
      const grown = Buffer.allocUnsafe(Math.min(MAX_KEPT_BYTES, Math.max(needed, FIRST_BUFFER_BYTES, this.buffer.length * 2)));
      this.buffer.copy(grown, 0, 0, this.keptBytes);
      this.buffer = grown;
    }
    piece.copy(this.buffer, this.keptBytes);
    for (let at = piece.indexOf(LF); at !== -1; at = piece.indexOf(LF, at + 1)) this.lineEnds.push(this.keptBytes + at);
    this.keptBytes = needed;
  }
}
