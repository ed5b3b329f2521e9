/**
 * The tcp-chat checklist (src/check/tcp-chat-check.ts) against netlab's own chat server, with
 * its default limits (rate, line length, output queue), which must pass every check, and
 * against broken chats written the way students write them (test/check/fixtures/tcp-chat-*),
 * each of which must fail the right checks with the right hints.
 */
import net from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { tcpChatChecklist } from '../../src/check/tcp-chat-check.js';
import { startChatServer } from '../../src/tcp/chat-server.js';
import { runCli } from '../cli/run-cli.js';
import { checkPort, failure, onlyFailing, startFixture } from './fixture-server.js';

const TITLES = {
  passes: 'passes a line from one client to the others',
  sender: 'does not send a line back to its sender',
  whole: 'delivers each line whole, however it was written',
  many: 'passes lines among 20 clients',
  slow: 'keeps the others going while one client stops reading',
};

/** Every check passes except the ones named, which fail. */
const expectOnlyFailures = onlyFailing(TITLES);

/** netlab's chat server as `netlab tcp-chat serve` starts it: default limits, no options. */
async function netlabServer(): Promise<number> {
  const server = await startChatServer({ host: '127.0.0.1', port: 0 });
  onTestFinished(() => server.close());
  return server.port;
}

describe('netlab check tcp-chat', () => {
  it("passes every check against netlab's own chat server, names, notices, rate limit and all", async () => {
    const results = await checkPort(tcpChatChecklist, await netlabServer());
    expectOnlyFailures(results, []);
  });

  it('catches the classic threaded chat: it echoes to the sender, passes chunks on, and waits for a slow reader', async () => {
    const fixture = await startFixture('tcp-chat-echoes-sender.py');
    const results = await checkPort(tcpChatChecklist, fixture.port);
    expectOnlyFailures(results, [TITLES.sender, TITLES.whole, TITLES.slow]);
    const sender = failure(results, TITLES.sender);
    expect(sender.problem).toContain('the server sent it back to client 3 too');
    expect(sender.hint).toContain('lesson 02, "The classic chat, and what goes wrong"');
    expect(failure(results, TITLES.whole).hint).toContain('lesson 02, "A read is not a line"');
    expect(failure(results, TITLES.slow).hint).toContain('lesson 02, "Slow readers"');
  });

  it('shows a chunk-relaying chat the pieces its clients got instead of a whole line', async () => {
    const fixture = await startFixture('tcp-chat-chunks.mjs');
    const results = await checkPort(tcpChatChecklist, fixture.port);
    expectOnlyFailures(results, [TITLES.whole]);
    const { problem, hint } = failure(results, TITLES.whole);
    expect(problem).toMatch(/client 3 got no line with "line-in-two-\w+" whole, but "guest-\d+: line-in-two-\w+guest-\d+: in between \w+" and "guest-\d+: \w+"/);
    expect(hint).toContain('lesson 02, "A read is not a line"');
  });

  it("catches a chat whose broadcast awaits each client's 'drain' in turn", async () => {
    const fixture = await startFixture('tcp-chat-drain.mjs');
    const results = await checkPort(tcpChatChecklist, fixture.port);
    expectOnlyFailures(results, [TITLES.slow]);
    const { problem, hint } = failure(results, TITLES.slow);
    expect(problem).toMatch(/^client 1 stopped reading while client 4 sent 8,192 lines of 1,000 bytes; client 2 got [0-9,]+ bytes of the flood, then nothing for 1 s, while client 4 was still connected\.$/);
    expect(hint).toContain('lesson 02, "Slow readers"');
  });

  it('tells a chat that waits for a nickname that the checks send no name first', async () => {
    const fixture = await startFixture('tcp-chat-nickname.py');
    const results = await checkPort(tcpChatChecklist, fixture.port);
    const { problem, hint } = failure(results, TITLES.passes);
    expect(problem).toMatch(
      /^3 clients connected and client 3 sent "hello from netlab check \w+" \(4 times\) as its first line, with no name or login before it; neither of the other 2 got it in 1 s; client 1 got only "Welcome to the chat!\\r\\nYour nickname\? "\.$/,
    );
    expect(hint).toContain("netlab check's clients send no name first");
    expect(hint).toContain('without a login step');
    expect(hint).toContain('lesson 02, "Two people join"');
    expect(results.slice(1).every((r) => r.status === 'skipped')).toBe(true);
  });

  it('says the server closed the connections when a chat hangs up on every client', async () => {
    const server = net.createServer((socket) => socket.on('error', () => {}).destroy());
    onTestFinished(() => {
      server.close();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const results = await checkPort(tcpChatChecklist, (server.address() as net.AddressInfo).port);
    const { problem } = failure(results, TITLES.passes);
    expect(problem).toMatch(/^3 clients connected and client 3 sent "hello from netlab check \w+"; the server closed the connections of clients 1, 2 and 3, instead of passing the line on\.$/);
  });

  it('names the clients a chat with ten threads never reads', async () => {
    const fixture = await startFixture('tcp-chat-ten-threads.py');
    const results = await checkPort(tcpChatChecklist, fixture.port);
    expectOnlyFailures(results, [TITLES.many, TITLES.slow]);
    const { problem, hint } = failure(results, TITLES.many);
    expect(problem).toMatch(/^20 clients connected and client 20 sent "to all 20 \w+" \(4 times\); none of the other 19 got it in 1 s\.$/);
    expect(hint).toContain('lesson 02, "Broadcast: never change the list you walk"');
  });
});

describe('netlab check tcp-chat, the command', () => {
  it("exits 0 and says all checks passed for netlab's own server", async () => {
    const port = await netlabServer();
    const run = await runCli(['check', 'tcp-chat', '--port', String(port), '--wait', '1000']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain(`✓ ${TITLES.slow}`);
    expect(run.stdout + run.stderr).toContain('all 5 checks passed');
  });

  it('exits 1 with ✗, what was seen and a hint for a chunk-relaying chat', async () => {
    const fixture = await startFixture('tcp-chat-chunks.mjs');
    const run = await runCli(['check', 'tcp-chat', '--port', String(fixture.port), '--wait', '1000']);
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.stdout).toContain(`✗ ${TITLES.whole}`);
    expect(run.stdout).toMatch(/^ {4}hint: /m);
    // The command wraps problems and hints to 80 columns: read them as one line.
    expect(run.stdout.replace(/\s+/g, ' ')).toContain('lesson 02, "A read is not a line"');
    expect(run.stdout + run.stderr).toContain('4 of 5 checks passed; 1 failed');
  });
});
