/**
 * The ws-chat-redis benchmark (lesson 07, issue #12): one room's fan-out when the room is
 * spread over two `netlab ws-chat serve --redis` servers that share it through one Redis,
 * against the same room on one such server. The load and the room are the ws-chat
 * benchmark's (lib/ws-chat-load.js); only the servers differ.
 *
 * Servers, each with --quiet and --rate 100000 (as in ws-chat.js: fan-out, not throttling):
 *   one server + Redis (floor)   one netlab server with --redis and every client: the floor of
 *                                this comparison, what the Redis hop costs a single server
 *   two servers + Redis          two netlab servers on the same Redis, the clients split half
 *                                and half (even ones on the first, odd ones on the second), so
 *                                senders and recipients are on both; every message goes to
 *                                Redis (SAY in chat-redis-scripts.ts) and comes back to both
 *   one server, no Redis         the in-process default, for context (not judged)
 * A "server" with Redis is a group of processes of its own: its netlab servers and a
 * redis-server on a free port from 6400–6499 (lib/redis-group.js says why each group needs
 * its own Redis). Every process is stopped at the end of the run, also when it fails or is
 * interrupted (lib/server-process.js).
 *
 * Figures, per server, in this order:
 *   fan-out        one room of 100 (then 1,000) clients taking turns to send, 100 messages
 *                  always in flight, each until every client of the room has it (ws-chat.js
 *                  describes the load); deliveries per second counted for 1 s and every one
 *                  of them timed send → receive (p50, p99, p99.9); the netlab servers' CPU per
 *                  delivery (both servers' together), and Redis's share of a core.
 *   lone message   one message at a time in the room of 100, otherwise idle: what the hop
 *                  through Redis adds to one broadcast.
 * No targets: issue #12 sets none. The ratios two servers ÷ one server with Redis say what
 * splitting the room costs or gains on this machine (BENCHMARKS.md, "ws-chat across servers").
 *
 * Redis is emptied (FLUSHALL) before each room is opened, when no client is connected, and
 * the room's history is deleted before each round, so that nothing a room leaves carries over.
 * It is not flushed with a room in it: that would also delete who is where (presence, names),
 * which each server writes back at its next heartbeat (BEAT and RESTORE, every 2.5 s), in the
 * middle of a measured second.
 *
 * Leaves out: more than two servers, servers on other machines (the point of scaling out, but
 * here they share two cores with Redis and the load), Redis going away under load (tests
 * cover it), and the memory figures of ws-chat.js.
 */
import { startRedisGroup } from './lib/redis-group.js';
import { closeRoom, measureFanOut, measureLoneMessage, openRoom } from './lib/ws-chat-load.js';

/** The rooms, by the size the figures are named after; smoke runs scale them down. */
const ROOM_CLIENTS = { 100: { full: 100, smoke: 4 }, 1000: { full: 1000, smoke: 8 } };
/** As in ws-chat.js: 100 in flight in both rooms. */
const IN_FLIGHT = { full: 100, smoke: 8 };
const FAN_OUT = {
  full: { rampMs: 300, durationMs: 1000 },
  smoke: { rampMs: 10, durationMs: 50, verify: true },
};
const LONE = { full: { warmup: 20, count: 300 }, smoke: { warmup: 2, count: 10, verify: true } };
const LONE_WARMUP_MESSAGES = { full: 200, smoke: 5 };
/** Before the rounds: long enough for V8 to compile the hot paths of servers and load. */
const WARMUP_MS = { full: 1000, smoke: 20 };
/** The rooms' histories (chat-redis-scripts.ts: `history:<room>`, under netlab's prefix). */
const HISTORY_KEYS = 'netlab:ws-chat:history:*';

const ONE = 'one server + Redis (floor)';
const TWO = 'two servers + Redis';
const ALONE = 'one server, no Redis';

/** Per server (by label), the one room it holds between runs: `{ key, room, seconds }`. */
const held = new Map();

/** Closes the room `server` holds, if any. */
async function release(server) {
  const current = held.get(server.label);
  held.delete(server.label);
  if (current) await closeRoom(current.room);
}

/**
 * The room of `clients` that `server` holds, opened (after the one it held is closed, and its
 * Redis emptied) if it holds another; and how long it took to connect and seat them all.
 */
async function roomOf(server, clients, mode) {
  const key = `room of ${clients}`;
  const current = held.get(server.label);
  if (current?.key === key) return current;
  await release(server);
  await server.redis?.flushAll();
  const start = performance.now();
  // Seated on `users`, not `joined`: lib/ws-chat-load.js says why a server with Redis needs it.
  const room = await openRoom({ host: server.host, port: server.port, addresses: server.addresses, size: ROOM_CLIENTS[clients][mode], seatedOn: 'users' });
  const opened = { key, room, seconds: (performance.now() - start) / 1000 };
  held.set(server.label, opened);
  return opened;
}

/**
 * Runs `load` in the server's room and reads, over its counted window, the CPU of the netlab
 * servers (both, for two) and of Redis (0 for a server without one).
 */
async function withCpu(server, load, options) {
  const read = () => ({ servers: server.serversCpuMs?.() ?? server.cpuMs(), redis: server.redis?.cpuMs() ?? 0 });
  let start;
  let end;
  const result = await load({ ...options, onMeasureStart: () => (start = read()), onMeasureEnd: () => (end = read()) });
  return { ...result, serverCpuMs: end.servers - start.servers, redisCpuMs: end.redis - start.redis };
}

