/**
 * The streaming frame reader of --trace (src/ws/frame-reader.ts): the examples of RFC 6455,
 * section 5.7, decoded field by field from input split at every byte boundary; memory that
 * stays bounded under a 100 MiB frame; and the rules a frame can break.
 */
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { AFTER_UNREADABLE, FrameReader, type ReaderEvent, type TracedFrame } from '../../src/ws/frame-reader.js';
import { OPCODES, closePayload, encodeFrame } from '../../src/ws/frame.js';

const bytes = (...values: number[]) => Buffer.from(values);
const MASK = bytes(0x37, 0xfa, 0x21, 0x3d);
const HELLO = Buffer.from('Hello');
/** What --trace keeps of a payload by default (DEFAULT_TRACE_BYTES). */
const KEEP = 64;

/** Binary data the RFC leaves unspecified: 0, 1, 2… 255, 0, 1… */
const binary = (length: number) => Buffer.from(Array.from({ length }, (_, i) => i & 0xff));

/** A correct, unmasked, final, 7-bit frame unless `fields` says otherwise. */
function traced(fields: Partial<TracedFrame> & Pick<TracedFrame, 'opcode' | 'length' | 'headerSize' | 'size' | 'payload'>): TracedFrame {
  return { fin: true, rsv1: false, rsv2: false, rsv3: false, masked: false, lengthEncoding: '7-bit', payloadSent: fields.payload, problems: [], ...fields };
}

const frameEvent = (frame: TracedFrame): ReaderEvent => ({ kind: 'frame', frame });

function readAll(chunks: Buffer[], keepBytes = KEEP): ReaderEvent[] {
  const reader = new FrameReader({ keepBytes });
  return chunks.flatMap((chunk) => reader.push(chunk));
}

// RFC 6455, section 5.7, "Examples", in its order and with its bytes.
const EXAMPLES: { name: string; wire: Buffer; events: ReaderEvent[] }[] = [
  {
    // "A single-frame unmasked text message ... 0x81 0x05 0x48 0x65 0x6c 0x6c 0x6f (contains "Hello")"
    name: 'a single-frame unmasked text message',
    wire: bytes(0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f),
    events: [frameEvent(traced({ opcode: 0x1, length: 5, headerSize: 2, size: 7, payload: HELLO }))],
  },
  {
    // "A single-frame masked text message ... 0x81 0x85 0x37 0xfa 0x21 0x3d 0x7f 0x9f 0x4d 0x51 0x58 (contains "Hello")"
    name: 'a single-frame masked text message',
    wire: bytes(0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58),
    events: [
      frameEvent(
        traced({ opcode: 0x1, masked: true, maskKey: MASK, length: 5, headerSize: 6, size: 11, payloadSent: bytes(0x7f, 0x9f, 0x4d, 0x51, 0x58), payload: HELLO }),
      ),
    ],
  },
  {
    // "A fragmented unmasked text message ... 0x01 0x03 0x48 0x65 0x6c (contains "Hel")
    //  ... 0x80 0x02 0x6c 0x6f (contains "lo")"
    name: 'a fragmented unmasked text message',
    wire: bytes(0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f),
    events: [
      frameEvent(traced({ fin: false, opcode: 0x1, length: 3, headerSize: 2, size: 5, payload: Buffer.from('Hel') })),
      frameEvent(traced({ fin: true, opcode: 0x0, length: 2, headerSize: 2, size: 4, payload: Buffer.from('lo') })),
    ],
  },
  {
    // "Unmasked Ping request and masked Ping response ... 0x89 0x05 0x48 0x65 0x6c 0x6c 0x6f
    //  (contains a body of "Hello", but the contents of the body are arbitrary) ... 0x8a 0x85
    //  0x37 0xfa 0x21 0x3d 0x7f 0x9f 0x4d 0x51 0x58 (contains a body of "Hello", matching the
    //  body of the ping)"
    name: 'an unmasked ping and a masked pong',
    wire: bytes(0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58),
    events: [
      frameEvent(traced({ opcode: 0x9, length: 5, headerSize: 2, size: 7, payload: HELLO })),
      frameEvent(
        traced({ opcode: 0xa, masked: true, maskKey: MASK, length: 5, headerSize: 6, size: 11, payloadSent: bytes(0x7f, 0x9f, 0x4d, 0x51, 0x58), payload: HELLO }),
      ),
    ],
  },
  {
    // "256 bytes binary message in a single unmasked frame ... 0x82 0x7E 0x0100 [256 bytes of binary data]"
    name: '256 bytes of binary in a single unmasked frame',
    wire: Buffer.concat([bytes(0x82, 0x7e, 0x01, 0x00), binary(256)]),
    events: [frameEvent(traced({ opcode: 0x2, lengthEncoding: '16-bit', length: 256, headerSize: 4, size: 260, payload: binary(KEEP) }))],
  },
  {
    // "64KiB binary message in a single unmasked frame ... 0x82 0x7F 0x0000000000010000 [65536 bytes of binary data]"
    name: '64 KiB of binary in a single unmasked frame',
    wire: Buffer.concat([bytes(0x82, 0x7f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00), binary(65536)]),
    events: [frameEvent(traced({ opcode: 0x2, lengthEncoding: '64-bit', length: 65536, headerSize: 10, size: 65546, payload: binary(KEEP) }))],
  },
];

