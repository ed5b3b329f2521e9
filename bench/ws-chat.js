/**
 * The ws-chat benchmark: `netlab ws-chat serve` against the floor, a stock ws WebSocketServer
 * with a Map of rooms that builds each message once and sends it to the room
 * (bench/reference/ws-chat-broadcast.js), in the same run. Both use the same ws library with
 * permessage-deflate off, so the gap is what netlab adds around it.
 *
 * Servers: netlab with --quiet (logs connections, joins and leaves only) and the floor.
 * netlab runs with --rate 100000: the default, 10 messages a second per client, is a
 * classroom's flood guard, and this measures fan-out, not throttling (the load fails the run
 * if the server ever says "slow down"). Each server runs in its own process, started with the
 * memory probe (lib/ws-idle-memory.js); the load runs in the bench process (lib/ws-chat-load.js).
 *
 * Figures, per server, in this order:
 *   idle memory    first, while the servers are fresh: 5,000 clients joined in rooms of 25,
 *                  silent; the server's memory after a full garbage collection, minus the
 *                  same before they came, per connection, as RSS without V8's free heap and
 *                  as JS heap and buffers (lib/ws-idle-memory.js says why two).
 *   fan-out        one room of 100 (then 1,000) clients taking turns to send, so that 100
 *                  messages are always in flight, each until every client of the room has
 *                  it, the sender too; deliveries per second counted for 1 s; server CPU
 *                  time per delivery.
 *   latency        the same room, 10 of its clients sending at a fixed rate (10,000
 *                  deliveries a second in both rooms), every delivery of 1.5 s worth of
 *                  messages timed send → receive: p50 and p99.
 * Target (the issue's): fan-out ≥ 0.8× the floor's deliveries per second, at 100 and at 1,000
 * clients.
 *
 * Each set of clients is opened once per server, in its figure's warm-up, and kept for the
 * rounds (and for the next figure, when it is the same room): netlab seats 1,000 clients in
 * one room in about 15 s (every join is a notice to everyone already there), far too long to
 * repeat for every round. The next set's warm-up closes the one before; the last one is ended
 * by the servers' shutdown at the end of the benchmark.
 *
 * Leaves out: the logging server (one line per message, not per delivery: in a room of 100
 * it is 1 % of the writes), private messages, renames and history (not the hot path), slow
 * readers and the queue cap (tests cover them), joins and leaves under load, and any network
 * but loopback.
 */
import { closeRoom, measureDeliveryLatency, measureFanOut, openRoom } from './lib/ws-chat-load.js';
import { MEMORY_PROBE_FLAGS, openIdleCrowd, serverMemory } from './lib/ws-idle-memory.js';
import { withServerCpu } from './lib/server-process.js';
import { delay } from './lib/tcp-load.js';

/** The rooms, by the size the figures are named after; smoke runs scale them down. */
const ROOM_CLIENTS = { 100: { full: 100, smoke: 4 }, 1000: { full: 1000, smoke: 8 } };
/** 100 in flight in both rooms: one per client in the small room; at most about 15 KB queued for any recipient. */
const IN_FLIGHT = { full: 100, smoke: 8 };
const FAN_OUT = {
  full: { rampMs: 300, durationMs: 1000 },
  smoke: { rampMs: 10, durationMs: 50, verify: true },
};
/**
 * 10 senders, 10,000 deliveries a second in either room: a fifth to a quarter of what the
 * floor fans out, so that the latency is mostly the fan-out's own, not a queue's. In the room
 * of 1,000 that is 10 messages a second, so the window is 1.5 s: 15,000 deliveries timed.
 */
const LATENCY = {
  100: { full: { senders: 10, ratePerSender: 10 }, smoke: { senders: 2, ratePerSender: 100 } },
  1000: { full: { senders: 10, ratePerSender: 1 }, smoke: { senders: 2, ratePerSender: 100 } },
};
const LATENCY_WINDOW = {
  full: { warmupMs: 300, durationMs: 1500 },
  smoke: { warmupMs: 10, durationMs: 50, verify: true },
};
/** Before the rounds: long enough for V8 to compile the hot paths of server and load. */
const WARMUP_MS = { full: 1000, smoke: 20 };

const IDLE = {
  full: { connections: 5000, roomSize: 25 },
  smoke: { connections: 50, roomSize: 25 },
};
/** Opened and closed before the "before" reading, so that the joins' code is compiled by then. */
const IDLE_WARMUP_CONNECTIONS = { full: 200, smoke: 10 };
/** How long the crowd sits silent before each reading; long enough, too, for the noise gauge's 10 ms ticks. */
const IDLE_MS = { full: 500, smoke: 20 };
/** After the warm-up crowd closed: time for the server to run its closes before the "before" reading. */
const CLOSED_SETTLE_MS = 250;

/** Per server (by label), the one set of clients it holds between runs: `{ key, room, ... }`. */
const held = new Map();

