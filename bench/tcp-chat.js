/**
 * The tcp-chat benchmark: `netlab tcp-chat serve` against the floor, a Node server that is only
 * a Set of sockets and a line split (bench/reference/tcp-chat-broadcast.js), in the same run.
 *
 * Servers: netlab with --quiet (logs joins and leaves only), netlab as a teacher first runs it
 * (one log line per message, its stdout read by the bench like a terminal would), and the
 * floor. Both netlab variants run with --rate 1000, the most the CLI accepts (burst 2000): the
 * default, 10 messages a second per client, is a classroom's flood guard, and this measures
 * fan-out, not throttling. The load fails the run if the server ever says "slow down".
 * Each server runs in its own process; the load runs in the bench process (lib/chat-load.js).
 *
 * Figures, per server, with 100 clients in one chat:
 *   fan-out    the clients take turns to send so that 100 (then 1,000) messages are always in
 *              flight, each until all 99 others have it; deliveries per second counted for
 *              1 s; server CPU time per delivery.
 *   latency    10 of the clients send 50 messages a second each (500 messages, 49,500
 *              deliveries a second), every delivery timed send → receive for 1.5 s: p50 and
 *              p99; server CPU time per delivery at that load.
 * Target (the issue's): fan-out ≥ 0.8× the floor's deliveries per second, with and without
 * --quiet.
 *
 * Leaves out: commands, renames and private messages (not the hot path), slow readers and the
 * queue cap (tests cover them), joins and leaves under load, and any network but loopback.
 */
import { measureDeliveryLatency, measureFanOut } from './lib/chat-load.js';
import { withServerCpu } from './lib/server-process.js';

const CLIENTS = { full: 100, smoke: 4 };

/**
 * Two depths of backlog: 100 messages in flight (one per client, on average: the server's reads
 * mostly hold one line) and 1,000 (ten per client: its reads hold several lines, and a server
 * that batches its writes can send several messages in one system call).
 */
const FAN_OUT_DEPTHS = [100, 1000];
const FAN_OUT = {
  full: { clients: CLIENTS.full, rampMs: 300, durationMs: 1000 },
  smoke: { clients: CLIENTS.smoke, rampMs: 10, durationMs: 50, verify: true },
};
/** Smoke: the same two shapes, scaled to 4 clients (1 and 10 in flight per client). */
const SMOKE_IN_FLIGHT = { 100: 4, 1000: 40 };
/** Before the rounds: long enough for V8 to compile the hot paths of server and load. */
const FAN_OUT_WARMUP_MS = { full: 1000, smoke: 20 };

const LATENCY = {
  full: { clients: CLIENTS.full, senders: 10, ratePerSender: 50, warmupMs: 300, durationMs: 1500 },
  smoke: { clients: CLIENTS.smoke, senders: 2, ratePerSender: 100, warmupMs: 10, durationMs: 50, verify: true },
};
const LATENCY_WARMUP_MS = { full: 1000, smoke: 20 };

/** The fan-out figure at one depth of backlog: `inFlight` messages always on their way (full run). */
function fanOut(inFlight) {
  const load = (mode) => ({ ...FAN_OUT[mode], inFlight: mode === 'smoke' ? SMOKE_IN_FLIGHT[inFlight] : inFlight });
  const depth = `${inFlight.toLocaleString('en-US')} in flight`;
  return {
    name: `fan-out, ${depth}`,
    metrics: [
      { key: 'deliveriesPerS', label: `fan-out, ${depth}, deliveries/s`, better: 'higher', target: 0.8, digits: 0 },
      { key: 'serverCpuUsPerDelivery', label: `server CPU, ${depth}, µs per delivery`, better: 'lower', digits: 2 },
    ],
    // Shares of one core during the counted window: if the load's were near 100 % and the
    // server's well below, the figure would be the load's limit, not the server's.
    extras: [
      { key: 'serverCpuShare', label: `server CPU during fan-out, ${depth}, % of one core`, scale: 100, digits: 0 },
      { key: 'clientCpuShare', label: `load (bench process) CPU during fan-out, ${depth}, % of one core`, scale: 100, digits: 0 },
    ],
    async warmUp(server, mode) {
      await measureFanOut({ ...load(mode), durationMs: FAN_OUT_WARMUP_MS[mode], host: server.host, port: server.port });
    },
    async measure(server, mode) {
      const run = await withServerCpu(server, measureFanOut, load(mode));
      return {
        deliveriesPerS: run.deliveriesPerS,
        serverCpuUsPerDelivery: (run.serverCpuMs * 1000) / run.deliveries,
        serverCpuShare: run.serverCpuMs / (run.seconds * 1000),
        clientCpuShare: run.clientCpuMs / (run.seconds * 1000),
      };
    },
  };
}

const latency = {
  name: 'latency',
  metrics: [
    { key: 'p50Us', label: 'delivery latency p50, µs', better: 'lower', digits: 0 },
    { key: 'p99Us', label: 'delivery latency p99, µs', better: 'lower', digits: 0 },
    { key: 'serverCpuUsPerDelivery', label: 'server CPU at that load, µs per delivery', better: 'lower', digits: 2 },
  ],
  extras: [
    { key: 'deliveriesPerS', label: 'deliveries per second at the latency load', scale: 1, digits: 0 },
    { key: 'serverCpuShare', label: 'server CPU at the latency load, % of one core', scale: 100, digits: 0 },
  ],
  async warmUp(server, mode) {
    await measureDeliveryLatency({ ...LATENCY[mode], durationMs: LATENCY_WARMUP_MS[mode], host: server.host, port: server.port });
  },
  async measure(server, mode) {
    const run = await withServerCpu(server, measureDeliveryLatency, LATENCY[mode]);
    return {
      p50Us: run.samples.percentile(50),
      p99Us: run.samples.percentile(99),
      serverCpuUsPerDelivery: (run.serverCpuMs * 1000) / run.samples.count,
      deliveriesPerS: run.samples.count / run.seconds,
      serverCpuShare: run.serverCpuMs / (run.seconds * 1000),
    };
  },
};

/** --rate 1000: the most the CLI accepts, so that the figures are fan-out, not throttling (see above). */
const serve = ['bin/netlab.js', 'tcp-chat', 'serve', '--port', '0', '--rate', '1000', '--max-line', '65536'];

/** The benchmark as bench/run.js and lib/compare.js expect it. */
export default {
  name: 'tcp-chat',
  title: 'TCP chat, 100 clients in one chat: netlab tcp-chat serve against a Set of sockets and a line split (smoke: 4 clients)',
  reference: { label: 'node broadcast (floor)', args: ['bench/reference/tcp-chat-broadcast.js', '--port', '0'] },
  subjects: [
    { label: 'netlab --quiet', args: [...serve, '--quiet'] },
    { label: 'netlab, logging', args: serve },
  ],
  figures: [...FAN_OUT_DEPTHS.map(fanOut), latency],
};