describe('FrameReader, against the examples of RFC 6455 section 5.7', () => {
  for (const example of EXAMPLES) {
    it(`decodes ${example.name}, field by field`, () => {
      expect(readAll([example.wire])).toEqual(example.events);
    });
  }

  it('unmasks with the same Buffer only when the frame is masked', () => {
    const [unmasked, masked] = [EXAMPLES[0]!, EXAMPLES[1]!].map((example) => readAll([example.wire])[0]);
    expect(unmasked?.kind === 'frame' && unmasked.frame.payload === unmasked.frame.payloadSent).toBe(true);
    expect(masked?.kind === 'frame' && masked.frame.payload !== masked.frame.payloadSent).toBe(true);
  });

  it('decodes the same frames when each example is split in two at every byte', () => {
    for (const example of EXAMPLES) {
      // isDeepStrictEqual rather than expect() per cut: the 64 KiB example has 65,547 of them.
      const wrongCuts: number[] = [];
      for (let cut = 0; cut <= example.wire.length; cut++) {
        const events = readAll([example.wire.subarray(0, cut), example.wire.subarray(cut)]);
        if (!isDeepStrictEqual(events, example.events)) wrongCuts.push(cut);
      }
      expect(wrongCuts, example.name).toEqual([]);
    }
  });

  it('decodes the same frames when each example arrives one byte at a time', () => {
    for (const example of EXAMPLES) {
      const chunks = Array.from({ length: example.wire.length }, (_, i) => example.wire.subarray(i, i + 1));
      expect(readAll(chunks), example.name).toEqual(example.events);
    }
  });

  it('decodes every example from one chunk holding them all, in order', () => {
    const all = Buffer.concat(EXAMPLES.map((example) => example.wire));
    expect(readAll([all])).toEqual(EXAMPLES.flatMap((example) => example.events));
  });

  it('returns nothing for an empty chunk or a frame not complete yet, and counts what it holds', () => {
    const reader = new FrameReader({ keepBytes: KEEP });
    expect(reader.push(Buffer.alloc(0))).toEqual([]);
    expect(reader.push(EXAMPLES[1]!.wire.subarray(0, 8))).toEqual([]);
    expect(reader.pending).toBe(8);
    expect(reader.push(EXAMPLES[1]!.wire.subarray(8))).toEqual(EXAMPLES[1]!.events);
    expect(reader.pending).toBe(0);
  });

  it('reports an empty frame as soon as its header is in', () => {
    const reader = new FrameReader({ keepBytes: KEEP });
    expect(reader.push(bytes(0x81, 0x00))).toEqual([frameEvent(traced({ opcode: 0x1, length: 0, headerSize: 2, size: 2, payload: Buffer.alloc(0) }))]);
  });
});

