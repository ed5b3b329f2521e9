import { describe, expect, it } from 'vitest';
import { bytes, preview, visible } from '../../src/core/text-view.js';

describe('visible', () => {
  it('leaves printable text, accents and emoji alone', () => {
    expect(visible('héllo, привіт 👋')).toBe('héllo, привіт 👋');
  });

  it('makes ANSI escapes, NUL, DEL and C1 controls visible', () => {
    expect(visible('\x1b[2Jboom\x00\x7f\x9b')).toBe('\\x1b[2Jboom\\x00\\x7f\\x9b');
  });

  it('shows the Unicode line separators as \\u escapes, never as an ambiguous \\x', () => {
    expect(visible('a\u2028b\u2029')).toBe('a\\u2028b\\u2029');
  });

  it('shows newline, carriage return and tab as escapes', () => {
    expect(visible('a\r\nb\tc')).toBe('a\\r\\nb\\tc');
  });
});

describe('preview', () => {
  it('quotes a chunk with its newline visible', () => {
    expect(preview(Buffer.from('hello\n'))).toBe('"hello\\n"');
  });

  it('cuts a long chunk with an ellipsis', () => {
    expect(preview(Buffer.from('x'.repeat(100)), 10)).toBe('"xxxxxxxxxx"…');
  });

  it('marks a cut even when the bytes are not UTF-8 (a TLS handshake sent to a TCP port)', () => {
    expect(preview(Buffer.alloc(40, 0xff), 10)).toBe(`"${'\ufffd'.repeat(10)}"…`);
    expect(preview(Buffer.alloc(5, 0xff), 10)).toBe(`"${'\ufffd'.repeat(5)}"`);
  });

  it('shows binary bytes without passing them through', () => {
    expect(preview(Buffer.from([0x00, 0x1b, 0x41]))).toBe('"\\x00\\x1bA"');
  });
});

describe('bytes', () => {
  it('says byte or bytes, with thousands separated', () => {
    expect(bytes(1)).toBe('1 byte');
    expect(bytes(0)).toBe('0 bytes');
    expect(bytes(1048576)).toBe('1,048,576 bytes');
  });
});
