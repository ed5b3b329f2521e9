/**
 * A fuzzer for the WebSocket echo and chat servers (ROBUSTNESS.md, WebSocket; issue #11): many
 * short-lived raw TCP connections send what a browser never would. Instead of a handshake:
 * random bytes, truncated and mutated upgrade requests (no key or a garbled one, a wrong
 * version, bad Upgrade or Connection headers, huge headers, junk paths, a foreign Origin).
 * After a valid handshake: random bytes and mutated frames (unmasked, reserved bits, unknown
 * opcodes, fragmented or oversized control frames, 64-bit lengths with the high bit set,
 * lengths far over the limit, stray continuations, too many fragments, invalid UTF-8, bad close
 * frames), pings and pongs, valid and malformed chat JSON and JSON of the wrong shape, all cut
 * across writes at random points. Then each leaves by a close frame, FIN, reset, destroy, or by
 * staying open until the rest of its wave is over. Meanwhile a ws echo client, and a chat
 * sender and reader in one room, stay connected throughout and must get exactly what they
 * should, once and in order.
 *
 * What each fuzz connection gets back is checked too: an HTTP answer (a 4xx for a handshake
 * that must be refused), or after a 101 only frames a server may send (unmasked, no reserved
 * bits, control frames short and whole, text in UTF-8, a valid close code, nothing after the
 * close, and JSON of a known type from the chat). An input whose frames are all valid gets
 * back every echo and pong (ws-echo) or an answer to every message id (ws-chat), once and in
 * order: all of them when it ends with a close frame, a prefix of them when it ends otherwise.
 *
 * Seeded and bounded by a count of inputs, not a duration: the same seed sends the same bytes
 * in the same order (only the servers' ports, and how the kernel groups bytes into reads,
 * vary). A failure names the seed and the input; rerun one with NETLAB_FUZZ_SEED=<seed> (and
 * NETLAB_FUZZ_INPUTS=<count> for a longer run than CI's).
 */
import { createHash } from 'node:crypto';
import { once, type EventEmitter } from 'node:events';
import net from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { seededRandom } from '../../src/core/seeded-random.js';
import { MAX_MESSAGE_BYTES as CHAT_MAX_MESSAGE_BYTES, type WsChatServer } from '../../src/ws/chat-server.js';
import type { ServerMessage } from '../../src/ws/chat-protocol.js';
import { closeCodeProblem } from '../../src/ws/close-codes.js';
import type { WsEchoServer } from '../../src/ws/echo-server.js';
import { OPCODES, closePayload, decodeFrame, encodeFrame } from '../../src/ws/frame.js';
import { acceptFor, parseResponseHead } from '../../src/ws/handshake.js';
import { MAX_FRAGMENTS } from '../../src/ws/ws-listener.js';
import { chatServer, joined } from '../ws/chat-support.js';
import { echoServer, wsClient } from '../ws/ws-support.js';
import { fuzzRun, gc } from './support.js';

/** INPUTS: fuzz connections in all, half to each server on average. */
const { seed: SEED, inputs: INPUTS } = fuzzRun({ seed: 20_261_203, inputs: 600 });
/** Connections open at once; the well-behaved clients send once per wave. */
const WAVE = 8;
/**
 * Generous: heapUsed after a forced GC, from after the first wave to the end. Measured (2-core
 * Linux VM, Node 20): 1.4-2.0 MiB for the 600 inputs (3-4 MB) here, 2.5 MiB for 2,400
 * (14 MB), 2.9-3.0 MiB for 6,000 and 12,000 (33 and 67 MB). What grows at first is the chat's
 * rooms, kept with their last messages up to MAX_ROOMS (256, reached near 6,000 inputs); then it
 * stays flat, so it does not grow with the input.
 */
const MAX_HEAP_GROWTH_BYTES = 8 * 1024 * 1024;
const HANG_GUARD_MS = 10_000;
/** Smaller than the default 1 MiB, so that a whole message just over it is cheap to send. */
const ECHO_MAX_MESSAGE_BYTES = 64 * 1024;
/** Short enough that the servers ping everyone a few times in a run; long enough that no healthy client misses one. */
const HEARTBEAT_INTERVAL_MS = 2_000;

type Lab = 'echo' | 'chat';
type Ending = 'close' | 'fin' | 'reset' | 'destroy' | 'linger';
/** What the handshake must get: a 101, a refusal (4xx), or either (random or mutated bytes). */
type Handshake = 'valid' | 'refused' | 'any';
/** A write that waits for the server's answer to the handshake first. */
const AWAIT_HEAD = 'await the answer';

interface Expected {
  /** ws-echo: the data messages that must come back. */
  messages: Array<{ binary: boolean; data: Buffer }>;
  /** The payloads of the pings sent: each comes back in a pong. */
  pongs: Buffer[];
  /** ws-chat: the ids of the messages sent; each answer carries one. */
  ids: string[];
}

interface FuzzInput {
  target: Lab;
  handshake: Handshake;
  key: string;
  writes: Array<Buffer | typeof AWAIT_HEAD>;
  ending: Ending;
  /** The close frame of the 'close' ending. */
  goodbye: Buffer;
  /** Set when every frame sent is valid: what must come back. */
  expected: Expected | undefined;
  /** What was generated, for a failure message. */
  recipe: string[];
}

