/**
 * An open-loop UDP load for the udp-echo benchmark's "under load" figure: datagrams are sent
 * at a fixed offered rate whatever comes back, as a classroom of clients would send them, and
 * every reply is timed; a datagram with no reply within DRAIN_MS of the last send is lost.
 *
 * Unlike the closed-loop loads of udp-load.js, nothing here waits for the server: a slow
 * server does not slow the sender, so what it cannot keep up with piles up in its socket's
 * receive buffer and, once that is full, the kernel drops it. Loss and latency under load are
 * therefore as much the socket buffer's as the server's (a big buffer trades loss for queueing
 * delay), and the figure reads the kernel's own drop counters (/proc/net/udp) to say where each
 * datagram was lost: in the server's socket, in the load's, or elsewhere.
 *
 * The wire: 64 bytes or more of printable text with two fixed-width fields,
 *
 *   netlab bench udp load n0000123456 t00000012345678 the quick brown fox jumps…\n
 *                         sequence    send time, µs since the run began
 *
 * so that a reply carries everything needed to time it and to count it once; a ring of
 * preallocated datagrams is rewritten in place (24 digits per send).
 *
 * Pacing: a timer fires about every millisecond and sends what the schedule owes since the
 * start (at most MAX_BURST at a time); a sender that falls behind does not catch up later with
 * one huge burst. The rate actually offered is reported beside the rate asked for. Each round
 * trip is timed from the datagram's real send, not from its place in the schedule: in a burst
 * the schedule is up to a tick (1 ms) ahead of the send, and that is the load's pacing, the
 * same for every server. Open loop, so a slow reply never delays a send (no coordinated
 * omission); a load too busy to send on time shows as a lower offered rate.
 *
 * Leaves out: many client sockets (one socket stands for the class); checking the echoed bytes
 * beyond the two fields, except with `verify` (the smoke run: every reply equal to its datagram).
 */
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { LatencyHistogram } from './latency-samples.js';
import { delay } from './tcp-load.js';
import { readDigits, writeDigits } from './udp-load.js';

/** Replies that come later than this after sending stopped are not waited for: they are lost. */
const DRAIN_MS = 500;
/** Datagrams sent in one timer tick at most: 1.2 ms of schedule at 120,000 a second is 144 (a full run asks for 105,000). */
const MAX_BURST = 400;
/** Datagrams in the ring: one is rewritten only after this many others went out (see send()). */
const RING = 4096;
/** As in udp-load.js: the load's own buffer must not be where replies are dropped. */
const LOAD_RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024;

const PREFIX = 'netlab bench udp load n';
const SEQUENCE_AT = PREFIX.length;
const SEQUENCE_DIGITS = 10;
const TIME_AT = SEQUENCE_AT + SEQUENCE_DIGITS + 2; // after ' t'
const TIME_DIGITS = 14;
const FILLER = ' the quick brown fox jumps over the lazy dog 0123456789';
export const MIN_OFFERED_DATAGRAM_BYTES = TIME_AT + TIME_DIGITS + 2;

/**
 * Offers `ratePerS` datagrams of `messageBytes` for `rampMs` (not counted) and then `durationMs`
 * (counted), then waits DRAIN_MS for the last replies.
 *
 * @returns `{ offered, offeredPerS, replies, lost, lostShare, late, histogram, seconds,
 *   clientCpuMs, drops: { server, load } }`: counts over the counted window's datagrams;
 *   `drops` are the kernel's counters for the two sockets from the start of the counted window
 *   to the end of the drain (-1 if unreadable).
 */
