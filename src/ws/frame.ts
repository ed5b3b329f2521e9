/**
 * WebSocket frames as bytes (RFC 6455, section 5.2), pure: lesson 04, "Messages: text, binary, empty". netlab's
 * servers and clients use the ws library for their frames; this file is for what a lesson
 * does by hand (`netlab ws-handshake --url` sends a close frame itself) and for tests that
 * send frames ws would never send, such as an unmasked one from a client.
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-------+-+-------------+-------------------------------+
 *   |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
 *   |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
 *   |N|V|V|V|       |S|             |   (if payload len==126/127)   |
 *   | |1|2|3|       |K|             |                               |
 *   +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
 *   |     Extended payload length continued, if payload len == 127  |
 *   + - - - - - - - - - - - - - - - +-------------------------------+
 *   |                               |Masking-key, if MASK set to 1  |
 *   +-------------------------------+-------------------------------+
 *   | Masking-key (continued)       |          Payload Data         |
 *   +-------------------------------- - - - - - - - - - - - - - - - +
 *
 * "Need more bytes" is a normal outcome of decoding (a frame split across reads); malformed
 * bytes are not this file's business yet: it reads what the header says.
 */

export const OPCODES = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;

export type OpcodeName = keyof typeof OPCODES;

export interface Frame {
  fin: boolean;
  opcode: number;
  /** The masking key, when the frame was masked (every frame from a client must be). */
  mask?: Buffer;
  /** The payload, unmasked. */
  payload: Buffer;
}

/** The opcode's name (`text`, `close`…), or `reserved 0x3`. */
export function opcodeName(opcode: number): string {
  const entry = Object.entries(OPCODES).find(([, value]) => value === opcode);
  return entry ? entry[0] : `reserved 0x${opcode.toString(16)}`;
}

/**
 * One frame as bytes. With `mask` (4 bytes), the payload is masked as a client must: "octet i
 * of the transformed data is the XOR of octet i of the original data with octet at index
 * i modulo 4 of the masking key" (section 5.3).
 */
export function encodeFrame(frame: Frame): Buffer {
  const { payload, mask } = frame;
  const length = payload.length;
  const lengthBytes = length < 126 ? 0 : length < 65536 ? 2 : 8;
  const header = Buffer.alloc(2 + lengthBytes + (mask ? 4 : 0));
  header[0] = (frame.fin ? 0x80 : 0) | (frame.opcode & 0x0f);
  header[1] = (mask ? 0x80 : 0) | (lengthBytes === 0 ? length : lengthBytes === 2 ? 126 : 127);
  if (lengthBytes === 2) header.writeUInt16BE(length, 2);
  if (lengthBytes === 8) header.writeBigUInt64BE(BigInt(length), 2);
  if (!mask) return Buffer.concat([header, payload]);
  if (mask.length !== 4) throw new RangeError('a masking key is 4 bytes');
  mask.copy(header, 2 + lengthBytes);
  return Buffer.concat([header, applyMask(payload, mask)]);
}

/**
 * The first frame in `bytes`, and how many bytes it took; undefined while the frame is not
 * complete yet (read more and call again).
 */
export function decodeFrame(bytes: Buffer): { frame: Frame; size: number } | undefined {
  if (bytes.length < 2) return undefined;
  const masked = (bytes[1]! & 0x80) !== 0;
  const short = bytes[1]! & 0x7f;
  const lengthBytes = short === 126 ? 2 : short === 127 ? 8 : 0;
  const start = 2 + lengthBytes + (masked ? 4 : 0);
  if (bytes.length < start) return undefined;
  const length = lengthBytes === 0 ? short : lengthBytes === 2 ? bytes.readUInt16BE(2) : Number(bytes.readBigUInt64BE(2));
  if (bytes.length < start + length) return undefined;
  const mask = masked ? Buffer.from(bytes.subarray(start - 4, start)) : undefined;
  const raw = bytes.subarray(start, start + length);
  const frame: Frame = { fin: (bytes[0]! & 0x80) !== 0, opcode: bytes[0]! & 0x0f, payload: mask ? applyMask(raw, mask) : Buffer.from(raw) };
  if (mask) frame.mask = mask;
  return { frame, size: start + length };
}

/** A close frame's payload: the code in two bytes, then the reason in UTF-8 (section 5.5.1). */
export function closePayload(code: number, reason = ''): Buffer {
  const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
  payload.writeUInt16BE(code, 0);
  payload.write(reason, 2, 'utf8');
  return payload;
}

/**
 * The code and reason a close frame carries; code 1005 when it carries none. (A payload of one
 * byte is invalid, section 5.5.1; it is read as carrying no code too.)
 */
export function readClosePayload(payload: Buffer): { code: number; reason: string } {
  if (payload.length < 2) return { code: 1005, reason: '' };
  return { code: payload.readUInt16BE(0), reason: payload.toString('utf8', 2) };
}

function applyMask(data: Buffer, mask: Buffer): Buffer {
  const out = Buffer.alloc(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i]! ^ mask[i & 3]!;
  return out;
}