/** The clients `server` holds under `key`, opened by `open()` if it holds others (those are closed first). */
async function hold(server, key, open) {
  const current = held.get(server.label);
  if (current?.key === key) return current;
  held.delete(server.label);
  if (current) await closeRoom(current.room);
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

/** The fan-out figure in the room of `clients` (full run). */
function fanOut(clients) {
  const where = `${clients.toLocaleString('en-US')} clients`;
  return {
    name: `fan-out, ${where}`,
    metrics: [
      { key: 'deliveriesPerS', label: `fan-out, ${where}, deliveries/s`, better: 'higher', target: 0.8, digits: 0 },
      { key: 'serverCpuUsPerDelivery', label: `server CPU, ${where}, µs per delivery`, better: 'lower', digits: 2 },
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
      await measureFanOut({ ...FAN_OUT[mode], inFlight: IN_FLIGHT[mode], durationMs: WARMUP_MS[mode], room });
    },
    async measure(server, mode) {
      const { room, seconds } = await roomOf(server, clients, mode);
      const run = await withServerCpu(server, measureFanOut, { ...FAN_OUT[mode], inFlight: IN_FLIGHT[mode], room });
      return {
        deliveriesPerS: run.deliveriesPerS,
        serverCpuUsPerDelivery: (run.serverCpuMs * 1000) / run.deliveries,
        serverCpuShare: run.serverCpuMs / (run.seconds * 1000),
        clientCpuShare: run.clientCpuMs / (run.seconds * 1000),
        joinSeconds: seconds,
      };
    },
  };
}

/** The latency figure in the room of `clients` (full run). */
function latency(clients) {
  const where = `${clients.toLocaleString('en-US')} clients`;
  const load = (mode) => ({ ...LATENCY[clients][mode], ...LATENCY_WINDOW[mode] });
  return {
    name: `latency, ${where}`,
    metrics: [
      { key: 'p50Us', label: `delivery latency, ${where}, p50, µs`, better: 'lower', digits: 0 },
      { key: 'p99Us', label: `delivery latency, ${where}, p99, µs`, better: 'lower', digits: 0 },
      { key: 'serverCpuUsPerDelivery', label: `server CPU at the latency load, ${where}, µs per delivery`, better: 'lower', digits: 2 },
    ],
    extras: [
      { key: 'deliveriesPerS', label: `deliveries per second at the latency load, ${where}`, scale: 1, digits: 0 },
      { key: 'serverCpuShare', label: `server CPU at the latency load, ${where}, % of one core`, scale: 100, digits: 0 },
    ],
    async warmUp(server, mode) {
      const { room } = await roomOf(server, clients, mode);
      await measureDeliveryLatency({ ...load(mode), durationMs: WARMUP_MS[mode], room });
    },
    async measure(server, mode) {
      const { room } = await roomOf(server, clients, mode);
      const run = await withServerCpu(server, measureDeliveryLatency, { ...load(mode), room });
      return {
        p50Us: run.samples.percentile(50),
        p99Us: run.samples.percentile(99),
        serverCpuUsPerDelivery: (run.serverCpuMs * 1000) / run.samples.count,
        deliveriesPerS: run.samples.count / run.seconds,
        serverCpuShare: run.serverCpuMs / (run.seconds * 1000),
      };
    },
  };
}

/**
 * Memory per idle connection, the first figure, so that the servers are fresh: nothing but a
 * small warm-up crowd has been through them, and no allocator holds memory freed by a load.
 * The crowd is opened once per server, in the warm-up, with a reading of the server's memory
 * just before; each round lets it sit idle, then reads again.
 */
const idleMemory = {
  name: 'idle memory',
  metrics: [
    { key: 'rssBytesPerConnection', label: "memory per idle connection, RSS without V8's free heap, bytes", better: 'lower', digits: 0 },
    { key: 'heapBytesPerConnection', label: 'memory per idle connection, JS heap and buffers, bytes', better: 'lower', digits: 0 },
  ],
  extras: [
    { key: 'rssMiB', label: 'server RSS with the 5,000 idle connections (after a full GC), MiB', scale: 1, digits: 0 },
    { key: 'joinSeconds', label: 'time to connect the 5,000 and seat them in their rooms, s', scale: 1, digits: 1 },
  ],
  async warmUp(server, mode) {
    await crowdOf(server, mode);
  },
  async measure(server, mode) {
    const { before, seconds } = await crowdOf(server, mode);
    await delay(IDLE_MS[mode]);
    const after = await serverMemory(server.pid);
    const { connections } = IDLE[mode];
    return {
      rssBytesPerConnection: (after.rssBytes - before.rssBytes) / connections,
      heapBytesPerConnection: (after.heapBytes - before.heapBytes) / connections,
      rssMiB: after.rss / 2 ** 20,
      joinSeconds: seconds,
    };
  },
};

const crowdOf = (server, mode) =>
  hold(server, 'idle crowd', async () => {
    const address = { host: server.host, port: server.port };
    const warmUp = await openIdleCrowd({ ...address, ...IDLE[mode], connections: IDLE_WARMUP_CONNECTIONS[mode] });
    await closeRoom(warmUp.room);
    await delay(CLOSED_SETTLE_MS);
    const before = await serverMemory(server.pid);
    const { room, seconds } = await openIdleCrowd({ ...address, ...IDLE[mode] });
    return { room, before, seconds };
  });

/** --rate 100000: the most the CLI accepts, so that the figures are fan-out, not throttling (see above). */
const serve = [...MEMORY_PROBE_FLAGS, 'bin/netlab.js', 'ws-chat', 'serve', '--port', '0', '--rate', '100000'];

/** The benchmark as bench/run.js and lib/compare.js expect it. */
export default {
  name: 'ws-chat',
  title:
    'WebSocket chat, 5,000 idle clients, then one room of 100 and of 1,000: netlab ws-chat serve against ws with a Map of rooms ' +
    '(smoke: 50 idle, rooms of 4 and 8)',
  reference: { label: 'node ws rooms (floor)', args: [...MEMORY_PROBE_FLAGS, 'bench/reference/ws-chat-broadcast.js', '--port', '0'] },
  subjects: [{ label: 'netlab --quiet', args: [...serve, '--quiet'] }],
  figures: [idleMemory, fanOut(100), latency(100), fanOut(1000), latency(1000)],
};
