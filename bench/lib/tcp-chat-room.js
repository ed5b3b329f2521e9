/**
 * A room of line-chat clients in the bench process, for the tcp-chat loads (chat-load.js):
 * connect them, seat them in the server's chat, read and count what the server delivers, and
 * (in the smoke run) check every line. The loads decide who sends when; this file only moves
 * and counts lines.
 *
 * The wire is tcp-chat-wire.js's: a message ends in fixed-width fields (sender, sequence, send
 * time), and the server delivers it to every other client as `NAME: TEXT\n`. Lines starting
 * with `*` are the server's notices (welcome, joins, leaves) and are skipped, except that a
 * notice the load itself caused (`*** slow down`, `*** error: …`) fails the run: the figure
 * would then measure the server's rate limit or a refusal, not its fan-out.
 *
 * Cheap on purpose, like tcp-load.js: raw net sockets reading (`onread`) into one buffer
 * shared by every client of the room (a read is handled before the next one starts, and a line
 * cut by the end of a read is copied out), lines found with Buffer#indexOf, and for most lines
 * nothing but a counter and what the load's `onLine` does. Only the smoke run (`verify`)
 * decodes lines to strings, to check that every message reaches every other client exactly
 * once, intact. The idea of the shared buffer is ws-chat-load.js's.
 *
 * A room is opened once and reused by many runs (seating 1,000 clients takes a while): each
 * run starts with beginRun(), which zeroes the counters, and ends once every message it sent
 * has arrived everywhere (allDelivered()), so the next run starts from a quiet room.
 *
 * Leaves out: names, commands and private messages (the chat's own tests cover them), slow
 * readers (the server's queue cap is a limit, not a hot path), and more than one room.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { beginRun as beginChatRun } from './chat-run.js';
import { delay } from './tcp-load.js';
import { MAX_CLIENTS, messageText, verifier } from './tcp-chat-wire.js';

/** The longest line the load expects from the server; longer means the server is wrong. */
const MAX_LINE_BYTES = 1024;
/** The one read buffer of the whole room (Node reads at most 64 KiB at a time). */
const READ_BUFFER_BYTES = 64 * 1024;
/**
 * Connects in progress at once. Node listens with a backlog of 511: 1,000 connects at once
 * would overflow it, and a connection dropped there waits a second for the retransmission.
 */
const CONNECT_CONCURRENCY = 100;
/** How often the load checks a condition it waits for (every client seated, all delivered). */
const POLL_MS = 2;
/**
 * How long the clients get to appear in the chat, and how often it is asked (see seat()): at
 * least every 10 ms, less often in a big chat, since each ask is a line to every client.
 */
const SEAT_TIMEOUT_MS = 30_000;
const SEAT_ASK_MS = 10;
const SEAT_ASKS_PER_CLIENT_MS = 0.1;
/** How long the sockets get to close cleanly before they are destroyed. */
const CLOSE_TIMEOUT_MS = 5_000;

const NEWLINE = 0x0a;
const STAR = 0x2a;
const BANG = 0x21;
/** `*** s…` and `*** e…`: the only notices worth decoding (slow down, error, server shutting down). */
const NOTICE_LETTER_AT = 4;
const LETTER_S = 0x73;
const LETTER_E = 0x65;

/** The barrier message (see seat()); its last byte, `!`, tells it from a message. */
const SYNC_LINE = 'netlab bench chat: everyone here?!\n';

/**
 * Connects `size` clients, CONNECT_CONCURRENCY at a time, and resolves once the server has
 * every one of them in its chat. During a run, `room.onLine(client, buffer, start, end, nowUs)`
 * sees each message line (without its newline) and `room.afterRead()` runs after each read.
 * `room.failed` rejects with the first thing that went wrong: a refusal, a connection the
 * server closed. Until closeRoom(), the room holds no timer, so it can wait idle between runs.
 *
 * @returns the room: `{ clients, epochMs, sent, delivered, ... }`
 */
export async function openRoom({ host, port, size }) {
  if (!Number.isInteger(size) || size < 2 || size > MAX_CLIENTS) throw new Error(`size must be 2 to ${MAX_CLIENTS}, not ${size}`);
  const room = {
    clients: [],
    epochMs: performance.now(),
    progressMs: performance.now(),
    sent: 0,
    delivered: 0,
    onLine: undefined,
    afterRead: undefined,
    verifier: undefined,
    closing: false,
    failed: undefined,
    fail: undefined,
  };
  room.failed = new Promise((_, reject) => (room.fail = reject));
  room.failed.catch(() => {}); // observed by whoever races it; never an unhandled rejection
  const readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  let next = 0;
  const connectNext = async () => {
    while (next < size) {
      const client = openClient(room, host, port, next++, readBuffer);
      room.clients.push(client);
      await Promise.race([client.connected, room.failed]);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(CONNECT_CONCURRENCY, size) }, connectNext));
    await seat(room);
  } catch (err) {
    await closeRoom(room);
    throw err;
  }
  return room;
}

/** Ends every client (FIN), waits for the server to close them, destroys the stragglers. */
export async function closeRoom(room) {
  room.closing = true;
  for (const client of room.clients) client.socket.end();
  let timer;
  const timeout = new Promise((resolve) => (timer = setTimeout(resolve, CLOSE_TIMEOUT_MS)));
  await Promise.race([Promise.allSettled(room.clients.map((client) => client.closed)), timeout]);
  clearTimeout(timer); // a pending timer would keep the bench process alive after its last figure
  for (const client of room.clients) client.socket.destroy(); // a no-op for the ones closed cleanly
}

