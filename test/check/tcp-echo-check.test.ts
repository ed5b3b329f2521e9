/**
 * The tcp-echo checklist (src/check/tcp-echo-check.ts) against netlab's own echo server, which
 * must pass every check, and against broken servers written the way students write them
 * (test/check/fixtures/tcp-echo-*), each of which must fail the right check with the right hint.
 */
import net from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { tcpEchoChecklist } from '../../src/check/tcp-echo-check.js';
import { startEchoServer } from '../../src/tcp/echo-server.js';
import { freePort, runCli } from '../cli/run-cli.js';
import { checkPort, failure, onlyFailing, startFixture } from './fixture-server.js';

const TITLES = {
  answers: 'accepts a connection and answers a line',
  exact: 'echoes the exact bytes it receives',
  pieces: 'echoes each piece as it arrives, without waiting for a newline',
  large: 'echoes 1 MiB in full while the client is still sending',
  several: 'serves several clients at once',
  reset: 'keeps serving after a client resets mid-transfer',
};

/** Every check passes except the ones named, which fail. */
const expectOnlyFailures = onlyFailing(TITLES);

async function netlabServer(oneAtATime = false): Promise<number> {
  const server = await startEchoServer({ host: '127.0.0.1', port: 0, oneAtATime });
  onTestFinished(() => server.close());
  return server.port;
}

describe('netlab check tcp-echo', () => {
  it("passes every check against netlab's own echo server", async () => {
    const results = await checkPort(tcpEchoChecklist, await netlabServer());
    expectOnlyFailures(results, []);
  });

  it('fails only "serves several clients at once" against netlab\'s --one-at-a-time server', async () => {
    const results = await checkPort(tcpEchoChecklist, await netlabServer(true));
    expectOnlyFailures(results, [TITLES.several]);
    expect(failure(results, TITLES.several).hint).toContain('lesson 01, "One client at a time"');
  });

  it('fails the first check with "connection refused" when nothing listens, and skips the rest', async () => {
    const results = await checkPort(tcpEchoChecklist, await freePort());
    const first = failure(results, TITLES.answers);
    expect(first.problem).toContain('connection refused');
    expect(first.hint).toContain('netlab tcp-echo serve');
    expect(results.slice(1).every((r) => r.status === 'skipped')).toBe(true);
  });

  it("points the course's sequential Python server to lesson 01's \"One client at a time\"", async () => {
    const fixture = await startFixture('tcp-echo-sequential.py');
    const results = await checkPort(tcpEchoChecklist, fixture.port);
    expectOnlyFailures(results, [TITLES.several]);
    const { problem, hint } = failure(results, TITLES.several);
    expect(problem).toContain('none of them got an echo');
    expect(hint).toContain('lesson 01, "One client at a time"');
  });

  it('tells a server that decodes and re-encodes text that it changed the bytes', async () => {
    const fixture = await startFixture('tcp-echo-text.mjs');
    const results = await checkPort(tcpEchoChecklist, fixture.port);
    expectOnlyFailures(results, [TITLES.exact]);
    const { problem, hint } = failure(results, TITLES.exact);
    expect(problem).toMatch(/different from byte \d+ on/);
    expect(hint).toContain('decoded the bytes as text');
    expect(hint).toContain('lesson 01, "Send and receive"');
  });

  it('tells a server that echoes whole lines only that pieces must come back as they arrive', async () => {
    const fixture = await startFixture('tcp-echo-lines.py');
    const results = await checkPort(tcpEchoChecklist, fixture.port);
    expectOnlyFailures(results, [TITLES.pieces]);
    const { problem, hint } = failure(results, TITLES.pieces);
    expect(problem).toContain('nothing came back until the newline');
    expect(hint).toContain('lesson 01, "TCP is a byte stream"');
  });

  it('counts the bytes a server that stops at 64 KiB gave back', async () => {
    const fixture = await startFixture('tcp-echo-64k.mjs');
    const results = await checkPort(tcpEchoChecklist, fixture.port);
    expectOnlyFailures(results, [TITLES.large]);
    const { problem, hint } = failure(results, TITLES.large);
    expect(problem).toBe('sent 1,048,576 bytes, got 65,536 back, then nothing more for 1 s.');
    expect(hint).toContain('lesson 01, "TCP is a byte stream"');
  });

  it('blames what came back, not one client at a time, when every client gets a wrong answer at once', async () => {
    const server = net.createServer((socket) => {
      socket.on('error', () => {});
      socket.on('data', (data) => socket.write(`echo: ${data}`));
    });
    onTestFinished(() => {
      server.close();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const results = await checkPort(tcpEchoChecklist, (server.address() as net.AddressInfo).port);
    const { problem, hint } = failure(results, TITLES.several);
    expect(problem).toMatch(/^client 2 sent "client 2 \w+\\n" and got "echo: client 2 \w+\\n" back: every client got an answer at once, but not the echo of its line\.$/);
    expect(hint).toContain('lesson 01, "Send and receive"');
    expect(hint).not.toContain('One client at a time');
  });

  it('catches a Node server that dies of a reset because its sockets have no error listener', async () => {
    const fixture = await startFixture('tcp-echo-no-error-listener.mjs');
    const results = await checkPort(tcpEchoChecklist, fixture.port);
    expectOnlyFailures(results, [TITLES.reset]);
    const { problem, hint } = failure(results, TITLES.reset);
    expect(problem).toContain('after a client reset its connection');
    expect(hint).toContain("an 'error' listener on every socket");
    expect(fixture.output()).toMatch(/ECONNRESET|EPIPE/);
  });
});

describe('netlab check tcp-echo, the command', () => {
  it("exits 0 and says all checks passed for netlab's own server", async () => {
    const port = await netlabServer();
    const run = await runCli(['check', 'tcp-echo', '--port', String(port), '--wait', '1000']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain(`✓ ${TITLES.several}`);
    expect(run.stdout + run.stderr).toContain('all 6 checks passed');
  });

  it('exits 1 with ✗, what was seen and a hint for the sequential server', async () => {
    const fixture = await startFixture('tcp-echo-sequential.py');
    const run = await runCli(['check', 'tcp-echo', '--port', String(fixture.port), '--wait', '1000']);
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.stdout).toContain(`✗ ${TITLES.several}`);
    expect(run.stdout).toMatch(/^ {4}hint: /m);
    // The command wraps problems and hints to 80 columns: read them as one line.
    expect(run.stdout.replace(/\s+/g, ' ')).toContain('lesson 01, "One client at a time"');
    expect(run.stdout + run.stderr).toContain('5 of 6 checks passed; 1 failed');
  });
});
