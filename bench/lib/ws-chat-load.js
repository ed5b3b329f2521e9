/**
 * Load for a WebSocket chat with rooms that speaks ws-chat's JSON (the ws-chat benchmark):
 * a room of clients in the bench process, some of them talking, every one of them counting
 * what the server delivers to it. Two loads, as for tcp-chat (chat-load.js): fan-out (as many
 * deliveries as the server can make, each of them timed) and a lone message (one message at a
 * time in an otherwise idle room, each delivery timed); and idle rooms, for the memory figures
 * (ws-idle-memory.js).
 *
 * Every delivery is timed from the sender's write to the read that brings it to a client.
 * Sender and recipients share this process, so both times come from one performance.now()
 * clock; the time includes the load's own work to get to each socket, the same for every
 * server.
 *
 * The wire. Each client does the opening handshake by hand (RFC 6455, section 4.1), checks
 * the 101 and its Sec-WebSocket-Accept, and sends `{"type":"join","name":"b3-0042","room":…}`
 * in a masked text frame ("The client MUST mask all frames that it sends to the server",
 * section 5.1); the server's `joined` says it is in the room. A message is
 * `{"type":"message","text":"netlab bench chat s0042 00001234 00000812345"}`, the text ending
 * in fixed-width fields (sender, sequence, send time in µs since the room opened), and the
 * server delivers it to every client of the room, the sender included, as
 *
 *   {"type":"message","room":"bench","from":"b3-0042","text":"netlab bench chat s0042 …","time":"2026-12-01T22:13:00.123Z"}
 *
 * JSON.stringify keeps the keys in the order the server wrote them, and an ISO time is always
 * 24 characters, so the fields sit at fixed distances before the end of the payload, and a
 * recipient reads them without parsing the JSON; the first letter of the type, 9 bytes in,
 * tells a message from the server's other frames (joined, history, users, notices), which
 * are skipped. A notice that is not about presence (netlab's "slow down") or an error fails
 * the run: the figure would then measure a limit or a refusal, not fan-out.
 *
 * Cheap on purpose, like tcp-chat's load (tcp-chat-room.js): raw net sockets reading
 * (`onread`) into one buffer shared by every client of the load (a read is handled before the
 * next one starts, and a frame cut by the end of a read is copied out), frames found by their
 * header alone, and for most frames nothing but a counter and the send time read from fixed
 * places. Only the smoke run (`verify`) parses the JSON, to check that every message reaches
 * every client exactly once, intact.
 *
 * Leaves out: ids (the load sends none, so netlab and the floor build one payload per message),
 * private messages, renames and actions (not the hot path), slow readers and the queue cap
 * (tests cover them), permessage-deflate (the load offers no extension), and more than one
 * room per fan-out.
 */
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { digits, pad } from './chat-load.js';
import { beginRun as beginChatRun } from './chat-run.js';
import { LatencyHistogram } from './latency-samples.js';
import { delay } from './tcp-load.js';
import { WS_PATH, maskedFrame } from './ws-load.js';

/** The room of the fan-out and lone-message loads (openRoom()'s default). */
const ROOM = 'bench';
/**
 * Handshakes in progress at once. Node listens with a backlog of 511: thousands of connects
 * at once would overflow it, and each connection refused there waits a second to retry.
 */
const CONNECT_CONCURRENCY = 100;
/** From connect to `joined`; a server that takes longer for one client is stuck. */
const JOIN_TIMEOUT_MS = 10_000;
/** A 101 answer with its headers is a few hundred bytes; far more is not a WebSocket server. */
const MAX_HANDSHAKE_BYTES = 8192;
/** The largest frame the load expects (a `users` list of 1,000 names is about 10 KB). */
const MAX_FRAME_BYTES = 256 * 1024;
/** The one read buffer of the whole load (Node reads at most 64 KiB at a time). */
const READ_BUFFER_BYTES = 64 * 1024;
/** How long the clients get to finish their close handshakes before their sockets are destroyed. */
const CLOSE_TIMEOUT_MS = 5000;
/** How often the load checks a condition it waits for. */
const POLL_MS = 2;
/** RFC 6455, section 1.3: the GUID the server appends to the key before hashing. */
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

