/**
 * The ws-echo benchmark's memory figure: what an idle WebSocket costs an echo server, read
 * like ws-chat's (lib/ws-idle-memory.js has the probe and why there are two readings): the
 * server's memory after a full garbage collection with 10,000 open, silent connections, minus
 * the same before they came, divided by 10,000.
 *
 * The "before" reading is taken once per server, in the warm-up, while the server is fresh (a
 * small crowd has been through it, so the code that takes a connection is compiled). Each
 * round then opens the 10,000 anew, lets them sit, reads, and closes them. The bench process
 * may hold only 20,000 sockets (`ulimit -n`), so it cannot keep one crowd per server across
 * the rounds as ws-chat keeps 5,000. A second crowd lands in the memory the first one freed:
 * malloc keeps freed memory for reuse, and V8 its pages, so every round's reading is the
 * server's size with 10,000 idle connections, as the first round's is. This is the first
 * figure of the benchmark, so that no load has grown the servers' heaps before "before".
 *
 * Leaves out: the TCP pipe and the logging server (`idleMemory: false` in their specs; the
 * logging server takes a connection exactly as --quiet does), kernel memory (socket buffers,
 * the same for every server), and the handshake rate (the seconds to open the crowd are an
 * extra, not a figure).
 */
import { delay } from './tcp-load.js';
import { serverMemory } from './ws-idle-memory.js';
import { openIdleConnections } from './ws-load.js';

const IDLE_CONNECTIONS = { full: 10_000, smoke: 50 };
/** Opened and closed before the "before" reading, so that the code a connection runs is compiled by then. */
const WARMUP_CONNECTIONS = { full: 200, smoke: 10 };
/** How long the crowd sits silent before each reading; long enough, too, for the noise gauge's 10 ms ticks. */
const IDLE_MS = { full: 500, smoke: 20 };
/** After a crowd closed: time for the server to run its closes before the next reading or crowd. */
const CLOSED_SETTLE_MS = { full: 250, smoke: 20 };

/** Per server (by label), its memory before any crowd. */
const before = new Map();

export const idleMemory = {
  name: 'idle memory',
  rounds: { full: 3, smoke: 1 },
  skip: (server) => server.spec.idleMemory === false,
  metrics: [
    // ≤ 1.25× the stock ws server (issue #10), on both readings.
    { key: 'rssBytesPerConnection', label: "memory per idle connection, RSS without V8's free heap, bytes", better: 'lower', target: 1.25, digits: 0 },
    { key: 'heapBytesPerConnection', label: 'memory per idle connection, JS heap and buffers, bytes', better: 'lower', target: 1.25, digits: 0 },
  ],
  extras: [
    { key: 'rssMiB', label: 'server RSS with the 10,000 idle connections (after a full GC), MiB', scale: 1, digits: 0 },
    { key: 'openSeconds', label: 'time to open the 10,000 WebSockets (100 handshakes at a time), s', scale: 1, digits: 1 },
  ],
  async warmUp(server, mode) {
    const crowd = await openIdleConnections({ host: server.host, port: server.port, connections: WARMUP_CONNECTIONS[mode] });
    await crowd.close();
    await delay(CLOSED_SETTLE_MS[mode]);
    before.set(server.label, await serverMemory(server.pid));
  },
  async measure(server, mode) {
    const connections = IDLE_CONNECTIONS[mode];
    const crowd = await openIdleConnections({ host: server.host, port: server.port, connections });
    let after;
    try {
      await Promise.race([delay(IDLE_MS[mode]), crowd.failed]);
      after = await serverMemory(server.pid);
    } finally {
      await crowd.close();
    }
    await delay(CLOSED_SETTLE_MS[mode]);
    const { rssBytes, heapBytes } = before.get(server.label);
    return {
      rssBytesPerConnection: (after.rssBytes - rssBytes) / connections,
      heapBytesPerConnection: (after.heapBytes - heapBytes) / connections,
      rssMiB: after.rss / 2 ** 20,
      openSeconds: crowd.seconds,
    };
  },
};
