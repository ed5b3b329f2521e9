/**
 * `--trace`: what actually crossed the wire, for every lab in the same shape (lesson 01, "TCP is
 * a byte stream"; lesson 03, datagrams; lesson 04, frames). Each event is a header line, with the
 * time since the command started, where the bytes went and what they were, and below it the
 * bytes themselves as a hex dump:
 *
 *   +0.012s 127.0.0.1:53422 → 127.0.0.1:12345 read 6 bytes
 *     0000  68 65 6c 6c 6f 0a                                 |hello.|
 *
 * Trace lines go to stderr, so stdout stays what a script reads. A lab that is not tracing never
 * creates a Tracer: nothing here runs on a hot path unless --trace was given.
 *
 Each lab traces its own unit with this Tracer: TCP reads and writes (src/tcp/tcp-trace.ts),
 * datagrams (src/udp/udp-trace.ts) and WebSocket frames (src/ws/ws-trace.ts). tapWrites(), here,
 * is shared by TCP and WebSocket: both see their bytes at a net.Socket's write().
 */
import type net from 'node:net';
import { Option, type Command } from 'commander';
import { argParser } from './commands.js';
import { formatAddress } from './errors.js';
import { parseInteger } from './options.js';
import type { Output } from './output.js';
import { hexDump } from './text-view.js';

/** How many bytes of each chunk, datagram or payload a trace shows unless --trace-bytes says. */
export const DEFAULT_TRACE_BYTES = 64;
/** The most --trace-bytes accepts: a full TCP read of 64 KiB. */
export const MAX_TRACE_BYTES = 65_536;

/** What `--trace` and `--trace-bytes` leave in a command's options. */
export interface TraceOptions {
  trace?: boolean;
  traceBytes?: number;
}

/** Adds `--trace` and `--trace-bytes N` to a serve or connect command. */
export function addTraceOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--trace', 'show every chunk, datagram or frame that crosses the wire (on stderr)'))
    .addOption(
      new Option('--trace-bytes <n>', `with --trace: bytes of each one to show, 0 to ${MAX_TRACE_BYTES} (default ${DEFAULT_TRACE_BYTES})`).argParser(
        argParser((v) => parseInteger('--trace-bytes', v, 0, MAX_TRACE_BYTES)),
      ),
    );
}

/** The Tracer a command's options ask for, or undefined without --trace. */
export function tracerFor(opts: TraceOptions, output: Output): Tracer | undefined {
  if (!opts.trace) {
    if (opts.traceBytes !== undefined) output.warn('--trace-bytes does nothing without --trace.');
    return undefined;
  }
  return new Tracer(output, { dumpBytes: opts.traceBytes ?? DEFAULT_TRACE_BYTES });
}

export interface TracerOptions {
  /** How many bytes of each unit the hex dump shows. */
  dumpBytes: number;
  /** Milliseconds on a monotonic clock; performance.now() unless a test fixes it. */
  now?: () => number;
}

/** Prints trace events: a timed header line, and the lines that detail it, indented. */
export class Tracer {
  readonly dumpBytes: number;
  private readonly now: () => number;
  private readonly startMs: number;

  constructor(
    private readonly output: Output,
    options: TracerOptions,
  ) {
    this.dumpBytes = options.dumpBytes;
    this.now = options.now ?? (() => performance.now());
    this.startMs = this.now();
  }

  /** `+0.012s FROM → TO WHAT`, then each detail line indented by two spaces. */
  event(from: string, to: string, what: string, details: readonly string[] = []): void {
    const seconds = ((this.now() - this.startMs) / 1000).toFixed(3);
    const lines = [`+${seconds}s ${from} → ${to} ${what}`];
    for (const line of details) lines.push(`  ${line}`);
    this.output.trace(lines);
  }

  /** An event about bytes: its header, then the bytes as a hex dump. */
  bytes(from: string, to: string, what: string, data: Uint8Array): void {
    this.event(from, to, what, this.dump(data));
  }

  /** The hex dump lines for `data`, cut at --trace-bytes; none at all for --trace-bytes 0. */
  dump(data: Uint8Array): string[] {
    return this.dumpBytes === 0 ? [] : hexDump(data, this.dumpBytes);
  }
}

/** The two ends of a connected socket as `host:port`, ours first. */
export function socketEnds(socket: net.Socket): { local: string; remote: string } {
  return {
    local: formatAddress(socket.localAddress ?? '?', socket.localPort ?? 0),
    remote: formatAddress(socket.remoteAddress ?? '?', socket.remotePort ?? 0),
  };
}

/**
 * Calls `onWrite` with the bytes of every socket.write() (and end(data)) on this one socket,
 * right after the call. Only for tracing: it replaces the socket's own write method.
 */
export function tapWrites(socket: net.Socket, onWrite: (data: Buffer) => void): void {
  const write = socket.write;
  const asBytes = (chunk: unknown, encoding: unknown): Buffer =>
    typeof chunk === 'string' ? Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8') : Buffer.from(chunk as Uint8Array);
  // Traced once the call returns: unless the socket is corked or its queue is full, Node has
  // then handed the bytes to the kernel, so a trace line never runs ahead of what was sent.
  socket.write = function (this: net.Socket, chunk: unknown, ...rest: unknown[]): boolean {
    const data = asBytes(chunk, rest[0]);
    const queued = (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
    onWrite(data);
    return queued;
  } as typeof socket.write;
  // end(data) queues its data without calling write(), so it is tapped too.
  const end = socket.end;
  socket.end = function (this: net.Socket, chunk?: unknown, ...rest: unknown[]): net.Socket {
    const data = chunk !== undefined && chunk !== null && typeof chunk !== 'function' ? asBytes(chunk, rest[0]) : undefined;
    const result = (end as (...args: unknown[]) => net.Socket).call(this, chunk, ...rest);
    if (data) onWrite(data);
    return result;
  } as typeof socket.end;
}