const OPCODE_TEXT = 0x1;
const OPCODE_CLOSE = 0x8;
const OPCODE_PING = 0x9;
const OPCODE_PONG = 0xa;
/** Close code 1000: normal closure (RFC 6455, section 7.4.1). */
const NORMAL_CLOSE = 1000;

/** `{"type":"` is 9 bytes: the type's first letter follows, and each type has its own. */
const TYPE_AT = 9;
const LETTER = { message: 0x6d, joined: 0x6a, notice: 0x6e, error: 0x65, history: 0x68, users: 0x75 };
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const QUOTE = 0x22;
const PRESENCE = Buffer.from('"presence":');

const TEXT_PREFIX = 'netlab bench chat s';
/** After the text: `","time":"` (10 bytes), the ISO time (24), `"}` (2). */
const TEXT_END_FROM_END = 36;
/** The fields' widths; positions below count back from the end of the text. */
const SENDER_DIGITS = 4;
const SEQUENCE_DIGITS = 8;
const TIME_DIGITS = 11;
const SEQUENCE_FROM_END = TIME_DIGITS + 1 + SEQUENCE_DIGITS;
const SENDER_FROM_END = SEQUENCE_FROM_END + 1 + SENDER_DIGITS;
const MAX_CLIENTS = 10 ** SENDER_DIGITS;

/** Names must differ from one room to the next: the server may not have seen the last room's closes yet. */
let roomSerial = 0;

/**
 * Fan-out, in a room from openRoom(): its clients take turns (round robin) to send, so that
 * `inFlight` messages are always in flight: a message is in flight until every client of the
 * room has it, the sender too, and as deliveries arrive, the next clients in turn send. The
 * server thus always has messages waiting (it is saturated) and no queue grows without bound.
 * The first `rampMs` are not counted; then for `durationMs` deliveries (message frames
 * received) are counted and each one's latency recorded, from the send time in its text to
 * the read that brought it; then sending stops and the load waits until every message has
 * reached every client. The room stays open for the next run.
 *
 * With a fixed number in flight, the latency follows from the rate (Little's law: on average,
 * in flight × clients ÷ deliveries per second); its tail shows how evenly the server serves.
 *
 * @returns `{ deliveries, seconds, deliveriesPerS, latency: LatencyHistogram (µs), clientCpuMs }`
 */
