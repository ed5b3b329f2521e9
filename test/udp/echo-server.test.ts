/**
 * Loopback tests of the UDP echo server (echo-server.ts): a real server on 127.0.0.1, port 0,
 * and bare node:dgram sockets as clients, so nothing here depends on udp-client.ts.
 *
 * No test waits for the absence of a datagram. A server answers its datagrams in the order it
 * received them, and loopback delivers one socket's datagrams to another in the order they were
 * sent, so once the echo of a later datagram is in, any reply to an earlier one would be too.
 */
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { errnoCode } from '../../src/core/errors.js';
import { hexDump } from '../../src/core/text-view.js';
import { DEFAULT_TRACE_BYTES, type Tracer } from '../../src/core/trace.js';
import { logUdpEchoServer } from '../../src/udp/echo-log.js';
import {
  FIRST_UNPRIVILEGED_PORT,
  MAX_WAITING_REPLIES,
  MAX_WAITING_REPLY_BYTES,
  REORDER_MAX_HOLD_MS,
  startUdpEchoServer,
} from '../../src/udp/echo-server.js';
import { NO_IMPAIRMENT, type ImpairmentSettings } from '../../src/udp/impairment.js';
import { MAX_DATAGRAM_BYTES } from '../../src/udp/udp-socket.js';
import { collectingOutput, collectingTracer, echoServer as server, expectedArrivals, fatesOf, peer, recordDatagrams, waitUntil, type Peer } from './udp-support.js';

/** Binds a UDP socket to a port below 1024 on 127.0.0.1, or undefined without the privilege. */
async function lowPortPeer(): Promise<Peer | undefined> {
  for (let port = FIRST_UNPRIVILEGED_PORT - 1; port > FIRST_UNPRIVILEGED_PORT - 50; port--) {
    try {
      return await peer(port);
    } catch (err) {
      if (errnoCode(err) !== 'EADDRINUSE') return undefined; // EACCES: not root, and the system keeps low ports privileged
    }
  }
  return undefined;
}

/** Fakes setTimeout only: the sockets stay real, the server's delays wait for the test's clock. */
function fakeTimers(): void {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  onTestFinished(() => {
    vi.useRealTimers();
  });
}

describe('startUdpEchoServer', () => {
  it('binds the port the system picked and reports it', async () => {
    const s = await server();
    expect(s.host).toBe('127.0.0.1');
    expect(s.port).toBeGreaterThan(0);
    expect(s.totals).toEqual({ datagrams: 0, bytes: 0, replies: 0, dropped: 0, refused: 0 });
  });

  it('rejects with EADDRINUSE when the port is taken', async () => {
    const s = await server();
    await expect(startUdpEchoServer({ host: '127.0.0.1', port: s.port })).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });

  it('close() is safe to call twice and frees the port at once', async () => {
    const s = await server();
    await Promise.all([s.close(), s.close()]);
    await s.close();
    const again = await startUdpEchoServer({ host: '127.0.0.1', port: s.port });
    await again.close();
  });
});

describe('datagram boundaries', () => {
  it('echoes 0, 1, 1472, 1473 and 65,507 bytes as exactly one datagram each, with identical bytes', async () => {
    const s = await server();
    const client = await peer();
    // 1472 bytes fill one Ethernet frame (1500 − 20 IP − 8 UDP); 1473 would be fragmented on
    // Ethernet; 65,507 is the most one IPv4 datagram carries. None of it shows in the echo.
    const sizes = [0, 1, 1472, 1473, MAX_DATAGRAM_BYTES];
    const payloads = sizes.map((n) => randomBytes(n));
    for (const [i, payload] of payloads.entries()) {
      await client.send(payload, s.port);
      await client.until(i + 1);
    }
    await client.send('end', s.port);
    const echoes = await client.until(sizes.length + 1);
    expect(echoes.map((b) => b.length)).toEqual([...sizes, 3]);
    payloads.forEach((payload, i) => expect(echoes[i]!.equals(payload), `the echo of ${sizes[i]} bytes`).toBe(true));
    expect(s.totals).toEqual({ datagrams: 6, bytes: 1 + 1472 + 1473 + MAX_DATAGRAM_BYTES + 3, replies: 6, dropped: 0, refused: 0 });
  });

  it('keeps two datagrams sent back to back apart, and answers each sender at its own address', async () => {
    const s = await server();
    const [alice, bob] = [await peer(), await peer()];
    await alice.send('one', s.port);
    await bob.send('bob', s.port);
    await alice.send('two', s.port);
    expect((await alice.until(2)).map(String)).toEqual(['one', 'two']);
    expect((await bob.until(1)).map(String)).toEqual(['bob']);
  });
});

