/**
 * The ws-echo benchmark's load figures, each measured on every server with the load of its
 * protocol: a WebSocket server with ws-load.js, the TCP floor (`protocol: 'tcp'` in its spec)
 * with tcp-load.js moving the same bytes, so that a WebSocket figure can be set against what
 * the kernel and Node's `net` alone cost for the same job.
 *
 *   round trip, 16 KiB  one 16 KiB message in flight (a TCP write of 16 KiB): p50, p99, p99.9
 *   echo throughput     100 connections × 4 messages of 64 bytes in flight, messages per second
 *   bulk echo           4 connections × 4 messages of 1 MiB in flight (TCP: 4 MiB in flight in
 *                       1 MiB writes), MB/s; several in flight, because a WebSocket server
 *                       forwards a message only once it has all of it (store and forward): with
 *                       one in flight, each connection's link would idle half the time
 *
 * Leaves out: the 64-byte round trip (round-trip-figure.js, shared with tcp-echo and udp-echo,
 * wrapped here by eitherProtocol()) and the idle memory (ws-echo-idle-memory.js).
 */
import { withServerCpu } from './server-process.js';
import * as tcpLoad from './tcp-load.js';
import * as wsLoad from './ws-load.js';

/** The label the benchmark gives the TCP floor, for the comparisons. */
export const TCP_FLOOR = 'node pipe (TCP floor)';
/** The subject the targets are about. */
const NETLAB = 'netlab --quiet';
const REFERENCE = 'node ws (floor)';

/**
 * A figure made for one load module (`make(load)`, load being ws-load.js or tcp-load.js,
 * which export functions of the same names and options), measuring each server with its own.
 */
export function eitherProtocol(make) {
  const figures = { ws: make(wsLoad), tcp: make(tcpLoad) };
  const pick = (server) => figures[server.spec.protocol === 'tcp' ? 'tcp' : 'ws'];
  return { ...figures.ws, warmUp: (server, mode) => pick(server).warmUp(server, mode), measure: (server, mode) => pick(server).measure(server, mode) };
}

const ROUND_TRIP_16K = {
  full: { messageBytes: 16 * 1024, warmup: 500, count: 10_000 },
  smoke: { messageBytes: 16 * 1024, warmup: 20, count: 200, verify: true },
};
const ROUND_TRIP_16K_WARMUP = { full: 3000, smoke: 20 };

export const roundTrip16k = eitherProtocol((load) => ({
  name: 'round trip, 16 KiB',
  metrics: [
    { key: 'p50Us', label: 'round trip 16 KiB p50, µs', better: 'lower', digits: 1 },
    { key: 'p99Us', label: 'round trip 16 KiB p99, µs', better: 'lower', digits: 1 },
    { key: 'p999Us', label: 'round trip 16 KiB p99.9, µs', better: 'lower', digits: 1 },
    { key: 'serverCpuUsPerRoundTrip', label: 'server CPU, µs per 16 KiB round trip', better: 'lower', digits: 1 },
  ],
  // Issue #10: WS at 16 KiB p50 ≤ 1.15× the TCP echo. The stock ws server's own ratio shows
  // how much of netlab's is ws's.
  comparisons: [
    { metric: 'p50Us', subject: NETLAB, against: TCP_FLOOR, target: 1.15, label: 'WS 16 KiB round trip p50, netlab --quiet ÷ TCP pipe' },
    { metric: 'p50Us', subject: REFERENCE, against: TCP_FLOOR, target: 1.15, label: 'WS 16 KiB round trip p50, stock ws ÷ TCP pipe (context)' },
  ],
  async warmUp(server, mode) {
    const { messageBytes } = ROUND_TRIP_16K[mode];
    await load.measureRoundTrips({ messageBytes, warmup: 0, count: ROUND_TRIP_16K_WARMUP[mode], host: server.host, port: server.port });
  },
  async measure(server, mode) {
    const run = await withServerCpu(server, load.measureRoundTrips, ROUND_TRIP_16K[mode]);
    return {
      p50Us: run.samples.percentile(50),
      p99Us: run.samples.percentile(99),
      p999Us: run.samples.percentile(99.9),
      serverCpuUsPerRoundTrip: (run.serverCpuMs * 1000) / run.samples.count,
    };
  },
}));

/**
 * 100 × 4 in flight: a class's worth of clients, each with a few messages queued, so that a
 * read often brings a server more than one frame, and each connection's window (280 bytes)
 * stays far below any socket buffer: back-pressure never starts.
 */
const THROUGHPUT = {
  full: { connections: 100, window: 4, messageBytes: 64, rampMs: 300, durationMs: 1000 },
  smoke: { connections: 4, window: 4, messageBytes: 64, rampMs: 10, durationMs: 50, verify: true },
};

