/**
 * A traced frame as the lines --trace prints (src/ws/frame-view.ts), for frames read from
 * literal bytes by the FrameReader, starting with the masked "Hello" of RFC 6455, section 5.7.
 */
import { describe, expect, it } from 'vitest';
import { FrameReader, type TracedFrame } from '../../src/ws/frame-reader.js';
import { MAX_FIELD_LINE_COLUMNS, frameFields, frameSummary } from '../../src/ws/frame-view.js';
import { OPCODES, closePayload, encodeFrame } from '../../src/ws/frame.js';

const bytes = (...values: number[]) => Buffer.from(values);
const MASK = bytes(0x37, 0xfa, 0x21, 0x3d);
const HELLO = Buffer.from('Hello');
/** --trace-bytes' default. */
const DUMP = 64;

/** The one frame `wire` holds, as the reader of --trace decodes it. */
function read(wire: Buffer, keepBytes = 64): TracedFrame {
  const events = new FrameReader({ keepBytes }).push(wire);
  if (events.length !== 1 || events[0]?.kind !== 'frame') throw new Error(`expected one frame, got ${JSON.stringify(events)}`);
  return events[0].frame;
}

const close = (payload: Buffer) => read(encodeFrame({ fin: true, opcode: OPCODES.close, mask: MASK, payload }));

