/**
 * Load for any WebSocket server that sends every message back to its sender (the ws-echo
 * benchmark): round trips with one message in flight; a message rate with many connections,
 * each keeping a window of messages in flight (64-byte messages for the echo throughput, 1 MiB
 * ones for the bulk echo); and a crowd of idle connections, for the memory figure.
 *
 * Cheap on purpose, like tcp-load.js, so that the load never limits a figure: raw `net`
 * sockets with `onread` into one preallocated buffer shared by every connection, frames built
 * and masked once and only their sequence digits rewritten, one write per read, echoes found
 * by their header and counted (ws-echo-connection.js has the wire).
 *
 * The text is printable, like what a student types, so that a server that logs what it
 * receives (netlab without --quiet) does its ordinary work.
 *
 * Leaves out: checking the echoed bytes, except with `verify` (the smoke run: every echo equal
 * to its message byte for byte); binary and fragmented messages; permessage-deflate (the load
 * offers no extension, so none is used).
 */
import { performance } from 'node:perf_hooks';
import { RoundTripTally } from './latency-samples.js';
import { delay, stallWatchdog } from './tcp-load.js';
import { MAX_CONNECTIONS, MIN_MESSAGE_BYTES, maskedFrame, messagePayload, openConnection } from './ws-echo-connection.js';

export { MIN_MESSAGE_BYTES, maskedFrame, messagePayload };

/** netlab's servers take WebSockets at this path; the floor takes any path. */
export const WS_PATH = '/ws';
/** The longest message the load frames: 64 MiB, far above any server's limit (netlab's is 1 MiB). */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
/** The one read buffer of each load (Node reads at most 64 KiB at a time). */
const READ_BUFFER_BYTES = 64 * 1024;
/**
 * Handshakes in progress at once. Node listens with a backlog of 511: 10,000 connects at once
 * would overflow it, and each connection refused there waits a second to retry.
 */
const CONNECT_CONCURRENCY = 100;
/** How long idle connections get to finish their close handshakes before they are destroyed. */
const CLOSE_TIMEOUT_MS = 5000;

/**
 * Round trips: one connection, one `messageBytes` message in flight; the next is sent the
 * moment the previous one's echo is back in full. `warmup` round trips first (not recorded),
 * then `count` recorded ones, each timed from the write to the read that completes the echoed
 * frame. Then the connection closes with a close handshake.
 *
 * @returns `{ samples (µs), seconds }`
 */
export async function measureRoundTrips(options) {
  const { host, port, path = WS_PATH, messageBytes, warmup, count, verify = false } = options;
  const tally = new RoundTripTally(options);
  let sentAt = 0;
  let progress = performance.now();

  const load = await openLoad({
    host,
    port,
    path,
    connections: 1,
    window: 1,
    messageBytes,
    verify,
    onEchoes(conn, echoes, now) {
      progress = now;
      if (tally.record(now - sentAt, now)) return void conn.close();
      sentAt = performance.now();
      conn.send(1);
    },
  });
  const watchdog = stallWatchdog(() => progress, load.closed);
  try {
    tally.begin();
    sentAt = performance.now();
    load.connections[0].send(1);
    await Promise.race([load.closed, load.failed, watchdog]);
  } finally {
    load.destroy();
  }
  if (tally.done !== warmup + count) throw new Error(`connection closed after ${tally.done} of ${warmup + count} round trips`);
  return { samples: tally.samples, seconds: tally.seconds };
}

/**
 * Message rate: `connections` clients each keep `window` messages in flight; each read that
 * brings echoes back sends as many new messages at once. The first `rampMs` are not
 * counted; then echoes are counted for `durationMs`; then sending stops, every connection
 * waits for its last echoes and closes with a close handshake.
 *
 * `onMeasureStart` / `onMeasureEnd` are called exactly at the edges of the counted window,
 * for the caller to read the server's CPU time there.
 *
 * @returns `{ echoes, seconds, messagesPerS, mbPerS, clientCpuMs }`; a message is counted
 *   once, though it crosses the server twice, in and out; MB is 10^6 bytes of payload.
 */
