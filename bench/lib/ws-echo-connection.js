/**
 * One connection of the ws-echo load (ws-load.js): the opening handshake by hand, a ring of
 * pre-masked frames to send, and a reader that finds the server's frames by their header
 * alone and counts the echoes.
 *
 * The handshake (RFC 6455, section 4.1): a GET with a fresh Sec-WebSocket-Key, no extension
 * offered; the answer must be 101 with the matching Sec-WebSocket-Accept and no extension.
 *
 * The frames. Every message is one masked text frame ("The client MUST mask all frames that it
 * sends to the server", section 5.1) with printable text and two fixed-width fields,
 *
 *   netlab bench ws c0003 n00001234 the quick brown fox jumps over the lazy…
 *                    conn  sequence
 *
 * Each connection builds its `window` frames once, side by side in one buffer (the ring), with
 * one fixed masking key, so that sending the next message rewrites and re-masks only its 8
 * sequence digits, whatever its length: a 1 MiB message costs the load no more CPU to send
 * than a 64-byte one, bar the kernel's copy. One write sends every frame a read freed. A slot
 * is rewritten only once its echo is back: by then the kernel has copied its bytes, so no
 * queued write still needs them. Lengths up to 2^53 - 1 bytes (the 64-bit extended length of
 * section 5.2, as far as a JavaScript number reaches).
 *
 * The reader gathers each frame header (2 to 10 bytes, possibly split across reads) and then
 * only counts the payload, unless `verify` is on (the smoke run: every echo compared byte for
 * byte with its message). Echoes come back in order on a connection, so counting is matching.
 * A ping is answered with a pong (netlab pings every 30 s); any other frame, a close from the
 * server, or a connection the server ends, fails the run.
 *
 * Every connection of a load reads into one buffer, `readBuffer`: a read is handled to the
 * end before the next one starts, and nothing is kept from it but the header bytes (copied).
 * 10,000 idle connections then cost the load 64 KiB, not 640 MB.
 *
 * Leaves out: binary and fragmented messages (the load sends none; a server's echo must be
 * one text frame of the length sent) and permessage-deflate (never offered).
 */
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { performance } from 'node:perf_hooks';

/** A server that has not answered the opening handshake after this long is stuck. */
const HANDSHAKE_TIMEOUT_MS = 5000;
/** A 101 answer with its headers is a few hundred bytes; far more is not a WebSocket server. */
const MAX_HANDSHAKE_BYTES = 8192;
/** RFC 6455, section 1.3: the GUID the server appends to the key before hashing. */
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** One masking key for every frame. The RFC wants it unpredictable to protect proxies; loopback has none. */
const MASK = Buffer.from([0x6e, 0x9c, 0x3a, 0xd5]);

export const OPCODE_TEXT = 0x1;
const OPCODE_CLOSE = 0x8;
const OPCODE_PING = 0x9;
const OPCODE_PONG = 0xa;
/** Close code 1000: normal closure (RFC 6455, section 7.4.1). */
const NORMAL_CLOSE = 1000;

const PREFIX = 'netlab bench ws c';
const CONN_AT = PREFIX.length;
const CONN_DIGITS = 4;
const SEQUENCE_AT = CONN_AT + CONN_DIGITS + 2; // after ' n'
const SEQUENCE_DIGITS = 8;
const SEQUENCE_MODULO = 10 ** SEQUENCE_DIGITS;
const FILLER = ' the quick brown fox jumps over the lazy dog 0123456789';
/** The shortest message that holds both fields. */
export const MIN_MESSAGE_BYTES = SEQUENCE_AT + SEQUENCE_DIGITS;
/** Connection numbers have CONN_DIGITS digits: 0 to 9999. */
export const MAX_CONNECTIONS = 10 ** CONN_DIGITS;
const ZERO = 0x30;