export async function measureFanOut(options) {
  const { room, inFlight, rampMs, durationMs, verify = false } = options;
  const size = room.clients.length;
  const run = beginRun(room, verify);
  try {
    const check = room.onMessage; // the smoke run's verifier, if any
    const latency = new LatencyHistogram();
    let timing = false;
    room.onMessage = (client, buffer, start, end, nowUs) => {
      check?.(client, buffer, start, end, nowUs);
      if (timing) latency.record(nowUs - sentAt(buffer, end));
    };
    let next = 0;
    let sending = true;
    // In flight: messages sent, minus the share of their deliveries that have arrived.
    room.afterRead = () => {
      while (sending && room.sent - room.delivered / size < inFlight) {
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
 * A lone message, in a room from openRoom(): one message at a time, the room's clients taking
 * turns to send it; the next is sent as soon as every client of the room has the last one,
 * from the read that completed it. `warmup` messages are not timed; of the next `count`, every
 * delivery is timed (`each`), and so is the last delivery of each message (`last`: when the
 * whole room has it). The room stays open for the next run.
 *
 * @returns `{ each: LatencyHistogram, last: LatencyHistogram (µs), seconds, deliveries, clientCpuMs }`
 */
export async function measureLoneMessage(options) {
  const { room, warmup, count, verify = false } = options;
  const size = room.clients.length;
  const run = beginRun(room, verify);
  try {
    const check = room.onMessage;
    const each = new LatencyHistogram();
    const last = new LatencyHistogram();
    let sentUs = 0;
    let start = 0;
    let end = 0;
    let cpu;
    let finished;
    const done = new Promise((resolve) => (finished = resolve));
    const sendNext = () => {
      if (room.sent === warmup) {
        options.onMeasureStart?.();
        cpu = process.cpuUsage();
        start = performance.now();
      }
      sentUs = send(room, room.clients[room.sent % size]);
    };
    room.onMessage = (client, buffer, messageStart, messageEnd, nowUs) => {
      check?.(client, buffer, messageStart, messageEnd, nowUs);
      const timed = room.sent > warmup;
      if (timed) each.record(nowUs - sentUs);
      if (room.delivered < room.sent * size) return;
      if (timed) last.record(nowUs - sentUs);
      if (room.sent < warmup + count) return sendNext();
      end = performance.now();
      cpu = process.cpuUsage(cpu);
      options.onMeasureEnd?.();
      finished();
    };
    sendNext();
    await run.race(done);
    await allDelivered(room, run);
    return { each, last, seconds: (end - start) / 1000, deliveries: count * size, clientCpuMs: (cpu.user + cpu.system) / 1000 };
  } finally {
    run.end();
  }
}

/** Starts one load run in `room` (chat-run.js), the smoke run's verifier checking every message when `verify`. */
function beginRun(room, verify) {
  return beginChatRun(room, verify ? verifier(room) : undefined, 'onMessage');
}

/**
 * Connects `size` clients, CONNECT_CONCURRENCY at a time, and resolves once every one of them
 * has its `joined`: the server has it in its room. Client i joins `roomOf(i)` (default: ROOM).
 * The room counts every client's deliveries; during a run, `room.onMessage(client, buffer,
 * start, end, nowUs)` sees each message's payload, and `room.afterRead()` runs after each
 * read. `room.lastFrameMs` is when any client last received a frame. `room.failed` rejects
 * with the first thing that went wrong: a refusal, an error or notice that answers the load, a
 * connection the server closed. Close it with closeRoom(); until then it holds no timer, so an
 * idle room can wait between runs.
 *
 * `addresses` (`[{ host, port }, …]`, default the one `host` and `port`) spreads the room over
 * several servers that share one chat (lesson 07): client i connects to `addresses[i % n]`, so
 * with two servers the even clients are on one and the odd on the other, senders on both.
 * `seatedOn: 'users'` waits for each client's `users` instead of its `joined`: netlab answers
 * a join with `joined`, `history` and `users`, in that order, and a server with --redis sends
 * `joined` before it has read the history from Redis, so a message another server publishes
 * meanwhile reaches the client inside `history`, which the load does not count as a delivery.
 * Once `users` has come, every message reaches it as a message of its own. (The floor sends
 * `joined` only: the default.)
 */
export async function openRoom({ host, port, size, roomOf = () => ROOM, path = WS_PATH, addresses = [{ host, port }], seatedOn = 'joined' }) {
  if (!Number.isInteger(size) || size < 1 || size > MAX_CLIENTS) throw new Error(`size must be 1 to ${MAX_CLIENTS}, not ${size}`);
  if (seatedOn !== 'joined' && seatedOn !== 'users') throw new Error(`seatedOn must be 'joined' or 'users', not ${seatedOn}`);
  const serial = ++roomSerial;
  const room = {
    seatedOn: LETTER[seatedOn],
    clients: [],
    epochMs: performance.now(),
    progressMs: performance.now(),
    lastFrameMs: performance.now(),
    sent: 0,
    delivered: 0,
    onMessage: undefined,
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
      const index = next++;
      const name = `b${serial}-${pad(index, SENDER_DIGITS)}`;
      const client = openClient({ room, ...addresses[index % addresses.length], path, index, name, roomName: roomOf(index), readBuffer });
      room.clients[index] = client;
      await Promise.race([client.joined, room.failed]);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(CONNECT_CONCURRENCY, size) }, connectNext));
  } catch (err) {
    await closeRoom(room);
    throw err;
  }
  return room;
}

/** Starts every client's close handshake, waits for the server to end them, destroys the stragglers. */
export async function closeRoom(room) {
  room.closing = true;
  const clients = room.clients.filter(Boolean);
  for (const client of clients) client.close();
  let timer;
  const timeout = new Promise((resolve) => (timer = setTimeout(resolve, CLOSE_TIMEOUT_MS)));
  await Promise.race([Promise.allSettled(clients.map((client) => client.closed)), timeout]);
  clearTimeout(timer); // a pending timer would keep the bench process alive after its last figure
  for (const client of clients) client.socket.destroy(); // a no-op for the ones closed cleanly
}

/**
 * One client: the handshake, the join, then the frame reader. `{ index, name, roomName,
 * socket, seq, joined, closed, send(payload), close() }`: `joined` resolves on the server's
 * `joined`, `closed` once the socket has closed (after a close handshake the load started, or
 * else having failed the room).
 */
function openClient({ room, host, port, path, index, name, roomName, readBuffer }) {
  const key = randomBytes(16).toString('base64');
  const accept = createHash('sha1').update(key + GUID).digest('base64');
  let handshake = '';
  let upgraded = false;
  let rest; // the start of a frame cut by the end of a read
  let closeSent = false;
  let resolveJoined;
  const client = {
    index,
    name,
    roomName,
    seq: 0,
    socket: undefined,
    joined: new Promise((resolve) => (resolveJoined = resolve)),
    closed: undefined,
    send: (payload) => client.socket.write(maskedFrame(OPCODE_TEXT, payload)),
    /** Sends close 1000 once; the server answers with its close frame, then ends the TCP connection. */
    close() {
      if (!upgraded) return void client.socket.destroy(); // no WebSocket yet: nothing to close cleanly
      if (closeSent || client.socket.destroyed) return;
      closeSent = true;
      client.socket.write(maskedFrame(OPCODE_CLOSE, Buffer.from([NORMAL_CLOSE >> 8, NORMAL_CLOSE & 0xff])));
    },
  };
  /** Fails the room and ends this connection; returns false, what takeFrame() returns then. */
  const broken = (why) => {
    const err = new Error(`client ${index} (${name}) at ws://${host}:${port}${path}: ${why}`);
    room.fail(err);
    client.socket.destroy();
    return false;
  };

  client.socket = net.connect({
    host,
    port,
    noDelay: true, // a 90-byte frame must leave now, not wait for Nagle's algorithm
    onread: {
      buffer: readBuffer,
      callback(nread, buffer) {
        const now = performance.now();
        room.progressMs = now;
        let data = buffer;
        let end = nread;
        if (rest !== undefined) {
          data = Buffer.concat([rest, buffer.subarray(0, nread)]);
          end = data.length;
          rest = undefined;
        }
        let pos = 0;
        if (!upgraded) {
          pos = readHandshake(data, end);
          if (pos < 0) return;
        }
        const nowUs = (now - room.epochMs) * 1000;
        while (pos < end) {
          const size = frameBytes(data, pos, end);
          if (size === 0 || pos + size > end) {
            if (end - pos > MAX_FRAME_BYTES) return broken(`a frame of more than ${MAX_FRAME_BYTES} bytes`);
            rest = Buffer.from(data.subarray(pos, end)); // a copy: the read buffer is reused
            break;
          }
          if (!takeFrame(data, pos, pos + size, nowUs)) return;
          pos += size;
        }
        room.lastFrameMs = now;
        room.afterRead?.();
      },
    },
  });
  const joinTimer = setTimeout(() => broken(`not joined within ${JOIN_TIMEOUT_MS} ms`), JOIN_TIMEOUT_MS);
  client.joined.then(() => clearTimeout(joinTimer));
  client.closed = new Promise((resolve) => {
    client.socket.once('error', (err) => {
      if (!room.closing) room.fail(new Error(`client ${index} (${upgraded ? 'upgraded' : 'in its handshake'}): ${err.message}`));
    });
    client.socket.once('close', () => {
      clearTimeout(joinTimer);
      if (!room.closing) room.fail(new Error(`the server closed client ${index}'s connection in the middle of the run`));
      resolve();
    });
  });
  client.socket.once('connect', () => {
    client.socket.write(
      `GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      'latin1',
    );
  });

  /** Gathers the 101 answer and sends the join; returns where frames start, or -1 while incomplete or wrong. */
  function readHandshake(data, end) {
    const before = handshake.length;
    handshake += data.toString('latin1', 0, end);
    const headEnd = handshake.indexOf('\r\n\r\n');
    if (headEnd === -1) {
      if (handshake.length > MAX_HANDSHAKE_BYTES) broken(`no end to the handshake's answer after ${MAX_HANDSHAKE_BYTES} bytes`);
      return -1;
    }
    const answer = handshake.slice(0, headEnd);
    const status = answer.slice(0, answer.indexOf('\r\n'));
    const got = /\r\nsec-websocket-accept:[ \t]*(\S+)/i.exec(answer)?.[1];
    // Section 4.1: "If the status code received from the server is not 101, the client handles
    // the response per HTTP procedures"; for a load, that is a failed run.
    const wrong = !/^HTTP\/1\.1 101 /.test(status)
      ? `the handshake was answered ${JSON.stringify(status)}, not 101`
      : got !== accept
        ? `Sec-WebSocket-Accept is ${JSON.stringify(got)}, not ${accept}`
        : /\r\nsec-websocket-extensions:/i.test(answer)
          ? 'the server chose an extension the load did not offer'
          : undefined;
    if (wrong) {
      broken(wrong);
      return -1;
    }
    upgraded = true;
    handshake = '';
    client.send(Buffer.from(JSON.stringify({ type: 'join', name, room: roomName })));
    return headEnd + 4 - before;
  }

  /** One whole frame, data[pos, end): counts or skips it, answers a ping; false if it failed the room. */
  function takeFrame(data, pos, end, nowUs) {
    const head = data[pos];
    const length7 = data[pos + 1] & 0x7f;
    // Section 5.2; section 5.1: "A server MUST NOT mask any frames that it sends to the client."
    if ((head & 0x70) !== 0 || (data[pos + 1] & 0x80) !== 0 || (head & 0x80) === 0) {
      return broken(`a frame with RSV or MASK bits set, or fragmented (0x${data.toString('hex', pos, pos + 2)})`);
    }
    const start = pos + (length7 < 126 ? 2 : length7 === 126 ? 4 : 10);
    const opcode = head & 0x0f;
    if (opcode === OPCODE_TEXT) {
      if (data[start] !== OPEN_BRACE || end - start <= TYPE_AT) return broken('a text message that is not a JSON object');
      const letter = data[start + TYPE_AT];
      if (letter === LETTER.message) {
        const textEnd = end - TEXT_END_FROM_END;
        if (data[end - 1] !== CLOSE_BRACE || data[textEnd] !== QUOTE) {
          return broken(`a message the load cannot read: ${data.toString('utf8', start, end)}`);
        }
        room.delivered++;
        room.onMessage?.(client, data, start, end, nowUs);
      } else if (letter === room.seatedOn) {
        resolveJoined(client);
      } else if (letter === LETTER.notice) {
        const at = data.indexOf(PRESENCE, start);
        // A notice about someone's join or leave is the room's news; any other answers the load.
        if (at === -1 || at >= end) return broken(`the server said ${data.toString('utf8', start, end)}`);
      } else if (letter !== LETTER.joined && letter !== LETTER.history && letter !== LETTER.users) {
        return broken(`the server sent ${data.toString('utf8', start, Math.min(end, start + 300))}`);
      }
    } else if (opcode === OPCODE_PING) {
      // Section 5.5.2: "Upon receipt of a Ping frame, an endpoint MUST send a Pong frame in
      // response", with the same payload. netlab's heartbeat pings every 30 s.
      client.socket.write(maskedFrame(OPCODE_PONG, Buffer.from(data.subarray(start, end))));
    } else if (opcode === OPCODE_CLOSE) {
      if (!closeSent) {
        const code = end - start >= 2 ? data.readUInt16BE(start) : 1005;
        return broken(`the server sent close ${code} ${JSON.stringify(data.toString('utf8', start + 2, end))}`);
      }
      // Section 7.1.1: the server ends the TCP connection first; ending our side lets it.
      client.socket.end();
    } else if (opcode !== OPCODE_PONG) {
      return broken(`a frame with opcode 0x${opcode.toString(16)}`);
    }
    return true;
  }

  return client;
}

/** A whole frame's size from its header at data[pos…], or 0 while the header is incomplete. */
function frameBytes(data, pos, end) {
  if (end - pos < 2) return 0;
  const length7 = data[pos + 1] & 0x7f;
  if (length7 < 126) return 2 + length7;
  if (length7 === 126) return end - pos < 4 ? 0 : 4 + data.readUInt16BE(pos + 2);
  return end - pos < 10 ? 0 : 10 + Number(data.readBigUInt64BE(pos + 2));
}

/** The send time stamped in a delivered message's text (µs since the room opened); the payload ends at `end`. */
function sentAt(buffer, end) {
  const textEnd = end - TEXT_END_FROM_END;
  return digits(buffer, textEnd - TIME_DIGITS, textEnd);
}

/** One message from `client`, its send time stamped in the text; returns that time (µs since the room opened). */
function send(room, client) {
  const sentUs = Math.round((performance.now() - room.epochMs) * 1000);
  const text = `${TEXT_PREFIX}${pad(client.index, SENDER_DIGITS)} ${pad(client.seq, SEQUENCE_DIGITS)} ${pad(sentUs, TIME_DIGITS)}`;
  client.send(Buffer.from(`{"type":"message","text":"${text}"}`, 'latin1'));
  room.verifier?.sent(client, text);
  client.seq++;
  room.sent++;
  return sentUs;
}

/**
 * The smoke run's check: `onMessage` sees every message, `sent` every message sent, `done()`
 * runs once all have arrived. Each message must be the JSON `{type, room, from, text, time}`
 * with a text some client sent, word for word, under that client's name and in its room; no
 * client may get a message twice; and in the end every message must have reached every
 * client of the room, its sender included.
 */
function verifier(room) {
  const texts = new Map(); // `sender seq` → the text sent
  const seen = new Set(); // `recipient sender seq`
  const fail = (client, why) => {
    room.fail(new Error(`client ${client.index}: ${why}`));
    client.socket.destroy();
  };
  const onMessage = (client, buffer, start, end) => {
    const json = buffer.toString('utf8', start, end);
    let message;
    try {
      message = JSON.parse(json);
    } catch {
      return fail(client, `received a message that is not JSON: ${json}`);
    }
    const textEnd = end - TEXT_END_FROM_END;
    const sender = digits(buffer, textEnd - SENDER_FROM_END, textEnd - SENDER_FROM_END + SENDER_DIGITS);
    const seq = digits(buffer, textEnd - SEQUENCE_FROM_END, textEnd - SEQUENCE_FROM_END + SEQUENCE_DIGITS);
    const key = `${sender} ${seq}`;
    const keys = Object.keys(message).join(',');
    if (keys !== 'type,room,from,text,time') return fail(client, `received a message with the fields ${keys}: ${json}`);
    if (texts.get(key) !== message.text) return fail(client, `received a message no one sent: ${json}`);
    const from = room.clients[sender];
    if (message.from !== from.name || message.room !== from.roomName || message.room !== client.roomName) {
      return fail(client, `received ${json}, which ${from.name} sent in ${from.roomName}, in ${client.roomName}`);
    }
    if (Number.isNaN(Date.parse(message.time))) return fail(client, `received a message with time ${JSON.stringify(message.time)}`);
    if (seen.has(`${client.index} ${key}`)) return fail(client, `received client ${sender}'s message ${seq} twice`);
    seen.add(`${client.index} ${key}`);
  };
  const sent = (client, text) => texts.set(`${client.index} ${client.seq}`, text);
  const done = () => {
    const expected = room.sent * room.clients.length;
    if (seen.size !== expected) throw new Error(`${seen.size} of ${expected} deliveries arrived, each once`);
  };
  return { onMessage, sent, done };
}

/**
 * Resolves once every message sent in this run has reached every client (and passed the
 * verifier, in a smoke run); rejects with the count if the room fails or stalls first.
 */
async function allDelivered(room, run) {
  const expected = room.sent * room.clients.length;
  try {
    while (room.delivered < expected) await run.race(delay(POLL_MS));
  } catch (err) {
    throw new Error(`${err.message} (${room.delivered} of ${expected} deliveries arrived)`);
  }
  if (room.delivered > expected) throw new Error(`${room.delivered} deliveries of ${room.sent} messages to ${room.clients.length} clients`);
  room.verifier?.done();
}
