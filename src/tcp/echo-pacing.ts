/**
 * How the tcp-echo client paces what it sends (lesson 01, "Watch the bytes with --trace"): which
 * bytes go into each socket.write(), and when. A program decides its writes; TCP decides nothing
 * about where reads end. These options make both sides of that visible:
 *
 *   default          one write per line; piped input waits for each line's echo first
 *   --write-size N   each write cut into pieces of N bytes, each sent once the piece before it
 *                    has come back, so the pieces cannot merge on the way: one line, N reads
 *   --burst          piped lines gathered into one write (at most BURST_MAX_BYTES), without
 *                    waiting for echoes; with --write-size, that write's pieces go back to back,
 *                    and the kernel (Nagle's algorithm, unless --no-delay) may merge them
 *
 * Never prints: the command says what a missed echo means (echo-commands.ts).
 */
import type { TcpClient } from './tcp-client.js';

/** Most bytes one --burst write carries: a long input goes in big writes, not held whole. */
export const BURST_MAX_BYTES = 64 * 1024;
/** The biggest --write-size: one write of a full TCP read's worth. */
export const MAX_WRITE_SIZE = 64 * 1024;

export interface PacingOptions {
  writeSize?: number;
  burst?: boolean;
  /** How long a piece waits for the echo of the one before it. */
  echoWaitMs: number;
  /** Called once, the first time a piece's echo did not come in time; later pieces no longer wait. */
  onNoEcho?: () => void;
}

/** Resolves when every byte sent so far has come back (or the connection closed). */
export class EchoWatch {
  private waiters: Array<() => void> = [];

  constructor(private readonly client: TcpClient) {
    const wake = () => {
      const waiting = this.waiters;
      this.waiters = [];
      for (const check of waiting) check();
    };
    client.on('data', wake);
    client.on('close', wake);
  }

  /** True once everything sent has been echoed; false after `timeoutMs` or on close. */
  all(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(this.done()), timeoutMs);
      const check = () => {
        if (this.done() || !this.client.writable) {
          clearTimeout(timer);
          resolve(this.done());
        } else {
          this.waiters.push(check);
        }
      };
      check();
    });
  }

  private done(): boolean {
    return this.client.bytesReceived >= this.client.bytesSent;
  }
}

/** Turns the lines to send into socket.write() calls, as the header describes. */
export class LineWriter {
  private gathered: Buffer[] = [];
  private gatheredBytes = 0;
  private echoMissed = false;

  constructor(
    private readonly client: TcpClient,
    private readonly echoed: EchoWatch,
    private readonly options: PacingOptions,
  ) {}

  /** One line, newline included; `interactive` lines never wait for a --burst. */
  async send(text: string, interactive: boolean): Promise<void> {
    const data = Buffer.from(text);
    if (!this.options.burst || interactive) return this.write(data, true);
    this.gathered.push(data);
    this.gatheredBytes += data.length;
    if (this.gatheredBytes >= BURST_MAX_BYTES) await this.flush();
  }

  /** Sends what --burst has gathered. */
  async flush(): Promise<void> {
    if (this.gatheredBytes === 0) return;
    const data = Buffer.concat(this.gathered);
    this.gathered = [];
    this.gatheredBytes = 0;
    await this.write(data, false);
  }

  /** Writes `data` in --write-size pieces; a burst without it in pieces of BURST_MAX_BYTES. */
  private async write(data: Buffer, waitBetweenPieces: boolean): Promise<void> {
    const size = this.options.writeSize ?? (waitBetweenPieces ? data.length : BURST_MAX_BYTES);
    for (let at = 0; at < data.length; at += size) {
      if (at > 0 && waitBetweenPieces && !this.echoMissed && !(await this.echoed.all(this.options.echoWaitMs)) && this.client.writable) {
        // Not an echo server, or a very slow one: say so once, then stop waiting for it.
        this.echoMissed = true;
        this.options.onNoEcho?.();
      }
      await this.client.send(data.subarray(at, at + size));
    }
  }
}
