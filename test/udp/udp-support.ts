/**
 * Helpers for the UDP loopback tests: bare node:dgram peers on 127.0.0.1 that keep what they
 * receive, waits with a hang guard, an Output and a --trace Tracer that write into a string, and
 * the reply order echo-server.ts promises under impairment. Every socket and server is closed
 * when its test finishes (cleanup registered on the line after it is created).
 */
import dgram from 'node:dgram';
import { onTestFinished } from 'vitest';
import { Output } from '../../src/core/output.js';
import { DEFAULT_TRACE_BYTES, Tracer } from '../../src/core/trace.js';
import { startUdpEchoServer, type DatagramInfo, type UdpEchoServer } from '../../src/udp/echo-server.js';
import { Impairment, type Fate, type ImpairmentSettings } from '../../src/udp/impairment.js';

/** Kept at load time, before any test fakes the timers: the hang guards must keep working. */
const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;

/** How long any one wait may take before the test fails with what it has seen so far. */
export const HANG_GUARD_MS = 5000;

/**
 * Resolves once `condition()` holds. `subscribe` registers `check` wherever the condition may
 * change and returns how to unregister it. After HANG_GUARD_MS, rejects with `describe()`.
 */
export function waitUntil(condition: () => boolean, subscribe: (check: () => void) => () => void, describe: () => string): Promise<void> {
  return new Promise((resolve, reject) => {
    let unsubscribe = () => {};
    const timer = realSetTimeout(() => {
      unsubscribe();
      reject(new Error(`hang guard: waited ${HANG_GUARD_MS} ms for ${describe()}`));
    }, HANG_GUARD_MS);
    const check = () => {
      if (!condition()) return;
      realClearTimeout(timer);
      unsubscribe();
      resolve();
    };
    unsubscribe = subscribe(check);
    check();
  });
}

/** A UDP echo server on 127.0.0.1, port 0 (traced by `trace`, if given); closed when the test finishes. */
export async function echoServer(impairment?: ImpairmentSettings, trace?: Tracer): Promise<UdpEchoServer> {
  const server = await startUdpEchoServer({ host: '127.0.0.1', port: 0, impairment, trace });
  onTestFinished(() => server.close());
  return server;
}

/** A bare UDP socket on 127.0.0.1 that keeps every datagram it receives. */
export interface Peer {
  readonly socket: dgram.Socket;
  readonly port: number;
  readonly received: Buffer[];
  /** sendto() 127.0.0.1:port; resolves once the kernel has the datagram. */
  send(data: string | Uint8Array, port: number): Promise<void>;
  /** Resolves with everything received once there are at least `n` datagrams. */
  until(n: number): Promise<Buffer[]>;
}

/** Binds a Peer to 127.0.0.1:port (0: any free port); closed when the test finishes. */
export async function peer(port = 0): Promise<Peer> {
  const socket = dgram.createSocket('udp4');
  onTestFinished(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, '127.0.0.1', () => {
      socket.off('error', reject);
      resolve();
    });
  });
  const received: Buffer[] = [];
  socket.on('message', (data) => received.push(data));
  return {
    socket,
    port: socket.address().port,
    received,
    send: (data, to) => new Promise((resolve, reject) => socket.send(data, to, '127.0.0.1', (err) => (err ? reject(err) : resolve()))),
    until: async (n) => {
      await waitUntil(
        () => received.length >= n,
        (check) => (socket.on('message', check), () => socket.off('message', check)),
        () => `${n} datagrams; ${received.length} came: ${received.map((b) => JSON.stringify(b.toString('latin1').slice(0, 20))).join(', ')}`,
      );
      return received;
    },
  };
}

/** A port where nothing listens a moment from now: bind to port 0, note the port, close. */
export async function freeUdpPort(): Promise<number> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/** Every 'datagram' event of a server, as it happens, and a wait for the nth. */
export function recordDatagrams(server: UdpEchoServer): { infos: DatagramInfo[]; until: (n: number) => Promise<DatagramInfo[]> } {
  const infos: DatagramInfo[] = [];
  server.on('datagram', (info) => infos.push(info));
  return {
    infos,
    until: async (n) => {
      await waitUntil(
        () => infos.length >= n,
        (check) => (server.on('datagram', check), () => server.off('datagram', check)),
        () => `the server to receive ${n} datagrams; it has ${infos.length}`,
      );
      return infos;
    },
  };
}

/** The fates of the first `n` datagrams under `settings`. */
export function fatesOf(settings: ImpairmentSettings, n: number): Fate[] {
  const impairment = new Impairment(settings);
  return Array.from({ length: n }, () => impairment.next());
}

/**
 * The order in which one peer receives the replies to its datagrams 1…n, as echo-server.ts and
 * Fate promise it: a duplicate's extra copy goes at once; a reply held back for reordering goes
 * right after the next reply to the same peer (or after REORDER_MAX_HOLD_MS, here at the end).
 */
export function expectedArrivals(fates: Fate[]): number[] {
  const out: number[] = [];
  let held: number | undefined;
  const release = () => {
    if (held !== undefined) out.push(held);
    held = undefined;
  };
  fates.forEach((fate, i) => {
    const seq = i + 1;
    if (fate.drop) return;
    if (fate.duplicate) {
      out.push(seq);
      release();
    }
    if (fate.reorder) {
      release();
      held = seq;
    } else {
      out.push(seq);
      release();
    }
  });
  release();
  return out;
}

/** An Output with no colour whose lines are collected; `stdout()` and `stderr()` flush and return them. */
export function collectingOutput(): { output: Output; stdout: () => string; stderr: () => string } {
  const chunks = { stdout: [] as string[], stderr: [] as string[] };
  const sink = (into: string[]) => ({ write: (text: string) => (into.push(text), true) }) as unknown as NodeJS.WritableStream;
  const output = new Output({ stdout: sink(chunks.stdout), stderr: sink(chunks.stderr) }, { color: false });
  return {
    output,
    stdout: () => (output.flush(), chunks.stdout.join('')),
    stderr: () => (output.flush(), chunks.stderr.join('')),
  };
}

/**
 * A Tracer (src/core/trace.ts) on a clock the test moves (`clock.ms`, from 0), printing into a
 * string: `lines()` returns what it traced so far, one entry per printed line.
 */
export function collectingTracer(dumpBytes = DEFAULT_TRACE_BYTES): { tracer: Tracer; clock: { ms: number }; lines: () => string[] } {
  const { output, stderr } = collectingOutput();
  const clock = { ms: 0 };
  const tracer = new Tracer(output, { dumpBytes, now: () => clock.ms });
  return { tracer, clock, lines: () => stderr().split('\n').filter((line) => line !== '') };
}