describe('what the server survives (ROBUSTNESS.md, UDP)', () => {
  it('survives empty datagrams, binary garbage and 10,000 datagrams, logging and counting every one', async () => {
    const s = await server();
    const { output, stdout } = collectingOutput();
    logUdpEchoServer(s, output);
    const client = await peer();

    const total = 10_000;
    const datagram = (i: number): Buffer =>
      i % 3 === 0 ? Buffer.alloc(0) : i % 3 === 1 ? randomBytes(1 + (i % 512)) : Buffer.from(`\x1b[2J\x00\xff${i}\r\n`, 'latin1');
    const sent: Buffer[] = [];
    // A window at a time: the kernel drops what overflows a socket's receive buffer, and that
    // would be a test of the buffer size, not of the server.
    const window = 100;
    for (let start = 0; start < total; start += window) {
      for (let i = start; i < start + window; i++) {
        sent.push(datagram(i));
        await client.send(sent[i]!, s.port);
      }
      await client.until(start + window);
    }
    expect(client.received).toHaveLength(total);
    expect(client.received.every((echo, i) => echo.equals(sent[i]!))).toBe(true);
    const bytes = sent.reduce((sum, b) => sum + b.length, 0);
    expect(s.totals).toEqual({ datagrams: total, bytes, replies: total, dropped: 0, refused: 0 });
    const log = stdout();
    expect(log).toContain(`[127.0.0.1:${client.port}] < 0 bytes ""\n`);
    expect(log).not.toContain('\x1b');
    expect(log.split('\n').filter(Boolean)).toHaveLength(total);
  });

  it('never answers a datagram from its own address and port (no echo loop)', async () => {
    const s = await server();
    const { infos } = recordDatagrams(s);
    // Only the server's own socket can send from its address and port. Without the guard this
    // datagram would be echoed to the server itself, forever.
    const own = s['socket'];
    await new Promise<void>((resolve, reject) => own.send('loop?', s.port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
    const client = await peer();
    await client.send('after', s.port);
    expect((await client.until(1)).map(String)).toEqual(['after']);
    expect(infos.map((info) => [info.from, info.data.toString(), info.refusal])).toEqual([
      [`127.0.0.1:${s.port}`, 'loop?', 'own address'],
      [`127.0.0.1:${client.port}`, 'after', undefined],
    ]);
    expect(s.totals).toMatchObject({ datagrams: 2, replies: 1, refused: 1 });
  });

  it('never answers a datagram from a well-known service port below 1024 (no echo storms)', async (ctx) => {
    const s = await server();
    const { infos } = recordDatagrams(s);
    const service = await lowPortPeer();
    if (!service) return ctx.skip('binding a port below 1024 needs privileges this run does not have');
    await service.send('chargen says hi', s.port);
    const client = await peer();
    await client.send('after', s.port);
    await client.until(1);
    expect(service.received).toEqual([]);
    expect(infos.map((info) => [info.port, info.refusal])).toEqual([
      [service.port, 'well-known port'],
      [client.port, undefined],
    ]);
    expect(s.totals).toMatchObject({ datagrams: 2, replies: 1, refused: 1 });
  });

  it('refuses delayed replies beyond MAX_WAITING_REPLY_BYTES instead of growing without bound', async () => {
    const s = await server({ ...NO_IMPAIRMENT, delayMs: 10_000, seed: 1 });
    const { until } = recordDatagrams(s);
    const client = await peer();
    const fit = Math.floor(MAX_WAITING_REPLY_BYTES / MAX_DATAGRAM_BYTES);
    const big = Buffer.alloc(MAX_DATAGRAM_BYTES, 'x');
    for (let i = 1; i <= fit + 2; i++) {
      await client.send(big, s.port);
      await until(i); // one at a time: a 64 KB datagram each, and the receive buffer holds a few
    }
    const infos = await until(fit + 2);
    expect(infos.slice(0, fit).every((info) => info.refusal === undefined && info.fate.delayMs === 10_000)).toBe(true);
    expect(infos.slice(fit).map((info) => info.refusal)).toEqual(['too many waiting', 'too many waiting']);
    expect(s.totals).toMatchObject({ datagrams: fit + 2, replies: 0, refused: 2 });
  });

  it('refuses delayed empty replies beyond MAX_WAITING_REPLIES: a flood of empty datagrams is bounded too', async () => {
    const s = await server({ ...NO_IMPAIRMENT, delayMs: 10_000, seed: 1 });
    const { until } = recordDatagrams(s);
    const client = await peer();
    const total = MAX_WAITING_REPLIES + 5;
    // In batches the kernel's receive buffer holds, each one waited for before the next.
    for (let sent = 0; sent < total; ) {
      const batch = Math.min(500, total - sent);
      await Promise.all(Array.from({ length: batch }, () => client.send(Buffer.alloc(0), s.port)));
      sent += batch;
      await until(sent);
    }
    const infos = await until(total);
    expect(infos.filter((info) => info.refusal === 'too many waiting')).toHaveLength(5);
    expect(infos.slice(0, MAX_WAITING_REPLIES).every((info) => info.refusal === undefined)).toBe(true);
    expect(s.totals).toMatchObject({ datagrams: total, replies: 0, refused: 5 });
  });
});

describe('impairment', () => {
  it('drops exactly the replies the pure Impairment with the same seed drops', async () => {
    const settings: ImpairmentSettings = { ...NO_IMPAIRMENT, dropRate: 0.3, seed: 2024 };
    const fates = fatesOf(settings, 40);
    const survivors = fates.flatMap((fate, i) => (fate.drop ? [] : [i + 1]));
    expect(survivors.length, 'seed 2024 drops some of 40 but not all').toBeGreaterThan(0);
    expect(survivors.length).toBeLessThan(40);
    // Send up to the last datagram that survives: once its echo is in, every echo is.
    const last = survivors.at(-1)!;

    const s = await server(settings);
    const { infos } = recordDatagrams(s);
    const client = await peer();
    for (let seq = 1; seq <= last; seq++) await client.send(`d${seq}`, s.port);
    await waitUntil(
      () => client.received.some((b) => b.toString() === `d${last}`),
      (check) => (client.socket.on('message', check), () => client.socket.off('message', check)),
      () => `the echo of d${last}; came: ${client.received.map(String).join(' ')}`,
    );

    expect(client.received.map(String)).toEqual(survivors.map((seq) => `d${seq}`));
    expect(infos.map((info) => info.fate.drop)).toEqual(fates.slice(0, last).map((fate) => fate.drop));
    expect(s.totals).toMatchObject({ datagrams: last, replies: survivors.length, dropped: last - survivors.length, refused: 0 });
  });

  it('duplicates and reorders exactly the replies the pure Impairment says, in the promised order', async () => {
    const settings: ImpairmentSettings = { ...NO_IMPAIRMENT, duplicateRate: 0.25, reorderRate: 0.25, seed: 7 };
    const fates = fatesOf(settings, 20);
    expect(fates.at(-1)!.reorder, 'the last reply is not held back (it would wait REORDER_MAX_HOLD_MS)').toBe(false);
    expect(fates.some((f) => f.duplicate) && fates.some((f) => f.reorder)).toBe(true);
    const expected = expectedArrivals(fates);

    const s = await server(settings);
    const { infos, until } = recordDatagrams(s);
    const client = await peer();
    for (let seq = 1; seq <= fates.length; seq++) await client.send(`d${seq}`, s.port);
    await until(fates.length);
    await client.until(expected.length);

    expect(client.received.map(String)).toEqual(expected.map((seq) => `d${seq}`));
    expect(infos.map((info) => info.fate)).toEqual(fates);
    expect(s.totals).toMatchObject({ datagrams: fates.length, replies: expected.length, dropped: 0 });
  });

  it('sends a delayed reply only once its delay has passed', async () => {
    fakeTimers();
    const settings: ImpairmentSettings = { ...NO_IMPAIRMENT, delayMs: 40, jitterMs: 20, seed: 3 };
    const [fate] = fatesOf(settings, 1);
    const s = await server(settings);
    const { until } = recordDatagrams(s);
    const client = await peer();

    await client.send('slow', s.port);
    const [info] = await until(1);
    expect(info!.fate).toEqual(fate);
    vi.advanceTimersByTime(fate!.delayMs - 1);
    expect(s.totals.replies).toBe(0);
    vi.advanceTimersByTime(1);
    expect(s.totals.replies).toBe(1);
    expect((await client.until(1)).map(String)).toEqual(['slow']);
  });

  it('lets a reply held back for reordering go after REORDER_MAX_HOLD_MS when no other follows', async () => {
    fakeTimers();
    const s = await server({ ...NO_IMPAIRMENT, reorderRate: 1, seed: 1 });
    const { until } = recordDatagrams(s);
    const client = await peer();

    await client.send('held', s.port);
    await until(1);
    vi.advanceTimersByTime(REORDER_MAX_HOLD_MS - 1);
    expect(s.totals.replies).toBe(0);
    vi.advanceTimersByTime(1);
    expect((await client.until(1)).map(String)).toEqual(['held']);
  });

  it('discards replies still waiting when it closes', async () => {
    fakeTimers();
    const s = await server({ ...NO_IMPAIRMENT, delayMs: 100, seed: 1 });
    const { until } = recordDatagrams(s);
    const client = await peer();
    await client.send('never', s.port);
    await until(1);
    await s.close();
    expect(vi.getTimerCount()).toBe(0);
    expect(s.totals.replies).toBe(0);
  });
});

describe('--trace', () => {
  /** A trace event as the Tracer prints it: its header, then the datagram's dump, indented. */
  const traced = (header: string, text: string) => [`+0.000s ${header}`, ...hexDump(Buffer.from(text), DEFAULT_TRACE_BYTES).map((line) => `  ${line}`)];

  it('without a tracer, adds no listener and no wrapper to its socket: the hot path is untouched', async () => {
    const s = await server();
    const socket = s['socket'];
    expect(socket.listenerCount('message')).toBe(1);
    expect(socket.send).toBe(dgram.Socket.prototype.send);
  });

  it("traces each datagram with its reply's fate before the replies, which show when they really leave", async () => {
    // Seed 32's first five fates: echoed, sent twice, held back, dropped, echoed.
    const settings: ImpairmentSettings = { ...NO_IMPAIRMENT, dropRate: 0.25, duplicateRate: 0.25, reorderRate: 0.25, seed: 32 };
    const fates = fatesOf(settings, 5);
    expect(fates.map((f) => (f.drop ? 'drop' : f.duplicate ? 'twice' : f.reorder ? 'held' : 'echo'))).toEqual(['echo', 'twice', 'held', 'drop', 'echo']);
    const { tracer, lines } = collectingTracer();
    const s = await server(settings, tracer);
    const client = await peer();
    for (let seq = 1; seq <= 5; seq++) await client.send(`d${seq}`, s.port);
    await client.until(expectedArrivals(fates).length);

    const toServer = `127.0.0.1:${client.port} → 127.0.0.1:${s.port} datagram 2 bytes`;
    const toClient = `127.0.0.1:${s.port} → 127.0.0.1:${client.port} datagram 2 bytes`;
    expect(lines()).toEqual([
      ...traced(toServer, 'd1'),
      ...traced(toClient, 'd1'),
      ...traced(`${toServer} · reply sent twice`, 'd2'),
      ...traced(toClient, 'd2'),
      ...traced(toClient, 'd2'),
      ...traced(`${toServer} · reply held back (reordering)`, 'd3'),
      ...traced(`${toServer} · dropped (simulated loss)`, 'd4'),
      ...traced(toServer, 'd5'),
      ...traced(toClient, 'd5'),
      ...traced(toClient, 'd3'), // overtaken by d5's reply, as promised
    ]);
    expect(client.received.map(String)).toEqual(['d1', 'd2', 'd2', 'd5', 'd3']);
  });

  it('traces a delayed reply when its delay is over, not when it was decided', async () => {
    fakeTimers();
    const settings: ImpairmentSettings = { ...NO_IMPAIRMENT, delayMs: 40, jitterMs: 20, seed: 3 };
    const [fate] = fatesOf(settings, 1);
    const { tracer, clock, lines } = collectingTracer(0);
    const s = await server(settings, tracer);
    const { until } = recordDatagrams(s);
    const client = await peer();

    await client.send('slow', s.port);
    await until(1);
    expect(lines()[0]).toBe(`+0.000s 127.0.0.1:${client.port} → 127.0.0.1:${s.port} datagram 4 bytes · reply delayed ${fate!.delayMs} ms`);
    vi.advanceTimersByTime(fate!.delayMs - 1);
    expect(lines().filter((line) => line.startsWith('+'))).toHaveLength(1);
    clock.ms = fate!.delayMs;
    vi.advanceTimersByTime(1);
    const seconds = (fate!.delayMs / 1000).toFixed(3);
    expect(lines().filter((line) => line.startsWith('+')).at(-1)).toBe(`+${seconds}s 127.0.0.1:${s.port} → 127.0.0.1:${client.port} datagram 4 bytes`);
    await client.until(1);
  });

  it('says why a datagram is not answered: here it came from the server itself', async () => {
    const { tracer, lines } = collectingTracer();
    const s = await server(undefined, tracer);
    const { until } = recordDatagrams(s);
    const own = s['socket'];
    await new Promise<void>((resolve, reject) => own.send('loop?', s.port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
    await until(1);
    const self = `127.0.0.1:${s.port}`;
    expect(lines()).toEqual([
      ...traced(`${self} → ${self} datagram 5 bytes`, 'loop?'),
      ...traced(`${self} → ${self} datagram 5 bytes · not answered: it came from this server itself (no echo loops)`, 'loop?'),
    ]);
  });

  it('leaves its log and totals as they are without --trace', async () => {
    const settings: ImpairmentSettings = { ...NO_IMPAIRMENT, dropRate: 0.25, duplicateRate: 0.25, reorderRate: 0.25, seed: 32 };
    const run = async (trace?: Tracer) => {
      const s = await server(settings, trace);
      const { output, stdout } = collectingOutput();
      logUdpEchoServer(s, output);
      const client = await peer();
      for (let seq = 1; seq <= 5; seq++) await client.send(`d${seq}`, s.port);
      await client.until(5);
      return { log: stdout().replaceAll(`:${client.port}]`, ':CLIENT]'), totals: { ...s.totals } };
    };
    const plain = await run();
    expect(await run(collectingTracer().tracer)).toEqual(plain);
  });
});
