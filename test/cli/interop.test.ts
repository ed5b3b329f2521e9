/**
 * netlab speaks plain TCP: the standard tools work against its server, and its client works
 * against theirs. Lesson 01 tells students to try `nc`; these tests keep that promise.
 *
 * CI installs netcat-openbsd and socat (.ci/run), and there these tests must run. Locally they
 * skip, saying why, when a tool is missing: `apt-get install -y netcat-openbsd socat`.
 */
import { describe, expect, it, type TestContext } from 'vitest';
import { ON_CI, onPath, runCli, runProcess, startEchoServer, startProcess } from './run-cli.js';

/** Skips locally when `tool` is missing; on CI a missing tool fails the test instead. */
function requireTool(ctx: TestContext, tool: string, pkg: string): void {
  const present = onPath(tool);
  if (!present && !ON_CI) {
    const reason = `skipped: ${tool} is not on PATH; install it with: apt-get install -y ${pkg}`;
    console.warn(`${ctx.task.name}: ${reason}`); // the default reporter does not show skip notes
    ctx.skip(reason);
  }
  expect(present, `${tool} must be installed on CI (package ${pkg}, see .ci/run)`).toBe(true);
}

describe('interoperability with standard tools', () => {
  it('echoes a line from nc (netcat-openbsd) back to it', async (ctx) => {
    requireTool(ctx, 'nc', 'netcat-openbsd');
    const { port } = await startEchoServer();
    // -N: shut down the sending side at the end of stdin, so the server's FIN ends nc.
    const { code, stdout, stderr } = await runProcess('nc', ['-N', '127.0.0.1', String(port)], { input: 'hi\n' });
    expect(code, stderr).toBe(0);
    expect(stdout).toBe('hi\n');
  });

  it("gets its echo from socat's echo server", async (ctx) => {
    requireTool(ctx, 'socat', 'socat');
    // -d -d makes socat log "listening on AF=2 127.0.0.1:PORT", with the port 0 turned into.
    const socat = startProcess('socat', ['-d', '-d', 'TCP-LISTEN:0,bind=127.0.0.1,reuseaddr,fork', 'EXEC:cat']);
    const [, port] = await socat.waitForStderr(/listening on \S+ 127\.0\.0\.1:(\d+)/);
    const { code, stdout, stderr } = await runCli(['tcp-echo', 'connect', '--port', port!], { input: 'hi\n' });
    expect(code, stderr).toBe(0);
    expect(stdout).toBe('> hi\n< hi\n');
  });
});
