/**
 * WebSocket frames read from a byte stream as it arrives, for `--trace` (lesson 04, "frames"):
 * each chunk of one direction of a connection goes in exactly as the kernel delivered it, and
 * out come the frames it completed, each with every header field, the first bytes of its
 * payload, and the RFC 6455 rules it breaks. The header's layout is the drawing at the top of
 * `src/ws/frame.ts` (section 5.2); frame-view.ts turns a frame into lines.
 *
 * A frame may be split across chunks at any byte, and one chunk may hold several frames, so
 * the reader is a small state machine: `header` (collecting at most 14 bytes), `payload`
 * (counting the payload's bytes as they pass), and `unreadable` (see below).
 *
 * Memory stays bounded whatever a peer sends. The reader keeps the header and the first
 * `keepBytes` of a payload (at least 125 for a control frame, so a close frame's code and reason
 * can always be shown) and only counts the rest: a 100 MiB frame costs a few hundred bytes. The
 * trade-off is that a trace shows the start of a long payload, never its middle or end.
 *
 * Broken rules are not errors here: a tracer's job is to show what crossed the wire, so a frame
 * that breaks one is decoded all the same and carries its `problems`. One thing it cannot get
 * past: a 64-bit length it cannot count (top bit set, or above 2^53 - 1). After that it has lost
 * the next frame's first byte, so it reports that chunk as `unreadable` once, and every later
 * chunk as `unreadable` with the reason `AFTER_UNREADABLE`.
 *
 * Left out: rules that need more than one frame or a direction (a continuation with no message
 * to continue, an unmasked frame from a client), UTF-8 checks on text, and close-code checks;
 * those belong to whoever reads the whole conversation.
 */

/** How the payload length was written: in byte 1's 7 bits, or 126 then 16 bits, or 127 then 64 bits. */
export type LengthEncoding = '7-bit' | '16-bit' | '64-bit';

/** One frame as it crossed the wire, field by field. */
export interface TracedFrame {
  fin: boolean;
  rsv1: boolean;
  rsv2: boolean;
  rsv3: boolean;
  /** 0 to 15; OPCODES in frame.ts names the six RFC 6455 defines. */
  opcode: number;
  masked: boolean;
  lengthEncoding: LengthEncoding;
  /** The payload length, in bytes, as the header gives it. */
  length: number;
  /** The 4-byte masking key, when `masked`. */
  maskKey?: Buffer;
  /** 2 to 14 bytes: the first two, the extended length, the masking key. */
  headerSize: number;
  /** headerSize + length: the whole frame on the wire. */
  size: number;
  /** The payload's first bytes exactly as sent (masked, if masked); at most what the reader keeps. */
  payloadSent: Buffer;
  /** The same bytes unmasked; the very same Buffer as payloadSent when the frame is not masked. */
  payload: Buffer;
  /** The RFC 6455 rules this frame breaks, each a short phrase citing its section; [] when none. */
  problems: string[];
}

/**
 * What a chunk yields: a frame it completed, or bytes the reader cannot frame. `bytes` of the
 * first `unreadable` event counts from the first byte of the unreadable frame to the end of
 * that chunk (header bytes held from earlier chunks included); of every later one, the chunk.
 */
export type ReaderEvent = { kind: 'frame'; frame: TracedFrame } | { kind: 'unreadable'; reason: string; bytes: number };

/** The reason of every `unreadable` event after the first. */
export const AFTER_UNREADABLE = 'after an unreadable frame';

/** "All control frames MUST have a payload length of 125 bytes or less and MUST NOT be fragmented" (section 5.5). */
const MAX_CONTROL_PAYLOAD_BYTES = 125;
/** The longest header: 2 bytes, a 64-bit length, a masking key. */
const MAX_HEADER_BYTES = 14;
const TOP_BIT_64 = 1n << 63n;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** The header fields, once the whole header is in. */
type Header = Omit<TracedFrame, 'payloadSent' | 'payload'>;

/**
 * Frames out of one direction of a connection. Feed it every chunk in order; it never throws
 * on what a peer sends.
 */
export class FrameReader {
  private readonly keepBytes: number;
  private state: 'header' | 'payload' | 'unreadable' = 'header';
  // One buffer for every header: the bytes of the current one arrive into it.
  private readonly headerBytes = Buffer.alloc(MAX_HEADER_BYTES);
  private headerFilled = 0;
  // The current frame, in the payload state.
  private header: Header | undefined;
  private kept = Buffer.alloc(0);
  private keptFilled = 0;
  private payloadLeft = 0;

