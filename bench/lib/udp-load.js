/**
 * Load for any UDP server that sends every datagram back to its source (the udp-echo
 * benchmark): round trips with one datagram in flight, and a datagram rate with a bounded
 * window of datagrams in flight.
 *
 * The wire. Every datagram is one line of printable text with two fixed-width fields,
 *
 *   netlab bench udp s0003 n00001234 the quick brown fox jumps over\n
 *                     slot  sequence
 *
 * The load keeps `window` slots; each has at most one datagram in flight, and the slot's
 * sequence number tells its reply from an older one. UDP promises nothing, so a datagram with
 * no reply after REPLY_TIMEOUT_MS counts as lost and its slot sends the next one: the window
 * never shrinks for good and a run never hangs. A reply that comes after its datagram was
 * given up, or a second reply to one datagram, counts as late, not as a reply. A window keeps
 * what waits in the socket buffers bounded (the kernel drops datagrams that do not fit, it
 * never blocks the sender), so that the rate measured is the server's, not the kernel's loss.
 *
 * Cheap on purpose, like tcp-load.js: one connected dgram socket (the kernel checks the
 * source of each reply and keeps the route), one preallocated datagram per slot rewritten in
 * place (12 digits), and per reply a length check, 12 digits parsed and counters. Node gives
 * every received datagram its own Buffer; no load on node:dgram can avoid that.
 *
 * The text is printable, like what a student types, so that a server that logs what it
 * receives (netlab without --quiet) does its ordinary work.
 *
 * Leaves out: checking the echoed bytes, except with `verify` (the smoke run: every reply equal
 * to its datagram byte for byte, none answered twice); sockets per client (one socket stands
 * for one client; the server does the same work per datagram whoever sends it).
 */
import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { RoundTripTally } from './latency-samples.js';
import { delay, stallWatchdog } from './tcp-load.js';

/** A datagram with no reply after this long is lost: a loopback round trip takes tens of µs. */
const REPLY_TIMEOUT_MS = 200;
/** How often the slots are checked for a datagram past its timeout. */
const TIMEOUT_CHECK_MS = 50;
/** See openLoad(). */
const LOAD_RECEIVE_BUFFER_BYTES = 1024 * 1024;

const PREFIX = 'netlab bench udp s';
const SLOT_AT = PREFIX.length;
const SLOT_DIGITS = 4;
const SEQUENCE_AT = SLOT_AT + SLOT_DIGITS + 2; // after ' n'
const SEQUENCE_DIGITS = 8;
const FILLER = ' the quick brown fox jumps over the lazy dog 0123456789';
/** The shortest datagram that holds both fields, a space and the newline. */
export const MIN_DATAGRAM_BYTES = SEQUENCE_AT + SEQUENCE_DIGITS + 2;
const MAX_SLOTS = 10 ** SLOT_DIGITS;
const ZERO = 0x30;

/**
 * Round trips: one datagram in flight; the next is sent the moment the previous one's reply is
 * back (or it is given up as lost). `warmup` round trips first (not recorded), then `count`
 * recorded ones, each timed from send() to the reply's 'message' event.
 *
 * @returns `{ samples: LatencySamples (µs), seconds, lost, late }`
 */
export async function measureRoundTrips(options) {
  const { host, port, messageBytes, verify = false } = options;
  const tally = new RoundTripTally(options);
  let finish;
  const finished = new Promise((resolve) => (finish = resolve));

  const load = await openLoad({
    host,
    port,
    slots: 1,
    messageBytes,
    verify,
    onReply(slot, elapsedMs, now) {
      if (tally.record(elapsedMs, now)) return void finish();
      load.send(slot);
    },
    // A lost round trip is not a sample; the next datagram goes at once.
    onLost: (slot) => load.send(slot),
  });
  try {
    tally.begin();
    load.send(0);
    await Promise.race([finished, load.failed]);
  } finally {
    load.close();
  }
  return { samples: tally.samples, seconds: tally.seconds, lost: load.lost, late: load.late };
}

