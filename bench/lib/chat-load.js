/**
 * Load for a line chat server (the tcp-chat benchmark): a room of clients in the bench process,
 * some of them talking, every one of them counting what the server delivers to it. Two loads:
 * fan-out (as many deliveries as the server can make) and delivery latency (a fixed, moderate
 * offered rate, every delivery timed from send to receive).
 *
 * The wire. A message is one line whose text ends in fixed-width fields,
 *
 *   netlab bench chat s0042 00001234 00000812345
 *                      sender sequence send time (µs since the room opened)
 *
 * and the server delivers it to every other client as `NAME: TEXT\n`. The fields sit at fixed
 * distances before the newline, so a recipient reads them without searching the line. Lines
 * starting with `*` are the server's notices (welcome, joins, leaves) and are skipped, except
 * that a notice the load itself caused (`*** slow down`, `*** error: …`) fails the run: the
 * figure would then measure the server's rate limit or a refusal, not its fan-out.
 *
 * Cheap on purpose, like tcp-load.js: raw net sockets reading into one preallocated buffer each
 * (`onread`), lines found with Buffer#indexOf, and for most lines nothing but a counter. Only
 * the latency load parses a number per line, and only the smoke run (`verify`) decodes lines
 * to strings, to check that every message reaches every other client exactly once, intact.
 *
 * Leaves out: names, commands and private messages (the chat's own tests cover them), slow
 * readers (the server's queue cap is a limit, not a hot path), and more than one room.
 */
import { performance } from 'node:perf_hooks';
import { LatencySamples } from './latency-samples.js';
import { connect, delay, stallWatchdog } from './tcp-load.js';

/** The longest line the load expects from the server; longer means the server is wrong. */
const MAX_LINE_BYTES = 1024;
/** How often the load checks a condition it waits for (every client joined, all delivered). */
const POLL_MS = 2;
/** How long the clients get to appear in the room, and how often it is asked (see waitForEveryone). */
const JOIN_TIMEOUT_MS = 10_000;
const JOIN_ASK_MS = 10;
/** How long the sockets get to close cleanly before they are destroyed. */
const CLOSE_TIMEOUT_MS = 2_000;

const NEWLINE = 0x0a;
const STAR = 0x2a;
const BANG = 0x21;
const ZERO = 0x30;

const TEXT_PREFIX = 'netlab bench chat s';
/** The fields' widths; positions below count back from the newline. */
const SENDER_DIGITS = 4;
const SEQUENCE_DIGITS = 8;
const TIME_DIGITS = 11;
const TIME_FROM_END = TIME_DIGITS;
const SEQUENCE_FROM_END = TIME_DIGITS + 1 + SEQUENCE_DIGITS;
const SENDER_FROM_END = SEQUENCE_FROM_END + 1 + SENDER_DIGITS;
/** The barrier message (see waitForEveryone); its last byte, `!`, tells it from a message. */
const SYNC_LINE = 'netlab bench chat: everyone here?!\n';

/**
 * Fan-out: `clients` in one room, taking turns (round robin) to send, so that `inFlight`
 * messages are always in flight: a message is in flight until every other client has it, and
 * as deliveries arrive, the next clients in turn send. The server thus always has lines
 * waiting (it is saturated) and no queue grows without bound. The first `rampMs` are not
 * counted; then deliveries (lines received, notices excluded) are counted for `durationMs`;
 * then sending stops and the load waits until every message has reached every other client.
 *
 * @returns `{ deliveries, seconds, deliveriesPerS, clientCpuMs }`
 */
export async function measureFanOut(options) {
  const { host, port, clients: size, inFlight, rampMs, durationMs, verify = false } = options;
  const room = await openRoom(host, port, size);
  try {
    await waitForEveryone(room);
    if (verify) room.onLine = verifier(room);
    const recipients = size - 1;
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
    await Promise.race([delay(rampMs), room.failed]);

    options.onMeasureStart?.();
    const cpuStart = process.cpuUsage();
    const start = performance.now();
    const deliveredBefore = room.delivered;
    await Promise.race([delay(durationMs), room.failed]);
    const deliveries = room.delivered - deliveredBefore;
    const seconds = (performance.now() - start) / 1000;
    const cpu = process.cpuUsage(cpuStart);
    options.onMeasureEnd?.();

    sending = false;
    await allDelivered(room);
    room.check?.();
    return { deliveries, seconds, deliveriesPerS: deliveries / seconds, clientCpuMs: (cpu.user + cpu.system) / 1000 };
  } finally {
    await closeRoom(room);
  }
}

