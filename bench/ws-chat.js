/**
 * The ws-chat benchmark: `netlab ws-chat serve` against the floor, the broadcast loop of the ws
 * README applied to a Map of rooms (bench/reference/ws-chat-broadcast.js), in the same run.
 * Both use the same ws library with permessage-deflate off, so the gap is what netlab does
 * around it, and how it writes.
 *
 * Servers: netlab with --quiet (logs connections, joins and leaves only), netlab logging every
 * message with its stdout sent to a file (as `> chat.log`), and the floor. Both netlab variants
 * run with --rate 100000: the default, 10 messages a second per client, is a classroom's flood
 * guard, and this measures fan-out, not throttling (the load fails the run if the server ever
 * says "slow down"). Each server runs in its own process, started with the memory probe
 * (lib/ws-idle-memory.js); the load runs in the bench process (lib/ws-chat-load.js).
 *
 * Figures, per server, in this order:
 *   idle memory    first, while the servers are fresh: 5,000 clients joined in rooms of 25,
 *                  silent; the server's memory after a full garbage collection, minus the
 *                  same before they came, per connection, as RSS without V8's free heap and
 *                  as JS heap and buffers (lib/ws-idle-memory.js says why two).
 *   memory churn   five cycles of 5,000 clients connecting, joining (rooms of 25) and leaving;
 *                  RSS after a full GC after the fifth cycle ÷ after the first. One round:
 *                  it takes 10–25 s per server (lib/ws-chat-memory-figures.js has both).
 *   fan-out        one room of 100 (then 1,000) clients taking turns to send, so that 100
 *                  messages are always in flight, each until every client of the room has
 *                  it, the sender too; deliveries per second counted for 1 s, and every one
 *                  of them timed send → receive (p50, p99, p99.9); server CPU per delivery.
 *   lone message   one message at a time in the same room, otherwise idle, the next sent once
 *                  every client has the last; every delivery timed (p50, p99, p99.9), and the
 *                  last of each message (when the whole room has it: p50).
 * Targets (the issue's): fan-out ≥ 1.5× the floor's deliveries per second and its p99 ≤ 0.7×
 * the floor's, at 100 and at 1,000 clients; a lone message's p50 ≤ 1.05× the floor's (each
 * delivery); logging to a file ≥ 0.8× --quiet's fan-out; RSS after the fifth churn cycle
 * ≤ 1.10× after the first, for netlab and the floor. The logging server is measured in the
 * fan-out figures only: elsewhere it is the same server as --quiet.
 *
 * Each room is opened once per server, in its first figure's warm-up, and kept for the rounds
 * and for the next figure: netlab takes 2–11 s, depending on the machine, to seat 1,000 clients
 * in one room (every join is a notice to everyone already there: about 500,000 notices), far
 * too long to repeat for every round. The next set's warm-up closes the one before; the last
 * one is ended by the servers' shutdown.
 *
 * Leaves out: a fixed offered rate between the busy and the idle end (the two ends say more in
 * the same time), private messages, renames and history (not the hot path), slow readers and
 * the queue cap (tests cover them), joins and leaves under load, and any network but loopback.
 */
import { closeRoom, measureFanOut, measureLoneMessage, openRoom } from './lib/ws-chat-load.js';
import { memoryFigures } from './lib/ws-chat-memory-figures.js';
import { MEMORY_PROBE_FLAGS } from './lib/ws-idle-memory.js';
import { withServerCpu } from './lib/server-process.js';

/** The rooms, by the size the figures are named after; smoke runs scale them down. */
const ROOM_CLIENTS = { 100: { full: 100, smoke: 4 }, 1000: { full: 1000, smoke: 8 } };
/** 100 in flight in both rooms: one per client in the small room; at most about 15 KB queued for any recipient. */
const IN_FLIGHT = { full: 100, smoke: 8 };
const FAN_OUT = {
  full: { rampMs: 300, durationMs: 1000 },
  smoke: { rampMs: 10, durationMs: 50, verify: true },
};
/**
 * Messages per lone-message run: enough for a steady p50 and p99 of each delivery (30,000
 * and 60,000 of them), and a p50 of the last; under a second per run on the floor.
 */
const LONE = {
  100: { full: { warmup: 20, count: 300 }, smoke: { warmup: 2, count: 10, verify: true } },
  1000: { full: { warmup: 5, count: 60 }, smoke: { warmup: 2, count: 10, verify: true } },
};
const LONE_WARMUP_MESSAGES = { 100: { full: 200, smoke: 5 }, 1000: { full: 40, smoke: 5 } };
/** Before the rounds: long enough for V8 to compile the hot paths of server and load. */
const WARMUP_MS = { full: 1000, smoke: 20 };

const QUIET = 'netlab --quiet';
const LOGGING = 'netlab, logging to a file';
/** The figures that are not about fan-out measure the same server whether it logs or not. */
const isLoggingServer = (server) => server.spec?.logging === true;

/** Per server (by label), the one set of clients it holds between runs: `{ key, room, ... }`. */
const held = new Map();