/**
 * Datagram rate: `window` datagrams always in flight; each reply sends the next one from its
 * slot. The first `rampMs` are not counted; then replies are counted for `durationMs`; then
 * sending stops and the load waits until every slot has its reply or has given it up.
 *
 * `onMeasureStart` / `onMeasureEnd` are called exactly at the edges of the counted window,
 * for the caller to read the server's CPU time there.
 *
 * @returns `{ replies, seconds, repliesPerS, lost, late, clientCpuMs }`; `lost` counts the whole
 *   run, ramp and drain included.
 */
export async function measureDatagramRate(options) {
  const { host, port, messageBytes, window, rampMs, durationMs, verify = false } = options;
  let counting = false;
  let sending = true;
  let replies = 0;
  let drained;
  const allIdle = new Promise((resolve) => (drained = resolve));
  const next = (slot) => {
    if (sending) load.send(slot);
    else if (load.inFlight === 0) drained();
  };

  const load = await openLoad({
    host,
    port,
    slots: window,
    messageBytes,
    verify,
    onReply(slot) {
      if (counting) replies++;
      next(slot);
    },
    onLost: next,
  });
  let start = 0;
  let cpu;
  try {
    for (let slot = 0; slot < window; slot++) load.send(slot);
    await Promise.race([delay(rampMs), load.failed]);
    options.onMeasureStart?.();
    const cpuStart = process.cpuUsage();
    start = performance.now();
    counting = true;
    await Promise.race([delay(durationMs), load.failed]);
    counting = false;
    cpu = process.cpuUsage(cpuStart);
    options.onMeasureEnd?.();
    const seconds = (performance.now() - start) / 1000;

    sending = false;
    if (load.inFlight > 0) await Promise.race([allIdle, load.failed]);
    const clientCpuMs = (cpu.user + cpu.system) / 1000;
    return { replies, seconds, repliesPerS: replies / seconds, lost: load.lost, late: load.late, clientCpuMs };
  } finally {
    load.close();
  }
}

/**
 * The socket and its slots: resolves once the socket is bound and connected to the server.
 * `send(slot)` sends the slot's next datagram; `onReply(slot, elapsedMs, now)` sees each reply
 * to a datagram still in flight, `onLost(slot)` each datagram given up. `failed` rejects on a
 * socket error (ECONNREFUSED: nothing listens on the port any more), a reply that is not a
 * datagram the load sent, or a stall; it never resolves.
 */