/**
 * Connection `index` to ws://host:port/path. Resolves with `{ index, sent, received, inFlight,
 * closed, send(n), close(), destroy() }` once the server's 101 is in: `send(n)` sends the next
 * n messages (n ≤ window - inFlight) in one write, two where the ring wraps around; `close()`
 * starts the close handshake (safe to call twice); `closed` resolves once the socket closed
 * after it, and rejects otherwise. `onEchoes(conn, count, now)` sees every read that completes
 * `count` ≥ 1 echoes; `fail(err)` is called on anything that fails the run.
 */
export function openConnection({ host, port, path, index, window, messageBytes, verify, readBuffer, onEchoes, fail }) {
  const key = randomBytes(16).toString('base64');
  const accept = createHash('sha1').update(key + GUID).digest('base64');
  const ring = frameRing(index, window, messageBytes);
  const frameBytes = ring.length / window;
  const seqAt = frameBytes - messageBytes + SEQUENCE_AT; // where the digits are in each frame

  // The reader's state: a frame header may arrive split across reads, so it is gathered in
  // `head` until `headNeed` bytes are there; then `payloadLeft` bytes of payload follow.
  const head = Buffer.alloc(10);
  let headHave = 0;
  let headNeed = 2;
  let opcode = 0;
  let payloadLeft = 0;
  let payloadAt = 0;
  let control; // a control frame's payload: at most 125 bytes (section 5.5), allocated if one comes
  let expected; // verify only: the payload the echo in progress must equal

  let upgraded = false;
  let handshake = '';
  let closing = false;
  let closeSent = false;
  let resolveOpen;
  let rejectOpen;

  const conn = {
    index,
    sent: 0,
    received: 0,
    get inFlight() {
      return conn.sent - conn.received;
    },
    closed: undefined,
    /** Sends the next `n` messages: rewrites their sequence digits in the ring, one write per contiguous run. */
    send(n) {
      if (n < 1 || conn.inFlight + n > window) throw new Error(`send(${n}) with ${conn.inFlight} of ${window} in flight`);
      let from = conn.sent % window;
      for (let i = 0; i < n; i++) {
        const slot = (conn.sent + i) % window;
        if (slot === 0 && i > 0) {
          socket.write(ring.subarray(from * frameBytes, window * frameBytes));
          from = 0;
        }
        writeMaskedDigits(ring, slot * frameBytes + seqAt, (conn.sent + i + 1) % SEQUENCE_MODULO);
      }
      const to = ((conn.sent + n - 1) % window) + 1;
      socket.write(ring.subarray(from * frameBytes, to * frameBytes));
      conn.sent += n;
    },
    /** Sends close 1000 once; the server answers with its close frame, then ends the TCP connection. */
    close() {
      closing = true;
      if (!upgraded) return void socket.destroy(); // no WebSocket yet: nothing to close cleanly
      if (closeSent || socket.destroyed) return;
      closeSent = true;
      socket.write(maskedFrame(OPCODE_CLOSE, Buffer.from([NORMAL_CLOSE >> 8, NORMAL_CLOSE & 0xff])));
    },
    destroy: () => socket.destroy(),
  };
  /** Fails the run and ends this connection; returns -1, what the readers below return then. */
  const broken = (why) => {
    const err = new Error(`connection ${index} to ws://${host}:${port}${path}: ${why}`);
    fail(err);
    socket.destroy(err);
    return -1;
  };

  const socket = net.connect({
    host,
    port,
    noDelay: true, // a 70-byte frame must leave now, not wait for Nagle's algorithm
    onread: {
      buffer: readBuffer,
      callback(nread, buffer) {
        const now = performance.now();
        let at = 0;
        if (!upgraded) {
          at = readHandshake(buffer, nread);
          if (at < 0) return;
        }
        const echoes = readFrames(buffer, at, nread);
        if (echoes > 0) onEchoes(conn, echoes, now);
      },
    },
  });
  const timer = setTimeout(() => broken(`no answer to the handshake within ${HANDSHAKE_TIMEOUT_MS} ms`), HANDSHAKE_TIMEOUT_MS);
  conn.closed = new Promise((resolve, reject) => {
    socket.once('error', (err) => {
      clearTimeout(timer);
      rejectOpen(err);
      fail(err);
      reject(err);
    });
    socket.once('close', () => {
      clearTimeout(timer);
      if (closing) return resolve();
      const err = new Error(`connection ${index}: the server closed the connection ${upgraded ? 'without a close frame' : 'during the handshake'}`);
      rejectOpen(err);
      fail(err);
      reject(err);
    });
  });
  conn.closed.catch(() => {});
  socket.once('connect', () => {
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      'latin1',
    );
  });

  /** Gathers the 101 answer; returns where frames start in `buffer`, or -1 while it is incomplete or wrong. */
  function readHandshake(buffer, nread) {
    const before = handshake.length;
    handshake += buffer.toString('latin1', 0, nread);
    const end = handshake.indexOf('\r\n\r\n');
    if (end === -1) {
      if (handshake.length > MAX_HANDSHAKE_BYTES) broken(`no end to the handshake's answer after ${MAX_HANDSHAKE_BYTES} bytes`);
      return -1;
    }
    const answer = handshake.slice(0, end);
    handshake = '';
    const status = answer.slice(0, answer.indexOf('\r\n'));
    // Section 4.1: "If the status code received from the server is not 101, the client handles
    // the response per HTTP procedures"; for a load, that is a failed run.
    if (!/^HTTP\/1\.1 101 /.test(status)) return broken(`the handshake was answered ${JSON.stringify(status)}, not 101`);
    const got = /\r\nsec-websocket-accept:[ \t]*(\S+)/i.exec(answer)?.[1];
    if (got !== accept) return broken(`Sec-WebSocket-Accept is ${JSON.stringify(got)}, not ${accept}`);
    if (/\r\nsec-websocket-extensions:/i.test(answer)) return broken('the server chose an extension the load did not offer');
    upgraded = true;
    clearTimeout(timer);
    resolveOpen(conn);
    return end + 4 - before;
  }

  /** Reads the server's frames in buffer[at, end); returns how many echoes it completed, or -1 if it failed the run. */
  function readFrames(buffer, at, end) {
    let echoes = 0;
    while (at < end) {
      if (payloadLeft > 0) {
        const take = Math.min(payloadLeft, end - at);
        if (opcode !== OPCODE_TEXT) buffer.copy(control, payloadAt, at, at + take);
        else if (verify && buffer.compare(expected, payloadAt, payloadAt + take, at, at + take) !== 0) {
          return broken(`echo ${conn.received + 1} differs from the message sent`);
        }
        at += take;
        payloadAt += take;
        payloadLeft -= take;
        if (payloadLeft === 0) {
          const done = frameDone();
          if (done < 0) return done;
          echoes += done;
        }
        continue;
      }
      head[headHave++] = buffer[at++];
      if (headHave === 2) {
        // Section 5.2; section 5.1: "A server MUST NOT mask any frames that it sends to the client."
        if ((head[0] & 0x70) !== 0 || (head[1] & 0x80) !== 0) return broken(`a frame with RSV or MASK bits set (0x${head.toString('hex', 0, 2)})`);
        const length7 = head[1] & 0x7f;
        headNeed = length7 === 126 ? 4 : length7 === 127 ? 10 : 2;
      }
      if (headHave < headNeed) continue;
      const length = headNeed === 2 ? head[1] & 0x7f : headNeed === 4 ? head.readUInt16BE(2) : Number(head.readBigUInt64BE(2));
      opcode = head[0] & 0x0f;
      headHave = 0;
      headNeed = 2;
      if (opcode === OPCODE_TEXT) {
        if ((head[0] & 0x80) === 0 || length !== messageBytes) {
          return broken(`an echo that is not one text frame of ${messageBytes} bytes (FIN ${head[0] >> 7}, ${length} bytes)`);
        }
        if (conn.received === conn.sent) return broken('an echo of a message the load did not send');
        if (verify) expected = messagePayload(index, conn.received + 1, messageBytes);
      } else if (opcode === OPCODE_CLOSE || opcode === OPCODE_PING || opcode === OPCODE_PONG) {
        if (length > 125 || (head[0] & 0x80) === 0) return broken(`a control frame of ${length} bytes, or fragmented`);
        control ??= Buffer.alloc(125);
      } else {
        return broken(`a frame with opcode 0x${opcode.toString(16)}; the load sends only text`);
      }
      payloadAt = 0;
      payloadLeft = length;
      if (length === 0) {
        const done = frameDone();
        if (done < 0) return done;
        echoes += done;
      }
    }
    return echoes;
  }

  /** A whole frame is in: counts an echo (returns 1), answers a control frame (returns 0), or fails the run (-1). */
  function frameDone() {
    if (opcode === OPCODE_TEXT) {
      conn.received++;
      return 1;
    }
    if (opcode === OPCODE_PING) {
      // Section 5.5.2: "Upon receipt of a Ping frame, an endpoint MUST send a Pong frame in
      // response", with the same payload. netlab's heartbeat pings every 30 s.
      socket.write(maskedFrame(OPCODE_PONG, control.subarray(0, payloadAt)));
    } else if (opcode === OPCODE_CLOSE) {
      const code = payloadAt >= 2 ? control.readUInt16BE(0) : 1005;
      if (!closing) return broken(`the server sent close ${code} ${JSON.stringify(control.toString('utf8', 2, payloadAt))}`);
      // Section 7.1.1: the server ends the TCP connection first; ending our side lets it.
      socket.end();
    }
    return 0;
  }

  return new Promise((resolve, reject) => {
    resolveOpen = resolve;
    rejectOpen = reject;
  });
}

