import { afterEach, describe, expect, it, vi } from 'vitest';
import { Output } from '../../src/core/output.js';
import { REDRAW_INTERVAL_MS, StatusLine, cutToColumns } from '../../src/core/status-line.js';

/** A stream that records its writes, as a terminal (isTTY) or as a pipe. */
function stream(isTTY: boolean, columns = 80) {
  const writes: string[] = [];
  return { isTTY, columns, writes, write: (text: string) => (writes.push(text), true) } as unknown as NodeJS.WritableStream & {
    isTTY: boolean;
    writes: string[];
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('StatusLine', () => {
  it('is shown only when stdout and stderr are both terminals', () => {
    expect(StatusLine.possible({ stdout: stream(true), stderr: stream(true) })).toBe(true);
    expect(StatusLine.possible({ stdout: stream(false), stderr: stream(true) })).toBe(false);
    expect(StatusLine.possible({ stdout: stream(true), stderr: stream(false) })).toBe(false);
    const output = new Output({ stdout: stream(false), stderr: stream(true) }, { env: {} });
    expect(output.showStatus(() => '3 online')).toBeUndefined();
  });

  it('prints each log line above the status and draws the status again under it', () => {
    const streams = { stdout: stream(true), stderr: stream(true) };
    let online = 1;
    const status = new StatusLine(streams, () => `${online} online`, () => 80);
    expect(streams.stderr.writes).toEqual(['1 online']);
    online = 2;
    status.printAbove('[127.0.0.1:5000] bob joined (2 online)', 'stdout');
    expect(streams.stderr.writes.slice(1)).toEqual(['\r\x1b[2K', '2 online']);
    expect(streams.stdout.writes).toEqual(['[127.0.0.1:5000] bob joined (2 online)\n']);
    status.printAbove('warning: careful', 'stderr');
    expect(streams.stderr.writes.at(-1)).toBe('\r\x1b[2Kwarning: careful\n2 online');
    status.close();
    status.close();
    expect(streams.stderr.writes.at(-1)).toBe('\r\x1b[2K');
    status.printAbove('stopped', 'stdout');
    expect(streams.stdout.writes.at(-1)).toBe('stopped\n');
  });

  it('redraws on update() at most once per interval, and never after close()', () => {
    vi.useFakeTimers();
    const streams = { stdout: stream(true), stderr: stream(true) };
    let messages = 0;
    const status = new StatusLine(streams, () => `${messages} messages`, () => 80);
    for (let i = 0; i < 50; i++) {
      messages++;
      status.update();
    }
    expect(streams.stderr.writes).toHaveLength(1);
    vi.advanceTimersByTime(REDRAW_INTERVAL_MS);
    expect(streams.stderr.writes).toEqual(['0 messages', '\r\x1b[2K50 messages']);
    status.update();
    status.close();
    vi.advanceTimersByTime(REDRAW_INTERVAL_MS);
    expect(streams.stderr.writes.at(-1)).toBe('\r\x1b[2K');
  });

  it('never wraps: the status is cut to the terminal width less one column', () => {
    const streams = { stdout: stream(true), stderr: stream(true) };
    new StatusLine(streams, () => 'x'.repeat(100), () => 40);
    expect(streams.stderr.writes[0]).toBe(`${'x'.repeat(38)}…`);
  });
});

describe('cutToColumns', () => {
  it('counts characters, not escape codes, and resets the style when it cuts styled text', () => {
    expect(cutToColumns('short', 10)).toBe('short');
    expect(cutToColumns('\x1b[7m 12 online \x1b[27m', 20)).toBe('\x1b[7m 12 online \x1b[27m');
    expect(cutToColumns('\x1b[7m 12 online · 40 messages \x1b[27m', 12)).toBe('\x1b[7m 12 online …\x1b[0m');
    expect(cutToColumns('ünïcødé', 4)).toBe('ünï…');
  });
});

describe('Output.showStatus', () => {
  it('routes lines through the status line until closed, and writes waiting lines first', async () => {
    const streams = { stdout: stream(true), stderr: stream(true) };
    const output = new Output(streams, { env: {}, color: false });
    output.event('listening');
    const status = output.showStatus(() => '0 online')!;
    expect(streams.stdout.writes).toEqual(['listening\n']);
    expect(streams.stderr.writes).toEqual([' 0 online ']);
    output.peer('127.0.0.1:5000', 'alice joined');
    expect(streams.stdout.writes.at(-1)).toBe('[127.0.0.1:5000] alice joined\n');
    status.close();
    output.event('stopped');
    await new Promise((resolve) => setImmediate(resolve));
    expect(streams.stdout.writes.at(-1)).toBe('stopped\n');
    expect(streams.stderr.writes.at(-1)).toBe('\r\x1b[2K');
  });
});