async function openLoad({ host, port, slots, messageBytes, verify, onReply, onLost }) {
  if (!Number.isInteger(slots) || slots < 1 || slots > MAX_SLOTS) throw new Error(`slots must be 1 to ${MAX_SLOTS}, not ${slots}`);
  if (!(messageBytes >= MIN_DATAGRAM_BYTES)) throw new Error(`messageBytes must be at least ${MIN_DATAGRAM_BYTES}, not ${messageBytes}`);
  const datagrams = Array.from({ length: slots }, (_, slot) => datagram(slot, 0, messageBytes));
  const sequence = new Uint32Array(slots);
  const sentAt = new Float64Array(slots);
  const inFlight = new Uint8Array(slots);
  // verify only: every reply seen, `slot:sequence`, to catch one answered twice.
  const answered = verify ? new Set() : undefined;
  let progress = performance.now();
  let closed = false;
  let fail;
  const failed = new Promise((_, reject) => (fail = reject));
  failed.catch(() => {}); // observed by whoever races it; never an unhandled rejection
  let stopWatchdog;
  const stopped = new Promise((resolve) => (stopWatchdog = resolve));

  // The load's receive buffer: big enough that no reply is ever dropped on the load's side
  // (the kernel may grant less: Linux caps it at net.core.rmem_max), so that every loss counted
  // is the server's. The server keeps whatever buffer it chose.
  const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: LOAD_RECEIVE_BUFFER_BYTES });
  socket.on('error', (err) => {
    // On a connected socket, an ICMP "port unreachable" comes back as ECONNREFUSED.
    const why = err.code === 'ECONNREFUSED' ? ': nothing listens there any more (did the server exit?)' : '';
    fail(new Error(`UDP socket to ${host}:${port}: ${err.message}${why}`));
  });
  await new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.connect(port, host, () => {
      socket.off('error', reject);
      resolve();
    });
  });

  const load = {
    failed,
    lost: 0,
    late: 0,
    inFlight: 0,
    send(slot) {
      const seq = sequence[slot] + 1;
      sequence[slot] = seq;
      // A datagram given up may, in theory, still wait in a send queue that holds its Buffer:
      // a fresh one then, instead of rewriting that one.
      if (sentAt[slot] < 0) datagrams[slot] = datagram(slot, seq, messageBytes);
      else writeDigits(datagrams[slot], SEQUENCE_AT, SEQUENCE_DIGITS, seq);
      inFlight[slot] = 1;
      load.inFlight++;
      sentAt[slot] = performance.now();
      socket.send(datagrams[slot]);
    },
    /** Closes the socket and stops the timers. Safe to call twice. */
    close() {
      if (closed) return;
      closed = true;
      clearInterval(timeouts);
      stopWatchdog();
      socket.close();
    },
  };

  socket.on('message', (message) => {
    const now = performance.now();
    const slot = message.length === messageBytes ? readDigits(message, SLOT_AT, SLOT_DIGITS) : -1;
    const seq = slot >= 0 && slot < slots ? readDigits(message, SEQUENCE_AT, SEQUENCE_DIGITS) : -1;
    if (seq < 1 || seq > sequence[slot]) return fail(new Error(`a reply that is no datagram the load sent: ${JSON.stringify(message.toString('latin1', 0, 80))}`));
    if (verify) {
      const key = `${slot}:${seq}`;
      if (answered.has(key)) return fail(new Error(`datagram ${key} was answered twice`));
      answered.add(key);
      if (!message.equals(datagram(slot, seq, messageBytes))) return fail(new Error(`the reply to datagram ${key} differs from the datagram sent`));
    }
    progress = now;
    if (seq !== sequence[slot] || !inFlight[slot]) {
      load.late++; // its datagram was given up as lost already, or has had its reply
      return;
    }
    inFlight[slot] = 0;
    load.inFlight--;
    onReply(slot, now - sentAt[slot], now);
  });

  const timeouts = setInterval(() => {
    const now = performance.now();
    for (let slot = 0; slot < slots; slot++) {
      if (!inFlight[slot] || now - sentAt[slot] < REPLY_TIMEOUT_MS) continue;
      inFlight[slot] = 0;
      load.inFlight--;
      load.lost++;
      sentAt[slot] = -1; // marks the slot's Buffer as possibly still queued (see send())
      onLost(slot);
    }
  }, TIMEOUT_CHECK_MS);
  // A server that answers nothing at all: every datagram times out, and nothing else would end the run.
  stallWatchdog(() => progress, stopped, 'no reply').catch(fail);
  return load;
}

/** The datagram of `slot` with sequence number `seq`, `bytes` long (see the header). */
export function datagram(slot, seq, bytes) {
  const head = `${PREFIX}${pad(slot, SLOT_DIGITS)} n${pad(seq, SEQUENCE_DIGITS)}`;
  const text = head + FILLER.repeat(Math.ceil(bytes / FILLER.length));
  return Buffer.from(`${text.slice(0, bytes - 1)}\n`, 'latin1');
}

const pad = (n, digits) => String(n).padStart(digits, '0');

/** Writes `value` as `digits` decimal digits at `at` (lib/udp-offered-load.js uses it too). */
export function writeDigits(buffer, at, digits, value) {
  for (let i = at + digits - 1; i >= at; i--) {
    buffer[i] = ZERO + (value % 10);
    value = Math.floor(value / 10);
  }
}

/** The decimal number in `digits` bytes at `at`, or -1 if one of them is not a digit. */
export function readDigits(buffer, at, digits) {
  let value = 0;
  for (let i = at; i < at + digits; i++) {
    const digit = buffer[i] - ZERO;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}