/** Before each round: the room's history from the last one, gone. */
const clearHistory = (server) => server.redis?.deleteKeys(HISTORY_KEYS);

/** The fan-out figure in the room of `clients`. */
function fanOut(clients) {
  const where = `${clients.toLocaleString('en-US')} clients`;
  const load = (mode) => ({ ...FAN_OUT[mode], inFlight: IN_FLIGHT[mode] });
  return {
    name: `fan-out, ${where}`,
    metrics: [
      { key: 'deliveriesPerS', label: `fan-out, ${where}, deliveries/s`, better: 'higher', digits: 0 },
      { key: 'p50Us', label: `fan-out, ${where}, latency p50, µs`, better: 'lower', digits: 0 },
      { key: 'p99Us', label: `fan-out, ${where}, latency p99, µs`, better: 'lower', digits: 0 },
      { key: 'p999Us', label: `fan-out, ${where}, latency p99.9, µs`, better: 'lower', digits: 0 },
      { key: 'serverCpuUsPerDelivery', label: `netlab servers' CPU, fan-out, ${where}, µs per delivery`, better: 'lower', digits: 2 },
    ],
    // Shares of one core during the counted window: on two cores, the servers, Redis and the
    // load together cannot take more than 200 %.
    extras: [
      { key: 'serverCpuShare', label: `netlab servers' CPU during fan-out, ${where}, % of one core (two servers: both)`, scale: 100, digits: 0 },
      { key: 'redisCpuShare', label: `Redis's CPU during fan-out, ${where}, % of one core`, scale: 100, digits: 0 },
      { key: 'clientCpuShare', label: `load (bench process) CPU during fan-out, ${where}, % of one core`, scale: 100, digits: 0 },
      { key: 'joinSeconds', label: `time to connect the ${where} and seat them in the room, s`, scale: 1, digits: 1 },
    ],
    async warmUp(server, mode) {
      const { room } = await roomOf(server, clients, mode);
      await measureFanOut({ ...load(mode), durationMs: WARMUP_MS[mode], room });
    },
    async measure(server, mode) {
      const { room, seconds } = await roomOf(server, clients, mode);
      await clearHistory(server);
      const run = await withCpu(server, measureFanOut, { ...load(mode), room });
      return {
        deliveriesPerS: run.deliveriesPerS,
        p50Us: run.latency.percentile(50),
        p99Us: run.latency.percentile(99),
        p999Us: run.latency.percentile(99.9),
        serverCpuUsPerDelivery: (run.serverCpuMs * 1000) / run.deliveries,
        serverCpuShare: run.serverCpuMs / (run.seconds * 1000),
        redisCpuShare: run.redisCpuMs / (run.seconds * 1000),
        clientCpuShare: run.clientCpuMs / (run.seconds * 1000),
        joinSeconds: seconds,
      };
    },
  };
}

/** The lone-message figure in the room of 100. */
function loneMessage() {
  const where = '100 clients';
  return {
    name: `lone message, ${where}`,
    metrics: [
      { key: 'p50Us', label: `lone message, ${where}, each delivery p50, µs`, better: 'lower', digits: 0 },
      { key: 'p99Us', label: `lone message, ${where}, each delivery p99, µs`, better: 'lower', digits: 0 },
      { key: 'lastP50Us', label: `lone message, ${where}, last delivery p50, µs`, better: 'lower', digits: 0 },
    ],
    extras: [
      { key: 'messagesPerS', label: `lone messages per second, ${where}`, scale: 1, digits: 0 },
      { key: 'redisCpuShare', label: `Redis's CPU during lone message, ${where}, % of one core`, scale: 100, digits: 0 },
    ],
    async warmUp(server, mode) {
      const { room } = await roomOf(server, 100, mode);
      await measureLoneMessage({ ...LONE[mode], warmup: 0, count: LONE_WARMUP_MESSAGES[mode], room });
    },
    async measure(server, mode) {
      const { room } = await roomOf(server, 100, mode);
      await clearHistory(server);
      const run = await withCpu(server, measureLoneMessage, { ...LONE[mode], room });
      return {
        p50Us: run.each.percentile(50),
        p99Us: run.each.percentile(99),
        lastP50Us: run.last.percentile(50),
        messagesPerS: LONE[mode].count / run.seconds,
        redisCpuShare: run.redisCpuMs / (run.seconds * 1000),
      };
    },
  };
}

/** --rate 100000: the most the CLI accepts, so that the figures are fan-out, not throttling. */
const serve = ['bin/netlab.js', 'ws-chat', 'serve', '--port', '0', '--rate', '100000', '--quiet'];
/** `{redis}` becomes the group's Redis URL (lib/redis-group.js). */
const withRedis = { start: startRedisGroup, args: [...serve, '--redis', '{redis}'] };

/** The benchmark as bench/run.js and lib/compare.js expect it. */
export default {
  name: 'ws-chat-redis',
  title:
    'WebSocket chat across servers (lesson 07), one room of 100, then of 1,000: two netlab ws-chat servers sharing one Redis, ' +
    'the clients split between them, against one server with Redis (smoke: rooms of 4 and 8)',
  reference: { label: ONE, ...withRedis, servers: 1 },
  subjects: [
    { label: TWO, ...withRedis, servers: 2 },
    { label: ALONE, args: serve, context: true },
  ],
  figures: [fanOut(100), loneMessage(), fanOut(1000)],
};
