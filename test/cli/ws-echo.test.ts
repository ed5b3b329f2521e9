/**
 * `netlab ws-echo serve`, `netlab ws-echo connect` and `netlab ws-handshake`, the built binary
 * as a student runs it (lesson 04): the first line scripts parse, the log of a piped client,
 * Ctrl+C with a client connected, the handshake computed and performed, refusals and usage
 * errors. Timeouts given to netlab only bound runs where nothing can answer.
 */
import { describe, expect, it } from 'vitest';
import { STACK_FRAME, connectRaw, freePort, lines, runCli, startCli, type Spawned } from './run-cli.js';

const LISTENING_LINE = /^ws-echo server listening on 127\.0\.0\.1:(\d+) · ws:\/\/127\.0\.0\.1:(\d+)\/ws · http:\/\/127\.0\.0\.1:(\d+)\/$/;
const PEER = String.raw`\[127\.0\.0\.1:\d+\]`;

/** A running `netlab ws-echo serve --port 0 EXTRA…` and the port its first line announced. */
async function startWsEchoServer(extraArgs: readonly string[] = [], reportDrain = false): Promise<{ port: number; url: string; proc: Spawned }> {
  const proc = startCli(['ws-echo', 'serve', '--port', '0', ...extraArgs], { reportDrain });
  const [firstLine = ''] = await proc.waitForStdout(/^.*\n/);
  const match = LISTENING_LINE.exec(firstLine.trimEnd());
  if (!match || match[1] !== match[2] || match[1] !== match[3]) throw new Error(`the server's first stdout line is not the listening line.\n${proc.describe()}`);
  return { port: Number(match[1]), url: `ws://127.0.0.1:${match[1]}/ws`, proc };
}

