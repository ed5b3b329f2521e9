/**
 * `netlab push-pull serve` as a student's shell runs it: the first line scripts parse, a line
 * typed at the server published to every transport as the instructor's event, the summary on
 * Ctrl+C, and the usage errors of its options.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { lines, runCli, startCli } from './run-cli.js';

describe('netlab push-pull serve', () => {
  it('publishes a line typed at its terminal, and sums up on Ctrl+C', async () => {
    const proc = startCli(['push-pull', 'serve', '--port', '0', '--rate', '0.1'], { holdStdin: true });
    const [, port] = await proc.waitForStdout(/^push-pull server listening on 127\.0\.0\.1:(\d+) · http:\/\/127\.0\.0\.1:\d+\/$/m);
    proc.write('the quiz starts now\n');
    await proc.waitForStdout(/^#\d+ instructor: the quiz starts now$/m);
    const answer = (await (await fetch(`http://127.0.0.1:${port}/poll`)).json()) as { events: Array<{ source: string; text: string }> };
    expect(answer.events).toContainEqual(expect.objectContaining({ source: 'instructor', text: 'the quiz starts now' }));
    const page = await fetch(`http://127.0.0.1:${port}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const result = await proc.stop();
    expect(result.code).toBe(0);
    expect(lines(result.stdout).at(-1)).toMatch(/^push-pull server stopped · \d+ events?, 1 poll, 0 long polls, 0 SSE streams, 0 WebSockets$/);
  });

  it('exits 2 for a --rate or --seed out of range, naming the range', async () => {
    for (const args of [['--rate', '0'], ['--rate', '5000'], ['--rate', 'fast'], ['--seed', '-1']]) {
      const { code, stderr } = await runCli(['push-pull', 'serve', '--port', '0', ...args]);
      expect(code, args.join(' ')).toBe(2);
      expect(stderr).toMatch(/from 0(\.1)? to \d+/);
    }
  });

  it('exits 1 with a sentence when its port is taken', async () => {
    const taken = net.createServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => taken.once('listening', resolve));
    try {
      const { port } = taken.address() as net.AddressInfo;
      const { code, stderr } = await runCli(['push-pull', 'serve', '--port', String(port)]);
      expect(code).toBe(1);
      expect(stderr).toMatch(new RegExp(`port ${port}`));
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});

describe('netlab push-pull compare', () => {
  it('measures the four transports on a server of its own and prints them as JSON', async () => {
    const { code, stdout, stderr } = await runCli(['push-pull', 'compare', '--duration', '1s', '--poll-interval', '200ms', '--rate', '20', '--json']);
    expect(code, stderr).toBe(0);
    const results = JSON.parse(stdout) as Array<{ transport: string; missed: number; requests: number; delayMs: { p95: number } }>;
    expect(results.map((r) => r.transport)).toEqual(['poll', 'long-poll', 'sse', 'ws']);
    expect(results.map((r) => r.missed)).toEqual([0, 0, 0, 0]);
  });

  it('exits 2 for a duration, poll interval or URL it cannot use, naming what would work', async () => {
    for (const [args, pattern] of [
      [['--duration', '0s'], /--duration must be a time from 1s to 10m/],
      [['--poll-interval', '10ms'], /--poll-interval must be a time from 100ms to 1m/],
      [['--url', 'ws://127.0.0.1:8002'], /--url must be an http:\/\/ address/],
    ] as const) {
      const { code, stderr } = await runCli(['push-pull', 'compare', ...args]);
      expect(code, args.join(' ')).toBe(2);
      expect(stderr).toMatch(pattern);
    }
  });
});
