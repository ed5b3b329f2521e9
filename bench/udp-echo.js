/**
 * The udp-echo benchmark: `netlab udp-echo serve` against the floor, a Node server that is
 * only `socket.on('message', (m, r) => socket.send(m, r.port, r.address))`
 * (bench/reference/udp-echo-minimal.js), in the same run.
 *
 * Servers: netlab with --quiet (logs nothing per datagram), netlab as a student first runs it
 * (one log line per datagram, its stdout read by the bench like a terminal would), and the
 * floor. Each runs in its own process; the load runs in the bench process (lib/udp-load.js).
 *
 * Figures, per server, with 64-byte datagrams of printable text:
 *   round trip     one datagram in flight, 20,000 round trips timed after a warm-up: p50 and
 *                  p99; server CPU time per round trip.
 *   datagram rate  64 datagrams always in flight, replies per second counted for 1.5 s;
 *                  server CPU time per datagram.
 * Targets (the issue's, in the spirit of tcp-echo's): round trip p50 ≤ 1.2× the floor, datagrams
 * per second ≥ 0.9×, with and without --quiet.
 *
 * Leaves out: loss under an offered rate the server cannot keep up with (issue #10; see
 * BENCHMARKS.md for why it is not measured here yet), impairment (--drop, --delay… are for a
 * lesson, not a hot path), many clients, and any network but loopback.
 */
import { roundTripFigure } from './lib/round-trip-figure.js';
import { withServerCpu } from './lib/server-process.js';
import { measureDatagramRate, measureRoundTrips } from './lib/udp-load.js';

/**
 * 64 in flight: enough that neither process waits for the other, and far below what the
 * kernel's default socket buffer (212,992 bytes, the floor's) holds, so no datagram is dropped
 * for want of room; with 256 in flight the floor's socket overflowed (see BENCHMARKS.md).
 */
const RATE = {
  full: { messageBytes: 64, window: 64, rampMs: 300, durationMs: 1500 },
  smoke: { messageBytes: 64, window: 8, rampMs: 10, durationMs: 50, verify: true },
};
/** Before the rounds: long enough for V8 to compile the hot paths of server and load. */
const RATE_WARMUP_MS = { full: 1000, smoke: 20 };

const roundTrip = roundTripFigure(measureRoundTrips, {
  extras: [{ key: 'lost', label: 'datagrams lost during round trips, worst round', scale: 1, digits: 0, worst: true }],
  results: (run) => ({ lost: run.lost }),
});

const rate = {
  name: 'datagram rate',
  metrics: [
    { key: 'datagramsPerS', label: 'datagrams per second, 64 in flight', better: 'higher', target: 0.9, digits: 0 },
    { key: 'serverCpuUsPerDatagram', label: 'server CPU, µs per datagram', better: 'lower', digits: 2 },
  ],
  // Shares of one core during the counted window: if the load's were near 100 % and the
  // server's well below, the figure would be the load's limit, not the server's.
  extras: [
    { key: 'serverCpuShare', label: 'server CPU during the datagram rate, % of one core', scale: 100, digits: 0 },
    { key: 'clientCpuShare', label: 'load (bench process) CPU during the datagram rate, % of one core', scale: 100, digits: 0 },
    { key: 'lost', label: 'datagrams lost during the datagram rate, worst round', scale: 1, digits: 0, worst: true },
  ],
  async warmUp(server, mode) {
    await measureDatagramRate({ ...RATE[mode], durationMs: RATE_WARMUP_MS[mode], host: server.host, port: server.port });
  },
  async measure(server, mode) {
    const run = await withServerCpu(server, measureDatagramRate, RATE[mode]);
    return {
      datagramsPerS: run.repliesPerS,
      serverCpuUsPerDatagram: (run.serverCpuMs * 1000) / run.replies,
      serverCpuShare: run.serverCpuMs / (run.seconds * 1000),
      clientCpuShare: run.clientCpuMs / (run.seconds * 1000),
      lost: run.lost,
    };
  },
};

/** The benchmark as bench/run.js and lib/compare.js expect it. */
export default {
  name: 'udp-echo',
  title: "UDP echo: netlab udp-echo serve against socket.on('message', (m, r) => socket.send(m, r.port, r.address))",
  reference: { label: 'node dgram (floor)', args: ['bench/reference/udp-echo-minimal.js', '--port', '0'] },
  subjects: [
    { label: 'netlab --quiet', args: ['bin/netlab.js', 'udp-echo', 'serve', '--port', '0', '--quiet'] },
    { label: 'netlab, logging', args: ['bin/netlab.js', 'udp-echo', 'serve', '--port', '0'] },
  ],
  figures: [roundTrip, rate],
};