describe('ws-echo serve and connect', () => {
  it('echo piped lines, log them with the close, and both exit 0 leaving nothing open', async () => {
    const server = await startWsEchoServer([], true);
    const client = await runCli(['ws-echo', 'connect', server.url], { input: 'hello\nпривіт\n\n', reportDrain: true });
    expect(client.code, client.stderr).toBe(0);
    expect(lines(client.stdout)).toEqual(['> hello', '< hello', '> привіт', '< привіт', '> ', '< (empty message)']);
    expect(lines(client.stderr)).toEqual([
      `connected to ${server.url} (101 Switching Protocols); Ctrl+D quits`,
      'closed · 1000 (normal closure) · sent 3 messages, received 3',
    ]);
    expect(client.drained).toBe(true);

    await server.proc.waitForStdout(/closed by the client/);
    const { code, stdout, drained } = await server.proc.stop();
    expect(code).toBe(0);
    expect(lines(stdout).slice(1)).toEqual([
      expect.stringMatching(new RegExp(`^${PEER} connected · no Origin · netlab$`)),
      expect.stringMatching(new RegExp(`^${PEER} < text 5 bytes "hello"$`)),
      expect.stringMatching(new RegExp(`^${PEER} < text 12 bytes "привіт"$`)),
      expect.stringMatching(new RegExp(`^${PEER} < text 0 bytes ""$`)),
      expect.stringMatching(new RegExp(`^${PEER} closed by the client: 1000 \\(normal closure\\)$`)),
      'ws-echo server stopped · 1 connection, 3 messages echoed',
    ]);
    expect(drained, 'the event loop emptied by itself').toBe(true);
  });

  it('sends binary messages with --binary and shows what comes back as hex', async () => {
    const server = await startWsEchoServer();
    const client = await runCli(['ws-echo', 'connect', server.url, '--binary'], { input: 'AB\n' });
    expect(client.code, client.stderr).toBe(0);
    expect(lines(client.stdout)).toEqual(['> AB', '< binary 2 bytes: 41 42']);
    await server.proc.waitForStdout(/< binary 2 bytes 41 42\n/);
  });

  it('logs the page and a plain GET on /ws, and only connections and closes with --quiet', async () => {
    const server = await startWsEchoServer();
    expect((await fetch(`http://127.0.0.1:${server.port}/`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${server.port}/ws`)).status).toBe(426);
    await server.proc.waitForStdout(new RegExp(`${PEER} GET / → 200\\n${PEER} GET /ws → 426\\n`));

    const quiet = await startWsEchoServer(['--quiet']);
    await fetch(`http://127.0.0.1:${quiet.port}/`);
    const client = await runCli(['ws-echo', 'connect', quiet.url], { input: 'hi\n' });
    expect(client.code).toBe(0);
    await quiet.proc.waitForStdout(/closed by the client/);
    expect(lines(quiet.proc.stdout).slice(1).map((line) => line.replace(/^\[[^\]]+\] /, ''))).toEqual([
      'connected · no Origin · netlab',
      'closed by the client: 1000 (normal closure)',
    ]);
  });

  it('on Ctrl+C closes its clients with 1001; a client says so in one sentence and exits 1', async () => {
    const server = await startWsEchoServer();
    const client = startCli(['ws-echo', 'connect', server.url], { holdStdin: true });
    await client.waitForStderr(/connected to/);
    await server.proc.waitForStdout(/connected · /);
    const stopped = await server.proc.stop();
    expect(stopped.code).toBe(0);
    expect(lines(stopped.stdout)).toContainEqual(expect.stringMatching(/closed by the server with 1001 \(going away\): server shutting down$/));
    const { code, stderr } = await client.waitForExit();
    expect(code).toBe(1);
    expect(stderr).toMatch(/^error: closed by the server: 1001 \(going away\) "server shutting down"\.$/m);
    expect(stderr).toMatch(/^hint: it stopped or is restarting; start it with `netlab ws-echo serve --port \d+`\.$/m);
    expect(stderr).not.toMatch(STACK_FRAME);
  });

  it('is refused with 403 for a foreign --origin, 404 for a wrong path: one sentence each, exit 1', async () => {
    // (The server's log names the option that would accept the origin; the client is told less.)
    const server = await startWsEchoServer();
    const foreign = await runCli(['ws-echo', 'connect', server.url, '--origin', 'http://evil.example'], { input: '' });
    expect(foreign.code).toBe(1);
    expect(foreign.stderr).toMatch(/^error: 403 Forbidden instead of 101: Origin http:\/\/evil\.example is not allowed\.$/m);
    expect(foreign.stderr).toMatch(/^hint: a netlab server accepts pages from other origins with --allow-origin\.$/m);
    const lost = await runCli(['ws-echo', 'connect', server.url.replace('/ws', '/wss')], { input: '' });
    expect(lost.code).toBe(1);
    expect(lost.stderr).toMatch(/^error: 404 Not Found instead of 101: no WebSocket here: it is at \/ws\.$/m);
    await server.proc.waitForStdout(/handshake refused → 403: Origin http:\/\/evil\.example is not allowed \(--allow-origin adds it\)\n/);
    await server.proc.waitForStdout(/handshake refused → 404: no WebSocket at \/wss \(it is at \/ws\)/);
  });

  it('stops at a 1009 close from the server with its code in words and a hint that fits, exit 1', async () => {
    const server = await startWsEchoServer(['--max-message', '16']);
    const { code, stdout, stderr } = await runCli(['ws-echo', 'connect', server.url], { input: 'short\nthis line is longer than sixteen bytes\nnever sent\n' });
    expect(code).toBe(1);
    expect(lines(stdout)).toEqual(['> short', '< short', '> this line is longer than sixteen bytes']);
    expect(lines(stderr).slice(1)).toEqual([
      'error: closed by the server: 1009 (message too big).',
      "hint: send smaller messages (a netlab server's limit is --max-message).",
    ]);
    await server.proc.waitForStdout(/closed by the server with 1009 \(message too big\): a message over 16 bytes\n/);
  });

  it('says nothing listens (exit 1), and times out a server that never answers the handshake', async () => {
    const port = await freePort();
    const refused = await runCli(['ws-echo', 'connect', `ws://127.0.0.1:${port}/ws`], { input: '' });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(new RegExp(`^error: nothing is listening on 127\\.0\\.0\\.1:${port} \\(connection refused\\)\\.$`, 'm'));
    expect(refused.stderr).toMatch(new RegExp(`^hint: is the server running\\? Start it with \`netlab ws-echo serve --port ${port}\`\\.$`, 'm'));

    // A TCP server that accepts and reads but never answers.
    const silent = (await import('node:net')).createServer((socket) => socket.on('error', () => {}));
    silent.listen(0, '127.0.0.1');
    await new Promise((resolve) => silent.once('listening', resolve));
    const silentPort = (silent.address() as import('node:net').AddressInfo).port;
    try {
      const stuck = await runCli(['ws-echo', 'connect', `ws://127.0.0.1:${silentPort}/ws`, '--timeout', '300'], { input: '' });
      expect(stuck.code).toBe(1);
      expect(stuck.stderr).toMatch(/^error: 127\.0\.0\.1:\d+ accepted the connection but did not answer the handshake within 300 ms\.$/m);
    } finally {
      silent.close();
      silent.unref();
    }
  });
});

describe('ws-handshake', () => {
  it('computes RFC 6455’s example accept value step by step, with the request and the answer', async () => {
    const { code, stdout } = await runCli(['ws-handshake', '--key', 'dGhlIHNhbXBsZSBub25jZQ==']);
    expect(code).toBe(0);
    expect(lines(stdout).slice(0, 5)).toEqual([
      'key           dGhlIHNhbXBsZSBub25jZQ== (Sec-WebSocket-Key: 16 bytes, base64)',
      '+ GUID        258EAFA5-E914-47DA-95CA-C5AB0DC85B11 (RFC 6455, 1.3)',
      '= key + GUID  dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11',
      'SHA-1         b37a4f2cc0624f1690f64606cf385945b2bec4ea (20 bytes)',
      'base64        s3pPLMBiTxaQ9kYGzzhZRbK+xOo= (Sec-WebSocket-Accept)',
    ]);
    expect(stdout).toContain('  Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\n');
    for (const line of lines(stdout)) expect([...line].length).toBeLessThanOrEqual(80);
  });

  it('checks an accept value against its key: exit 0 when it answers it, 1 when it belongs to another key', async () => {
    const good = await runCli(['ws-handshake', '--key', 'dGhlIHNhbXBsZSBub25jZQ==', '--accept', 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=']);
    expect(good.code).toBe(0);
    expect(lines(good.stdout).at(-1)).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo= answers this key.');
    const bad = await runCli(['ws-handshake', '--key', 'dGhlIHNhbXBsZSBub25jZQ==', '--accept', 'HSmrc0sMlYUkAGmm5OPpG2HaGWk=']);
    expect(bad.code).toBe(1);
    expect(lines(bad.stderr)).toEqual([
      'error: HSmrc0sMlYUkAGmm5OPpG2HaGWk= is not the accept value of this key.',
      "hint: this key's is s3pPLMBiTxaQ9kYGzzhZRbK+xOo=: compute it, never copy a pair.",
    ]);
    // The computation it refers to was printed first (stdout is flushed before the error).
    expect(lines(bad.stdout)[4]).toBe('base64        s3pPLMBiTxaQ9kYGzzhZRbK+xOo= (Sec-WebSocket-Accept)');
  });

  it('performs a real handshake line by line, then a close frame each way, and exits 0', async () => {
    const server = await startWsEchoServer();
    const { code, stdout, stderr } = await runCli(['ws-handshake', '--url', server.url]);
    expect(code, stderr).toBe(0);
    expect(lines(stdout)).toEqual([
      '> GET /ws HTTP/1.1',
      `> Host: 127.0.0.1:${server.port}`,
      '> Upgrade: websocket',
      '> Connection: Upgrade',
      expect.stringMatching(/^> Sec-WebSocket-Key: [A-Za-z0-9+/]{22}==$/),
      '> Sec-WebSocket-Version: 13',
      '< HTTP/1.1 101 Switching Protocols',
      '< Upgrade: websocket',
      '< Connection: Upgrade',
      expect.stringMatching(/^< Sec-WebSocket-Accept: [A-Za-z0-9+/]{27}=$/),
      expect.stringMatching(/^> close frame, masked with [0-9a-f]{8}: 1000 \(normal closure\)$/),
      '< close frame, unmasked: 1000 (normal closure)',
    ]);
    expect(stderr).toMatch(/Sec-WebSocket-Accept answers our key/);
  });
});

describe('ws usage errors', () => {
  it.each([
    [['ws-handshake', '--key', 'aGVsbG8='], /--key must be 16 bytes in base64.*decodes to 5 bytes/],
    [['ws-handshake', '--accept', 'x'], /--accept checks a value against --key/],
    [['ws-handshake', '--url', 'http://127.0.0.1:8000/ws'], /must start with ws:\/\/ or wss:\/\//],
    [['ws-echo', 'connect', '127.0.0.1:8000'], /must start with ws:\/\/ or wss:\/\//],
    [['ws-echo', 'connect', '--header', 'no colon here'], /--header must be "Name: value"/],
    [['ws-echo', 'connect', '--header', 'NoColon'], /--header must be "Name: value"/],
    [['ws-echo', 'connect', '--header', 'X-Name: Łukasz'], /--header must be "Name: value" in plain ASCII/],
    [['ws-echo', 'connect', '--origin', 'http://a.example\r\nSec-WebSocket-Version: 8'], /--origin must be one line of plain ASCII/],
    [['ws-handshake', '--url', 'ws://127.0.0.1:8000/ws', '--origin', 'x\ny'], /--origin must be one line of plain ASCII/],
    [['ws-echo', 'serve', '--path', 'ws'], /--path must be a path such as \/ws/],
    [['ws-echo', 'serve', '--allow-origin', 'http://x.example/'], /--allow-origin must be an origin/],
    [['ws-echo', 'serve', '--max-message', '0'], /--max-message must be a whole number from 1 to 16777216/],
    [['ws-echo', 'serve', '--port', '70000'], /--port must be a whole number from 0 to 65535/],
  ])('netlab %j exits 2 and names what is accepted', async (args, message) => {
    const { code, stderr } = await runCli(args);
    expect(code, stderr).toBe(2);
    expect(stderr).toMatch(message);
  });

  it('names the port in use in one sentence and exits 1', async () => {
    const server = await startWsEchoServer();
    const { code, stderr } = await runCli(['ws-echo', 'serve', '--port', String(server.port)]);
    expect(code).toBe(1);
    expect(stderr).toMatch(new RegExp(`^error: port ${server.port} on 127\\.0\\.0\\.1 is already in use by another program\\.$`, 'm'));
    // A raw client could still use the first server.
    await connectRaw(server.port);
  });
});