/**
 * Delivery latency: `clients` in one room, the first `senders` of them each sending
 * `ratePerSender` messages a second on a fixed schedule (open loop: a slow delivery does not
 * slow the senders down). Every delivery of a message sent in the `durationMs` window after
 * `warmupMs` is timed, send to receive, at every recipient; then sending stops and the load
 * waits for every message to arrive everywhere.
 *
 * @returns `{ samples: LatencySamples (µs), seconds, clientCpuMs }`
 */
export async function measureDeliveryLatency(options) {
  const { host, port, clients: size, senders, ratePerSender, warmupMs, durationMs, verify = false } = options;
  const room = await openRoom(host, port, size);
  try {
    await waitForEveryone(room);
    const check = verify ? verifier(room) : undefined;
    const recipients = size - 1;
    const messagesPerS = senders * ratePerSender;
    // Room for every delivery of the window, with a margin for a window that ends late.
    const capacity = Math.ceil(messagesPerS * (durationMs / 1000) * 1.2 + senders) * recipients;
    const samples = new LatencySamples(capacity);
    let windowStartUs = Infinity;
    let windowEndUs = Infinity;
    room.onLine = (client, buffer, start, end, nowUs) => {
      check?.(client, buffer, start, end, nowUs);
      const sentUs = digits(buffer, end - TIME_FROM_END, end);
      if (sentUs < windowStartUs || sentUs >= windowEndUs) return;
      if (samples.count === capacity) return room.fail(new Error(`more than ${capacity} deliveries in the window: the load is wrong`));
      samples.record(nowUs - sentUs);
    };

    // Every millisecond, send what the schedule says is due by now (setInterval cannot wake
    // for each message; at these rates that is zero to a few messages a tick).
    const startMs = performance.now();
    let scheduled = 0;
    let next = 0;
    const pacer = setInterval(() => {
      const due = Math.floor(((performance.now() - startMs) * messagesPerS) / 1000);
      for (; scheduled < due; scheduled++) {
        send(room, room.clients[next]);
        next = next + 1 === senders ? 0 : next + 1;
      }
    }, 1);
    let seconds;
    let cpu;
    try {
      await Promise.race([delay(warmupMs), room.failed]);
      options.onMeasureStart?.();
      const cpuStart = process.cpuUsage();
      const start = performance.now();
      windowStartUs = (start - room.epochMs) * 1000;
      await Promise.race([delay(durationMs), room.failed]);
      const end = performance.now();
      windowEndUs = (end - room.epochMs) * 1000;
      cpu = process.cpuUsage(cpuStart);
      options.onMeasureEnd?.();
      seconds = (end - start) / 1000;
    } finally {
      clearInterval(pacer);
    }
    await allDelivered(room);
    room.check?.();
    if (samples.count === 0) throw new Error('no message was delivered in the measured window');
    return { samples, seconds, clientCpuMs: (cpu.user + cpu.system) / 1000 };
  } finally {
    await closeRoom(room);
  }
}

/**
 * Connects `size` clients to the server at once. The room counts every client's deliveries;
 * `room.onLine(client, buffer, start, end, nowUs)`, when set, sees each message line (without
 * its newline), and `room.afterRead()` runs after each read. `room.failed` rejects with the
 * first thing that went wrong: a stall, a refusal, a connection the server closed.
 */
