import { describe, expect, it } from 'vitest';
import { LineFramer, type FramedItem } from '../../src/core/line-framer.js';

function lines(items: FramedItem[]): string[] {
  return items.map((item) => (item.kind === 'line' ? item.text : `<too long: ${item.bytes}>`));
}

/** Feeds `input` split at every possible pair of positions and returns what each split framed. */
function everySplit(input: Buffer, maxLineBytes?: number): string[][] {
  const results: string[][] = [];
  for (let i = 0; i <= input.length; i++) {
    for (let j = i; j <= input.length; j++) {
      const framer = new LineFramer(maxLineBytes);
      results.push(lines([input.subarray(0, i), input.subarray(i, j), input.subarray(j)].flatMap((c) => framer.push(c))));
    }
  }
  return results;
}

describe('LineFramer', () => {
  it('joins a line that arrives in two reads: "hel" + "lo\\n"', () => {
    const framer = new LineFramer();
    expect(framer.push(Buffer.from('hel'))).toEqual([]);
    expect(framer.pending).toBe('hel');
    expect(lines(framer.push(Buffer.from('lo\n')))).toEqual(['hello']);
  });

  it('splits several lines in one read and strips the CR of CRLF: "a\\nb\\r\\nc\\n"', () => {
    expect(lines(new LineFramer().push(Buffer.from('a\nb\r\nc\n')))).toEqual(['a', 'b', 'c']);
  });

  it('frames the same lines wherever the reads split, multi-byte characters included', () => {
    const input = Buffer.from('héllo\r\n€ ok\n\nпривіт\n');
    for (const framed of everySplit(input)) expect(framed).toEqual(['héllo', '€ ok', '', 'привіт']);
  });

  it('never produces U+FFFD for a character split across reads', () => {
    const euro = Buffer.from('€\n'); // e2 82 ac 0a
    const framer = new LineFramer();
    const out = [euro.subarray(0, 1), euro.subarray(1, 2), euro.subarray(2)].flatMap((c) => framer.push(c));
    expect(lines(out)).toEqual(['€']);
  });

  it('reports an over-long line once, drops it, and frames the next line normally', () => {
    const framer = new LineFramer(8);
    expect(lines(framer.push(Buffer.from('0123456789')))).toEqual(['<too long: 10>']);
    expect(framer.push(Buffer.from('abcdef'))).toEqual([]); // still the same long line, discarded
    expect(lines(framer.push(Buffer.from('\nok\n')))).toEqual(['ok']);
  });

  it('reports a long line that arrives complete in one read', () => {
    expect(lines(new LineFramer(4).push(Buffer.from('abcdefgh\nabc\n')))).toEqual(['<too long: 8>', 'abc']);
  });

  it('accepts a line of exactly the limit', () => {
    for (const framed of everySplit(Buffer.from('abcd\n'), 4)) expect(framed).toEqual(['abcd']);
  });

  it('does not count the CR of a CRLF ending against the limit, however the reads split', () => {
    // (How many bytes of the long line are reported depends on where the reads split.)
    for (const framed of everySplit(Buffer.from('abcd\r\nabcde\r\n'), 4)) {
      expect(framed.map((item) => item.replace(/: \d+>$/, '>'))).toEqual(['abcd', '<too long>']);
    }
  });

  it('hands back the text after the last newline on flush', () => {
    const framer = new LineFramer();
    framer.push(Buffer.from('a\npartial'));
    expect(framer.flush()).toBe('partial');
    expect(framer.flush()).toBe('');
  });

  it('frames nothing from an empty read', () => {
    expect(new LineFramer().push(Buffer.alloc(0))).toEqual([]);
  });
});