describe('FrameReader memory', () => {
  it('keeps only keepBytes of a 16-bit frame and reads the frame after it', () => {
    const keepBytes = 16;
    const wire = Buffer.concat([encodeFrame({ fin: true, opcode: OPCODES.binary, payload: binary(65535) }), EXAMPLES[0]!.wire]);
    const reader = new FrameReader({ keepBytes });
    const events: ReaderEvent[] = [];
    let mostPending = 0;
    for (let at = 0; at < wire.length; at += 1000) {
      events.push(...reader.push(wire.subarray(at, at + 1000)));
      mostPending = Math.max(mostPending, reader.pending);
    }
    expect(mostPending).toBeLessThanOrEqual(4 + keepBytes);
    expect(events).toEqual([
      frameEvent(traced({ opcode: 0x2, lengthEncoding: '16-bit', length: 65535, headerSize: 4, size: 65539, payload: binary(keepBytes) })),
      ...EXAMPLES[0]!.events,
    ]);
  });

  it('holds no more than the header and keepBytes of a masked 100 MiB frame fed in 64 KiB chunks', () => {
    const keepBytes = 64;
    const length = 100 * 1024 * 1024;
    const header = Buffer.concat([bytes(0x82, 0xff), Buffer.alloc(8), MASK]);
    header.writeBigUInt64BE(BigInt(length), 2);
    // The same 64 KiB chunk again and again: the test itself must not hold 100 MiB either.
    const chunk = Buffer.alloc(65536, 0x01);
    const reader = new FrameReader({ keepBytes });
    const events = [...reader.push(header)];
    let mostPending = reader.pending;
    for (let sent = 0; sent < length - chunk.length; sent += chunk.length) {
      events.push(...reader.push(chunk));
      mostPending = Math.max(mostPending, reader.pending);
    }
    expect(events).toEqual([]);
    // The last chunk ends the big frame and holds the whole next one.
    events.push(...reader.push(Buffer.concat([chunk, EXAMPLES[1]!.wire])));
    expect(mostPending).toBeLessThanOrEqual(14 + keepBytes);
    expect(reader.pending).toBe(0);
    expect(events).toHaveLength(2);
    const big = events[0]?.kind === 'frame' ? events[0].frame : undefined;
    expect(big).toMatchObject({ opcode: 0x2, masked: true, maskKey: MASK, lengthEncoding: '64-bit', length, headerSize: 14, size: 14 + length });
    expect(big?.payloadSent).toEqual(Buffer.alloc(keepBytes, 0x01));
    expect(big?.payload).toEqual(Buffer.from(Array.from({ length: keepBytes }, (_, i) => 0x01 ^ MASK[i & 3]!)));
    expect(events[1]).toEqual(EXAMPLES[1]!.events[0]);
  });

  it('unmasks with the key index counted from the payload start, across chunks of any size', () => {
    const payload = binary(300);
    const wire = encodeFrame({ fin: true, opcode: OPCODES.binary, mask: MASK, payload });
    for (const size of [1, 3, 5, 7, 64]) {
      const chunks = Array.from({ length: Math.ceil(wire.length / size) }, (_, i) => wire.subarray(i * size, (i + 1) * size));
      const [event] = readAll(chunks, 300);
      expect(event?.kind === 'frame' && event.frame.payload, `chunks of ${size}`).toEqual(payload);
    }
  });

  it("keeps at least 125 bytes of a control frame, so a close frame's reason is whole", () => {
    const payload = closePayload(1001, 'r'.repeat(123));
    const [event] = readAll([encodeFrame({ fin: true, opcode: OPCODES.close, payload })], 4);
    expect(event?.kind === 'frame' && event.frame.payload).toEqual(payload);
  });

  it('throws at once for a keepBytes that is not a whole number of 0 or more', () => {
    expect(() => new FrameReader({ keepBytes: -1 })).toThrow(RangeError);
    expect(() => new FrameReader({ keepBytes: 1.5 })).toThrow('keepBytes must be a whole number of 0 or more, not 1.5');
    expect(() => new FrameReader({ keepBytes: Infinity })).toThrow(RangeError);
  });
});

describe('FrameReader problems', () => {
  const problemsOf = (wire: Buffer) => {
    const events = readAll([wire], 0);
    expect(events).toHaveLength(1);
    return events[0]?.kind === 'frame' ? events[0].frame.problems : undefined;
  };

  it('finds none in a correct frame', () => {
    for (const example of EXAMPLES) {
      for (const event of readAll([example.wire])) expect(event.kind === 'frame' && event.frame.problems, example.name).toEqual([]);
    }
  });

  it('names a length written in more bytes than it needs', () => {
    // "In all cases, the minimal number of bytes MUST be used to encode the length" (section 5.2).
    expect(problemsOf(Buffer.concat([bytes(0x81, 0x7e, 0x00, 0x05), HELLO]))).toEqual(['non-minimal length: 5 fits in 7 bits (section 5.2)']);
    expect(problemsOf(Buffer.concat([bytes(0x81, 0x7f, 0, 0, 0, 0, 0, 0, 0x00, 0x05), HELLO]))).toEqual(['non-minimal length: 5 fits in 7 bits (section 5.2)']);
    expect(problemsOf(Buffer.concat([bytes(0x82, 0x7f, 0, 0, 0, 0, 0, 0, 0x01, 0x2c), binary(300)]))).toEqual([
      'non-minimal length: 300 fits in 16 bits (section 5.2)',
    ]);
    expect(problemsOf(Buffer.concat([bytes(0x82, 0x7e, 0x00, 0x7e), binary(126)]))).toEqual([]);
  });

  it('names a control frame over 125 bytes, and still keeps 125 of them', () => {
    // "All control frames MUST have a payload length of 125 bytes or less and MUST NOT be fragmented" (section 5.5).
    const [event] = readAll([Buffer.concat([bytes(0x89, 0x7e, 0x00, 0x7e), binary(126)])], 0);
    expect(event?.kind === 'frame' && event.frame.problems).toEqual(['control frame payload over 125 bytes (section 5.5)']);
    expect(event?.kind === 'frame' && event.frame.payload).toEqual(binary(125));
  });

  it('names a fragmented control frame', () => {
    expect(problemsOf(bytes(0x09, 0x00))).toEqual(['control frame with FIN 0: "MUST NOT be fragmented" (section 5.5)']);
  });

  it('names a reserved opcode, data or control', () => {
    expect(problemsOf(bytes(0x83, 0x00))).toEqual(['reserved opcode 0x3 (section 5.2)']);
    expect(problemsOf(bytes(0x8f, 0x00))).toEqual(['reserved opcode 0xf (section 5.2)']);
  });

  it('names RSV bits set when no extension was negotiated', () => {
    // 0xc1 is what a permessage-deflate frame starts with: FIN, RSV1, text.
    expect(problemsOf(Buffer.concat([bytes(0xc1, 0x05), HELLO]))).toEqual(['RSV1 set, but no extension was negotiated (section 5.2)']);
    expect(problemsOf(bytes(0xb2, 0x00))).toEqual(['RSV2, RSV3 set, but no extension was negotiated (section 5.2)']);
  });

  it('names a close payload of one byte', () => {
    // "If there is a body, the first two bytes of the body MUST be a 2-byte unsigned integer" (section 5.5.1).
    expect(problemsOf(bytes(0x88, 0x01, 0x03))).toEqual(['close payload of 1 byte: a close code takes 2 (section 5.5.1)']);
  });

  it('lists every problem of a frame that breaks several rules', () => {
    expect(problemsOf(Buffer.concat([bytes(0x4b, 0x7e, 0x00, 0x80), binary(128)]))).toEqual([
      'RSV1 set, but no extension was negotiated (section 5.2)',
      'control frame with FIN 0: "MUST NOT be fragmented" (section 5.5)',
      'reserved opcode 0xb (section 5.2)',
      'control frame payload over 125 bytes (section 5.5)',
    ]);
  });
});

