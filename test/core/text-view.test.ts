import { describe, expect, it } from 'vitest';
import { bytes, hexDump, preview, visible, wrapWords } from '../../src/core/text-view.js';

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

describe('hexDump', () => {
  // Every line has the text column in the same place: 4 offset digits, 2 spaces, 16 hex pairs
  // with a space after each and one more between the groups of eight, then a space.
  const TEXT_COLUMN = 4 + 2 + 16 * 3 + 1 + 1;

  it('shows a short chunk as one line, padded so the text column lines up', () => {
    expect(hexDump(Buffer.from('hello\n'), 64)).toEqual([
      '0000  68 65 6c 6c 6f 0a                                 |hello.|',
    ]);
  });

  it('fills one line with exactly 16 bytes, in two groups of eight', () => {
    expect(hexDump(Buffer.from('abcdefghijklmnop'), 64)).toEqual([
      '0000  61 62 63 64 65 66 67 68  69 6a 6b 6c 6d 6e 6f 70  |abcdefghijklmnop|',
    ]);
  });

  it('starts a second line at offset 0010 for the 17th byte', () => {
    expect(hexDump(Buffer.from('abcdefghijklmnopq'), 64)).toEqual([
      '0000  61 62 63 64 65 66 67 68  69 6a 6b 6c 6d 6e 6f 70  |abcdefghijklmnop|',
      '0010  71                                                |q|',
    ]);
  });

  it('puts the gap between the groups after the 8th byte, whether or not a 9th follows', () => {
    expect(hexDump(Buffer.from('01234567'), 64)).toEqual([
      '0000  30 31 32 33 34 35 36 37                           |01234567|',
    ]);
    expect(hexDump(Buffer.from('012345678'), 64)).toEqual([
      '0000  30 31 32 33 34 35 36 37  38                       |012345678|',
    ]);
  });

  it('aligns the text column on every line, full or not', () => {
    for (let length = 1; length <= 33; length++) {
      for (const line of hexDump(Buffer.alloc(length, 0x41), 64)) {
        expect(line.indexOf('|'), `${length} bytes: ${JSON.stringify(line)}`).toBe(TEXT_COLUMN);
      }
    }
  });

  it('shows control bytes, DEL and every byte from 0x80 up as dots, in lowercase hex', () => {
    const data = Buffer.from([0x00, 0x09, 0x0a, 0x0d, 0x1b, 0x1f, 0x20, 0x7e, 0x7f, 0x80, 0x9b, 0xc3, 0xa9, 0xff]);
    expect(hexDump(data, 64)).toEqual([
      '0000  00 09 0a 0d 1b 1f 20 7e  7f 80 9b c3 a9 ff        |...... ~......|',
    ]);
  });

  it('never lets a byte outside printable ASCII through, whatever the input', () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const dump = hexDump(all, 256);
    expect(dump).toHaveLength(16);
    expect(dump.map((line) => line.slice(0, 4))).toEqual(Array.from({ length: 16 }, (_, i) => (i * 16).toString(16).padStart(4, '0')));
    expect(dump.join('\n')).toMatch(/^[\x20-\x7e\n]*$/);
    expect(dump[2]).toBe('0020  20 21 22 23 24 25 26 27  28 29 2a 2b 2c 2d 2e 2f  | !"#$%&\'()*+,-./|');
    expect(dump[7]).toBe('0070  70 71 72 73 74 75 76 77  78 79 7a 7b 7c 7d 7e 7f  |pqrstuvwxyz{|}~.|');
  });

  it('cuts at maxBytes and says how many more bytes there were, plural', () => {
    expect(hexDump(Buffer.from('hello world\n'), 4)).toEqual([
      '0000  68 65 6c 6c                                       |hell|',
      '… 8 more bytes',
    ]);
  });

  it('says "1 more byte" when one byte was left out', () => {
    expect(hexDump(Buffer.from('abcdefghijklmnopq'), 16)).toEqual([
      '0000  61 62 63 64 65 66 67 68  69 6a 6b 6c 6d 6e 6f 70  |abcdefghijklmnop|',
      '… 1 more byte',
    ]);
  });

  it('adds no "more" line when maxBytes is exactly the length', () => {
    expect(hexDump(Buffer.from('hey'), 3)).toEqual(['0000  68 65 79                                          |hey|']);
  });

  it('with maxBytes 0 shows only the "more" line, with thousands separated', () => {
    expect(hexDump(Buffer.from('hi'), 0)).toEqual(['… 2 more bytes']);
    expect(hexDump(Buffer.alloc(70_000), 0)).toEqual(['… 70,000 more bytes']);
  });

  it('shows nothing at all for empty data', () => {
    expect(hexDump(Buffer.alloc(0), 64)).toEqual([]);
    expect(hexDump(Buffer.alloc(0), 0)).toEqual([]);
  });

  it('dumps a Uint8Array view from its own start, not from the start of its buffer', () => {
    const view = new Uint8Array([0x78, 0x78, 0x6f, 0x6b]).subarray(2);
    expect(hexDump(view, 64)).toEqual(['0000  6f 6b                                             |ok|']);
  });

  it('counts offsets past 0fff in four hex digits, up to a full 64 KiB read', () => {
    const dump = hexDump(Buffer.alloc(65_536, 0x2e), 65_536);
    expect(dump).toHaveLength(4096);
    expect(dump[256]!.slice(0, 6)).toBe('1000  ');
    expect(dump.at(-1)).toBe('fff0  2e 2e 2e 2e 2e 2e 2e 2e  2e 2e 2e 2e 2e 2e 2e 2e  |................|');
  });
});

describe('wrapWords', () => {
  it('fills lines up to the width, and cuts a word longer than a line so none is longer', () => {
    expect(wrapWords('a bb ccc dddd', 6)).toEqual(['a bb', 'ccc', 'dddd']);
    expect(wrapWords('got "xxxxxxxxxxxxxx" back', 8)).toEqual(['got', '"xxxxxxx', 'xxxxxxx"', 'back']);
    expect(wrapWords('  ', 8)).toEqual([]);
    for (const line of wrapWords(`start ${'é'.repeat(30)} end`, 10)) expect([...line].length).toBeLessThanOrEqual(10);
  });
});