const CHAT_MESSAGE_TYPES = new Set(['joined', 'history', 'users', 'message', 'private', 'notice', 'error']);
const CHAT_ERROR_CODES = new Set([
  'binary', 'bad-json', 'not-an-object', 'unknown-type', 'missing-field', 'bad-field', 'too-long', 'join-first', 'name-taken', 'no-such-user', 'too-many-rooms',
]);
const SENDER = 'steady-sender';
const READER = 'steady-reader';
/** Invalid UTF-8: a stray continuation, truncated sequences, an overlong slash, a surrogate, 0xff. */
const INVALID_UTF8 = [[0x80], [0xc3], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xff], [0xf4, 0x90, 0x80, 0x80]].map((b) => Buffer.from(b));
const TEXTS = ['hello', '', ' ', 'héllo wörld 😀 €', '<img src=x onerror=alert(1)>', '\u0000\u001b[2J\u2028', '\ud800 lone', 'x'.repeat(1001), `${SENDER}: steady 0`, 'steady 3'];
const NAMES = ['fz', 'Zoë', 'guest-1', SENDER, READER, '<b>', 'x'.repeat(40), '', ' ', 'a b', '-x', '😀'];
const ROOMS = ['lobby', 'fuzz', 'Lobby', '../etc', '', 'r'.repeat(31), 'été'];

