/**
 * `netlab tcp-echo serve` as a student runs it: the first line to parse, the log of each
 * connection, a port already taken, Ctrl+C, and --one-at-a-time (lesson 01: a sequential server
 * stalls the next client).
 */
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { STACK_FRAME, connectRaw, lines, runCli, startCli, startEchoServer } from './run-cli.js';

const PEER = String.raw`\[127\.0\.0\.1:\d+\]`;

describe('tcp-echo serve on a port that is taken', () => {
  it('exits 1 with one sentence naming the port and a hint about --port, without a stack trace', async () => {
    const { port } = await startEchoServer();
    const { code, stdout, stderr, drained } = await runCli(['tcp-echo', 'serve', '--port', String(port)], { reportDrain: true });
    expect(code).toBe(1);
    expect(drained, 'the event loop emptied by itself').toBe(true);
    expect(stdout).toBe('');
    const errors = lines(stderr).filter((line) => line.startsWith('error:'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(`port ${port}`);
    expect(errors[0]).toContain('already in use');
    expect(stderr).toMatch(/^hint: .*--port/m);
    expect(stderr).not.toMatch(STACK_FRAME);
  });

  it('also shows the stack trace with --verbose, before or after the command', async () => {
    const { port } = await startEchoServer();
    const results = await Promise.all([
      runCli(['--verbose', 'tcp-echo', 'serve', '--port', String(port)]),
      runCli(['tcp-echo', 'serve', '--port', String(port), '--verbose']),
    ]);
    for (const { code, stderr } of results) {
      expect(code).toBe(1);
      expect(stderr).toMatch(new RegExp(`^error: .*port ${port}`, 'm'));
      expect(stderr).toMatch(STACK_FRAME);
    }
  });
});

describe('the tcp-echo server log', () => {
  it('shows a piped client connecting, each read with its bytes, its FIN and the close', async () => {
    const server = await startEchoServer();
    const client = await runCli(['tcp-echo', 'connect', '--port', String(server.port)], { input: 'a\nb\n' });
    expect(client.code).toBe(0);
    await server.proc.waitForStdout(/closed · .*\n/);
    const log = server.proc.stdout;
    expect(log).toMatch(new RegExp(`^${PEER} connected$`, 'm'));
    expect(log).toMatch(new RegExp(`^${PEER} < 2 bytes "a\\\\n"$`, 'm'));
    expect(log).toMatch(new RegExp(`^${PEER} < 2 bytes "b\\\\n"$`, 'm'));
    expect(log).toMatch(new RegExp(`^${PEER} sent FIN`, 'm'));
    expect(log).toMatch(new RegExp(`^${PEER} closed · 4 bytes echoed$`, 'm'));
  });

  it('keeps connected and closed but drops the per-read lines with --quiet', async () => {
    const server = await startEchoServer(['--quiet']);
    const client = await runCli(['tcp-echo', 'connect', '--port', String(server.port)], { input: 'a\nb\n' });
    expect(client.code).toBe(0);
    await server.proc.waitForStdout(/closed · .*\n/);
    const log = server.proc.stdout;
    expect(log).toMatch(new RegExp(`^${PEER} connected$`, 'm'));
    expect(log).toMatch(new RegExp(`^${PEER} closed · 4 bytes echoed$`, 'm'));
    expect(log).not.toMatch(/< \d+ bytes/);
  });

  it('never prints raw control bytes a client sent', async () => {
    const server = await startEchoServer();
    const client = await runCli(['tcp-echo', 'connect', '--port', String(server.port)], { input: 'x\x1b[2Jy\x00z\n' });
    expect(client.code).toBe(0);
    await server.proc.waitForStdout(/closed · .*\n/);
    expect(server.proc.stdout).toContain(String.raw`"x\x1b[2Jy\x00z\n"`);
    expect(server.proc.stdout).not.toContain('\x1b');
    expect(server.proc.stdout).not.toContain('\x00');
  });
});

describe('Ctrl+C on the tcp-echo server', () => {
  it('tells a connected client, prints a summary, exits 0 and leaves the port reusable at once', async () => {
    const server = await startEchoServer([], 0, { reportDrain: true });
    const socket = await connectRaw(server.port);
    await server.proc.waitForStdout(new RegExp(`^${PEER} connected$`, 'm'));
    const clientGotFin = once(socket, 'end');

    const { code, stdout, drained } = await server.proc.stop();
    expect(code).toBe(0);
    expect(drained, 'the event loop emptied by itself after the shutdown').toBe(true);
    await clientGotFin;
    expect(stdout).toMatch(new RegExp(`^${PEER} closed by the server \\(shutting down\\)`, 'm'));
    expect(lines(stdout).at(-1)).toMatch(/^tcp-echo server stopped · 1 connection, 0 bytes echoed$/);

    const again = await startEchoServer([], server.port);
    expect(again.port).toBe(server.port);
  });
});

describe('tcp-echo serve --one-at-a-time', () => {
  it('makes a second client wait, unread, until the first one leaves', async () => {
    const server = await startEchoServer(['--one-at-a-time']);

    // The first client is a raw socket, so the test decides when it leaves.
    const first = await connectRaw(server.port);
    first.setEncoding('utf8');
    const firstPeer = `[127.0.0.1:${first.localPort}]`;
    const firstEcho = once(first, 'data');
    first.write('first\n');
    expect(String((await firstEcho)[0])).toBe('first\n');

    const second = startCli(['tcp-echo', 'connect', '--port', String(server.port)], { input: 'second\n' });
    const [, secondPort] = await second.waitForStderr(/^connected to \S+ from 127\.0\.0\.1:(\d+)/m);
    const secondPeer = `[127.0.0.1:${secondPort}]`;
    await server.proc.waitForStdout(new RegExp(`^${escape(secondPeer)} connected · queued, not served until 1 client ahead leaves`, 'm'));
    await second.waitForStdout(/^> second$/m);

    // The second client writes its line right after printing `> second`, so it is in the
    // server's receive queue before this one: a server reading both clients would log that
    // read first. The server log is one ordered stream, so the comparison needs no waiting.
    first.write('still here\n');
    await server.proc.waitForStdout(new RegExp(`^${escape(firstPeer)} < 11 bytes "still here\\\\n"$`, 'm'));
    expect(server.proc.stdout).not.toContain(`${secondPeer} <`);
    expect(second.stdout).not.toContain('< second');

    let firstLeft = false;
    const echoed = second.waitForStdout(/^< second$/m).then(() => {
      expect(firstLeft, "the second client's echo arrived before the first client left").toBe(true);
    });
    firstLeft = true;
    first.end();
    await echoed;

    const result = await second.waitForExit();
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('> second\n< second\n');

    await server.proc.waitForStdout(new RegExp(`^${escape(secondPeer)} closed`, 'm'));
    const log = lines(server.proc.stdout);
    const firstClosed = log.findIndex((line) => line.startsWith(`${firstPeer} closed`));
    const secondTurn = log.findIndex((line) => line.startsWith(`${secondPeer} its turn`));
    const secondRead = log.findIndex((line) => line.startsWith(`${secondPeer} < 7 bytes "second\\n"`));
    expect(firstClosed, log.join('\n')).toBeGreaterThan(-1);
    expect(secondTurn, 'the log says when the waiting client gets its turn, after the first left').toBeGreaterThan(firstClosed);
    expect(secondRead, 'the waiting client is read only on its turn').toBeGreaterThan(secondTurn);
  });
});

/** Text for use inside a RegExp, special characters escaped. */
function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
