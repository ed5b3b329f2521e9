/**
 * Frames as bytes (src/ws/frame.ts), checked against the examples of RFC 6455, section 5.7,
 * and decoded from input split at every byte boundary.
 */
import { describe, expect, it } from 'vitest';
import { OPCODES, closePayload, decodeFrame, encodeFrame, opcodeName, readClosePayload } from '../../src/ws/frame.js';

const bytes = (...values: number[]) => Buffer.from(values);
const MASK = bytes(0x37, 0xfa, 0x21, 0x3d);
const HELLO = Buffer.from('Hello');

describe('encodeFrame, against RFC 6455 section 5.7', () => {
  it('writes a single-frame unmasked text message', () => {
    expect(encodeFrame({ fin: true, opcode: OPCODES.text, payload: HELLO })).toEqual(bytes(0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f));
  });

  it('writes a single-frame masked text message', () => {
    expect(encodeFrame({ fin: true, opcode: OPCODES.text, mask: MASK, payload: HELLO })).toEqual(
      bytes(0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58),
    );
  });

  it('writes a fragmented text message, an unmasked ping and a masked pong', () => {
    expect(encodeFrame({ fin: false, opcode: OPCODES.text, payload: Buffer.from('Hel') })).toEqual(bytes(0x01, 0x03, 0x48, 0x65, 0x6c));
    expect(encodeFrame({ fin: true, opcode: OPCODES.continuation, payload: Buffer.from('lo') })).toEqual(bytes(0x80, 0x02, 0x6c, 0x6f));
    expect(encodeFrame({ fin: true, opcode: OPCODES.ping, payload: HELLO })).toEqual(bytes(0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f));
    expect(encodeFrame({ fin: true, opcode: OPCODES.pong, mask: MASK, payload: HELLO })).toEqual(
      bytes(0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58),
    );
  });

  it('uses the 16-bit length for 256 bytes and the 64-bit length for 64 KiB', () => {
    const small = encodeFrame({ fin: true, opcode: OPCODES.binary, payload: Buffer.alloc(256, 1) });
    expect(small.subarray(0, 4)).toEqual(bytes(0x82, 0x7e, 0x01, 0x00));
    expect(small.length).toBe(4 + 256);
    const big = encodeFrame({ fin: true, opcode: OPCODES.binary, payload: Buffer.alloc(65536, 2) });
    expect(big.subarray(0, 10)).toEqual(bytes(0x82, 0x7f, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00));
    expect(big.length).toBe(10 + 65536);
  });

  it('keeps 125 bytes in the 7-bit length and moves 126 to the 16-bit one', () => {
    expect(encodeFrame({ fin: true, opcode: OPCODES.text, payload: Buffer.alloc(125) })[1]).toBe(125);
    expect(encodeFrame({ fin: true, opcode: OPCODES.text, payload: Buffer.alloc(126) })[1]).toBe(126);
  });
});

describe('decodeFrame', () => {
  const samples = [
    encodeFrame({ fin: true, opcode: OPCODES.text, mask: MASK, payload: HELLO }),
    encodeFrame({ fin: true, opcode: OPCODES.binary, payload: Buffer.alloc(300, 7) }),
    encodeFrame({ fin: true, opcode: OPCODES.close, mask: MASK, payload: closePayload(1001, 'bye') }),
    encodeFrame({ fin: true, opcode: OPCODES.text, payload: Buffer.alloc(0) }),
  ];

  it('reads back what encodeFrame wrote, unmasking masked payloads', () => {
    const decoded = decodeFrame(samples[0]!);
    expect(decoded).toEqual({ frame: { fin: true, opcode: OPCODES.text, mask: MASK, payload: HELLO }, size: 11 });
    expect(readClosePayload(decodeFrame(samples[2]!)!.frame.payload)).toEqual({ code: 1001, reason: 'bye' });
  });

  it('asks for more bytes at every split point, and decodes once the frame is whole', () => {
    for (const sample of samples) {
      for (let cut = 0; cut < sample.length; cut++) expect(decodeFrame(sample.subarray(0, cut)), `cut at ${cut}`).toBeUndefined();
      expect(decodeFrame(sample)?.size).toBe(sample.length);
    }
  });

  it('takes only the first frame of several in one read, and says how many bytes it used', () => {
    const both = Buffer.concat([samples[0]!, samples[1]!]);
    const first = decodeFrame(both)!;
    expect(first.size).toBe(samples[0]!.length);
    expect(decodeFrame(both.subarray(first.size))?.frame.payload.length).toBe(300);
  });

  it('reads a close frame without a payload as code 1005, as RFC 6455 section 7.1.5 says', () => {
    expect(readClosePayload(Buffer.alloc(0))).toEqual({ code: 1005, reason: '' });
  });
});

describe('opcodeName', () => {
  it('names the six opcodes and calls the rest reserved', () => {
    expect([0, 1, 2, 8, 9, 10].map(opcodeName)).toEqual(['continuation', 'text', 'binary', 'close', 'ping', 'pong']);
    expect(opcodeName(3)).toBe('reserved 0x3');
    expect(opcodeName(0xb)).toBe('reserved 0xb');
  });
});
