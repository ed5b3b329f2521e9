/**
 * text/event-stream both ways (src/push-pull/sse.ts), against the WHATWG HTML standard's own
 * examples (section 9.2.6) and with streams split at every byte.
 */
import { describe, expect, it } from 'vitest';
import { SseReader, formatComment, formatEvent, formatRetry, parseLastEventId, type SseEvent } from '../../src/push-pull/sse.js';

/** Every event of `stream`, fed as the given pieces. */
function read(pieces: Array<string | Uint8Array>): { events: SseEvent[]; reader: SseReader } {
  const reader = new SseReader();
  const events = pieces.flatMap((piece) => reader.push(piece));
  return { events, reader };
}

/** The same stream split in two at every byte, and fed one byte at a time: always the same events. */
function expectSameAtEverySplit(stream: string): SseEvent[] {
  const bytes = Buffer.from(stream);
  const whole = read([bytes]).events;
  for (let at = 0; at <= bytes.length; at++) expect(read([bytes.subarray(0, at), bytes.subarray(at)]).events).toEqual(whole);
  expect(read([...bytes].map((b) => Uint8Array.of(b))).events).toEqual(whole);
  return whole;
}

describe('formatEvent', () => {
  it('writes id, event and one data line per line of data, then a blank line', () => {
    expect(formatEvent({ id: 42, type: 'tick', data: '{"n":1}' })).toBe('id: 42\nevent: tick\ndata: {"n":1}\n\n');
    expect(formatEvent({ data: 'a\nb\r\nc' })).toBe('data: a\ndata: b\ndata: c\n\n');
  });

  it('refuses an id or a type with a line break, which would end its field early', () => {
    expect(() => formatEvent({ id: '1\n2', data: '' })).toThrow(RangeError);
    expect(() => formatEvent({ type: 'a\rb', data: '' })).toThrow(RangeError);
    expect(() => formatEvent({ id: 'a\0', data: '' })).toThrow(RangeError);
  });

  it('reads back as the event it wrote, however the stream is split', () => {
    const stream = formatRetry(2000) + formatComment('keep-alive') + formatEvent({ id: 7, type: 'tick', data: 'привіт\nworld' });
    expect(expectSameAtEverySplit(stream)).toEqual([{ type: 'tick', data: 'привіт\nworld', lastEventId: '7' }]);
    expect(read([stream]).reader.retryMs).toBe(2000);
  });
});

describe('SseReader', () => {
  // Section 9.2.6's examples, quoted from the standard.
  it('reads the stock-ticker example: two events, the second with two data lines', () => {
    const stream = 'data: YHOO\ndata: +2\ndata: 10\n\n';
    expect(expectSameAtEverySplit(stream)).toEqual([{ type: 'message', data: 'YHOO\n+2\n10', lastEventId: '' }]);
  });

  it('reads the example with a comment, an id that is set and then cleared, and a space kept after the first', () => {
    const stream = ': test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n\n';
    expect(expectSameAtEverySplit(stream)).toEqual([
      { type: 'message', data: 'first event', lastEventId: '1' },
      { type: 'message', data: 'second event', lastEventId: '' },
      { type: 'message', data: ' third event', lastEventId: '' },
    ]);
  });

  it('never dispatches an event whose blank line has not come ("the incomplete event is not dispatched")', () => {
    expect(read(['data: first\n\ndata: cut off\n']).events).toEqual([{ type: 'message', data: 'first', lastEventId: '' }]);
  });

  it('reads the example of empty data: "data" and "data:" each add an empty line', () => {
    expect(expectSameAtEverySplit('data\n\ndata\ndata\n\ndata:\n')).toEqual([
      { type: 'message', data: '', lastEventId: '' },
      { type: 'message', data: '\n', lastEventId: '' },
    ]);
  });

  it('takes CR LF, LF and CR as line ends, even a CR LF split across two chunks', () => {
    expect(expectSameAtEverySplit('data: a\r\n\r\ndata: b\r\rdata: c\n\n')).toEqual([
      { type: 'message', data: 'a', lastEventId: '' },
      { type: 'message', data: 'b', lastEventId: '' },
      { type: 'message', data: 'c', lastEventId: '' },
    ]);
  });

  it('drops a leading byte order mark, and ignores unknown fields and a retry that is not a number', () => {
    const { events, reader } = read(['\ufeffdata: x\nfoo: bar\nretry: soon\n\n']);
    expect(events).toEqual([{ type: 'message', data: 'x', lastEventId: '' }]);
    expect(reader.retryMs).toBeUndefined();
  });

  it('fails on a line longer than its limit instead of growing without bound', () => {
    const reader = new SseReader(100);
    expect(() => reader.push(`data: ${'x'.repeat(200)}`)).toThrow(RangeError);
  });
});

describe('parseLastEventId', () => {
  it('takes a whole number, and reads anything else as 0 (start from what is kept)', () => {
    expect(parseLastEventId('42')).toBe(42);
    expect(parseLastEventId(' 7 ')).toBe(7);
    expect(parseLastEventId(['3', '4'])).toBe(3);
    for (const value of [undefined, '', 'abc', '-1', '1.5', '9'.repeat(20)]) expect(parseLastEventId(value)).toBe(0);
  });
});