describe('FrameReader, unreadable lengths', () => {
  // "the most significant bit MUST be 0" (section 5.2)
  const topBitSet = bytes(0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0x05, 0x37, 0xfa, 0x21, 0x3d, 0x01, 0x02);

  it('reports a 64-bit length with its top bit set once, then every later chunk as after it', () => {
    const reader = new FrameReader({ keepBytes: KEEP });
    expect(reader.push(Buffer.concat([EXAMPLES[0]!.wire, topBitSet]))).toEqual([
      ...EXAMPLES[0]!.events,
      { kind: 'unreadable', reason: '64-bit length with its most significant bit set (section 5.2)', bytes: topBitSet.length },
    ]);
    expect(reader.pending).toBe(0);
    expect(reader.push(EXAMPLES[0]!.wire)).toEqual([{ kind: 'unreadable', reason: AFTER_UNREADABLE, bytes: 7 }]);
    expect(reader.push(Buffer.alloc(0))).toEqual([]);
    expect(reader.push(Buffer.alloc(3))).toEqual([{ kind: 'unreadable', reason: AFTER_UNREADABLE, bytes: 3 }]);
  });

  it('counts the header bytes of earlier chunks in the bytes it could not read', () => {
    const reader = new FrameReader({ keepBytes: KEEP });
    expect(reader.push(topBitSet.subarray(0, 5))).toEqual([]);
    expect(reader.push(topBitSet.subarray(5))).toEqual([{ kind: 'unreadable', reason: expect.stringContaining('most significant bit'), bytes: topBitSet.length }]);
  });

  it('reports a length above Number.MAX_SAFE_INTEGER as unreadable', () => {
    const [event] = readAll([bytes(0x82, 0x7f, 0x00, 0x20, 0, 0, 0, 0, 0, 0x00)]);
    expect(event).toEqual({ kind: 'unreadable', reason: 'payload length 9007199254740992 is over 2^53 - 1, more than this reader counts', bytes: 10 });
  });

  it('reads the largest length it can count as a frame still in progress', () => {
    const reader = new FrameReader({ keepBytes: KEEP });
    expect(reader.push(bytes(0x82, 0x7f, 0x00, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01))).toEqual([]);
    expect(reader.pending).toBe(11);
  });
});

describe('FrameReader on arbitrary bytes', () => {
  it('never throws and never holds more than a header and what it keeps', () => {
    // A fixed-seed generator, so a failure can be replayed.
    let seed = 6455;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    let mostPending = 0;
    let frames = 0;
    for (let round = 0; round < 200; round++) {
      const reader = new FrameReader({ keepBytes: 8 });
      for (let i = 0; i < 50; i++) {
        const chunk = Buffer.from(Array.from({ length: Math.floor(random() * 40) }, () => Math.floor(random() * 256)));
        frames += reader.push(chunk).filter((event) => event.kind === 'frame').length;
        mostPending = Math.max(mostPending, reader.pending);
      }
    }
    expect(frames).toBeGreaterThan(0);
    // A control frame keeps up to 125 bytes of payload whatever keepBytes says.
    expect(mostPending).toBeLessThanOrEqual(14 + 125);
  });
});