  /**
   * `keepBytes`: how much of each payload to keep (a control frame's, at least 125). Throws a
   * RangeError unless it is a whole number of 0 or more.
   */
  constructor(options: { keepBytes: number }) {
    if (!Number.isSafeInteger(options.keepBytes) || options.keepBytes < 0) {
      throw new RangeError(`keepBytes must be a whole number of 0 or more, not ${options.keepBytes}`);
    }
    this.keepBytes = options.keepBytes;
  }

  /**
   * Reads one chunk and returns every frame it completed, in order; [] when it only added to a
   * frame still incomplete, and for an empty chunk. Never throws.
   */
  push(chunk: Buffer): ReaderEvent[] {
    const events: ReaderEvent[] = [];
    if (chunk.length === 0) return events;
    if (this.state === 'unreadable') return [{ kind: 'unreadable', reason: AFTER_UNREADABLE, bytes: chunk.length }];
    let at = 0;
    while (at < chunk.length) {
      if (this.state === 'header') {
        const target = this.headerTarget();
        const take = Math.min(target - this.headerFilled, chunk.length - at);
        chunk.copy(this.headerBytes, this.headerFilled, at, at + take);
        this.headerFilled += take;
        at += take;
        if (this.headerFilled < target) break; // need more bytes: a normal outcome
        const reason = this.unreadableLength();
        if (reason !== undefined) {
          events.push({ kind: 'unreadable', reason, bytes: this.headerFilled + chunk.length - at });
          this.enterUnreadable();
          break;
        }
        if (this.headerFilled === this.headerTarget()) this.beginPayload(events);
      } else {
        const take = Math.min(this.payloadLeft, chunk.length - at);
        // Only the first bytes are copied; the rest are counted and left in the chunk.
        const keep = Math.min(take, this.kept.length - this.keptFilled);
        if (keep > 0) chunk.copy(this.kept, this.keptFilled, at, at + keep);
        this.keptFilled += keep;
        this.payloadLeft -= take;
        at += take;
        if (this.payloadLeft === 0) this.endFrame(events);
      }
    }
    return events;
  }

  /** Bytes of the frame in progress held so far: its header, and the payload bytes kept. */
  get pending(): number {
    return this.headerFilled + this.keptFilled;
  }

  /**
   * How many header bytes to collect before looking again: 2, then up to the end of the
   * extended length (to check it as soon as it is in), then up to the end of the masking key.
   */
  private headerTarget(): number {
    if (this.headerFilled < 2) return 2;
    const lengthEnd = 2 + extendedLengthBytes(this.headerBytes[1]!);
    if (this.headerFilled < lengthEnd) return lengthEnd;
    return lengthEnd + (this.headerBytes[1]! & 0x80 ? 4 : 0);
  }

  /** Why the 64-bit length just read cannot be used, or undefined. */
  private unreadableLength(): string | undefined {
    if (this.headerFilled !== 10 || extendedLengthBytes(this.headerBytes[1]!) !== 8) return undefined;
    const length = this.headerBytes.readBigUInt64BE(2);
    // "the most significant bit MUST be 0" (section 5.2)
    if (length & TOP_BIT_64) return '64-bit length with its most significant bit set (section 5.2)';
    if (length > MAX_SAFE) return `payload length ${length} is over 2^53 - 1, more than this reader counts`;
    return undefined;
  }

  private beginPayload(events: ReaderEvent[]): void {
    const header = readHeader(this.headerBytes.subarray(0, this.headerFilled));
    const keep = header.opcode >= 0x8 ? Math.max(this.keepBytes, MAX_CONTROL_PAYLOAD_BYTES) : this.keepBytes;
    this.header = header;
    this.kept = Buffer.alloc(Math.min(header.length, keep));
    this.keptFilled = 0;
    this.payloadLeft = header.length;
    this.state = 'payload';
    if (header.length === 0) this.endFrame(events);
  }

  private endFrame(events: ReaderEvent[]): void {
    const header = this.header!;
    const payloadSent = this.kept;
    const payload = header.maskKey ? unmask(payloadSent, header.maskKey) : payloadSent;
    events.push({ kind: 'frame', frame: { ...header, payloadSent, payload } });
    this.header = undefined;
    this.kept = Buffer.alloc(0);
    this.keptFilled = 0;
    this.headerFilled = 0;
    this.state = 'header';
  }