/** The inputs of one seed, one at a time, in order; they depend on the seed and the ports only. */
function fuzzer(seed: number) {
  const rand = seededRandom(seed);
  const int = (n: number) => Math.floor(rand() * n);
  const chance = (p: number) => rand() < p;
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  const randomBytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
  const mask = () => (chance(0.05) ? Buffer.alloc(4) : randomBytes(4));
  /** One frame as a client sends it: masked, unless told otherwise; `rsv` sets reserved bits. */
  const frame = (opcode: number, payload: Buffer, options: { fin?: boolean; masked?: boolean; rsv?: number } = {}) => {
    const bytes = encodeFrame({ fin: options.fin ?? true, opcode, payload, ...(options.masked === false ? {} : { mask: mask() }) });
    bytes[0]! |= (options.rsv ?? 0) << 4;
    return bytes;
  };
  /** A frame header alone that says `length` (in 64 bits), masked, with a few payload bytes after. */
  const header64 = (opcode: number, length: bigint) => {
    const bytes = Buffer.alloc(14);
    bytes[0] = 0x80 | opcode;
    bytes[1] = 0x80 | 127;
    bytes.writeBigUInt64BE(length, 2);
    return Buffer.concat([bytes, randomBytes(int(16))]);
  };
  const cutInto = (bytes: Buffer, cuts: number): Buffer[] => {
    const at = Array.from({ length: cuts }, () => int(bytes.length + 1)).sort((a, b) => a - b);
    return [0, ...at, bytes.length].slice(1).map((end, i, ends) => bytes.subarray(i === 0 ? 0 : ends[i - 1], end)).filter((w) => w.length > 0);
  };
  const mutate = (bytes: Buffer): Buffer => {
    let out = Buffer.from(bytes);
    for (let k = 1 + int(3); k > 0; k--) {
      const at = int(out.length + 1);
      switch (int(4)) {
        case 0: // flip a byte
          if (out.length > 0) out[Math.min(at, out.length - 1)] = int(256);
          break;
        case 1: // insert junk
          out = Buffer.concat([out.subarray(0, at), pick([Buffer.from([0]), Buffer.from('\r\n'), Buffer.from('\n'), pick(INVALID_UTF8), randomBytes(1 + int(8))]), out.subarray(at)]);
          break;
        case 2: // cut
          out = Buffer.concat([out.subarray(0, at), out.subarray(at + 1 + int(8))]);
          break;
        default: // repeat a piece
          out = Buffer.concat([out, out.subarray(at, at + int(32))]);
      }
    }
    return out;
  };
  /** ASCII-only changes, so that a mutated JSON text stays valid UTF-8 (a valid frame). */
  const garble = (text: string): string => {
    let out = text;
    for (let k = 1 + int(3); k > 0; k--) {
      const at = int(out.length + 1);
      out = out.slice(0, at) + pick(['', '"', '{', '}', ',', ':', '\\', 'x', ']', ' ']) + out.slice(at + int(3));
    }
    return out;
  };

  // --- Handshakes ---------------------------------------------------------------------------
  const handshakes = (port: number, key: string): Array<[string, Handshake, () => Buffer]> => {
    const headers = () => [`Host: 127.0.0.1:${port}`, 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Key: ${key}`, 'Sec-WebSocket-Version: 13'];
    const request = (lines: string[], requestLine = 'GET /ws HTTP/1.1') => Buffer.from(`${requestLine}\r\n${lines.join('\r\n')}\r\n\r\n`, 'latin1');
    const replace = (name: string, line: string | undefined) => {
      const lines = headers().filter((l) => !l.startsWith(`${name}:`));
      return line === undefined ? lines : [...lines, line];
    };
    return [
      ['a valid handshake', 'valid', () => request(headers())],
      ['headers shuffled, names in another case', 'valid', () => request(headers().map((l) => (chance(0.5) ? l.replace(/^[^:]+/, (n) => (chance(0.5) ? n.toLowerCase() : n.toUpperCase())) : l)).sort(() => rand() - 0.5))],
      ['Connection: keep-alive, Upgrade', 'valid', () => request(replace('Connection', 'Connection: keep-alive, Upgrade'))],
      ['Upgrade: WebSocket', 'valid', () => request(replace('Upgrade', 'Upgrade: WebSocket'))],
      ['the page\'s own Origin', 'valid', () => request([...headers(), `Origin: http://127.0.0.1:${port}`])],
      ['extra headers', 'valid', () => request([...headers(), 'User-Agent: fuzz/1.0', 'Sec-WebSocket-Protocol: chat, superchat', 'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits', 'Cookie: a=b'])],
      ['a query string', 'valid', () => request(headers(), 'GET /ws?room=x&y HTTP/1.1')],
      ['no key', 'refused', () => request(replace('Sec-WebSocket-Key', undefined))],
      ['a garbled key', 'refused', () => request(replace('Sec-WebSocket-Key', `Sec-WebSocket-Key: ${pick(['', 'c2hvcnQ=', 'not base64 at all!!', 'A'.repeat(200), key.slice(0, -2), key.slice(1), `${key}${key}`])}`))],
      ['no version', 'refused', () => request(replace('Sec-WebSocket-Version', undefined))],
      ['a wrong version', 'refused', () => request(replace('Sec-WebSocket-Version', `Sec-WebSocket-Version: ${pick(['12', '8', '14', '0', '13, 14', 'abc', '-13', '130'])}`))],
      ['a bad Upgrade header', 'refused', () => request(replace('Upgrade', pick([undefined, 'Upgrade: h2c', 'Upgrade: websocketx', 'Upgrade: web socket', 'Upgrade: '])))],
      ['a bad Connection header', 'refused', () => request(replace('Connection', pick([undefined, 'Connection: keep-alive', 'Connection: close', 'Connection: Upgradex'])))],
      ['a huge header', 'refused', () => request([...headers(), `X-Fuzz: ${'a'.repeat(17_000 + int(20_000))}`])],
      ['many headers', 'refused', () => request([...headers(), ...Array.from({ length: 2500 + int(1000) }, (_, i) => `X-F${i}: ${i}`)])],
      ['a junk path', 'refused', () => request(headers(), `GET ${pick(['/', '/chat', '/ws/../ws', '/%2e%2e/ws', '/ws%00', '/%ZZ', '*', `http://127.0.0.1:${port}/ws`, '/WS', '/ws/'])} HTTP/1.1`)],
      ['a foreign Origin', 'refused', () => request([...headers(), `Origin: ${pick(['http://evil.example', 'null', `https://127.0.0.1:${port}`, `http://127.0.0.1:${port + 1}`, 'http://localhost.evil.example'])}`])],
      ['another method', 'refused', () => request(headers(), `${pick(['POST', 'PUT', 'DELETE', 'OPTIONS', 'GETX'])} /ws HTTP/1.1`)],
      ['random bytes, no HTTP', 'any', () => randomBytes(1 + int(600))],
      ['a truncated request', 'any', () => request(headers()).subarray(0, int(request(headers()).length - 1))],
      ['a mutated request', 'any', () => mutate(request(headers()))],
      ['HTTP/1.0', 'any', () => request(headers(), 'GET /ws HTTP/1.0')],
      ['LF line endings', 'any', () => Buffer.from(`GET /ws HTTP/1.1\n${headers().join('\n')}\n\n`)],
      ['two requests at once', 'any', () => Buffer.concat([request(headers()), request(headers())])],
    ];
  };

  // --- Frames after a handshake --------------------------------------------------------------
  interface Piece {
    name: string;
    bytes: Buffer;
    clean: boolean;
    messages?: Expected['messages'];
    pongs?: Buffer[];
    ids?: string[];
  }
  const maxBytes = (target: Lab) => (target === 'echo' ? ECHO_MAX_MESSAGE_BYTES : CHAT_MAX_MESSAGE_BYTES);
  const dataPayload = () => (chance(0.2) ? Buffer.alloc(0) : chance(0.5) ? Buffer.from(pick(TEXTS)) : Buffer.from(`msg ${int(1e6)} ${'é'.repeat(int(200))}`));
  const validFrames = (target: Lab): Buffer => frame(OPCODES.text, target === 'chat' ? Buffer.from('{"type":"users"}') : dataPayload());

  const cleanPieces = (target: Lab, nextId: () => string): Array<() => Piece> => {
    const both: Array<() => Piece> = [
      () => {
        const payload = randomBytes(int(126));
        return { name: 'ping', bytes: frame(OPCODES.ping, payload), clean: true, pongs: [payload] };
      },
      () => ({ name: 'unsolicited pong', bytes: frame(OPCODES.pong, randomBytes(int(126))), clean: true }),
    ];
    /** A message in 2 to 6 fragments, cut anywhere (mid-character too), with a ping between two. */
    const fragmented = (opcode: number, payload: Buffer): Piece => {
      const parts = cutInto(payload, 1 + int(5));
      const pongs: Buffer[] = [];
      const frames = parts.flatMap((part, i) => {
        const out = [frame(i === 0 ? opcode : OPCODES.continuation, part, { fin: i === parts.length - 1 })];
        if (i < parts.length - 1 && chance(0.3)) {
          const ping = randomBytes(int(20));
          pongs.push(ping);
          out.push(frame(OPCODES.ping, ping));
        }
        return out;
      });
      return { name: `${parts.length} fragments`, bytes: Buffer.concat(frames.length > 0 ? frames : [frame(opcode, payload)]), clean: true, pongs };
    };
    if (target === 'echo') {
      return [
        ...both,
        () => {
          const data = dataPayload();
          return { name: 'text', bytes: frame(OPCODES.text, data), clean: true, messages: [{ binary: false, data }] };
        },
        () => {
          const data = randomBytes(int(chance(0.1) ? 70_000 : 300)).subarray(0, ECHO_MAX_MESSAGE_BYTES);
          return { name: `binary (${data.length} bytes)`, bytes: frame(OPCODES.binary, data), clean: true, messages: [{ binary: true, data }] };
        },
        () => {
          const binary = chance(0.5);
          const data = binary ? randomBytes(1 + int(500)) : Buffer.from(`fragmented ${'😀é'.repeat(1 + int(50))}`);
          const piece = fragmented(binary ? OPCODES.binary : OPCODES.text, data);
          return { ...piece, name: `${binary ? 'binary' : 'text'} in ${piece.name}`, messages: [{ binary, data }] };
        },
      ];
    }
    const json = (message: object) => Buffer.from(JSON.stringify(message));
    return [
      ...both,
      () => {
        const id = nextId();
        const message = pick<object>([
          { type: 'join', ...(chance(0.7) ? { name: chance(0.5) ? `fz${int(10_000)}` : pick(NAMES) } : {}), ...(chance(0.6) ? { room: chance(0.5) ? `r${int(400)}` : pick(ROOMS) } : {}) },
          { type: 'message', text: pick(TEXTS), ...(chance(0.2) ? { action: true } : {}) },
          { type: 'private', to: pick([SENDER, READER, 'nobody-here', `fz${int(10_000)}`]), text: pick(TEXTS) },
          { type: 'rename', name: chance(0.5) ? `fz${int(10_000)}` : pick(NAMES) },
          { type: 'users' },
        ]);
        return { name: `json ${(message as { type: string }).type}`, bytes: frame(OPCODES.text, json({ ...message, id })), clean: true, ids: [id] };
      },
      () => {
        const id = nextId();
        const message = pick<object>([
          { type: 7, id },
          { type: 'message', id },
          { type: 'message', text: 5, id },
          { type: 'message', text: 'hi', action: 'yes', id },
          { type: 'join', room: { name: 'lobby' }, id },
          { type: 'join', token: 'not-a-token', id },
          { type: 'nope', id },
          { type: 'private', to: '', text: 'x', id },
          { type: 'users', id, constructor: { prototype: { polluted: true } } },
        ]);
        return { name: 'json of a wrong shape', bytes: frame(OPCODES.text, json(message)), clean: true, ids: [id] };
      },
      () => {
        const text = pick(['[]', 'null', '42', '"a string"', '{}', '{"id":5,"type":"users"}', `{"id":"${'x'.repeat(65)}","type":"users"}`, '{"__proto__":{"type":"message","text":"polluted"}}', `${'['.repeat(3000)}${']'.repeat(3000)}`]);
        return { name: 'json without an id', bytes: frame(OPCODES.text, Buffer.from(text)), clean: true };
      },
      () => ({ name: 'malformed json', bytes: frame(OPCODES.text, Buffer.from(garble(JSON.stringify({ type: 'message', text: pick(TEXTS) })))), clean: true }),
      () => ({ name: 'not json', bytes: frame(OPCODES.text, Buffer.from(pick(['hello', '{', 'NaN', 'undefined', "{'type':'users'}", '/nick bob\n']))), clean: true }),
      () => ({ name: 'a binary message', bytes: frame(OPCODES.binary, json({ type: 'users' })), clean: true }),
      () => {
        const id = nextId();
        const piece = fragmented(OPCODES.text, json({ type: 'message', text: `fragmented ${'😀'.repeat(1 + int(30))}`, id }));
        return { ...piece, name: `json in ${piece.name}`, ids: [id] };
      },
    ];
  };

  const badPieces = (target: Lab): Array<() => Piece> => {
    const limit = maxBytes(target);
    const bad = (name: string, bytes: Buffer): Piece => ({ name, bytes, clean: false });
    return [
      () => bad('random bytes', randomBytes(1 + int(512))),
      () => bad('an unmasked frame', frame(OPCODES.text, Buffer.from('no mask'), { masked: false })),
      () => bad('reserved bits', frame(pick([OPCODES.text, OPCODES.binary, OPCODES.ping]), Buffer.from('rsv'), { rsv: 1 + int(7) })),
      () => bad('an unknown opcode', frame(pick([3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf]), randomBytes(int(40)))),
      () => bad('a fragmented control frame', frame(pick([OPCODES.ping, OPCODES.pong, OPCODES.close]), Buffer.from('ab'), { fin: false })),
      () => bad('an oversized control frame', frame(pick([OPCODES.ping, OPCODES.pong, OPCODES.close]), Buffer.alloc(126 + int(200), 0x61))),
      () => bad('a 64-bit length, high bit set', header64(pick([OPCODES.text, OPCODES.binary]), (1n << 63n) | BigInt(int(1e9)))),
      () => bad('a length far over the limit', header64(pick([OPCODES.text, OPCODES.binary, OPCODES.continuation]), BigInt(limit + 1 + int(2 ** 30)) * BigInt(1 + int(1024)))),
      () => bad('a whole message just over the limit', frame(OPCODES.binary, Buffer.alloc(limit + 1 + int(100), 0x62))),
      () => bad('over the limit in fragments', Buffer.concat([frame(OPCODES.text, Buffer.alloc(limit / 2 + 1, 0x61), { fin: false }), frame(OPCODES.continuation, Buffer.alloc(limit / 2 + 1, 0x61))])),
      () => bad('a continuation without a start', frame(OPCODES.continuation, Buffer.from('orphan'), { fin: chance(0.5) })),
      () => bad('a new message mid-fragments', Buffer.concat([frame(OPCODES.text, Buffer.from('first'), { fin: false }), frame(pick([OPCODES.text, OPCODES.binary]), Buffer.from('second'))])),
      () => bad('too many fragments', Buffer.concat([frame(OPCODES.text, Buffer.from('a'), { fin: false }), ...Array.from({ length: MAX_FRAGMENTS + int(3) }, () => frame(OPCODES.continuation, Buffer.alloc(0), { fin: false }))])),
      () => {
        const text = Buffer.from(pick(TEXTS));
        const at = int(text.length + 1);
        const payload = Buffer.concat([text.subarray(0, at), pick(INVALID_UTF8), text.subarray(at)]);
        return bad('invalid UTF-8 in a text frame', chance(0.5) ? frame(OPCODES.text, payload) : Buffer.concat(cutInto(payload, 2).map((p, i, all) => frame(i === 0 ? OPCODES.text : OPCODES.continuation, p, { fin: i === all.length - 1 }))));
      },
      () => bad('a close with a bad code', frame(OPCODES.close, closePayload(pick([0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535]), 'x'))),
      () => bad('a close of one byte', frame(OPCODES.close, Buffer.from([int(256)]))),
      () => bad('a close with an invalid UTF-8 reason', frame(OPCODES.close, Buffer.concat([closePayload(1000), pick(INVALID_UTF8)]))),
      () => bad('a close with a reason of 124 bytes', frame(OPCODES.close, closePayload(1000, 'r'.repeat(124)))),
      () => bad('a mutated frame', mutate(validFrames(target))),
      () => bad('half a frame', validFrames(target).subarray(0, 1 + int(6))),
    ];
  };

  let index = 0;
  return (ports: Record<Lab, number>): FuzzInput => {
    const n = index++;
    const target: Lab = chance(0.5) ? 'chat' : 'echo';
    const key = randomBytes(16).toString('base64');
    // Half the inputs upgrade, so that most of the frames reach a WebSocket.
    const kind = pick<Handshake>(['valid', 'valid', 'refused', 'any']);
    const [handshakeName, handshake, makeRequest] = pick(handshakes(ports[target], key).filter(([, h]) => h === kind));
    const recipe = [handshakeName];
    const requestBytes = makeRequest();
    let k = 0;
    const nextId = () => `f${n}-${k++}`;
    // Mostly frames after a valid handshake; a few after the others too.
    const pieceCount = handshake === 'valid' || chance(0.3) ? int(7) : 0;
    const clean = chance(handshake === 'valid' ? 0.5 : 0);
    const pieces = Array.from({ length: pieceCount }, () => pick(clean || chance(0.4) ? cleanPieces(target, nextId) : badPieces(target))());
    if (target === 'chat' && handshake === 'valid' && chance(0.6)) {
      // Joined first, most of the time: then the messages reach a room and its other members.
      const id = nextId();
      const join = { type: 'join', name: `fz${n}`, room: chance(0.5) ? 'lobby' : `r${int(400)}`, id };
      pieces.unshift({ name: `join ${join.room}`, bytes: frame(OPCODES.text, Buffer.from(JSON.stringify(join))), clean: true, ids: [id] });
    }
    recipe.push(...pieces.map((p) => p.name));
    const allClean = handshake === 'valid' && pieces.every((p) => p.clean);
    const frames = Buffer.concat(pieces.map((p) => p.bytes));
    // A client waits for the 101; a fuzzer sometimes sends its frames right behind the request.
    const wait = handshake === 'valid' && chance(0.7);
    const many = chance(0.15);
    const writes: FuzzInput['writes'] = wait
      ? [...cutInto(requestBytes, int(3)), AWAIT_HEAD, ...cutInto(frames, many ? 10 + int(40) : int(6))]
      : cutInto(Buffer.concat([requestBytes, frames]), many ? 10 + int(40) : int(6));
    const ending = pick<Ending>(['close', 'close', 'fin', 'reset', 'destroy', 'linger']);
    recipe.push(`${writes.length} writes`, ending);
    // A close frame as a client ends a conversation: a valid code, or none.
    const goodbye = frame(OPCODES.close, pick([Buffer.alloc(0), closePayload(1000), closePayload(1001, 'bye'), closePayload(4000, 'é'.repeat(10)), closePayload(3000)]));
    const expected = allClean
      ? { messages: pieces.flatMap((p) => p.messages ?? []), pongs: pieces.flatMap((p) => p.pongs ?? []), ids: pieces.flatMap((p) => p.ids ?? []) }
      : undefined;
    return { target, handshake, key, writes, ending, goodbye, expected, recipe };
  };
}

/** Resolves when `condition()` holds, re-checked on each of `events`; rejects after the hang guard. */
function until(emitter: EventEmitter, events: string[], condition: () => boolean, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (!condition()) return;
      clearTimeout(guard);
      for (const event of events) emitter.off(event, check);
      resolve();
    };
    const guard = setTimeout(() => {
      for (const event of events) emitter.off(event, check);
      reject(new Error(`hang guard: waited ${HANG_GUARD_MS} ms for ${what}`));
    }, HANG_GUARD_MS);
    for (const event of events) emitter.on(event, check);
    check();
  });
}

/**
 * Resolves when `condition()` holds, re-checked once per turn of the event loop: for what no
 * event announces (a server-side socket freed). Rejects after the hang guard.
 */
async function untilEachTurn(condition: () => boolean, what: () => string): Promise<void> {
  const deadline = Date.now() + HANG_GUARD_MS;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`hang guard: waited ${HANG_GUARD_MS} ms for ${what()}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const isUtf8 = (bytes: Buffer) => {
  try {
    utf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
};

/**
 * What is wrong with what one fuzz connection received: `complete` when the server closed the
 * connection (everything it sent is here), not when the fuzzer cut it short.
 */
function checkReceived(input: FuzzInput, data: Buffer, complete: boolean): string[] {
  const problems: string[] = [];
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) {
    if (complete && input.handshake !== 'any') problems.push(`a handshake that must be answered got no answer (${data.length} bytes)`);
    else if (complete && data.length > 0) problems.push(`${data.length} bytes that are not an HTTP answer: ${JSON.stringify(data.subarray(0, 60).toString('latin1'))}`);
    return problems;
  }
  const head = parseResponseHead(data.subarray(0, end).toString('latin1'));
  if (!head) return [`not an HTTP status line: ${JSON.stringify(data.subarray(0, 60).toString('latin1'))}`];
  if (head.status !== 101) {
    if (input.handshake === 'valid') problems.push(`a valid handshake was answered ${head.status}`);
    if (input.handshake === 'refused' && (head.status < 400 || head.status > 499)) problems.push(`refused with ${head.status}, not a 4xx`);
    return problems;
  }
  if (input.handshake === 'refused') problems.push('a handshake that must be refused was accepted');
  if (input.handshake === 'valid' && head.headers.get('sec-websocket-accept') !== acceptFor(input.key)) problems.push('a wrong Sec-WebSocket-Accept');

  const messages: Expected['messages'] = [];
  const pongs: Buffer[] = [];
  const ids: string[] = [];
  let fragments: { opcode: number; parts: Buffer[] } | undefined;
  let closed = false;
  let rest = data.subarray(end + 4);
  for (let decoded = decodeFrame(rest); decoded; decoded = decodeFrame(rest)) {
    const { frame, size } = decoded;
    const first = rest[0]!;
    rest = rest.subarray(size);
    const what = `a frame with opcode ${frame.opcode}`;
    if (closed) problems.push(`${what} after the close frame`);
    if (frame.mask) problems.push(`${what}, masked`);
    if ((first & 0x70) !== 0) problems.push(`${what} with reserved bits`);
    if (frame.opcode >= 0x8) {
      if (!frame.fin || frame.payload.length > 125) problems.push(`${what}: a control frame fragmented or over 125 bytes`);
      if (frame.opcode === OPCODES.pong) pongs.push(frame.payload);
      else if (frame.opcode === OPCODES.close) {
        closed = true;
        if (frame.payload.length === 1) problems.push('a close frame of one byte');
        if (frame.payload.length >= 2) {
          const code = frame.payload.readUInt16BE(0);
          const problem = closeCodeProblem(code);
          if (problem) problems.push(`close code ${code}: ${problem}`);
          if (!isUtf8(frame.payload.subarray(2))) problems.push('a close reason that is not UTF-8');
        }
      } else if (frame.opcode !== OPCODES.ping) problems.push(`${what}: not an opcode`);
      continue;
    }
    if (frame.opcode === OPCODES.continuation) {
      if (!fragments) problems.push('a continuation without a start');
      else fragments.parts.push(frame.payload);
    } else if (frame.opcode === OPCODES.text || frame.opcode === OPCODES.binary) {
      if (fragments) problems.push('a new message before the last one ended');
      fragments = { opcode: frame.opcode, parts: [frame.payload] };
    } else {
      problems.push(`${what}: not an opcode`);
      continue;
    }
    if (!frame.fin || !fragments) continue;
    const message = { binary: fragments.opcode === OPCODES.binary, data: Buffer.concat(fragments.parts) };
    fragments = undefined;
    if (!message.binary && !isUtf8(message.data)) problems.push('a text message that is not UTF-8');
    if (input.target === 'echo') {
      messages.push(message);
      continue;
    }
    let parsed: ServerMessage | undefined;
    try {
      parsed = JSON.parse(message.data.toString('utf8')) as ServerMessage;
    } catch {
      problems.push(`chat sent a message that is not JSON: ${message.data.subarray(0, 80).toString()}`);
    }
    if (message.binary) problems.push('chat sent a binary message');
    if (parsed && !CHAT_MESSAGE_TYPES.has(parsed.type)) problems.push(`chat sent a message of type ${JSON.stringify(parsed.type)}`);
    if (parsed?.type === 'error' && !CHAT_ERROR_CODES.has(parsed.code)) problems.push(`chat sent an error code ${JSON.stringify(parsed.code)}`);
    if (parsed && 'id' in parsed && parsed.id !== undefined) ids.push(parsed.id);
  }
  if (complete && rest.length > 0) problems.push(`${rest.length} bytes of an unfinished frame at the end`);

  if (input.expected) {
    // Ended by a close frame, every answer came before the server's close; otherwise a prefix.
    const all = input.ending === 'close';
    if (all && !closed) problems.push('a close frame was not answered with one');
    const compare = (name: string, got: string[], want: string[]) => {
      const ok = all ? got.length === want.length : got.length <= want.length;
      if (!ok || got.some((g, i) => g !== want[i])) problems.push(`${name}: got ${JSON.stringify(got).slice(0, 300)}, expected ${all ? '' : 'a prefix of '}${JSON.stringify(want).slice(0, 300)}`);
    };
    const show = (m: { binary: boolean; data: Buffer }) => `${m.binary ? 'binary' : 'text'} of ${m.data.length} bytes, sha1 ${createHash('sha1').update(m.data).digest('hex').slice(0, 12)}`;
    compare('pongs', pongs.map((p) => p.toString('hex')), input.expected.pongs.map((p) => p.toString('hex')));
    if (input.target === 'echo') compare('echoes', messages.map(show), input.expected.messages.map(show));
    else compare('answered ids', ids, input.expected.ids);
  }
  return problems;
}

/** Runs one fuzz connection to its end and returns what is wrong with what it received. */
async function runInput(input: FuzzInput, port: number, live: Set<net.Socket>, waveOver: Promise<unknown>): Promise<string[]> {
  const socket = net.connect({ host: '127.0.0.1', port });
  // Tracked in a set rather than one cleanup each, so that the test keeps no closed socket alive.
  live.add(socket);
  let closed = false;
  const whenClosed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.once('close', () => {
    closed = true;
    live.delete(socket);
  });
  socket.on('error', () => {}); // a reset, ours or the server's, is part of the game
  const received: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => received.push(chunk));
  await once(socket, 'connect');
  socket.setNoDelay(true); // many small writes: no Nagle delays between them
  const bytes = () => Buffer.concat(received);

  const last = input.writes.length - 1;
  for (const [i, chunk] of input.writes.entries()) {
    if (closed) break;
    if (chunk === AWAIT_HEAD) {
      await until(socket, ['data', 'close'], () => closed || bytes().includes('\r\n\r\n'), 'the answer to the handshake');
      continue;
    }
    // A reset or destroy may come before the last write (for about half of them, as the data decides).
    if ((input.ending === 'reset' || input.ending === 'destroy') && i === last && chunk.length % 2 === 0) break;
    await new Promise((resolve) => socket.write(chunk, resolve));
  }
  switch (input.ending) {
    case 'reset':
    case 'destroy':
      if (input.ending === 'reset') socket.resetAndDestroy();
      else socket.destroy();
      await whenClosed; // soon: a destroyed socket closes without waiting for the server
      return checkReceived(input, bytes(), false);
    case 'close':
      socket.write(input.goodbye);
      // A server in the middle of a frame (or a request) would read the close as its payload.
      if (!input.expected) socket.end();
      break;
    case 'fin':
      socket.end();
      break;
    case 'linger':
      await waveOver;
      socket.end();
      break;
  }
  let guard: NodeJS.Timeout | undefined;
  await Promise.race([
    whenClosed,
    new Promise((_, reject) => (guard = setTimeout(() => reject(new Error('hang guard: the server never closed the connection')), HANG_GUARD_MS))),
  ]).finally(() => clearTimeout(guard)); // a pending guard would keep this connection's memory
  return checkReceived(input, bytes(), true);
}

/** Open WebSockets of a lab server, counted from its own 'connection' and 'close' events. */
function openWebSockets(server: WsEchoServer | WsChatServer): { emitter: EventEmitter; count: () => number } {
  const emitter = server as unknown as EventEmitter;
  let open = 0;
  emitter.on('connection', () => open++);
  emitter.on('close', () => open--);
  return { emitter, count: () => open };
}

/** TCP sockets open in this process (both ends of every loopback connection). */
const tcpSockets = () => process.getActiveResourcesInfo().filter((type) => type === 'TCPSocketWrap').length;

describe(`fuzzing the WebSocket echo and chat servers (seed ${SEED}, ${INPUTS} inputs; NETLAB_FUZZ_SEED reruns one)`, () => {
  it('keeps both servers up and accepting, answers every fuzz connection within the protocol, delivers every message of the well-behaved clients once and in order, frees every connection, and keeps memory bounded', async () => {
    const options = { heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS };
    const echo = await echoServer({ ...options, maxMessageBytes: ECHO_MAX_MESSAGE_BYTES });
    const chat = await chatServer({ ...options, rate: { perSecond: 2000, burst: 20 } }); // floods get throttled, briefly
    const serverErrors: Error[] = [];
    echo.on('error', (err) => serverErrors.push(err));
    chat.on('error', (err) => serverErrors.push(err));
    const echoOpen = openWebSockets(echo);
    const chatOpen = openWebSockets(chat);

    // The well-behaved: an echo client, and a chat sender and reader in the lobby.
    const steadyText = (n: number) => `steady ${n} ${'é'.repeat(n % 97)}`;
    const steadyEcho = await wsClient(echo.url);
    let echoHeard = 0;
    const steadyProblems: string[] = [];
    steadyEcho.on('message', (data: Buffer, isBinary) => {
      if (isBinary || data.toString('utf8') !== steadyText(echoHeard)) steadyProblems.push(`echo #${echoHeard}: ${data.toString('utf8').slice(0, 40)}`);
      echoHeard++;
    });
    const sender = await joined(chat, { name: SENDER }, { keep: false });
    let chatHeard = 0;
    const reader = await joined(chat, { name: READER }, {
      keep: false, // the reader hears the whole lobby: kept, it would blur the measurement
      onMessage: (message) => {
        if (message.type !== 'message' || message.from !== SENDER) return;
        if (message.text !== `steady ${chatHeard}`) steadyProblems.push(`chat #${chatHeard}: ${message.text}`);
        chatHeard++;
      },
    });

    const next = fuzzer(SEED);
    const ports = { echo: echo.port, chat: chat.port };
    const live = new Set<net.Socket>();
    onTestFinished(() => live.forEach((socket) => socket.destroy()));
    const problems: string[] = [];
    let heapBefore = 0;
    let fuzzedBytes = 0;
    for (let start = 0, wave = 0; start < INPUTS; start += WAVE, wave++) {
      steadyEcho.send(steadyText(wave));
      sender.send({ type: 'message', text: `steady ${wave}` });
      const batch = Array.from({ length: Math.min(WAVE, INPUTS - start) }, () => next(ports));
      let othersDone: () => void = () => {};
      const waveOver = new Promise<void>((resolve) => (othersDone = resolve));
      const runs = batch.map((input, i) =>
        runInput(input, ports[input.target], live, input.ending === 'linger' ? waveOver : Promise.resolve())
          .catch((err: Error) => [err.message])
          .then((found) => found.map((problem) => `seed ${SEED}, input #${start + i} (${input.target}: ${input.recipe.join(', ')}): ${problem}`)),
      );
      void Promise.all(runs.filter((_, i) => batch[i]!.ending !== 'linger')).then(() => othersDone());
      problems.push(...(await Promise.all(runs)).flat());
      for (const input of batch) fuzzedBytes += input.writes.reduce((n, w) => n + (w === AWAIT_HEAD ? 0 : w.length), 0);
      if (problems.length > 20) break; // enough to tell
      if (wave === 0) {
        // The first wave warms up (JIT, buffers, lazily built tables); measure from here.
        await until(chatOpen.emitter, ['close'], () => chatOpen.count() === 2, 'the warm-up chat connections to close');
        await until(echoOpen.emitter, ['close'], () => echoOpen.count() === 1, 'the warm-up echo connections to close');
        gc();
        heapBefore = process.memoryUsage().heapUsed;
      }
    }
    expect(problems.length, problems.slice(0, 10).join('\n')).toBe(0);

    // The well-behaved clients: everything, once, in order.
    const waves = Math.ceil(INPUTS / WAVE);
    await until(steadyEcho, ['message'], () => echoHeard >= waves, `all ${waves} steady echoes`);
    await reader.until(() => chatHeard >= waves, `all ${waves} steady chat messages`);
    expect(steadyProblems).toEqual([]);
    expect([echoHeard, chatHeard]).toEqual([waves, waves]);
    expect([steadyEcho.readyState, sender.closed, reader.closed]).toEqual([steadyEcho.OPEN, undefined, undefined]);

    // Every fuzz connection freed: the servers count their WebSockets back down to the
    // well-behaved ones, and no other TCP socket is left in this process, on either end.
    expect(live.size).toBe(0);
    await until(chatOpen.emitter, ['close'], () => chatOpen.count() === 2, 'the chat server to have 2 WebSockets open');
    await until(echoOpen.emitter, ['close'], () => echoOpen.count() === 1, 'the echo server to have 1 WebSocket open');
    expect(chat.manager.userCount).toBe(2);
    await untilEachTurn(() => tcpSockets() === 2 * 3, () => `6 TCP sockets (3 connections), not ${tcpSockets()}`);
    gc();
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
    console.log(`fuzz-ws seed ${SEED}: ${INPUTS} inputs, ${fuzzedBytes} bytes fuzzed; heap grew by ${heapGrowth} bytes after GC; the chat keeps ${chat.manager.roomCount} rooms`);
    expect(heapGrowth).toBeLessThan(MAX_HEAP_GROWTH_BYTES);
    expect(serverErrors).toEqual([]);

    // Both still accept and serve.
    const late = await wsClient(echo.url);
    late.send('still echoing');
    const [echoed] = (await once(late, 'message')) as [Buffer];
    expect(echoed.toString()).toBe('still echoing');
    const newcomer = await joined(chat, { name: 'newcomer' });
    const from = newcomer.mark();
    newcomer.send({ type: 'users', id: 'late' });
    expect(await newcomer.waitFor((m) => m.type === 'users' && m.id === 'late', from)).toMatchObject({ users: ['newcomer', READER, SENDER] });
  }, 60_000);
});