describe('frameFields', () => {
  it('shows the masked "Hello" of RFC 6455 section 5.7 field by field, as sent and unmasked', () => {
    // "A single-frame masked text message ... 0x81 0x85 0x37 0xfa 0x21 0x3d 0x7f 0x9f 0x4d 0x51 0x58 (contains "Hello")"
    const frame = read(bytes(0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58));
    expect(frameFields(frame, DUMP)).toEqual([
      'FIN 1 · RSV1 0 · RSV2 0 · RSV3 0 · opcode 0x1 (text)',
      'MASK 1 · payload length 5 (7-bit) · masking key 37 fa 21 3d',
      'payload as sent (masked):',
      '0000  7f 9f 4d 51 58                                    |..MQX|',
      'payload unmasked:',
      '0000  48 65 6c 6c 6f                                    |Hello|',
    ]);
  });

  it('shows an unmasked frame with no masking key and one dump', () => {
    const frame = read(bytes(0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f));
    expect(frameFields(frame, DUMP)).toEqual([
      'FIN 1 · RSV1 0 · RSV2 0 · RSV3 0 · opcode 0x1 (text)',
      'MASK 0 · payload length 5 (7-bit)',
      'payload:',
      '0000  48 65 6c 6c 6f                                    |Hello|',
    ]);
  });

  it('names every opcode, and calls the others reserved', () => {
    const opcodeLine = (opcode: number) => frameFields(read(bytes(0x80 | opcode, 0x00)), DUMP)[0];
    expect([0x0, 0x1, 0x2, 0x8, 0x9, 0xa, 0x3, 0xb].map(opcodeLine)).toEqual([
      'FIN 1 · RSV1 0 · RSV2 0 · RSV3 0 · opcode 0x0 (continuation)',
      'FIN 1 · RSV1 0 · RSV2 0 · RSV3 0 · opcode 0x1 (text)',
      'FIN 1 · RSV1 0 · RSV2 0 · RSV3 0 · opcode 0x2 (binary)',
      'FIN 1 · RSV1 0 · RSV2 0 · RSV3 0 · opcode 0x8 (close)',
      'FIN 1 · RSV1 0 · RSV2 0 · RSV3 0 · opcode 0x9 (ping)',
      'FIN 1 · RSV1 0 · RSV2 0 · RSV3 0 · opcode 0xa (pong)',
      'FIN 1 · RSV1 0 · RSV2 0 · RSV3 0 · opcode 0x3 (reserved)',
      'FIN 1 · RSV1 0 · RSV2 0 · RSV3 0 · opcode 0xb (reserved)',
    ]);
  });

  it('says how a 16-bit and a 64-bit length were written, with thousands separators', () => {
    const small = frameFields(read(encodeFrame({ fin: true, opcode: OPCODES.binary, payload: Buffer.alloc(256) })), DUMP);
    expect(small[1]).toBe('MASK 0 · payload length 256 (126, then 16 bits)');
    const big = frameFields(read(encodeFrame({ fin: true, opcode: OPCODES.binary, payload: Buffer.alloc(65536) })), DUMP);
    expect(big[1]).toBe('MASK 0 · payload length 65,536 (127, then 64 bits)');
    // 64 bytes shown, four lines of sixteen, and the rest counted from the frame's length.
    expect(big.slice(2)).toEqual(['payload:', ...Array.from({ length: 4 }, (_, i) => expect.stringMatching(new RegExp(`^00${i}0  00 00`))), '… 65,472 more bytes']);
  });

  it('moves the masking key to a line of its own when the length is too long to share one', () => {
    const length = 100 * 1024 * 1024;
    const header = Buffer.concat([bytes(0x82, 0xff), Buffer.alloc(8), MASK]);
    header.writeBigUInt64BE(BigInt(length), 2);
    const reader = new FrameReader({ keepBytes: 16 });
    const chunk = Buffer.alloc(1024 * 1024);
    const events = reader.push(header);
    for (let sent = 0; sent < length; sent += chunk.length) events.push(...reader.push(chunk));
    const frame = events[0]?.kind === 'frame' ? events[0].frame : undefined;
    expect(frameFields(frame!, DUMP).slice(0, 3)).toEqual([
      'FIN 1 · RSV1 0 · RSV2 0 · RSV3 0 · opcode 0x2 (binary)',
      'MASK 1 · payload length 104,857,600 (127, then 64 bits)',
      'masking key 37 fa 21 3d',
    ]);
  });

  it("shows a close frame's code and reason before the dump", () => {
    expect(frameFields(close(closePayload(1000, 'bye')), DUMP).slice(2, 3)).toEqual(['close code 1000 (normal closure) · reason "bye"']);
    expect(frameFields(close(closePayload(1001)), DUMP).slice(2)).toEqual([
      'close code 1001 (going away) · no reason',
      'payload as sent (masked):',
      '0000  34 13                                             |4.|',
      'payload unmasked:',
      '0000  03 e9                                             |..|',
    ]);
  });

  it('says an empty close frame carries no code, and the receiver reports 1005', () => {
    // "If this Close control frame contains no status code, _The WebSocket Connection Close Code_ is considered to be 1005" (section 7.1.5).
    expect(frameFields(close(Buffer.alloc(0)), DUMP)).toEqual([
      'FIN 1 · RSV1 0 · RSV2 0 · RSV3 0 · opcode 0x8 (close)',
      'MASK 1 · payload length 0 (7-bit) · masking key 37 fa 21 3d',
      'no close code (the receiver reports 1005)',
      'payload: empty',
    ]);
  });

  it('escapes control characters in a close reason, so they never reach the terminal', () => {
    const lines = frameFields(close(closePayload(4000, 'a\x1b[2Jb\n"')), DUMP);
    expect(lines[2]).toBe(`close code 4000 (the application's own code) · reason "a\\x1b[2Jb\\n\\""`);
  });

  it('puts a long close reason on its own line, cut where the line would pass 76 columns', () => {
    const lines = frameFields(close(closePayload(1008, 'x'.repeat(123))), DUMP);
    expect(lines.slice(2, 4)).toEqual(['close code 1008 (policy violation)', `reason "${'x'.repeat(66)}"…`]);
  });

  it('ends a reason with an ellipsis when the reader kept only part of an over-long close payload', () => {
    // 2 + 160 bytes: the reader keeps 125, so the reason stops in the middle of its 62nd é.
    const lines = frameFields(close(closePayload(1000, 'é'.repeat(80))), DUMP);
    expect(lines[2]).toBe('close code 1000 (normal closure)');
    expect(lines[3]).toBe(`reason "${'é'.repeat(61)}\ufffd"…`);
  });

  it('says what a one-byte close payload lacks, and names the broken rule', () => {
    expect(frameFields(read(bytes(0x88, 0x01, 0x03)), DUMP).slice(2)).toEqual([
      'no close code: it takes 2 bytes, and this payload has 1',
      'problem: close payload of 1 byte: a close code takes 2 (section 5.5.1)',
      'payload:',
      '0000  03                                                |.|',
    ]);
  });

  it('gives each problem a line of its own after the fields', () => {
    const lines = frameFields(read(Buffer.concat([bytes(0xc1, 0x7e, 0x00, 0x05), HELLO])), DUMP);
    expect(lines).toEqual([
      'FIN 1 · RSV1 1 · RSV2 0 · RSV3 0 · opcode 0x1 (text)',
      'MASK 0 · payload length 5 (126, then 16 bits)',
      'problem: RSV1 set, but no extension was negotiated (section 5.2)',
      'problem: non-minimal length: 5 fits in 7 bits (section 5.2)',
      'payload:',
      '0000  48 65 6c 6c 6f                                    |Hello|',
    ]);
  });

  it('shows no dump with dumpBytes 0, only how long the payload was', () => {
    const frame = read(bytes(0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58));
    expect(frameFields(frame, 0)).toEqual([
      'FIN 1 · RSV1 0 · RSV2 0 · RSV3 0 · opcode 0x1 (text)',
      'MASK 1 · payload length 5 (7-bit) · masking key 37 fa 21 3d',
      'payload: 5 bytes (not shown)',
    ]);
  });

  it('counts the bytes not shown from the frame, not from what the reader kept', () => {
    const frame = read(encodeFrame({ fin: true, opcode: OPCODES.binary, payload: Buffer.from('abcdefgh'.repeat(8192)) }), 6);
    expect(frameFields(frame, DUMP).slice(2)).toEqual(['payload:', '0000  61 62 63 64 65 66                                 |abcdef|', '… 65,530 more bytes']);
    expect(frameFields(frame, 4).slice(2)).toEqual(['payload:', '0000  61 62 63 64                                       |abcd|', '… 65,532 more bytes']);
  });

  it('cuts a payload the reader kept whole at dumpBytes, as sent and unmasked', () => {
    const frame = read(encodeFrame({ fin: true, opcode: OPCODES.text, mask: MASK, payload: HELLO }));
    expect(frameFields(frame, 2).slice(2)).toEqual([
      'payload as sent (masked):',
      '0000  7f 9f                                             |..|',
      '… 3 more bytes',
      'payload unmasked:',
      '0000  48 65                                             |He|',
      '… 3 more bytes',
    ]);
  });

  it('throws at once for a dumpBytes that is not a whole number of 0 or more', () => {
    const frame = read(bytes(0x81, 0x00));
    expect(() => frameFields(frame, -1)).toThrow(RangeError);
    expect(() => frameFields(frame, 2.5)).toThrow('dumpBytes must be a whole number of 0 or more, not 2.5');
    expect(frameFields(frame, Infinity)).toContain('payload: empty');
  });

  it('keeps every line within 76 columns, even for a frame that breaks every rule', () => {
    const worst: TracedFrame = {
      fin: false,
      rsv1: true,
      rsv2: true,
      rsv3: true,
      opcode: 0x8,
      masked: true,
      lengthEncoding: '64-bit',
      length: Number.MAX_SAFE_INTEGER,
      maskKey: MASK,
      headerSize: 14,
      size: Number.MAX_SAFE_INTEGER + 14,
      payloadSent: Buffer.alloc(125),
      payload: Buffer.concat([bytes(0x03, 0xee), Buffer.from('\x1b'.repeat(123))]),
      problems: [],
    };
    const wire = Buffer.concat([bytes(0x78, 0x7f, 0, 0, 0, 0, 0, 0, 0, 0x05), HELLO]); // RSV1-3, FIN 0, reserved opcode, non-minimal
    const frames = [
      { ...worst, problems: read(wire).problems.concat(read(Buffer.concat([bytes(0x09, 0x7e, 0x00, 0x80), Buffer.alloc(128)])).problems) },
      read(bytes(0x88, 0x01, 0x03)),
      close(closePayload(1006, 'é'.repeat(61))),
      read(encodeFrame({ fin: true, opcode: OPCODES.binary, mask: MASK, payload: Buffer.alloc(70000, 0x41) }), 4096),
    ];
    for (const frame of frames) {
      const lines = frameFields(frame, 4096);
      expect(lines.length).toBeGreaterThan(3);
      expect(lines.filter((line) => line.length > MAX_FIELD_LINE_COLUMNS)).toEqual([]);
    }
  });
});

