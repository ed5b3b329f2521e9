/**
 * The tcp-chat benchmark: `netlab tcp-chat serve` against the floor, a Node server that is only
 * a Set of sockets and a line split (bench/reference/tcp-chat-broadcast.js), in the same run.
 *
 * Servers: netlab with --quiet (logs joins and leaves only), netlab logging every message
 * with its stdout sent to a file (as `> chat.log`), and the floor. Both netlab variants run
 * with --rate 1000, the most the CLI accepts (burst 2000): the default, 10 messages a second
 * per client, is a classroom's flood guard, and this measures fan-out, not throttling. The
 * load fails the run if the server ever says "slow down". Each server runs in its own
 * process; the load runs in the bench process (lib/chat-load.js, on lib/tcp-chat-room.js).
 *
 * Figures, per server, in one chat of 100 clients, then the same again with 1,000:
 *   fan-out       the clients take turns to send so that 100 messages are always in flight,
 *                 each until every other client has it; deliveries per second counted for
 *                 1 s, and every one of them timed send → receive (p50, p99, p99.9); server
 *                 CPU time per delivery.
 *   lone message  one message at a time in an otherwise idle chat (50 ms between messages,
 *                 see LONE), the next sent once every other client has the last; every
 *                 delivery timed (p50, p99, p99.9: the target is on each delivery's p50), and
 *                 the last of each message (when everyone has it: p50); server CPU time per
 *                 delivery (coarse here: the server uses a few 10 ms clock ticks per run).
 * Targets (the issue's): fan-out ≥ 1.5× the floor's deliveries per second and its p99 ≤ 0.7×
 * the floor's, at 100 and at 1,000 clients; a lone message's p50 ≤ 1.05× the floor's (each
 * delivery); logging to a file ≥ 0.8× --quiet's fan-out (the figure's `comparisons`).
 *
 * Each chat is opened once per server, in its first figure's warm-up, and kept for the rounds
 * and for the next figure (as ws-chat.js does): seating 1,000 clients takes netlab about 4 s
 * (the floor well under 1 s), since every join is a notice to everyone already there, half a
 * million lines in all. The 1,000's warm-up closes the 100; the last chat is ended by the
 * servers' shutdown at the end of the benchmark.
 *
 * Leaves out: a fixed offered rate between the busy and the idle end (this benchmark's earlier
 * latency figure; the two ends say more in the same time), commands, renames and private
 * messages (not the hot path), slow readers and the queue cap (tests cover them), joins and
 * leaves under load, and any network but loopback.
 */
import { closeRoom, measureFanOut, measureLoneMessage, openRoom } from './lib/chat-load.js';
import { withServerCpu } from './lib/server-process.js';

/** The chats, by the size the figures are named after; smoke runs scale them down. */
const CHAT_CLIENTS = { 100: { full: 100, smoke: 4 }, 1000: { full: 1000, smoke: 8 } };
/** 100 in flight in both chats: one per client in the small one; about 5 KB queued for any recipient. */
const IN_FLIGHT = { full: 100, smoke: 8 };
const FAN_OUT = {
  full: { rampMs: 300, durationMs: 1000 },
  smoke: { rampMs: 10, durationMs: 50, verify: true },
};
/**
 * Lone messages, `gapMs` apart (counted from the last delivery of one to the next send): more
 * than the 40 ms a Linux receiver may wait to acknowledge a small segment (its delayed-ACK
 * timer), so that each message meets a chat whose connections are all quiet. Sent back to
 * back, the floor, with Nagle's algorithm on (Node's default), would hold most messages until
 * the previous one's ACK came, up to 40 ms later: a measure of Nagle, not of an idle chat.
 * 40 messages make 3,960 deliveries at 100 clients; 20 make 19,980 at 1,000.
 */
const LONE = {
  100: { full: { warmup: 2, count: 40, gapMs: 50 }, smoke: { warmup: 2, count: 10, gapMs: 0, verify: true } },
  1000: { full: { warmup: 2, count: 20, gapMs: 50 }, smoke: { warmup: 2, count: 10, gapMs: 0, verify: true } },
};
/** Before the rounds: long enough for V8 to compile the hot paths of server and load. */
const WARMUP_MS = { full: 1000, smoke: 20 };
const LONE_WARMUP_MESSAGES = { 100: { full: 20, smoke: 5 }, 1000: { full: 10, smoke: 5 } };

/** Per server (by label), the one chat it holds between runs: `{ clients, room, seconds }`. */
const held = new Map();

/** The chat of `clients` that `server` holds, opened (and the one before closed) on first use. */
async function chatOf(server, clients, mode) {
  const current = held.get(server.label);
  if (current?.clients === clients) return current;
  held.delete(server.label);
  if (current) await closeRoom(current.room);
  const start = performance.now();
  const room = await openRoom({ host: server.host, port: server.port, size: CHAT_CLIENTS[clients][mode] });
  const opened = { clients, room, seconds: (performance.now() - start) / 1000 };
  held.set(server.label, opened);
  return opened;
}

/** A histogram's percentile; NaN for none (a smoke run's window can fall in one of the floor's Nagle stalls). */
const percentile = (histogram, p) => (histogram.count === 0 ? NaN : histogram.percentile(p));