/** Closes the clients `server` holds, if any. */
async function release(server) {
  const current = held.get(server.label);
  held.delete(server.label);
  if (current) await closeRoom(current.room);
}

/** The clients `server` holds under `key`, opened by `open()` if it holds others (those are closed first). */
async function hold(server, key, open) {
  const current = held.get(server.label);
  if (current?.key === key) return current;
  await release(server);
  const opened = { key, ...(await open()) };
  held.set(server.label, opened);
  return opened;
}

/** The room of `clients` that `server` holds, and how long it took to connect and seat them all. */
const roomOf = (server, clients, mode) =>
  hold(server, `room of ${clients}`, async () => {
    const start = performance.now();
    const room = await openRoom({ host: server.host, port: server.port, size: ROOM_CLIENTS[clients][mode] });
    return { room, seconds: (performance.now() - start) / 1000 };
  });

/** The fan-out figure in the room of `clients`. */
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
      { key: 'joinSeconds', label: `time to connect the ${where} and seat them in the room, s`, scale: 1, digits: 1 },
    ],
    async warmUp(server, mode) {
      const { room } = await roomOf(server, clients, mode);
      await measureFanOut({ ...load(mode), durationMs: WARMUP_MS[mode], room });
    },
    async measure(server, mode) {
      const { room, seconds } = await roomOf(server, clients, mode);
      const run = await withServerCpu(server, measureFanOut, { ...load(mode), room });
      return {
        deliveriesPerS: run.deliveriesPerS,
        p50Us: run.latency.percentile(50),
        p99Us: run.latency.percentile(99),
        p999Us: run.latency.percentile(99.9),
        serverCpuUsPerDelivery: (run.serverCpuMs * 1000) / run.deliveries,
        serverCpuShare: run.serverCpuMs / (run.seconds * 1000),
        clientCpuShare: run.clientCpuMs / (run.seconds * 1000),
        joinSeconds: seconds,
      };
    },
  };
}

/** The lone-message figure in the room of `clients`. */
function loneMessage(clients) {
  const where = `${clients.toLocaleString('en-US')} clients`;
  return {
    name: `lone message, ${where}`,
    skip: isLoggingServer,
    metrics: [
      { key: 'p50Us', label: `lone message, ${where}, each delivery p50, µs`, better: 'lower', target: 1.05, digits: 0 },
      { key: 'p99Us', label: `lone message, ${where}, each delivery p99, µs`, better: 'lower', digits: 0 },
      { key: 'p999Us', label: `lone message, ${where}, each delivery p99.9, µs`, better: 'lower', digits: 0 },
      { key: 'lastP50Us', label: `lone message, ${where}, last delivery p50, µs`, better: 'lower', digits: 0 },
      { key: 'serverCpuUsPerDelivery', label: `server CPU, lone message, ${where}, µs per delivery`, better: 'lower', digits: 2 },
    ],
    extras: [{ key: 'messagesPerS', label: `lone messages per second, ${where}`, scale: 1, digits: 0 }],
    async warmUp(server, mode) {
      const { room } = await roomOf(server, clients, mode);
      await measureLoneMessage({ ...LONE[clients][mode], warmup: 0, count: LONE_WARMUP_MESSAGES[clients][mode], room });
    },
    async measure(server, mode) {
      const { room } = await roomOf(server, clients, mode);
      const run = await withServerCpu(server, measureLoneMessage, { ...LONE[clients][mode], room });
      return {
        p50Us: run.each.percentile(50),
        p99Us: run.each.percentile(99),
        p999Us: run.each.percentile(99.9),
        lastP50Us: run.last.percentile(50),
        serverCpuUsPerDelivery: (run.serverCpuMs * 1000) / run.deliveries,
        messagesPerS: LONE[clients][mode].count / run.seconds,
      };
    },
  };
}

/** --rate 100000: the most the CLI accepts, so that the figures are fan-out, not throttling (see above). */
const serve = ['bin/netlab.js', 'ws-chat', 'serve', '--port', '0', '--rate', '100000'];

/** The benchmark as bench/run.js and lib/compare.js expect it. */
export default {
  name: 'ws-chat',
  title:
    'WebSocket chat, 5,000 idle clients, five crowds of 5,000 that come and go, then one room of 100 and of 1,000: ' +
    "netlab ws-chat serve against the ws README's broadcast over a Map of rooms (smoke: 50 idle, crowds of 20, rooms of 4 and 8)",
  reference: { label: 'node ws rooms (floor)', nodeFlags: MEMORY_PROBE_FLAGS, args: ['bench/reference/ws-chat-broadcast.js', '--port', '0'] },
  subjects: [
    { label: QUIET, nodeFlags: MEMORY_PROBE_FLAGS, args: [...serve, '--quiet'] },
    { label: LOGGING, nodeFlags: MEMORY_PROBE_FLAGS, args: serve, stdout: 'file', logging: true },
  ],
  // The memory figures first, while the servers are fresh: no load has left garbage behind.
  figures: [...memoryFigures({ hold, release, skip: isLoggingServer }), fanOut(100), loneMessage(100), fanOut(1000), loneMessage(1000)],
};
