/**
 * `netlab tcp-echo connect` as a script and as a student uses it: piped input works like `nc`
 * (DESIGN.md), received text can never drive the terminal, and a server that is not there, or
 * goes away, is one sentence with a hint and exit 1.
 */
import { describe, expect, it } from 'vitest';
import { STACK_FRAME, freePort, lines, runCli, startCli, startEchoServer } from './run-cli.js';

describe('tcp-echo connect to a port where nothing listens', () => {
  it('exits 1 saying nothing is listening, with a hint to start netlab tcp-echo serve', async () => {
    const port = await freePort();
    const { code, stdout, stderr } = await runCli(['tcp-echo', 'connect', '--port', String(port)]);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(new RegExp(`^error: nothing is listening on 127\\.0\\.0\\.1:${port}`, 'm'));
    expect(stderr).toMatch(new RegExp(`^hint: .*netlab tcp-echo serve --port ${port}`, 'm'));
    expect(lines(stderr).filter((line) => line.startsWith('error:'))).toHaveLength(1);
    expect(stderr).not.toMatch(STACK_FRAME);
  });

  it('exits as soon as it has said so, leaving no timer or socket behind', async () => {
    const port = await freePort();
    const { code, drained, stderr } = await runCli(['tcp-echo', 'connect', '--port', String(port)], { reportDrain: true });
    expect(code).toBe(1);
    expect(stderr).toContain('nothing is listening');
    // Not drained: a handle kept the process alive until cli.ts's exit grace timer ended it.
    expect(drained, 'the event loop emptied by itself after the refused connection').toBe(true);
  });
});

describe('tcp-echo connect with piped input', () => {
  it('prints each sent line and its echo in order, then exits 0', async () => {
    const { port } = await startEchoServer();
    const { code, stdout, stderr, drained } = await runCli(['tcp-echo', 'connect', '--port', String(port)], {
      input: 'a\nb\n',
      reportDrain: true,
    });
    expect(code).toBe(0);
    expect(stdout).toBe('> a\n< a\n> b\n< b\n');
    expect(drained, 'the event loop emptied by itself at the end').toBe(true);
    expect(stderr).toMatch(new RegExp(`^connected to 127\\.0\\.0\\.1:${port} from 127\\.0\\.0\\.1:\\d+`, 'm'));
    expect(stderr).toMatch(/^disconnected · sent 4 bytes, received 4 bytes$/m);
    expect(stderr).not.toContain('error:');
  });

  it('connects, sends nothing and exits 0 when stdin is empty', async () => {
    const { port } = await startEchoServer();
    const { code, stdout, stderr } = await runCli(['tcp-echo', 'connect', '--port', String(port)], { input: '' });
    expect(code).toBe(0);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^disconnected · sent 0 bytes, received 0 bytes$/m);
  });

  it('echoes a 100 KB line whole', async () => {
    const { port } = await startEchoServer(['--quiet']);
    const line = 'x'.repeat(100_000);
    const { code, stdout } = await runCli(['tcp-echo', 'connect', '--port', String(port)], { input: `${line}\n` });
    expect(code).toBe(0);
    expect(stdout === `> ${line}\n< ${line}\n`, `stdout was ${stdout.length} characters: ${stdout.slice(0, 80)}…`).toBe(true);
  });

  it('echoes a line with ESC and NUL but shows them escaped, never raw', async () => {
    const { port } = await startEchoServer();
    const { code, stdout } = await runCli(['tcp-echo', 'connect', '--port', String(port)], { input: 'red\x1b[31malert\x00!\n' });
    expect(code).toBe(0);
    const shown = String.raw`red\x1b[31malert\x00!`;
    expect(stdout).toBe(`> ${shown}\n< ${shown}\n`);
    expect(stdout).not.toContain('\x1b');
    expect(stdout).not.toContain('\x00');
  });
});

describe('Ctrl+C on tcp-echo connect', () => {
  it('closes the connection cleanly and exits 0 while stdin is still open', async () => {
    const server = await startEchoServer();
    const client = startCli(['tcp-echo', 'connect', '--port', String(server.port)], { holdStdin: true, reportDrain: true });
    client.write('a\n');
    await client.waitForStdout(/^< a$/m);

    const { code, stdout, stderr, drained } = await client.stop();
    expect(code).toBe(0);
    expect(stdout).toBe('> a\n< a\n');
    expect(stderr).toMatch(/^disconnected · sent 2 bytes, received 2 bytes$/m);
    expect(drained, 'the event loop emptied by itself').toBe(true);
    await server.proc.waitForStdout(/^\[127\.0\.0\.1:\d+\] closed · 2 bytes echoed$/m);
  });
});

describe('tcp-echo connect when the server dies', () => {
  it('exits 1 with one sentence about the lost connection and a hint, while stdin is still open', async () => {
    const server = await startEchoServer();
    const client = startCli(['tcp-echo', 'connect', '--port', String(server.port)], { holdStdin: true, reportDrain: true });
    client.write('a\n');
    await client.waitForStdout(/^< a$/m);

    server.proc.kill('SIGKILL');
    await server.proc.exited;

    const { code, stderr, drained } = await client.waitForExit();
    expect(code).toBe(1);
    expect(drained, 'the event loop emptied by itself, stdin listener included').toBe(true);
    const errors = lines(stderr).filter((line) => line.startsWith('error:'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/closed|reset/);
    expect(stderr).toMatch(/^hint: .*netlab tcp-echo serve/m);
    expect(stderr).not.toMatch(STACK_FRAME);
  });
});