/** `window` masked text frames of connection `index`, side by side, their sequence numbers still 0. */
function frameRing(index, window, messageBytes) {
  const frame = maskedFrame(OPCODE_TEXT, messagePayload(index, 0, messageBytes));
  if (window === 1) return frame;
  const ring = Buffer.allocUnsafe(window * frame.length);
  for (let slot = 0; slot < window; slot++) frame.copy(ring, slot * frame.length);
  return ring;
}

/** The payload of message `seq` of connection `index`, `bytes` long (see the header). */
export function messagePayload(index, seq, bytes) {
  const head = `${PREFIX}${pad(index, CONN_DIGITS)} n${pad(seq % SEQUENCE_MODULO, SEQUENCE_DIGITS)}`;
  const payload = Buffer.allocUnsafe(bytes);
  const written = payload.write(head, 0, 'latin1');
  // The filler repeats: write it once, then double the copied span until the payload is full.
  let filled = written + payload.write(FILLER, written, 'latin1');
  while (filled < bytes) filled += payload.copy(payload, filled, written, filled);
  return payload;
}

/**
 * A client frame (FIN set) with `payload` masked by MASK (RFC 6455, section 5.3), with the
 * shortest length encoding that holds it (section 5.2: 7 bits, then 16, then 64).
 */
