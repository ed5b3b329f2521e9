/**
 * The ws-chat benchmark's memory figures: what an idle, joined client costs a chat server, and
 * whether it gives back what a class took. Both read the server's memory after a full garbage
 * collection, with the probe of ws-idle-memory.js (which also says why there are two readings:
 * RSS without V8's free heap, and the JS heap and buffers).
 *
 *   idle memory    5,000 clients joined in rooms of 25, silent: the server's memory minus the
 *                  same before they came, per connection. The crowd is opened once per server,
 *                  in the warm-up, and kept for the rounds.
 *   memory churn   five times over, 5,000 clients connect, join (rooms of 25) and leave; after
 *                  each cycle, once the server has seen every close, it is read. A server that
 *                  leaks (a map entry per user that never goes, a listener per connection left
 *                  behind) grows from cycle to cycle. The figure is RSS after the fifth cycle ÷
 *                  after the first, not ÷ the empty server: the first cycle leaves behind what
 *                  a server keeps once and for good (compiled code, the rooms netlab keeps after
 *                  they empty, the allocator's arenas grown to the crowd's size), so what the
 *                  later cycles add is the leak alone.
 *
 * Leaves out: memory the kernel holds (socket buffers, TCP state, not in the process's RSS),
 * and crowds that talk (the fan-out figures do that, in rooms that stay).
 */
import { closeRoom } from './ws-chat-load.js';
import { openIdleCrowd, serverMemory } from './ws-idle-memory.js';
import { delay } from './tcp-load.js';

const IDLE = {
  full: { connections: 5000, roomSize: 25 },
  smoke: { connections: 50, roomSize: 25 },
};
/** Opened and closed before the "before" reading, so that the joins' code is compiled by then. */
const IDLE_WARMUP_CONNECTIONS = { full: 200, smoke: 10 };
/** How long the crowd sits silent before each reading; long enough, too, for the noise gauge's 10 ms ticks. */
const IDLE_MS = { full: 500, smoke: 20 };
/** After a crowd has closed: time for the server to run its last closes before it is read. */
const CLOSED_SETTLE_MS = 250;
const CHURN = {
  full: { cycles: 5, connections: 5000, roomSize: 25 },
  smoke: { cycles: 5, connections: 20, roomSize: 5 },
};

/**
 * The two figures, for a benchmark that holds one set of clients per server between runs:
 * `hold(server, key, open)` returns what the server holds under `key` (opening it with
 * `open()`, after closing anything else it holds), `release(server)` closes what it holds;
 * `skip(server)` leaves a server out of both.
 */
export function memoryFigures({ hold, release, skip }) {
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

  const idleMemory = {
    name: 'idle memory',
    skip,
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

  // Plain RSS is the measure; the other two say whether a growth is the server's
  // objects or the allocator's. One round: five cycles take 10–25 s per server.
  const memoryChurn = {
    name: 'memory churn',
    skip,
    rounds: { full: 1, smoke: 1 },
    metrics: [
      { key: 'rssGrowth', label: 'RSS after 5 cycles of 5,000 clients joining and leaving ÷ after the first', better: 'lower', limit: 1.1, digits: 2 },
      { key: 'usedGrowth', label: "RSS without V8's free heap, after 5 cycles ÷ after the first", better: 'lower', digits: 2 },
      { key: 'heapGrowth', label: 'JS heap and buffers, after 5 cycles ÷ after the first', better: 'lower', digits: 2 },
    ],
    extras: [
      { key: 'firstMiB', label: 'server RSS after the first churn cycle (after a full GC), MiB', scale: 1, digits: 0 },
      { key: 'lastMiB', label: 'server RSS after the fifth churn cycle (after a full GC), MiB', scale: 1, digits: 0 },
      { key: 'cycleSeconds', label: 'time per churn cycle (5,000 connect, join and leave), s', scale: 1, digits: 1 },
    ],
    async warmUp(server) {
      await release(server); // the idle crowd: the cycles start from a server with no clients
    },
    async measure(server, mode) {
      await release(server);
      const { readings, seconds } = await churn(server, CHURN[mode]);
      const [first, last] = [readings[0], readings.at(-1)];
      return {
        rssGrowth: last.rss / first.rss,
        usedGrowth: last.rssBytes / first.rssBytes,
        heapGrowth: last.heapBytes / first.heapBytes,
        firstMiB: first.rss / 2 ** 20,
        lastMiB: last.rss / 2 ** 20,
        cycleSeconds: seconds.reduce((sum, s) => sum + s, 0) / seconds.length,
      };
    },
  };

  return [idleMemory, memoryChurn];
}

/**
 * `cycles` times: `connections` clients connect, `roomSize` to a room, join, wait until the
 * joins have settled, and close (closeRoom() waits for the server to end every connection);
 * then the server is read.
 *
 * @returns `{ readings: [serverMemory() after each cycle], seconds: per cycle }`
 */
async function churn(server, { cycles, connections, roomSize }) {
  const readings = [];
  const seconds = [];
  for (let cycle = 0; cycle < cycles; cycle++) {
    const start = performance.now();
    const { room } = await openIdleCrowd({ host: server.host, port: server.port, connections, roomSize });
    await closeRoom(room);
    await delay(CLOSED_SETTLE_MS);
    readings.push(await serverMemory(server.pid));
    seconds.push((performance.now() - start) / 1000);
  }
  return { readings, seconds };
}
