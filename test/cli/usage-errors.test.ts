/**
 * Usage errors (ROBUSTNESS.md, CLI): a bad --port is refused before any socket exists, with exit
 * 2, the accepted range, and no stack trace. The classic trap this guards against: a port of
 * "abc" handed to listen() becomes a Unix socket file named abc in the current directory.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { STACK_FRAME, runCli, type ExitResult } from './run-cli.js';

/** A fresh, empty working directory, removed when the test finishes. */
function tempCwd(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'netlab-cli-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function expectUsageError(result: ExitResult, value: string, range: string): void {
  expect(result.code).toBe(2);
  expect(result.stdout).toBe('');
  expect(result.stderr).toMatch(/^error: /);
  expect(result.stderr).toContain(range);
  expect(result.stderr).toContain(`"${value}"`);
  expect(result.stderr).not.toMatch(STACK_FRAME);
}

describe('--port with a value that is not a port', () => {
  it.each(['70000', '-1', '3.5', '', 'abc', '8080x'])(
    'refuses --port "%s" for serve and for connect with exit 2, naming the range, creating no file',
    async (value) => {
      const cwd = tempCwd();
      const [serve, connect] = await Promise.all([
        runCli(['tcp-echo', 'serve', '--port', value], { cwd }),
        runCli(['tcp-echo', 'connect', '--port', value], { cwd }),
      ]);
      expectUsageError(serve, value, '0 to 65535');
      expectUsageError(connect, value, '1 to 65535');
      expect(readdirSync(cwd), 'no Unix socket or other file appeared in the working directory').toEqual([]);
    },
  );
});

describe('--port 0 for a client', () => {
  it('is refused: a client must name the port it connects to', async () => {
    expectUsageError(await runCli(['tcp-echo', 'connect', '--port', '0']), '0', '1 to 65535');
  });
});

describe('an unknown option', () => {
  it('exits 2 and names the option', async () => {
    const { code, stdout, stderr } = await runCli(['tcp-echo', 'serve', '--bogus']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^error: unknown option '--bogus'$/m);
    expect(stderr).not.toMatch(STACK_FRAME);
  });
});

describe('--lan with a --host of its own', () => {
  it('exits 2 before listening, saying the two disagree', async () => {
    const { code, stdout, stderr } = await runCli(['tcp-chat', 'serve', '--lan', '--host', '127.0.0.1']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe('error: --lan listens on every interface (--host 0.0.0.0); it cannot be used with --host 127.0.0.1.\n');
  });
});
