/**
 * The ws-echo checklist (src/check/ws-echo-check.ts) against netlab's own WebSocket echo server
 * and a correct echo written by hand in Python, which must pass every check, and against broken
 * servers written the way students write them (test/check/fixtures/ws-echo-*), each of which
 * must fail the right checks with the right hint; then once through the built binary.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { wsEchoChecklist } from '../../src/check/ws-echo-check.js';
import { startWsEchoServer } from '../../src/ws/echo-server.js';
import { freePort, runCli } from '../cli/run-cli.js';
import { checkPort, failure, onlyFailing, resultFor, startFixture } from './fixture-server.js';

const TITLES = {
  upgrade: 'answers a WebSocket handshake with 101 Switching Protocols',
  headers: 'says Upgrade: websocket and Connection: Upgrade in its 101',
  accept: 'answers the handshake with the right Sec-WebSocket-Accept',
  noKey: 'refuses a handshake without Sec-WebSocket-Key with a 4xx',
  version: 'refuses a handshake of an unknown version (12) with a 4xx',
  text: 'echoes a text message as text, unchanged',
  utf8: 'echoes multi-byte UTF-8 text byte for byte',
  binary: 'echoes a binary message as binary, all 256 byte values',
  empty: 'echoes an empty message',
  long: 'echoes long messages: 16-bit and 64-bit lengths',
  fragments: 'echoes a message sent in three frames as one message',
  unmasked: 'sends its frames unmasked, as a server must',
  ping: 'answers a ping with a pong carrying the same payload',
  close: 'answers a close frame with a close frame, then closes TCP',
};

/** Every check passes except the ones named, which fail. */
const expectOnlyFailures = onlyFailing(TITLES);

async function netlabServer(): Promise<number> {
  const server = await startWsEchoServer({ host: '127.0.0.1', port: 0, path: '/ws' });
  onTestFinished(() => server.close());
  return server.port;
}

