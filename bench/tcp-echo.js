/**
 * The tcp-echo benchmark: `netlab tcp-echo serve` against the floor, a Node server that is
 * only `socket.pipe(socket)` (bench/reference/tcp-echo-pipe.js), in the same run.
 *
 * Servers: netlab with --quiet (logs connections only), netlab as a student first runs it
 * (one log line per read, its stdout read by the bench like a terminal would), and the floor.
 * Each runs in its own process; the load runs in the bench process (lib/tcp-load.js).
 *
 * Figures, per server:
 *   throughput   8 connections, each keeping 256 KiB in flight in 64 KiB writes, echoed MB/s
 *                counted for 3 s; server CPU time per MB echoed.
 *   round trip   one connection, one 64-byte message in flight, 20,000 round trips timed
 *                after a warm-up: p50 and p99; server CPU time per round trip.
 * Targets (the issue's): throughput ≥ 0.9× the floor, round trip p50 ≤ 1.2×, with and
 * without --quiet.
 *
 * Leaves out: many idle connections, connection setup rate, half-close and slow readers
 * (tests cover their behaviour; they are not hot paths), and any network but loopback.
 */
import { roundTripFigure } from './lib/round-trip-figure.js';
import { withServerCpu } from './lib/server-process.js';
import { measureRoundTrips, measureThroughput } from './lib/tcp-load.js';

const THROUGHPUT = {
  full: { connections: 8, chunkBytes: 64 * 1024, windowBytes: 256 * 1024, rampMs: 300, durationMs: 3000 },
  smoke: { connections: 2, chunkBytes: 64 * 1024, windowBytes: 128 * 1024, rampMs: 50, durationMs: 300, verify: true },
};
/** Before the rounds: long enough for V8 to compile the hot paths of server and load. */
const THROUGHPUT_WARMUP_MS = { full: 1500, smoke: 100 };

const throughput = {
  name: 'throughput',
  metrics: [
    { key: 'mbPerS', label: 'throughput, MB/s', better: 'higher', target: 0.9, digits: 0 },
    { key: 'serverCpuMsPerMB', label: 'server CPU, ms per MB', better: 'lower', digits: 3 },
  ],
  // Shares of one core during the counted window: if the load's were near 100 % and the
  // server's well below, the figure would be the load's limit, not the server's.
  extras: [
    { key: 'serverCpuShare', label: 'server CPU during throughput, % of one core', scale: 100, digits: 0 },
    { key: 'clientCpuShare', label: 'load (bench process) CPU during throughput, % of one core', scale: 100, digits: 0 },
  ],
  async warmUp(server, mode) {
    await measureThroughput({ ...THROUGHPUT[mode], durationMs: THROUGHPUT_WARMUP_MS[mode], host: server.host, port: server.port });
  },
  async measure(server, mode) {
    const run = await withServerCpu(server, measureThroughput, THROUGHPUT[mode]);
    const mb = run.echoedBytes / 1e6;
    return {
      mbPerS: run.mbPerS,
      serverCpuMsPerMB: run.serverCpuMs / mb,
      serverCpuShare: run.serverCpuMs / (run.seconds * 1000),
      clientCpuShare: run.clientCpuMs / (run.seconds * 1000),
    };
  },
};

/** The benchmark as bench/run.js and lib/compare.js expect it. */
export default {
  name: 'tcp-echo',
  title: 'TCP echo: netlab tcp-echo serve against net.createServer((s) => s.pipe(s))',
  reference: { label: 'node pipe (floor)', args: ['bench/reference/tcp-echo-pipe.js', '--port', '0'] },
  subjects: [
    { label: 'netlab --quiet', args: ['bin/netlab.js', 'tcp-echo', 'serve', '--port', '0', '--quiet'] },
    { label: 'netlab, logging', args: ['bin/netlab.js', 'tcp-echo', 'serve', '--port', '0'] },
  ],
  figures: [throughput, roundTripFigure(measureRoundTrips)],
};