/**
 * 4 × 4 MiB: each connection has 3 messages queued behind the one the server is reading, and
 * 16 MiB in flight in all, ws's and netlab's default limits are far (netlab reads 1 MiB
 * messages and pauses a client with more than 4 MiB of echoes queued). The smoke run's
 * messages are just over 64 KiB, so that their frames carry the 64-bit length.
 */
const BULK = {
  full: { connections: 4, window: 4, messageBytes: 1024 * 1024, rampMs: 300, durationMs: 1500 },
  smoke: { connections: 2, window: 2, messageBytes: 70_000, rampMs: 10, durationMs: 50, verify: true },
};

/** Before the rounds: long enough for V8 to compile the hot paths of server and load. */
const WARMUP_MS = { full: 1000, smoke: 20 };

/**
 * The same loop on TCP: tcp-load's message rate for small messages, its bulk load (one write
 * per message, each of the message's size) for big ones.
 */
async function messages(load, options) {
  if (load === wsLoad) return wsLoad.measureMessageRate(options);
  const { messageBytes, window } = options;
  if (messageBytes < 64 * 1024) return tcpLoad.measureMessageRate(options);
  const run = await tcpLoad.measureThroughput({ ...options, chunkBytes: messageBytes, windowBytes: window * messageBytes });
  return { ...run, echoes: run.echoedBytes / messageBytes, messagesPerS: run.echoedBytes / messageBytes / run.seconds };
}

const cpuShares = (run) => ({
  serverCpuShare: run.serverCpuMs / (run.seconds * 1000),
  clientCpuShare: run.clientCpuMs / (run.seconds * 1000),
});

const cpuExtras = (what) => [
  // If the load's share were near 100 % and the server's well below, the figure would be the
  // load's limit, not the server's.
  { key: 'serverCpuShare', label: `server CPU during the ${what}, % of one core`, scale: 100, digits: 0 },
  { key: 'clientCpuShare', label: `load (bench process) CPU during the ${what}, % of one core`, scale: 100, digits: 0 },
];

export const throughput = eitherProtocol((load) => ({
  name: 'echo throughput',
  metrics: [
    // Issue #10: WS ≥ 1.0× the stock ws server.
    { key: 'messagesPerS', label: 'echo throughput, 100 × 4 in flight, messages/s', better: 'higher', target: 1.0, digits: 0 },
    { key: 'serverCpuUsPerMessage', label: 'server CPU, µs per message', better: 'lower', digits: 2 },
  ],
  // … and ≥ 0.8× the raw TCP echo.
  comparisons: [{ metric: 'messagesPerS', subject: NETLAB, against: TCP_FLOOR, target: 0.8, label: 'WS echo throughput, netlab --quiet ÷ TCP pipe' }],
  extras: cpuExtras('echo throughput'),
  async warmUp(server, mode) {
    await messages(load, { ...THROUGHPUT[mode], durationMs: WARMUP_MS[mode], host: server.host, port: server.port });
  },
  async measure(server, mode) {
    const run = await withServerCpu(server, (options) => messages(load, options), THROUGHPUT[mode]);
    return { messagesPerS: run.messagesPerS, serverCpuUsPerMessage: (run.serverCpuMs * 1000) / run.echoes, ...cpuShares(run) };
  },
}));

export const bulk = eitherProtocol((load) => ({
  name: 'bulk echo',
  metrics: [
    { key: 'mbPerS', label: 'bulk echo, 1 MiB messages, 4 × 4 in flight, MB/s', better: 'higher', digits: 0 },
    { key: 'serverCpuMsPerMB', label: 'server CPU, ms per MB', better: 'lower', digits: 3 },
  ],
  // Issue #10: 1 MiB WS echo ≥ 0.8× the socket.pipe echo.
  comparisons: [{ metric: 'mbPerS', subject: NETLAB, against: TCP_FLOOR, target: 0.8, label: 'WS 1 MiB bulk echo, netlab --quiet ÷ TCP pipe' }],
  extras: cpuExtras('bulk echo'),
  async warmUp(server, mode) {
    await messages(load, { ...BULK[mode], durationMs: WARMUP_MS[mode], host: server.host, port: server.port });
  },
  async measure(server, mode) {
    const run = await withServerCpu(server, (options) => messages(load, options), BULK[mode]);
    const mb = (run.echoes * BULK[mode].messageBytes) / 1e6;
    return { mbPerS: mb / run.seconds, serverCpuMsPerMB: run.serverCpuMs / mb, ...cpuShares(run) };
  },
}));
