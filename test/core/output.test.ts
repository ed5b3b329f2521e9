import { PassThrough } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { FLUSH_INTERVAL_MS, Output, colorWanted, type LineSink } from '../../src/core/output.js';

function collect(isTTY = false) {
  const out = Object.assign(new PassThrough(), { isTTY });
  const err = Object.assign(new PassThrough(), { isTTY });
  const text = { stdout: '', stderr: '' };
  out.on('data', (c: Buffer) => (text.stdout += c.toString()));
  err.on('data', (c: Buffer) => (text.stderr += c.toString()));
  return { streams: { stdout: out, stderr: err }, text };
}

describe('Output', () => {
  it('marks received text with < and sent text with >, on stdout', () => {
    const { streams, text } = collect();
    const output = new Output(streams, { env: {} });
    output.received('hello');
    output.sent('hi');
    output.flush();
    expect(text.stdout).toBe('< hello\n> hi\n');
    expect(text.stderr).toBe('');
  });

  it('puts notes, warnings and errors on stderr, with the hint on its own line', () => {
    const { streams, text } = collect();
    const output = new Output(streams, { env: {} });
    output.note('connected');
    output.error('nothing is listening.', 'start the server.');
    expect(text.stderr).toBe('connected\nerror: nothing is listening.\nhint: start the server.\n');
    expect(text.stdout).toBe('');
  });

  it('tags a peer line with its address, and a demo line with its role', () => {
    const { streams, text } = collect();
    const output = new Output(streams, { env: {} });
    output.peer('127.0.0.1:5000', 'connected');
    output.received('hi', 'client');
    output.flush();
    expect(text.stdout).toBe('[127.0.0.1:5000] connected\nclient │ < hi\n');
  });

  it('prints stack traces only when verbose', () => {
    const { streams, text } = collect();
    new Output(streams, { env: {} }).debug('stack');
    new Output(streams, { env: {}, verbose: true }).debug('stack');
    expect(text.stderr).toBe('stack\n');
  });

  it('routes every line through an attached prompt', () => {
    const { streams, text } = collect();
    const seen: string[] = [];
    const sink: LineSink = { printAbove: (line, stream) => seen.push(`${stream}:${line}`) };
    const output = new Output(streams, { env: {} });
    output.attach(sink);
    output.received('a');
    output.note('b');
    output.attach(undefined);
    output.received('c');
    output.flush();
    expect(seen).toEqual(['stdout:< a', 'stderr:b']);
    expect(text.stdout).toBe('< c\n');
  });

  it('colours only a terminal, and never with NO_COLOR or --no-color', () => {
    expect(colorWanted({ isTTY: true }, {})).toBe(true);
    expect(colorWanted({ isTTY: false }, {})).toBe(false);
    expect(colorWanted({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(colorWanted({ isTTY: true }, {}, false)).toBe(false);
    const { streams, text } = collect(true);
    const output = new Output(streams, { env: {} });
    output.received('x');
    output.flush();
    expect(text.stdout).toContain('\x1b[');
  });

  it('writes the stdout lines of one event-loop turn together, after the turn', async () => {
    const { streams, text } = collect();
    const writes: string[] = [];
    streams.stdout.on('data', (c: Buffer) => writes.push(c.toString()));
    const output = new Output(streams, { env: {} });
    output.received('a');
    output.received('b');
    expect(text.stdout).toBe('');
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toEqual(['< a\n< b\n']);
  });

  it('spaces writes FLUSH_INTERVAL_MS apart while lines keep coming, and loses none', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'setImmediate', 'performance'] });
    try {
      const { streams } = collect();
      const writes: string[] = [];
      streams.stdout.on('data', (c: Buffer) => writes.push(c.toString()));
      const output = new Output(streams, { env: {} });
      output.data('1');
      await vi.advanceTimersToNextTimerAsync(); // the setImmediate of the first batch
      expect(writes).toEqual(['1\n']);
      for (const line of ['2', '3']) {
        output.data(line);
        await vi.advanceTimersByTimeAsync(1); // a turn later, well within the interval
      }
      expect(writes).toEqual(['1\n']);
      await vi.advanceTimersByTimeAsync(FLUSH_INTERVAL_MS);
      expect(writes).toEqual(['1\n', '2\n3\n']);
    } finally {
      vi.useRealTimers();
    }
  });

  it('writes what every Output holds with flushAll, so an error printed elsewhere comes after it', () => {
    const first = collect();
    const second = collect();
    new Output(first.streams, { env: {} }).data('one');
    new Output(second.streams, { env: {} }).data('two');
    Output.flushAll();
    expect([first.text.stdout, second.text.stdout]).toEqual(['one\n', 'two\n']);
  });

  it('keeps stdout and stderr in order: a stderr line first writes the waiting stdout lines', () => {
    const { streams } = collect();
    const order: string[] = [];
    streams.stdout.on('data', (c: Buffer) => order.push(`out:${c.toString().trim()}`));
    streams.stderr.on('data', (c: Buffer) => order.push(`err:${c.toString().trim()}`));
    const output = new Output(streams, { env: {} });
    output.data('first');
    output.note('second');
    expect(order).toEqual(['out:first', 'err:second']);
  });
});