  private enterUnreadable(): void {
    this.state = 'unreadable';
    this.headerFilled = 0;
    this.keptFilled = 0;
  }
}

/** 0, 2 or 8: what byte 1's 7-bit length says follows it. */
function extendedLengthBytes(byte1: number): number {
  const short = byte1 & 0x7f;
  return short === 126 ? 2 : short === 127 ? 8 : 0;
}

/** The fields of a whole header (whose 64-bit length, if any, was already checked). */
function readHeader(bytes: Buffer): Header {
  const byte0 = bytes[0]!;
  const byte1 = bytes[1]!;
  const extended = extendedLengthBytes(byte1);
  const lengthEncoding: LengthEncoding = extended === 0 ? '7-bit' : extended === 2 ? '16-bit' : '64-bit';
  const length = extended === 0 ? byte1 & 0x7f : extended === 2 ? bytes.readUInt16BE(2) : Number(bytes.readBigUInt64BE(2));
  const masked = (byte1 & 0x80) !== 0;
  const header: Header = {
    fin: (byte0 & 0x80) !== 0,
    rsv1: (byte0 & 0x40) !== 0,
    rsv2: (byte0 & 0x20) !== 0,
    rsv3: (byte0 & 0x10) !== 0,
    opcode: byte0 & 0x0f,
    masked,
    lengthEncoding,
    length,
    headerSize: bytes.length,
    size: bytes.length + length,
    problems: [],
  };
  if (masked) header.maskKey = Buffer.from(bytes.subarray(2 + extended, 6 + extended));
  header.problems = problemsOf(header);
  return header;
}

/** The rules of RFC 6455 a header breaks, in the order of its fields. */
function problemsOf(frame: Header): string[] {
  const problems: string[] = [];
  const rsv = (['rsv1', 'rsv2', 'rsv3'] as const).filter((bit) => frame[bit]).map((bit) => bit.toUpperCase());
  // "MUST be 0 unless an extension is negotiated that defines meanings for non-zero values"
  // (section 5.2); netlab turns permessage-deflate, the one that uses RSV1, off.
  if (rsv.length > 0) problems.push(`${rsv.join(', ')} set, but no extension was negotiated (section 5.2)`);
  const control = frame.opcode >= 0x8;
  // Section 5.5 again (MAX_CONTROL_PAYLOAD_BYTES), and 5.4: "Control frames themselves MUST NOT be fragmented."
  if (control && !frame.fin) problems.push('control frame with FIN 0: "MUST NOT be fragmented" (section 5.5)');
  // "If an unknown opcode is received, the receiving endpoint MUST _Fail the WebSocket Connection_" (5.2).
  if ((frame.opcode >= 0x3 && frame.opcode <= 0x7) || frame.opcode >= 0xb) {
    problems.push(`reserved opcode 0x${frame.opcode.toString(16)} (section 5.2)`);
  }
  // "the minimal number of bytes MUST be used to encode the length" (section 5.2)
  if (frame.lengthEncoding === '16-bit' && frame.length < 126) problems.push(`non-minimal length: ${frame.length} fits in 7 bits (section 5.2)`);
  if (frame.lengthEncoding === '64-bit' && frame.length < 65536) {
    problems.push(`non-minimal length: ${frame.length} fits in ${frame.length < 126 ? 7 : 16} bits (section 5.2)`);
  }
  if (control && frame.length > MAX_CONTROL_PAYLOAD_BYTES) problems.push('control frame payload over 125 bytes (section 5.5)');
  // "If there is a body, the first two bytes of the body MUST be a 2-byte unsigned integer" (5.5.1).
  if (frame.opcode === 0x8 && frame.length === 1) problems.push('close payload of 1 byte: a close code takes 2 (section 5.5.1)');
  return problems;
}

/**
 * "Octet i of the transformed data is the XOR of octet i of the original data with octet at
 * index i modulo 4 of the masking key" (section 5.3). The kept bytes always start at octet 0 of
 * the payload, however the chunks fell, so i is their index.
 */
function unmask(sent: Buffer, maskKey: Buffer): Buffer {
  const out = Buffer.alloc(sent.length);
  for (let i = 0; i < sent.length; i++) out[i] = sent[i]! ^ maskKey[i & 3]!;
  return out;
}
