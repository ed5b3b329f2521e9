/**
 * Loads for a line chat server (the tcp-chat benchmark), run in a room of clients from
 * tcp-chat-room.js: fan-out (as many deliveries as the server can make, each of them timed)
 * and a lone message (one message at a time in an otherwise idle chat, each delivery timed).
 * The room is opened once and reused by every run; the wire is described there.
 *
 * Every delivery is timed from the sender's write to the read that brings it to a recipient.
 * Sender and recipients share this process, so both times come from one performance.now()
 * clock; the time includes the load's own work to get to each socket, the same for every
 * server.
 *
 * Leaves out: a fixed offered rate between the two (the fan-out load is the busy end, the lone
 * message the idle end), joins and leaves under load, and more than one room.
 */
import { performance } from 'node:perf_hooks';
import { LatencyHistogram } from './latency-samples.js';
import { delay } from './tcp-load.js';
import { allDelivered, beginRun, send } from './tcp-chat-room.js';
import { TIME_FROM_END, digits } from './tcp-chat-wire.js';

export { closeRoom, openRoom } from './tcp-chat-room.js';
export { digits, pad } from './tcp-chat-wire.js';

/**
 * Fan-out: the room's clients take turns (round robin) to send, so that `inFlight` messages
 * are always in flight: a message is in flight until every other client has it, and as
 * deliveries arrive, the next clients in turn send. The server thus always has lines waiting
 * (it is saturated) and no queue grows without bound. The first `rampMs` are not counted; then
 * for `durationMs` deliveries are counted and each one's latency recorded; then sending stops
 * and the load waits until every message has reached every other client.
 *
 * With a fixed number in flight, the latency follows from the rate (Little's law: on average,
 * in flight × recipients ÷ deliveries per second); its tail shows how evenly the server serves.
 *
 * @returns `{ deliveries, seconds, deliveriesPerS, latency: LatencyHistogram (µs), clientCpuMs }`
 */
export async function measureFanOut(options) {
  const { room, inFlight, rampMs, durationMs, verify = false } = options;
  const size = room.clients.length;
  const recipients = size - 1;
  const run = beginRun(room, verify);
  try {
    const check = room.onLine;
    const latency = new LatencyHistogram();
    let timing = false;
    room.onLine = (client, buffer, start, end, nowUs) => {
      check?.(client, buffer, start, end, nowUs);
      if (timing) latency.record(nowUs - digits(buffer, end - TIME_FROM_END, end));
    };
    let next = 0;
    let sending = true;
    // In flight: messages sent, minus the share of their deliveries that have arrived.
    room.afterRead = () => {
      while (sending && room.sent - room.delivered / recipients < inFlight) {
        send(room, room.clients[next]);
        next = next + 1 === size ? 0 : next + 1;
      }
    };
    room.afterRead();
    await run.race(delay(rampMs));

    options.onMeasureStart?.();
    const cpuStart = process.cpuUsage();
    const start = performance.now();
    const deliveredBefore = room.delivered;
    timing = true;
    await run.race(delay(durationMs));
    timing = false;
    const deliveries = room.delivered - deliveredBefore;
    const seconds = (performance.now() - start) / 1000;
    const cpu = process.cpuUsage(cpuStart);
    options.onMeasureEnd?.();

    sending = false;
    await allDelivered(room, run);
    return { deliveries, seconds, deliveriesPerS: deliveries / seconds, latency, clientCpuMs: (cpu.user + cpu.system) / 1000 };
  } finally {
    run.end();
  }
}

/**
 * A lone message: one message at a time, the room's clients taking turns to send it; the next
 * is sent only once every other client has the last one, and `gapMs` after that (0: at once,
 * from the read that completed it). `warmup` messages are not timed; of the next `count`,
 * every delivery is timed (`each`), and so is the last delivery of each message (`last`:
 * when everyone has it).
 *
 * @returns `{ each: LatencyHistogram, last: LatencyHistogram (µs), seconds, deliveries }`
 */
export async function measureLoneMessage(options) {
  const { room, warmup, count, gapMs = 0, verify = false } = options;
  const recipients = room.clients.length - 1;
  const run = beginRun(room, verify);
  let gapTimer;
  try {
    const check = room.onLine;
    const each = new LatencyHistogram();
    const last = new LatencyHistogram();
    let sentUs = 0;
    let start = 0;
    let end = 0;
    let finished;
    const done = new Promise((resolve) => (finished = resolve));
    const sendNext = () => {
      if (room.sent === warmup) {
        options.onMeasureStart?.();
        start = performance.now();
      }
      sentUs = send(room, room.clients[room.sent % room.clients.length]);
    };
    room.onLine = (client, buffer, lineStart, lineEnd, nowUs) => {
      check?.(client, buffer, lineStart, lineEnd, nowUs);
      const timed = room.sent > warmup;
      if (timed) each.record(nowUs - sentUs);
      if (room.delivered < room.sent * recipients) return;
      if (timed) last.record(nowUs - sentUs);
      if (room.sent === warmup + count) {
        end = performance.now();
        options.onMeasureEnd?.();
        finished();
      } else if (gapMs === 0) sendNext();
      else gapTimer = setTimeout(sendNext, gapMs);
    };
    sendNext();
    await run.race(done);
    await allDelivered(room, run);
    return { each, last, seconds: (end - start) / 1000, deliveries: count * recipients };
  } finally {
    clearTimeout(gapTimer); // a run that failed must not send into the next one
    run.end();
  }
}