export async function measureOfferedLoad(options) {
  const { host, port, messageBytes, ratePerS, rampMs, durationMs, verify = false } = options;
  if (!(messageBytes >= MIN_OFFERED_DATAGRAM_BYTES)) throw new Error(`messageBytes must be at least ${MIN_OFFERED_DATAGRAM_BYTES}, not ${messageBytes}`);
  const histogram = new LatencyHistogram();
  const ring = Array.from({ length: RING }, () => datagram(0, 0, messageBytes));
  // One flag per datagram sent, set by its first reply: a second reply is late, not counted.
  // Room for a second more than the schedule, for timers that fire late.
  const expected = Math.ceil((ratePerS * (rampMs + durationMs + 1000)) / 1000);
  const answered = new Uint8Array(expected + 1);
  let sent = 0;
  let firstCounted = -1; // the first and last sequence numbers of the counted window
  let lastCounted = -1;
  let replies = 0;
  let late = 0;
  let failure;

  const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: LOAD_RECEIVE_BUFFER_BYTES });
  socket.on('error', (err) => (failure ??= new Error(`UDP socket to ${host}:${port}: ${err.message}`)));
  await new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.connect(port, host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  const loadPort = socket.address().port;
  let dropsBefore;

  const t0 = performance.now();
  socket.on('message', (message) => {
    const nowUs = (performance.now() - t0) * 1000;
    const seq = message.length === messageBytes ? readDigits(message, SEQUENCE_AT, SEQUENCE_DIGITS) : -1;
    if (seq < 1 || seq > sent) return void (failure ??= new Error(`a reply that is no datagram the load sent: ${JSON.stringify(message.toString('latin1', 0, 80))}`));
    if (verify && !message.equals(datagram(seq, readDigits(message, TIME_AT, TIME_DIGITS), messageBytes))) {
      failure ??= new Error(`the reply to datagram ${seq} differs from the datagram sent`);
      return;
    }
    if (answered[seq]) return void late++;
    answered[seq] = 1;
    if (seq < firstCounted || firstCounted < 0 || (lastCounted > 0 && seq > lastCounted)) return;
    replies++;
    histogram.record(nowUs - readDigits(message, TIME_AT, TIME_DIGITS));
  });

  const send = () => {
    const seq = ++sent;
    const buffer = ring[seq % RING];
    writeDigits(buffer, SEQUENCE_AT, SEQUENCE_DIGITS, seq);
    writeDigits(buffer, TIME_AT, TIME_DIGITS, Math.round((performance.now() - t0) * 1000));
    // Node tries the send at once (uv_udp_try_send) and keeps the Buffer only if the kernel's
    // send buffer is full; by the time the ring comes back to this one, RING sends later, it is free.
    socket.send(buffer);
  };

  // The schedule: `ratePerS` from `from` on; each tick sends what it owes, up to MAX_BURST.
  let scheduleStart = performance.now();
  let scheduled = 0;
  let stopped = false;
  const tick = () => {
    if (stopped) return;
    const owed = Math.floor(((performance.now() - scheduleStart) * ratePerS) / 1000) - scheduled;
    const burst = Math.min(owed, MAX_BURST);
    for (let i = 0; i < burst; i++) send();
    scheduled += owed; // what could not be sent in this tick is not owed any more
    setTimeout(tick, 1);
  };
  try {
    tick();
    await delay(rampMs);
    options.onMeasureStart?.();
    dropsBefore = { server: udpDrops(port), load: udpDrops(loadPort) };
    const cpuStart = process.cpuUsage();
    const start = performance.now();
    firstCounted = sent + 1;
    await delay(durationMs);
    lastCounted = sent;
    stopped = true;
    const seconds = (performance.now() - start) / 1000;
    const cpu = process.cpuUsage(cpuStart);
    options.onMeasureEnd?.();
    await delay(DRAIN_MS);
    if (failure) throw failure;
    // Loss is a result, but a server that answers nothing at all in a smoke run is broken.
    if (verify && replies === 0) throw new Error(`no reply to any of ${sent} datagrams`);
    const offered = lastCounted - firstCounted + 1;
    const drops = {
      server: dropsBefore.server < 0 ? -1 : udpDrops(port) - dropsBefore.server,
      load: dropsBefore.load < 0 ? -1 : udpDrops(loadPort) - dropsBefore.load,
    };
    return {
      offered,
      offeredPerS: offered / seconds,
      replies,
      lost: offered - replies,
      lostShare: (offered - replies) / offered,
      late,
      histogram,
      seconds,
      clientCpuMs: (cpu.user + cpu.system) / 1000,
      drops,
    };
  } finally {
    stopped = true;
    socket.close();
  }
}

/**
 * The kernel's count of datagrams dropped at the IPv4 UDP socket bound to `port` on any
 * loopback or wildcard address (the last column of /proc/net/udp: a full receive buffer, or a
 * failed checksum); -1 where there is no /proc (not Linux).
 */
export function udpDrops(port) {
  let table;
  try {
    table = readFileSync('/proc/net/udp', 'latin1');
  } catch {
    return -1;
  }
  // local_address is hex `ADDR:PORT`, the address in the kernel's byte order (127.0.0.1 is 0100007F).
  const local = new Set(['0100007F', '00000000'].map((address) => `${address}:${port.toString(16).toUpperCase().padStart(4, '0')}`));
  let drops = 0;
  for (const line of table.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 13 || !local.has(fields[1])) continue;
    drops += Number(fields[fields.length - 1]);
  }
  return drops;
}

/** The datagram with sequence number `seq` sent at `us` µs, `bytes` long (see the header). */
export function datagram(seq, us, bytes) {
  const head = `${PREFIX}${String(seq).padStart(SEQUENCE_DIGITS, '0')} t${String(us).padStart(TIME_DIGITS, '0')}`;
  const text = head + FILLER.repeat(Math.ceil(bytes / FILLER.length));
  return Buffer.from(`${text.slice(0, bytes - 1)}\n`, 'latin1');
}