export async function measureMessageRate(options) {
  const { host, port, path = WS_PATH, connections, window, messageBytes, rampMs, durationMs, verify = false } = options;
  let counting = false;
  let sending = true;
  let echoes = 0;
  let progress = performance.now();

  const load = await openLoad({
    host,
    port,
    path,
    connections,
    window,
    messageBytes,
    verify,
    onEchoes(conn, count, now) {
      progress = now;
      if (counting) echoes += count;
      if (sending) conn.send(count);
      else if (conn.inFlight === 0) conn.close();
    },
  });
  const watchdog = stallWatchdog(() => progress, load.closed);
  const stopped = Promise.race([load.failed, watchdog]);
  try {
    for (const conn of load.connections) conn.send(window);
    await Promise.race([delay(rampMs), stopped]);
    options.onMeasureStart?.();
    const cpuStart = process.cpuUsage();
    const start = performance.now();
    counting = true;
    await Promise.race([delay(durationMs), stopped]);
    counting = false;
    const cpu = process.cpuUsage(cpuStart);
    options.onMeasureEnd?.();
    const seconds = (performance.now() - start) / 1000;

    sending = false;
    for (const conn of load.connections) if (conn.inFlight === 0) conn.close();
    await Promise.race([load.closed, stopped]);
    const messagesPerS = echoes / seconds;
    return { echoes, seconds, messagesPerS, mbPerS: (messagesPerS * messageBytes) / 1e6, clientCpuMs: (cpu.user + cpu.system) / 1000 };
  } finally {
    load.destroy();
  }
}

/**
 * Idle connections: opens `connections` WebSockets, CONNECT_CONCURRENCY handshakes at a time,
 * and resolves once every one has its 101. They then send nothing (they answer pings).
 *
 * @returns `{ seconds, failed, close() }`: the seconds from the first connect to the last 101;
 *   `failed` rejects if the server closes one of them; `close()` closes every one with a close
 *   handshake, and destroys what has not closed after CLOSE_TIMEOUT_MS.
 */
export async function openIdleConnections({ host, port, path = WS_PATH, connections }) {
  const start = performance.now();
  const onEchoes = (conn) => load.fail(new Error(`idle connection ${conn.index} got an echo it did not ask for`));
  const load = await openLoad({ host, port, path, connections, window: 1, messageBytes: MIN_MESSAGE_BYTES, verify: false, onEchoes });
  const seconds = (performance.now() - start) / 1000;
  const close = async () => {
    for (const conn of load.connections) conn.close();
    let timer;
    const timeout = new Promise((resolve) => (timer = setTimeout(resolve, CLOSE_TIMEOUT_MS)));
    await Promise.race([Promise.allSettled(load.connections.map((conn) => conn.closed)), timeout]);
    clearTimeout(timer); // a pending timer would keep the bench process alive after its last figure
    load.destroy(); // a no-op for the ones closed cleanly
  };
  return { seconds, failed: load.failed, close };
}

/**
 * Opens `connections` WebSockets to `ws://host:port/path` (ws-echo-connection.js), at most
 * CONNECT_CONCURRENCY handshakes at a time, and resolves once every one has its 101.
 * `closed` resolves once every connection has closed after its close handshake; `failed`
 * rejects on a socket error, a connection the server ends first, or an echo that is not the
 * message sent, and never resolves; `fail(err)` rejects it; `destroy()` ends every socket.
 */
async function openLoad({ host, port, path, connections, window, messageBytes, verify, onEchoes }) {
  if (!Number.isInteger(connections) || connections < 1 || connections > MAX_CONNECTIONS) {
    throw new Error(`connections must be 1 to ${MAX_CONNECTIONS}, not ${connections}`);
  }
  if (!Number.isInteger(window) || window < 1) throw new Error(`window must be a whole number ≥ 1, not ${window}`);
  if (!(Number.isInteger(messageBytes) && messageBytes >= MIN_MESSAGE_BYTES && messageBytes <= MAX_MESSAGE_BYTES)) {
    throw new Error(`messageBytes must be ${MIN_MESSAGE_BYTES} to ${MAX_MESSAGE_BYTES}, not ${messageBytes}`);
  }
  let fail;
  const failed = new Promise((_, reject) => (fail = reject));
  failed.catch(() => {}); // observed by whoever races it; never an unhandled rejection
  const readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  const conns = [];
  let next = 0;
  const openNext = async () => {
    while (next < connections) {
      const index = next++;
      conns[index] = await openConnection({ host, port, path, index, window, messageBytes, verify, readBuffer, onEchoes, fail });
    }
  };
  const destroy = () => conns.forEach((conn) => conn?.destroy());
  try {
    await Promise.race([Promise.all(Array.from({ length: Math.min(CONNECT_CONCURRENCY, connections) }, openNext)), failed]);
  } catch (err) {
    destroy();
    throw err;
  }
  const closed = Promise.all(conns.map((conn) => conn.closed));
  closed.catch(() => {});
  return { connections: conns, closed, failed, fail, destroy };
}