describe('frameSummary', () => {
  it('gives the size on the wire and the opcode', () => {
    expect(frameSummary(read(bytes(0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58)))).toBe('frame, 11 bytes: text');
    expect(frameSummary(read(bytes(0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f)))).toBe('frame, 7 bytes: ping');
    expect(frameSummary(read(bytes(0x80, 0x02, 0x6c, 0x6f)))).toBe('frame, 4 bytes: continuation');
    expect(frameSummary(read(bytes(0x83, 0x00)))).toBe('frame, 2 bytes: reserved 0x3');
    expect(frameSummary(read(encodeFrame({ fin: true, opcode: OPCODES.binary, payload: Buffer.alloc(65536) }), 0))).toBe('frame, 65,546 bytes: binary');
  });

  it("adds a close frame's code when it has one", () => {
    expect(frameSummary(read(bytes(0x88, 0x02, 0x03, 0xe8)))).toBe('frame, 4 bytes: close 1000');
    expect(frameSummary(close(closePayload(1001, 'bye')))).toBe('frame, 11 bytes: close 1001');
    expect(frameSummary(read(bytes(0x88, 0x00)))).toBe('frame, 2 bytes: close');
  });

  it('marks a frame that more frames of its message will follow with FIN 0', () => {
    expect(frameSummary(read(bytes(0x01, 0x01, 0x48)))).toBe('frame, 3 bytes: text, FIN 0');
    expect(frameSummary(read(bytes(0x01, 0x03, 0x48, 0x65, 0x6c)))).toBe('frame, 5 bytes: text, FIN 0');
  });
});
