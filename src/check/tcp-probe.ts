/**
 * The scripted client every TCP-based check drives: a raw node:net socket that keeps all it
 * has received, so a check can wait for "the echo of these bytes" or "a line containing this
 * token" without caring how the kernel cut the stream into reads.
 *
 * It never fails a check on its own except when it cannot connect: waits resolve to true or
 * false, and the check decides what a false means (the failure's words are the check's).
 * Every probe is destroyed when its check ends (CheckContext.defer).
 */
import { once } from 'node:events';
import net from 'node:net';
import { failToReach, type CheckContext } from './checklist.js';

/** At most this much of what a probe receives is kept; a check never needs more. */
export const MAX_KEPT_BYTES = 16 * 1024 * 1024;

export class TcpProbe {
  /** Everything received so far, in order (up to MAX_KEPT_BYTES). */
  received: Buffer = Buffer.alloc(0);
  /** The server sent FIN. */
  ended = false;
  /** The connection is gone (FIN both ways, or a reset). */
  closed = false;
  /** The error that ended the connection, if it did not end cleanly (ECONNRESET…). */
  error: Error | undefined;
  /** Every byte received, counted even past MAX_KEPT_BYTES. */
  bytesReceived = 0;
  private chunks: Buffer[] = [];
  private keptBytes = 0;
  private readonly waiters = new Set<() => void>();

  private constructor(readonly socket: net.Socket) {
    socket.on('error', (err) => (this.error = err));
    socket.on('data', (chunk: Buffer) => {
      this.bytesReceived += chunk.length;
      if (this.keptBytes + chunk.length <= MAX_KEPT_BYTES) {
        this.chunks.push(chunk);
        this.keptBytes += chunk.length;
      }
      this.notify();
    });
    socket.on('end', () => {
      this.ended = true;
      this.notify();
    });
    socket.on('close', () => {
      this.closed = true;
      this.notify();
    });
  }

  /**
   * Connects to the target, or fails the check with the reason in one sentence (refused,
   * unknown host, timed out) and a hint naming `serveCommand`. Destroyed when the check ends.
   */
  static async connect(ctx: CheckContext, serveCommand: string): Promise<TcpProbe> {
    const { host, port } = ctx.target;
    const socket = net.connect({ host, port });
    ctx.defer(() => {
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
    return new TcpProbe(socket);
  }

  /** The bytes received, joined (cheap to call repeatedly: joined once per new chunk). */
  bytes(): Buffer {
    if (this.chunks.length > 0) {
      this.received = Buffer.concat([this.received, ...this.chunks]);
      this.chunks = [];
    }
    return this.received;
  }

  /** What was received as UTF-8 text. */
  text(): string {
    return this.bytes().toString('utf8');
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
    if (condition(this)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = () => {
        if (!condition(this)) return;
        finish(true);
      };
      const timer = setTimeout(() => finish(false), ms);
      const finish = (met: boolean) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(met);
      };
      this.waiters.add(check);
    });
  }

  /** Resolves true once at least `count` bytes have arrived in all, false after `ms`. */
  waitForBytes(count: number, ms: number): Promise<boolean> {
    return this.waitFor((probe) => probe.bytesReceived >= count, ms);
  }

  /** Resolves true once a received line (up to "\n") contains `text`, false after `ms`. */
  waitForLine(text: string, ms: number): Promise<boolean> {
    return this.waitFor((probe) => probe.lines().some((line) => line.includes(text)), ms);
  }

  /** The complete lines received so far, without "\n" or a trailing "\r". */
  lines(): string[] {
    const all = this.text().split('\n');
    all.pop(); // what follows the last "\n" is not a line yet
    return all.map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
  }

  /** FIN: "I will send nothing more", while still reading. */
  end(): void {
    this.socket.end();
  }

  /** Aborts the connection with a reset (RST), as a crashed client or a pulled cable would. */
  reset(): void {
    this.socket.resetAndDestroy();
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
