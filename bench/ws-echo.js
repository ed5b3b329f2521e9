/**
 * The ws-echo benchmark: `netlab ws-echo serve` against the floor, a stock ws WebSocketServer
 * that is only `ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }))`
 * (bench/reference/ws-echo-minimal.js), in the same run. Both use the same ws library with
 * permessage-deflate off, so the gap is what netlab adds around it.
 *
 * Servers: netlab with --quiet (logs connections only), netlab as a student first runs it
 * (one log line per message, its stdout read by the bench like a terminal would), and the
 * floor. Each runs in its own process; the load runs in the bench process (lib/ws-load.js).
 *
 * Figures, per server, with 64-byte text messages:
 *   round trip     one connection, one message in flight, 20,000 round trips timed after a
 *                  warm-up: p50 and p99; server CPU time per round trip.
 *   message rate   8 connections, each keeping 32 messages in flight, echoes per second
 *                  counted for 1.5 s; server CPU time per message.
 * Targets (issue #5's): messages per second ≥ 0.9× the floor, round trip p50 ≤ 1.2×, with and
 * without --quiet.
 *
 * Leaves out: the handshake rate, many idle connections, large and binary messages,
 * fragmented messages, the page (plain HTTP), the heartbeat and back-pressure (tests cover
 * their behaviour; they are not hot paths), and any network but loopback.
 */
import { roundTripFigure } from './lib/round-trip-figure.js';
import { withServerCpu } from './lib/server-process.js';
import { measureMessageRate, measureRoundTrips } from './lib/ws-load.js';

/**
 * 8 × 32 in flight: enough that neither process waits for the other (the server always has
 * frames to read, the load always has echoes), while each connection's window stays a few KiB,
 * far below any socket buffer, so back-pressure never starts.
 */
const RATE = {
  full: { connections: 8, window: 32, messageBytes: 64, rampMs: 300, durationMs: 1500 },
  smoke: { connections: 2, window: 4, messageBytes: 64, rampMs: 10, durationMs: 50, verify: true },
};
/** Before the rounds: long enough for V8 to compile the hot paths of server and load. */
const RATE_WARMUP_MS = { full: 1000, smoke: 20 };

const rate = {
  name: 'message rate',
  metrics: [
    { key: 'messagesPerS', label: 'messages per second, 8 × 32 in flight', better: 'higher', target: 0.9, digits: 0 },
    { key: 'serverCpuUsPerMessage', label: 'server CPU, µs per message', better: 'lower', digits: 2 },
  ],
  // Shares of one core during the counted window: if the load's were near 100 % and the
  // server's well below, the figure would be the load's limit, not the server's.
  extras: [
    { key: 'serverCpuShare', label: 'server CPU during the message rate, % of one core', scale: 100, digits: 0 },
    { key: 'clientCpuShare', label: 'load (bench process) CPU during the message rate, % of one core', scale: 100, digits: 0 },
  ],
  async warmUp(server, mode) {
    await measureMessageRate({ ...RATE[mode], durationMs: RATE_WARMUP_MS[mode], host: server.host, port: server.port });
  },
  async measure(server, mode) {
    const run = await withServerCpu(server, measureMessageRate, RATE[mode]);
    return {
      messagesPerS: run.messagesPerS,
      serverCpuUsPerMessage: (run.serverCpuMs * 1000) / run.echoes,
      serverCpuShare: run.serverCpuMs / (run.seconds * 1000),
      clientCpuShare: run.clientCpuMs / (run.seconds * 1000),
    };
  },
};

/** The benchmark as bench/run.js and lib/compare.js expect it. */
export default {
  name: 'ws-echo',
  title: "WebSocket echo: netlab ws-echo serve against ws's WebSocketServer with ws.on('message', (d, b) => ws.send(d, { binary: b }))",
  reference: { label: 'node ws (floor)', args: ['bench/reference/ws-echo-minimal.js', '--port', '0'] },
  subjects: [
    { label: 'netlab --quiet', args: ['bin/netlab.js', 'ws-echo', 'serve', '--port', '0', '--quiet'] },
    { label: 'netlab, logging', args: ['bin/netlab.js', 'ws-echo', 'serve', '--port', '0'] },
  ],
  figures: [roundTripFigure(measureRoundTrips), rate],
};