async function openRoom(host, port, size) {
  const room = {
    clients: [],
    epochMs: performance.now(),
    progressMs: performance.now(),
    sent: 0,
    delivered: 0,
    onLine: undefined,
    afterRead: undefined,
    check: undefined,
    closing: false,
    failed: undefined,
    fail: undefined,
    stopWatchdog: undefined,
  };
  room.failed = new Promise((_, reject) => (room.fail = reject));
  room.failed.catch(() => {}); // observed by whoever races it; never an unhandled rejection
  const stopped = new Promise((resolve) => (room.stopWatchdog = resolve));
  stallWatchdog(() => room.progressMs, stopped, 'no delivery').catch((err) => room.fail(err));

  const onRead = (client, nread, buffer) => readLines(room, client, nread, buffer);
  const fields = (index) => ({ index, seq: 0, syncs: 0, partial: Buffer.allocUnsafe(MAX_LINE_BYTES), partialBytes: 0 });
  const connecting = await Promise.allSettled(Array.from({ length: size }, (_, index) => connect(host, port, onRead, fields(index))));
  room.clients = connecting.filter((c) => c.status === 'fulfilled').map((c) => c.value);
  const refused = connecting.find((c) => c.status === 'rejected');
  if (refused) {
    await closeRoom(room);
    throw refused.reason;
  }
  for (const client of room.clients) {
    client.closed.then(
      () => room.closing || room.fail(new Error(`the server closed client ${client.index}'s connection in the middle of the run`)),
      (err) => room.closing || room.fail(err),
    );
  }
  return room;
}

/** Ends every client (FIN), waits for the server to close them, destroys the stragglers. */
async function closeRoom(room) {
  room.closing = true;
  room.stopWatchdog();
  for (const client of room.clients) client.socket.end();
  let timer;
  const timeout = new Promise((resolve) => (timer = setTimeout(resolve, CLOSE_TIMEOUT_MS)));
  await Promise.race([Promise.allSettled(room.clients.map((client) => client.closed)), timeout]);
  clearTimeout(timer); // a pending timer would keep the bench process alive after its last figure
  for (const client of room.clients) client.socket.destroy(); // a no-op for the ones closed cleanly
}

/**
 * Waits until the server has every client in its room. A connect() that resolved says only
 * that the kernel accepted the connection; the server may not have run its accept code yet,
 * and a message broadcast before that would miss the client. So the first client says
 * something until every other one has heard it (a server without notices gives no other sign).
 */
async function waitForEveryone(room) {
  const [first, ...others] = room.clients;
  const deadline = performance.now() + JOIN_TIMEOUT_MS;
  while (performance.now() < deadline) {
    first.socket.write(SYNC_LINE);
    const heard = () => others.every((client) => client.syncs > 0);
    await Promise.race([untilOrTimeout(heard, JOIN_ASK_MS), room.failed]);
    if (heard()) return;
  }
  throw new Error(`not every client was in the chat after ${JOIN_TIMEOUT_MS / 1000} s`);
}

/** One message from `client`, its send time stamped in the text. */
function send(room, client) {
  const sentUs = Math.round((performance.now() - room.epochMs) * 1000);
  const text = `${TEXT_PREFIX}${pad(client.index, SENDER_DIGITS)} ${pad(client.seq, SEQUENCE_DIGITS)} ${pad(sentUs, TIME_DIGITS)}`;
  client.socket.write(`${text}\n`);
  room.check?.sent(client, text);
  client.seq++;
  room.sent++;
}

/** Splits one read into lines; a line cut by the end of the read waits in `client.partial`. */
function readLines(room, client, nread, buffer) {
  const now = performance.now();
  room.progressMs = now;
  const nowUs = (now - room.epochMs) * 1000;
  let pos = 0;
  while (pos < nread) {
    const newline = buffer.indexOf(NEWLINE, pos);
    // Past nread lie the stale bytes of an earlier read, newlines included.
    if (newline === -1 || newline >= nread) {
      keep(room, client, buffer, pos, nread);
      break;
    }
    if (client.partialBytes > 0) {
      keep(room, client, buffer, pos, newline);
      takeLine(room, client, client.partial, 0, client.partialBytes, nowUs);
      client.partialBytes = 0;
    } else {
      takeLine(room, client, buffer, pos, newline, nowUs);
    }
    pos = newline + 1;
  }
  room.afterRead?.();
}

function keep(room, client, buffer, start, end) {
  if (client.partialBytes + end - start > MAX_LINE_BYTES) {
    room.fail(new Error(`client ${client.index} received a line longer than ${MAX_LINE_BYTES} bytes`));
    client.socket.destroy();
    return;
  }
  client.partialBytes += buffer.copy(client.partial, client.partialBytes, start, end);
}