export function maskedFrame(opcode, payload) {
  const lengthBytes = payload.length < 126 ? 0 : payload.length < 65_536 ? 2 : 8;
  const frame = Buffer.allocUnsafe(2 + lengthBytes + 4 + payload.length);
  frame[0] = 0x80 | opcode;
  if (lengthBytes === 0) frame[1] = 0x80 | payload.length;
  else if (lengthBytes === 2) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(payload.length, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeBigUInt64BE(BigInt(payload.length), 2);
  }
  const at = 2 + lengthBytes;
  MASK.copy(frame, at);
  for (let i = 0; i < payload.length; i++) frame[at + 4 + i] = payload[i] ^ MASK[i & 3];
  return frame;
}

/** Writes `value` as the SEQUENCE_DIGITS digits of a masked frame whose payload's digits start at `at`. */
function writeMaskedDigits(buffer, at, value) {
  for (let i = SEQUENCE_DIGITS - 1; i >= 0; i--) {
    // The key byte of payload byte j is MASK[j % 4] (section 5.3); here j = SEQUENCE_AT + i.
    buffer[at + i] = (ZERO + (value % 10)) ^ MASK[(SEQUENCE_AT + i) & 3];
    value = Math.floor(value / 10);
  }
}

const pad = (n, digits) => String(n).padStart(digits, '0');
