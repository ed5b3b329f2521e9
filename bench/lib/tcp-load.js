/**
 * Load for any TCP server that sends back what it receives: a bulk load (big writes, bytes
 * counted), a message rate (many connections, a few small messages each in flight, echoes
 * counted) and round trips with one message in flight. Used by the tcp-echo benchmark; the
 * tcp-chat and WebSocket loads reuse its connection plumbing, and ws-echo compares its own
 * rates with this one's against the TCP floor.
 *
 * The load runs in the bench process and must never be what limits a figure, so it does the
 * least work Node allows per byte: raw net sockets with `onread` into one preallocated buffer
 * per connection (no Buffer allocated per read, no stream machinery), the same preallocated
 * payload written again and again, and byte counters instead of parsing.
 *
 * The payload is printable text in lines, like what a student types, so that a server that
 * logs what it reads (netlab without --quiet) does its ordinary work and not an unusual
 * escaping path for binary bytes.
 *
 * Leaves out: checking the echoed bytes, except with `verify` (the smoke run), because
 * comparing every byte would cost the client as much as the server spends echoing it.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { RoundTripTally } from './latency-samples.js';

/** A run that makes no progress for this long has a broken or stuck server. */
const STALL_TIMEOUT_MS = 10_000;
/** Each connection reads into its own buffer of this size (Node reads at most 64 KiB at a time). */
const READ_BUFFER_BYTES = 64 * 1024;

const LINE = 'netlab bench: the quick brown fox jumps over the lazy dog 0123\n';

/** `bytes` of printable text in 64-byte lines (the last one cut short if it must be). */
export function textPayload(bytes) {
  return Buffer.from(LINE.repeat(Math.ceil(bytes / LINE.length)).slice(0, bytes), 'latin1');
}

/**
 * Bulk echo: `connections` clients each keep up to `windowBytes` in flight, written in chunks
 * of `chunkBytes` (one write each), and count the bytes that come back. The first `rampMs` are
 * not counted (connections filling their windows); then echoed bytes are counted for
 * `durationMs`; then every connection stops sending, waits for all it sent to come back, and
 * closes with FIN.
 *
 * `onMeasureStart` / `onMeasureEnd` are called exactly at the edges of the counted window,
 * for the caller to read the server's CPU time there.
 *
 * @returns `{ echoedBytes, seconds, mbPerS, clientCpuMs }`; MB is 10^6 bytes, counted once
 *   (bytes the client got back), though each crossed the server twice, in and out.
 */
export async function measureThroughput(options) {
  const { chunkBytes, windowBytes } = options;
  const run = await closedLoop({ ...options, unitBytes: chunkBytes, windowBytes, oneWrite: false });
  return { echoedBytes: run.bytes, seconds: run.seconds, mbPerS: run.bytes / 1e6 / run.seconds, clientCpuMs: run.clientCpuMs };
}

/**
 * Message rate: `connections` clients each keep `window` messages of `messageBytes` in flight.
 * Each read that completes echoed messages sends as many new ones, in one write (as a client
 * that pipelines requests does; one write per message would cost the load a system call per
 * message). Ramp, counted window and drain as in measureThroughput(). An echo is counted when
 * its last byte is back.
 *
 * @returns `{ messagesPerS, echoes, seconds, clientCpuMs }`
 */
export async function measureMessageRate(options) {
  const { messageBytes, window } = options;
  const run = await closedLoop({ ...options, unitBytes: messageBytes, windowBytes: window * messageBytes, oneWrite: true });
  return { messagesPerS: run.units / run.seconds, echoes: run.units, seconds: run.seconds, clientCpuMs: run.clientCpuMs };
}

/**
 * The closed loop both loads above share: each connection keeps at most `windowBytes` in
 * flight (sent − received), in units of `unitBytes` of text; a read frees room and the room is
 * filled again at once, unit by unit or (`oneWrite`) in a single write.
 *
 * @returns `{ bytes, units, seconds, clientCpuMs }` counted in the window between ramp and drain.
 */