function takeLine(room, client, buffer, start, end, nowUs) {
  if (buffer[start] === STAR) {
    const text = buffer.toString('utf8', start, end);
    // Answers to the load itself: its figures would be the server's limits, not its fan-out.
    if (text.startsWith('*** slow down') || text.startsWith('*** error')) {
      room.fail(new Error(`the server told client ${client.index}: ${text}`));
    }
    return;
  }
  if (buffer[end - 1] === BANG) {
    client.syncs++;
    return;
  }
  room.delivered++;
  room.onLine?.(client, buffer, start, end, nowUs);
}

/**
 * The smoke run's check, installed as room.onLine and room.check: each line is `NAME: TEXT`
 * with a TEXT some other client sent, word for word, and the same NAME for the same sender at
 * every recipient; no recipient gets a message twice or its own; at the end, every message
 * has reached every other client (the count of unique deliveries is complete).
 */
function verifier(room) {
  const texts = new Map(); // `sender seq` → the text sent
  const names = new Map(); // sender → the name the server gave it
  const seen = new Set(); // `recipient sender seq`
  const fail = (client, why) => {
    room.fail(new Error(`client ${client.index}: ${why}`));
    client.socket.destroy();
  };
  const onLine = (client, buffer, start, end) => {
    const line = buffer.toString('utf8', start, end);
    const colon = line.indexOf(': ');
    const sender = digits(buffer, end - SENDER_FROM_END, end - SENDER_FROM_END + SENDER_DIGITS);
    const seq = digits(buffer, end - SEQUENCE_FROM_END, end - SEQUENCE_FROM_END + SEQUENCE_DIGITS);
    const key = `${sender} ${seq}`;
    if (colon === -1 || texts.get(key) !== line.slice(colon + 2)) return fail(client, `received a line no one sent: ${JSON.stringify(line)}`);
    if (sender === client.index) return fail(client, `received its own message ${seq}`);
    const name = line.slice(0, colon);
    if ((names.get(sender) ?? name) !== name) return fail(client, `client ${sender}'s messages arrive as ${names.get(sender)} and ${name}`);
    names.set(sender, name);
    if (seen.has(`${client.index} ${key}`)) return fail(client, `received client ${sender}'s message ${seq} twice`);
    seen.add(`${client.index} ${key}`);
  };
  room.check = () => {
    const expected = room.sent * (room.clients.length - 1);
    if (seen.size !== expected) throw new Error(`${seen.size} of ${expected} deliveries arrived`);
    if (new Set(names.values()).size !== names.size) throw new Error('two senders arrived under the same name');
  };
  room.check.sent = (client, text) => texts.set(`${client.index} ${client.seq}`, text);
  return onLine;
}

/** The unsigned decimal number in buffer[start, end); NaN if a byte there is not a digit. */
export function digits(buffer, start, end) {
  let value = 0;
  for (let i = start; i < end; i++) {
    const digit = buffer[i] - ZERO;
    if (digit < 0 || digit > 9) return NaN;
    value = value * 10 + digit;
  }
  return value;
}

/** `value` in decimal, with leading zeros to `width` digits. */
export function pad(value, width) {
  return String(value).padStart(width, '0');
}

/** Resolves once every message sent has reached every other client; rejects with the count if it never does. */
async function allDelivered(room) {
  const expected = room.sent * (room.clients.length - 1);
  try {
    await until(room, () => room.delivered === expected);
  } catch (err) {
    throw new Error(`${err.message} (${room.delivered} of ${expected} deliveries arrived)`);
  }
}

/** Resolves once `condition()` holds; rejects if the room fails or stops making progress first. */
async function until(room, condition) {
  while (!condition()) await Promise.race([delay(POLL_MS), room.failed]);
}

/** Resolves once `condition()` holds or after `timeoutMs`, whichever comes first. */
async function untilOrTimeout(condition, timeoutMs) {
  const deadline = performance.now() + timeoutMs;
  while (!condition() && performance.now() < deadline) await delay(POLL_MS);
}