/** Starts one load run in `room` (chat-run.js), the smoke run's verifier checking every line when `verify`. */
export function beginRun(room, verify) {
  return beginChatRun(room, verify ? verifier(room) : undefined, 'onLine');
}

/** One message from `client`, its send time stamped in the text; returns that time (µs since the room opened). */
export function send(room, client) {
  const sentUs = Math.round((performance.now() - room.epochMs) * 1000);
  const text = messageText(client.index, client.seq, sentUs);
  client.socket.write(`${text}\n`);
  room.verifier?.sent(client, text);
  client.seq++;
  room.sent++;
  return sentUs;
}

/** Resolves once every message of this run has reached every other client (and passed the verifier). */
export async function allDelivered(room, run) {
  const expected = room.sent * (room.clients.length - 1);
  try {
    while (room.delivered < expected) await run.race(delay(POLL_MS));
  } catch (err) {
    throw new Error(`${err.message} (${room.delivered} of ${expected} deliveries arrived)`);
  }
  if (room.delivered > expected) throw new Error(`${room.delivered} deliveries of ${room.sent} messages to ${room.clients.length - 1} others`);
  room.verifier?.done();
}

/** One client: `{ index, seq, syncs, socket, connected, closed }`, its reads split into lines. */
function openClient(room, host, port, index, readBuffer) {
  const client = { index, seq: 0, syncs: 0, socket: undefined, connected: undefined, closed: undefined };
  const partial = Buffer.allocUnsafe(MAX_LINE_BYTES);
  let partialBytes = 0;
  const keep = (buffer, start, end) => {
    if (partialBytes + end - start > MAX_LINE_BYTES) return broken(`received a line longer than ${MAX_LINE_BYTES} bytes`);
    partialBytes += buffer.copy(partial, partialBytes, start, end);
    return true;
  };
  const broken = (why) => {
    room.fail(new Error(`client ${index}: ${why}`));
    client.socket.destroy();
    return false;
  };
  const onRead = (nread, buffer) => {
    const now = performance.now();
    room.progressMs = now;
    const nowUs = (now - room.epochMs) * 1000;
    let pos = 0;
    while (pos < nread) {
      const newline = buffer.indexOf(NEWLINE, pos);
      // Past nread lie the stale bytes of an earlier read, newlines included.
      if (newline === -1 || newline >= nread) {
        keep(buffer, pos, nread);
        break;
      }
      if (partialBytes > 0) {
        if (!keep(buffer, pos, newline)) return;
        const bytes = partialBytes;
        partialBytes = 0;
        if (!takeLine(room, client, partial, 0, bytes, nowUs)) return;
      } else if (!takeLine(room, client, buffer, pos, newline, nowUs)) return;
      pos = newline + 1;
    }
    room.afterRead?.();
  };
  // noDelay: a 50-byte line must leave now, not wait for Nagle's algorithm.
  client.socket = net.connect({ host, port, noDelay: true, onread: { buffer: readBuffer, callback: onRead } });
  client.connected = new Promise((resolve) => client.socket.once('connect', resolve));
  client.closed = new Promise((resolve) => {
    // on, not once: a write to a socket that already failed emits a second error.
    client.socket.on('error', (err) => room.closing || room.fail(new Error(`client ${index}: ${err.message}`)));
    client.socket.once('close', () => {
      if (!room.closing) room.fail(new Error(`the server closed client ${index}'s connection in the middle of the run`));
      resolve();
    });
  });
  return client;
}

/** One whole line, buffer[start, end): counted, skipped, or a reason to fail; false if it failed the room. */
function takeLine(room, client, buffer, start, end, nowUs) {
  if (buffer[start] === STAR) {
    const letter = buffer[start + NOTICE_LETTER_AT];
    if (letter !== LETTER_S && letter !== LETTER_E) return true; // welcome, joins, leaves
    const text = buffer.toString('utf8', start, end);
    // Answers to the load itself: its figures would be the server's limits, not its fan-out.
    if (text.startsWith('*** slow down') || text.startsWith('*** error')) {
      room.fail(new Error(`the server told client ${client.index}: ${text}`));
      return false;
    }
    return true;
  }
  if (buffer[end - 1] === BANG) {
    client.syncs++;
    return true;
  }
  room.delivered++;
  room.onLine?.(client, buffer, start, end, nowUs);
  return true;
}

/**
 * Waits until the server has every client in its chat. A connect that resolved says only that
 * the kernel accepted the connection; the server may not have run its accept code yet, and a
 * message broadcast before that would miss the client. So the first client says something
 * until every other one has heard it (a server without notices gives no other sign).
 */
async function seat(room) {
  const [first, ...others] = room.clients;
  const heard = () => others.every((client) => client.syncs > 0);
  const askMs = Math.max(SEAT_ASK_MS, room.clients.length * SEAT_ASKS_PER_CLIENT_MS);
  const deadline = performance.now() + SEAT_TIMEOUT_MS;
  while (performance.now() < deadline) {
    first.socket.write(SYNC_LINE);
    const askedAt = performance.now();
    while (!heard() && performance.now() - askedAt < askMs) await Promise.race([delay(POLL_MS), room.failed]);
    if (heard()) return;
  }
  throw new Error(`not every client was in the chat after ${SEAT_TIMEOUT_MS / 1000} s`);
}