async function closedLoop(options) {
  const { host, port, connections, unitBytes, windowBytes, oneWrite, rampMs, durationMs, verify = false } = options;
  if (!(unitBytes > 0 && windowBytes >= unitBytes)) throw new Error(`the window (${windowBytes} bytes) must hold at least one unit of ${unitBytes} bytes`);
  const unit = textPayload(unitBytes);
  const unitsPerWindow = Math.floor(windowBytes / unitBytes);
  // Units side by side, so that n of them go out as one write of a slice (never copied).
  const batch = oneWrite ? Buffer.concat(Array.from({ length: unitsPerWindow }, () => unit)) : unit;
  let counting = false;
  let stopping = false;
  let bytes = 0;
  let units = 0;
  let progress = performance.now();
  const fill = (client) => {
    const room = Math.floor((windowBytes - (client.sent - client.received)) / unitBytes);
    if (room <= 0) return;
    if (oneWrite) client.socket.write(batch.subarray(0, room * unitBytes));
    else for (let i = 0; i < room; i++) client.socket.write(unit);
    client.sent += room * unitBytes;
  };

  const clients = await Promise.all(
    Array.from({ length: connections }, () =>
      connect(host, port, (client, nread, buffer) => {
        if (verify && !echoMatches(client, buffer, nread, unit)) return;
        const before = client.received;
        client.received += nread;
        if (counting) {
          bytes += nread;
          units += Math.floor(client.received / unitBytes) - Math.floor(before / unitBytes);
        }
        progress = performance.now();
        if (stopping) {
          if (client.received === client.sent) client.socket.end();
          return;
        }
        fill(client);
      }),
    ),
  );
  const closed = Promise.all(clients.map((client) => client.closed));
  const watchdog = stallWatchdog(() => progress, closed);
  let start = 0;
  let end = 0;
  let cpu;
  try {
    clients.forEach(fill);
    await Promise.race([delay(rampMs), watchdog]);
    options.onMeasureStart?.();
    const cpuStart = process.cpuUsage();
    start = performance.now();
    counting = true;
    await Promise.race([delay(durationMs), watchdog]);
    counting = false;
    end = performance.now();
    cpu = process.cpuUsage(cpuStart);
    options.onMeasureEnd?.();

    stopping = true;
    for (const client of clients) if (client.received === client.sent) client.socket.end();
    await Promise.race([closed, watchdog]);
  } finally {
    for (const client of clients) client.socket.destroy(); // no-op for the ones closed cleanly
  }
  return { bytes, units, seconds: (end - start) / 1000, clientCpuMs: (cpu.user + cpu.system) / 1000 };
}

/**
 * Round trips: one connection, one `messageBytes` message in flight; the next is sent the
 * moment the previous one is back in full. `warmup` round trips first (not recorded), then
 * `count` recorded ones, each timed from write to the last echoed byte.
 *
 * @returns `{ samples: LatencySamples (µs), seconds }`
 */
export async function measureRoundTrips(options) {
  const { host, port, messageBytes, warmup, count, verify = false } = options;
  const message = textPayload(messageBytes);
  const tally = new RoundTripTally(options);
  let pending = messageBytes;
  let sentAt = 0;
  let progress = performance.now();

  const client = await connect(host, port, (client, nread, buffer) => {
    if (verify && !echoMatches(client, buffer, nread, message)) return;
    client.received += nread;
    pending -= nread;
    if (pending > 0) return; // the message came back in pieces; wait for the rest
    const now = performance.now();
    progress = now;
    if (tally.record(now - sentAt, now)) return void client.socket.end();
    pending = messageBytes;
    sentAt = performance.now();
    client.socket.write(message);
  });

  const watchdog = stallWatchdog(() => progress, client.closed);
  tally.begin();
  try {
    sentAt = performance.now();
    client.socket.write(message);
    await Promise.race([client.closed, watchdog]);
  } finally {
    client.socket.destroy(); // a no-op once it closed cleanly
  }
  if (tally.done !== warmup + count) throw new Error(`connection closed after ${tally.done} of ${warmup + count} round trips`);
  return { samples: tally.samples, seconds: tally.seconds };
}

/**
 * One client connection: resolves once connected, with `{ socket, sent, received, closed }`
 * plus `fields` (a caller's own per-connection state, there before the first read).
 * `onData(client, nread, buffer)` sees each read; the buffer is reused by the next read.
 */
export function connect(host, port, onData, fields = {}) {
  return new Promise((resolve, reject) => {
    const client = { socket: undefined, sent: 0, received: 0, closed: undefined, ...fields };
    client.socket = net.connect({
      host,
      port,
      noDelay: true, // a 64-byte message must leave now, not wait for Nagle's algorithm
      onread: { buffer: Buffer.allocUnsafe(READ_BUFFER_BYTES), callback: (nread, buffer) => onData(client, nread, buffer) },
    });
    client.closed = new Promise((resolveClosed, rejectClosed) => {
      client.socket.once('error', (err) => {
        reject(err);
        rejectClosed(err);
      });
      client.socket.once('close', resolveClosed);
    });
    client.closed.catch(() => {}); // observed by whoever awaits it; never an unhandled rejection
    client.socket.once('connect', () => resolve(client));
  });
}

/**
 * Rejects when the progress clock has not moved for STALL_TIMEOUT_MS; stops once `until`
 * settles. `silence` names what did not come: `no echo`, `no delivery`.
 */
export function stallWatchdog(lastProgress, until, silence = 'no echo') {
  let timer;
  const stalled = new Promise((_, reject) => {
    timer = setInterval(() => {
      if (performance.now() - lastProgress() > STALL_TIMEOUT_MS) {
        reject(new Error(`${silence} for ${STALL_TIMEOUT_MS / 1000} s: the server is stuck or not answering`));
      }
    }, 1000);
  });
  stalled.catch(() => {});
  until.finally(() => clearInterval(timer)).catch(() => {});
  return stalled;
}

/**
 * The smoke run's correctness check: the echoed stream is the sent stream, byte for byte (the
 * sent stream is `pattern` over and over). A mismatch ends the connection with an error.
 */
function echoMatches(client, buffer, nread, pattern) {
  for (let i = 0; i < nread; i++) {
    if (buffer[i] !== pattern[(client.received + i) % pattern.length]) {
      client.socket.destroy(new Error(`echoed byte ${client.received + i} differs from the byte sent`));
      return false;
    }
  }
  return true;
}

export function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