const LOGGING = 'netlab, logging to a file';
const QUIET = 'netlab --quiet';

/** The fan-out figure in the chat of `clients`. */
function fanOut(clients) {
  const where = `${clients.toLocaleString('en-US')} clients`;
  const load = (mode) => ({ ...FAN_OUT[mode], inFlight: IN_FLIGHT[mode] });
  return {
    name: `fan-out, ${where}`,
    metrics: [
      { key: 'deliveriesPerS', label: `fan-out, ${where}, deliveries/s`, better: 'higher', target: 1.5, digits: 0 },
      { key: 'p50Us', label: `fan-out, ${where}, latency p50, µs`, better: 'lower', digits: 0 },
      { key: 'p99Us', label: `fan-out, ${where}, latency p99, µs`, better: 'lower', target: 0.7, digits: 0 },
      { key: 'p999Us', label: `fan-out, ${where}, latency p99.9, µs`, better: 'lower', digits: 0 },
      { key: 'serverCpuUsPerDelivery', label: `server CPU, fan-out, ${where}, µs per delivery`, better: 'lower', digits: 2 },
    ],
    comparisons: [
      { metric: 'deliveriesPerS', subject: LOGGING, against: QUIET, target: 0.8, label: `fan-out, ${where}, logging to a file ÷ --quiet` },
    ],
    // Shares of one core during the counted window: if the load's were near 100 % and the
    // server's well below, the figure would be the load's limit, not the server's.
    extras: [
      { key: 'serverCpuShare', label: `server CPU during fan-out, ${where}, % of one core`, scale: 100, digits: 0 },
      { key: 'clientCpuShare', label: `load (bench process) CPU during fan-out, ${where}, % of one core`, scale: 100, digits: 0 },
      { key: 'joinSeconds', label: `time to connect the ${where} and seat them in the chat, s`, scale: 1, digits: 2 },
    ],
    async warmUp(server, mode) {
      const { room } = await chatOf(server, clients, mode);
      await measureFanOut({ ...load(mode), durationMs: WARMUP_MS[mode], room });
    },
    async measure(server, mode) {
      const { room, seconds } = await chatOf(server, clients, mode);
      const run = await withServerCpu(server, measureFanOut, { ...load(mode), room });
      return {
        deliveriesPerS: run.deliveriesPerS,
        p50Us: percentile(run.latency, 50),
        p99Us: percentile(run.latency, 99),
        p999Us: percentile(run.latency, 99.9),
        serverCpuUsPerDelivery: (run.serverCpuMs * 1000) / run.deliveries,
        serverCpuShare: run.serverCpuMs / (run.seconds * 1000),
        clientCpuShare: run.clientCpuMs / (run.seconds * 1000),
        joinSeconds: seconds,
      };
    },
  };
}

/** The lone-message figure in the chat of `clients`. */
function loneMessage(clients) {
  const where = `${clients.toLocaleString('en-US')} clients`;
  return {
    name: `lone message, ${where}`,
    metrics: [
      { key: 'p50Us', label: `lone message, ${where}, each delivery p50, µs`, better: 'lower', target: 1.05, digits: 0 },
      { key: 'p99Us', label: `lone message, ${where}, each delivery p99, µs`, better: 'lower', digits: 0 },
      { key: 'p999Us', label: `lone message, ${where}, each delivery p99.9, µs`, better: 'lower', digits: 0 },
      { key: 'lastP50Us', label: `lone message, ${where}, last delivery p50, µs`, better: 'lower', digits: 0 },
      { key: 'serverCpuUsPerDelivery', label: `server CPU, lone message, ${where}, µs per delivery`, better: 'lower', digits: 2 },
    ],
    async warmUp(server, mode) {
      const { room } = await chatOf(server, clients, mode);
      await measureLoneMessage({ ...LONE[clients][mode], warmup: 0, count: LONE_WARMUP_MESSAGES[clients][mode], room });
    },
    async measure(server, mode) {
      const { room } = await chatOf(server, clients, mode);
      const run = await withServerCpu(server, measureLoneMessage, { ...LONE[clients][mode], room });
      return {
        p50Us: run.each.percentile(50),
        p99Us: run.each.percentile(99),
        p999Us: run.each.percentile(99.9),
        lastP50Us: run.last.percentile(50),
        serverCpuUsPerDelivery: (run.serverCpuMs * 1000) / run.deliveries,
      };
    },
  };
}

/** --rate 1000: the most the CLI accepts, so that the figures are fan-out, not throttling (see above). */
const serve = ['bin/netlab.js', 'tcp-chat', 'serve', '--port', '0', '--rate', '1000'];

/** The benchmark as bench/run.js and lib/compare.js expect it. */
export default {
  name: 'tcp-chat',
  title:
    'TCP chat, one chat of 100 clients, then of 1,000: netlab tcp-chat serve against a Set of sockets and a line split ' +
    '(smoke: 4 and 8 clients)',
  reference: { label: 'node broadcast (floor)', args: ['bench/reference/tcp-chat-broadcast.js', '--port', '0'] },
  subjects: [
    { label: QUIET, args: [...serve, '--quiet'] },
    { label: LOGGING, args: serve, stdout: 'file' },
  ],
  figures: [fanOut(100), loneMessage(100), fanOut(1000), loneMessage(1000)],
};
