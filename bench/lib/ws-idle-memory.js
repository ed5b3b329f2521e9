/**
 * What an idle WebSocket connection costs a server in memory (the ws-chat benchmark): the
 * server's memory, after a full garbage collection, with and without a crowd of joined,
 * silent clients, divided by the size of the crowd.
 *
 * Without a collection the figure would be noise: V8 frees garbage when it chooses to, and
 * the joins alone (netlab's presence notices, its user lists) leave tens of MB of it behind.
 * A server cannot be asked from outside to collect, so the bench starts every server of this
 * benchmark with MEMORY_PROBE_FLAGS: `--expose-gc` and a probe of a few lines, loaded with
 * `--import` before the server's own code, that waits for SIGUSR2. On the signal it runs two
 * full collections (the second frees what the first's finalizers released) and writes
 * `process.memoryUsage()`, and the resident size of V8's heap, to a file named after its pid.
 * Until then it does nothing: a signal listener costs no CPU, and Node does not keep a
 * process alive for one.
 *
 * Two readings per connection, because RSS alone is noise too: V8 keeps its young generation
 * at the size the last burst of allocation grew it to, and gives it back a few seconds after
 * the process goes quiet (its "memory reducer"), so the same 5,000 connections read 4 or 9 KB
 * each depending on when one looks. `rssBytes` is therefore RSS without V8's free heap (RSS −
 * V8's resident heap + the part of it in use): every byte malloc'd outside V8 (libuv handles,
 * Node's socket wrappers, buffers) plus the JS objects. `heapBytes` is the JS objects and
 * buffers alone (heapUsed + external): exact, and the same to the byte at every reading.
 *
 * Leaves out: kernel memory (socket buffers, TCP state), which is the same for both servers
 * and not in the process's RSS; the allocator's own slack (memory malloc'd and freed, still
 * resident); and any platform but Linux (signals and the file in tmpdir).
 */
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { delay } from './tcp-load.js';
import { openRoom } from './ws-chat-load.js';

/** The probe, run in the server's process; the file is written whole, then renamed into place. */
const PROBE = `
import { renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getHeapStatistics } from 'node:v8';
process.on('SIGUSR2', () => {
  globalThis.gc();
  globalThis.gc();
  const file = join(tmpdir(), 'netlab-bench-memory-' + process.pid + '.json');
  const { total_physical_size: heapPhysical } = getHeapStatistics();
  writeFileSync(file + '.tmp', JSON.stringify({ ...process.memoryUsage(), heapPhysical }));
  renameSync(file + '.tmp', file);
});
`;

/** Node flags that go before a server's script (see the header). */
export const MEMORY_PROBE_FLAGS = ['--expose-gc', `--import=data:text/javascript,${encodeURIComponent(PROBE)}`];

/** How long a server gets to collect and answer the probe; a full collection of 1 GB takes about a second. */
const PROBE_TIMEOUT_MS = 10_000;
const POLL_MS = 5;
/** A crowd counts as settled once no client has received a frame for this long. */
const SETTLE_MS = 200;

const probeFile = (pid) => join(tmpdir(), `netlab-bench-memory-${pid}.json`);

/**
 * The memory of the server with process id `pid`, after a full garbage collection, in bytes:
 * `{ rssBytes, heapBytes, rss }` (see the header; `rss` is the plain RSS). Only for a server
 * started with MEMORY_PROBE_FLAGS: SIGUSR2 ends a Node process that does not listen for it.
 * Rejects if the server does not answer in time.
 */
export async function serverMemory(pid) {
  const file = probeFile(pid);
  rmSync(file, { force: true });
  process.kill(pid, 'SIGUSR2');
  const deadline = performance.now() + PROBE_TIMEOUT_MS;
  for (;;) {
    try {
      const { rss, heapUsed, external, heapPhysical } = JSON.parse(readFileSync(file, 'utf8'));
      rmSync(file, { force: true });
      return { rssBytes: rss - heapPhysical + heapUsed, heapBytes: heapUsed + external, rss };
    } catch (err) {
      if (err.code !== 'ENOENT') throw err;
    }
    if (performance.now() > deadline) {
      throw new Error(`process ${pid} did not report its memory within ${PROBE_TIMEOUT_MS / 1000} s`);
    }
    await delay(POLL_MS);
  }
}

/**
 * Opens `connections` clients to the server, `roomSize` to a room (rooms `idle-0`, `idle-1`…),
 * each joined, and resolves once the crowd has settled: every join's answers and notices have
 * arrived, so the server holds no queued bytes. The clients then say nothing.
 *
 * @returns `{ room, seconds }`: the crowd (close it with closeRoom()), and the seconds from the
 *   first connect to the last frame of the joins.
 */
export async function openIdleCrowd({ host, port, connections, roomSize }) {
  const start = performance.now();
  const room = await openRoom({ host, port, size: connections, roomOf: (index) => `idle-${Math.floor(index / roomSize)}` });
  while (performance.now() - room.lastFrameMs < SETTLE_MS) await Promise.race([delay(SETTLE_MS / 4), room.failed]);
  return { room, seconds: (room.lastFrameMs - start) / 1000 };
}