describe('netlab check ws-echo', () => {
  it("passes every check against netlab's own echo server", async () => {
    const results = await checkPort(wsEchoChecklist, await netlabServer());
    expectOnlyFailures(results, []);
    expect(resultFor(results, TITLES.version)).toMatchObject({ detail: '426 Upgrade Required, Sec-WebSocket-Version: 13' });
    expect(resultFor(results, TITLES.close)).toMatchObject({ detail: '1000 back, then the TCP connection closed' });
  });

  it('passes every check against a correct echo written by hand in Python, fragments echoed frame by frame', async () => {
    const fixture = await startFixture('ws-echo-by-hand.py');
    const results = await checkPort(wsEchoChecklist, fixture.port);
    expectOnlyFailures(results, []);
    expect(resultFor(results, TITLES.fragments)).toMatchObject({ detail: 'echoed in 3 frames' });
  });

  it('fails the first check with "connection refused" when nothing listens, and skips the rest', async () => {
    const results = await checkPort(wsEchoChecklist, await freePort());
    const first = failure(results, TITLES.upgrade);
    expect(first.problem).toContain('connection refused');
    expect(first.hint).toContain('netlab ws-echo serve');
    expect(results.slice(1).every((r) => r.status === 'skipped')).toBe(true);
  });

  it('explains an accept value sent in hex: base64 the 20 bytes, with every step one command away', async () => {
    const fixture = await startFixture('ws-echo-by-hand.py', ['accept-hex']);
    const results = await checkPort(wsEchoChecklist, fixture.port);
    expectOnlyFailures(results, [TITLES.accept]);
    const { problem, hint } = failure(results, TITLES.accept);
    expect(problem).toMatch(/^Sec-WebSocket-Accept is "[0-9a-f]{40}", and the key netlab check sent, \S{24}, needs \S{28}\.$/);
    expect(hint).toContain('that is the SHA-1 in hex');
    expect(hint).toContain('base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))');
    expect(hint).toMatch(/`netlab ws-handshake --key \S{24}`/);
    expect(hint).toContain('lesson 04, "The Upgrade handshake"');
  });

  it('explains an accept value computed without the GUID', async () => {
    const fixture = await startFixture('ws-echo-by-hand.py', ['accept-no-guid']);
    const results = await checkPort(wsEchoChecklist, fixture.port);
    expectOnlyFailures(results, [TITLES.accept]);
    expect(failure(results, TITLES.accept).hint).toContain('that is the key hashed without the GUID');
  });

  it('fails a server that answers 101 to a handshake without a key or of an unknown version', async () => {
    const fixture = await startFixture('ws-echo-by-hand.py', ['no-validation']);
    const results = await checkPort(wsEchoChecklist, fixture.port);
    expectOnlyFailures(results, [TITLES.noKey, TITLES.version]);
    const noKey = failure(results, TITLES.noKey);
    expect(noKey.problem).toBe('the server answered "HTTP/1.1 101 Switching Protocols" to a handshake without Sec-WebSocket-Key.');
    expect(noKey.hint).toContain('400 Bad Request');
    expect(noKey.hint).toContain('lesson 04, "Refused handshakes"');
    expect(failure(results, TITLES.version).hint).toContain('426 Upgrade Required');
  });

  it('fails a server that drops TCP when a close frame arrives, quoting RFC 6455 section 5.5.1', async () => {
    const fixture = await startFixture('ws-echo-by-hand.py', ['no-close-frame']);
    const results = await checkPort(wsEchoChecklist, fixture.port);
    expectOnlyFailures(results, [TITLES.close]);
    const { problem, hint } = failure(results, TITLES.close);
    expect(problem).toBe('the server closed the TCP connection without sending a close frame back.');
    expect(hint).toContain('section 5.5.1');
    expect(hint).toContain('lesson 04, "Closing"');
  });

  it('finishes the whole checklist against a server that never answers a close frame, failing only the close check', async () => {
    // Every check's cleanup sends a close frame too, and waits a little for the answer: a wait
    // as long as the check's own, at every check, made this checklist take many waits.
    const fixture = await startFixture('ws-echo-by-hand.py', ['ignore-close']);
    const results = await checkPort(wsEchoChecklist, fixture.port);
    expectOnlyFailures(results, [TITLES.close]);
    expect(failure(results, TITLES.close).problem).toBe('the server answered a close frame with nothing within 1 s.');
  });

  it('tells the course\'s "Echo: " server that an echo sends the message back unchanged', async () => {
    const fixture = await startFixture('ws-echo-prefix.mjs');
    const results = await checkPort(wsEchoChecklist, fixture.port);
    expectOnlyFailures(results, [TITLES.text, TITLES.utf8, TITLES.binary, TITLES.empty, TITLES.long, TITLES.fragments]);
    const { problem, hint } = failure(results, TITLES.text);
    expect(problem).toBe('the text message "hello from netlab check" came back with "Echo: " in front: "Echo: hello from netlab check".');
    expect(hint).toContain('this lab is an echo');
    expect(hint).toContain('lesson 04, "From the course\'s code to netlab\'s"');
    expect(failure(results, TITLES.binary).problem).toMatch(/^a binary message of the bytes 00 to ff came back as text \(opcode 0x1\)/);
  });

  it('fails only the binary check of a server that sends data.toString() back', async () => {
    const fixture = await startFixture('ws-echo-binary-as-text.mjs');
    const results = await checkPort(wsEchoChecklist, fixture.port);
    expectOnlyFailures(results, [TITLES.binary]);
    const { problem, hint } = failure(results, TITLES.binary);
    expect(problem).toMatch(/^a binary message of the bytes 00 to ff came back as text \(opcode 0x1\), \d+ bytes: /);
    expect(hint).toContain('{ binary: isBinary }');
    expect(hint).toContain('lesson 04, "Messages: text, binary, empty"');
  });

  it('fails only the masking check of a server that masks its frames', async () => {
    const fixture = await startFixture('ws-echo-masked.mjs');
    const results = await checkPort(wsEchoChecklist, fixture.port);
    expectOnlyFailures(results, [TITLES.unmasked]);
    const { problem, hint } = failure(results, TITLES.unmasked);
    expect(problem).toMatch(/^the echo came in a masked frame \(MASK 1, masking key [0-9a-f]{2}( [0-9a-f]{2}){3}\)\.$/);
    expect(hint).toContain('"A server MUST NOT mask any frames that it sends to the client.');
    expect(hint).toContain('lesson 04, "The whole conversation, and masking"');
  });
});

describe('netlab check ws-echo, the built binary', () => {
  it('exits 0 with a ✓ for every check against netlab\'s own server', async () => {
    const port = await netlabServer();
    const { code, stdout } = await runCli(['check', 'ws-echo', '--port', String(port), '--wait', '1000']);
    expect(code, stdout).toBe(0);
    for (const title of Object.values(TITLES)) expect(stdout).toContain(`✓ ${title}`);
    expect(stdout).toContain(`all ${Object.keys(TITLES).length} checks passed`);
  });

  it('exits 1 with ✗, the problem and a hint: line for each failed check', async () => {
    const fixture = await startFixture('ws-echo-by-hand.py', ['accept-hex']);
    const { code, stdout } = await runCli(['check', 'ws-echo', '--port', String(fixture.port), '--wait', '1000']);
    expect(code, stdout).toBe(1);
    expect(stdout).toMatch(new RegExp(`✗ ${TITLES.accept}\\n {4}Sec-WebSocket-Accept is "[0-9a-f]{40}"[^]*?\\n {4}hint: that is the SHA-1 in hex`));
    expect(stdout).toContain(`13 of ${Object.keys(TITLES).length} checks passed; 1 failed`);
  });
});
