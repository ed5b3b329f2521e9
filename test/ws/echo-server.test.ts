/**
 * The WebSocket echo server on loopback (src/ws/echo-server.ts on src/ws/ws-listener.ts): real
 * clients from ws, and raw TCP peers that write handshakes and frames by hand, for what
 * ROBUSTNESS.md's WebSocket section says a server must survive.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { OPCODES, closePayload, encodeFrame, readClosePayload } from '../../src/ws/frame.js';
import { acceptFor, type ResponseHead } from '../../src/ws/handshake.js';
import { MAX_FRAGMENTS } from '../../src/ws/ws-listener.js';
import { RawPeer, echoServer, nextMessage, waitUntil, wsClient } from './ws-support.js';

describe('ws-echo server', () => {
  it('listens on the port the system picked and names its ws:// and page addresses', async () => {
    const server = await echoServer();
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`ws://127.0.0.1:${server.port}/ws`);
    expect(server.pageUrl).toBe(`http://127.0.0.1:${server.port}/`);
  });

  it('echoes text as text and binary as binary: empty, short, and 64 KiB', async () => {
    const server = await echoServer();
    const ws = await wsClient(server.url);
    const messages: Array<[string | Buffer, boolean]> = [
      ['', false],
      ['hello', false],
      ['привіт 👋', false],
      [Buffer.from([0, 1, 2, 0xff]), true],
      [Buffer.alloc(0), true],
      ['x'.repeat(64 * 1024), false],
      [Buffer.alloc(64 * 1024, 0xab), true],
    ];
    for (const [data, binary] of messages) {
      const reply = nextMessage(ws);
      ws.send(data, { binary });
      const { data: echoed, isBinary } = await reply;
      expect(isBinary).toBe(binary);
      expect(echoed).toEqual(Buffer.from(data));
    }
    expect(server.totals).toMatchObject({ connections: 1, messages: messages.length });
  });

  it('reports each connection with its peer, Origin and User-Agent, each message, and each close with its code', async () => {
    const server = await echoServer();
    const events: string[] = [];
    server.on('connection', (peer) => events.push(`connection ${peer.origin} ${peer.userAgent}`));
    server.on('message', (_peer, data, isBinary) => events.push(`message ${isBinary ? 'binary' : 'text'} ${data.toString()}`));
    const closed = once(server, 'close');
    const ws = await wsClient(server.url, { origin: `http://127.0.0.1:${server.port}`, headers: { 'User-Agent': 'test-agent' } });
    const reply = nextMessage(ws);
    ws.send('hi');
    await reply;
    ws.close(4000, 'done here');
    const [peer, info] = await closed;
    expect(events).toEqual([`connection http://127.0.0.1:${server.port} test-agent`, 'message text hi']);
    expect(peer.remote).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(info).toEqual({ code: 4000, reason: 'done here' });
  });

  it('accepts a handshake written by hand, with the accept value RFC 6455 asks for', async () => {
    const server = await echoServer();
    const peer = await RawPeer.connect(server.port);
    const response = await peer.handshake('/ws', ['Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits'], 'dGhlIHNhbXBsZSBub25jZQ==');
    expect(response.status).toBe(101);
    expect(response.headers.get('upgrade')?.toLowerCase()).toBe('websocket');
    expect(response.headers.get('sec-websocket-accept')).toBe(acceptFor('dGhlIHNhbXBsZSBub25jZQ=='));
    expect(response.headers.has('sec-websocket-extensions')).toBe(false); // permessage-deflate stays off
    peer.sendFrame({ fin: true, opcode: OPCODES.text, payload: Buffer.from('by hand') });
    const frame = await peer.frame();
    expect(frame).toEqual({ fin: true, opcode: OPCODES.text, payload: Buffer.from('by hand') }); // a server frame is not masked
  });

  it('closes 1009 on a message over the size limit, and keeps serving everyone else', async () => {
    const server = await echoServer({ maxMessageBytes: 1000 });
    const other = await wsClient(server.url);
    const big = await RawPeer.upgraded(server.port);
    const refused = once(server, 'close');
    big.sendFrame({ fin: true, opcode: OPCODES.text, payload: Buffer.alloc(1001, 0x61) });
    const frame = await big.frame();
    expect(frame.opcode).toBe(OPCODES.close);
    expect(readClosePayload(frame.payload).code).toBe(1009);
    const [, info] = await refused;
    expect(info.byServer).toEqual({ code: 1009, why: 'a message over 1,000 bytes' });
    const reply = nextMessage(other);
    other.send('x'.repeat(1000));
    expect((await reply).data.length).toBe(1000);
  });

  it('closes 1002 on an unmasked frame, a reserved opcode, a long ping or a bad close code; 1007 on bad UTF-8; 1008 on too many fragments', async () => {
    const server = await echoServer();
    const cases: Array<[number, (peer: RawPeer) => void]> = [
      [1002, (peer) => peer.sendFrame({ fin: true, opcode: OPCODES.text, payload: Buffer.from('no mask') }, false)],
      [1007, (peer) => peer.sendFrame({ fin: true, opcode: OPCODES.text, payload: Buffer.from([0xc3, 0x28]) })],
      [1002, (peer) => peer.sendFrame({ fin: true, opcode: 0x3, payload: Buffer.alloc(0) })],
      [1002, (peer) => peer.sendFrame({ fin: true, opcode: OPCODES.ping, payload: Buffer.alloc(126) })],
      [1002, (peer) => peer.sendFrame({ fin: true, opcode: OPCODES.close, payload: closePayload(999, 'not a code') })],
      [1002, (peer) => peer.sendFrame({ fin: true, opcode: OPCODES.close, payload: closePayload(1006) })],
    ];
    for (const [code, send] of cases) {
      const peer = await RawPeer.upgraded(server.port);
      send(peer);
      const frame = await peer.frame();
      expect(readClosePayload(frame.payload).code).toBe(code);
      await peer.closed();
    }
    // 1008: one message in more fragments than MAX_FRAGMENTS.
    const fragmented = await RawPeer.upgraded(server.port);
    fragmented.sendFrame({ fin: false, opcode: OPCODES.text, payload: Buffer.from('a') });
    for (let i = 0; i < MAX_FRAGMENTS; i++) fragmented.sendFrame({ fin: false, opcode: OPCODES.continuation, payload: Buffer.from('a') });
    expect(readClosePayload((await fragmented.frame()).payload).code).toBe(1008);
    const ws = await wsClient(server.url);
    const reply = nextMessage(ws);
    ws.send('still here');
    expect((await reply).data.toString()).toBe('still here');
  });

  it('answers a plain GET on the WebSocket path with 426 and an Upgrade header', async () => {
    const server = await echoServer();
    const response = await fetch(`http://127.0.0.1:${server.port}/ws`);
    expect(response.status).toBe(426);
    expect(response.headers.get('upgrade')).toBe('websocket');
    expect(await response.text()).toMatch(/speaks WebSocket/);
  });

  it('refuses a foreign Origin with 403 and says why, accepts it with allowOrigins, and accepts no Origin at all', async () => {
    const server = await echoServer();
    const refused = once(server, 'refused');
    const peer = await RawPeer.connect(server.port);
    const response = await peer.handshake('/ws', ['Origin: http://evil.example']);
    expect(response.status).toBe(403);
    expect(await peer.text()).toBe('Origin http://evil.example is not allowed\n');
    expect((await refused)[0]).toMatchObject({ status: 403 });
    await wsClient(server.url); // no Origin: the CLI
    await wsClient(server.url, { origin: `http://127.0.0.1:${server.port}` }); // the page's own
    const open = await echoServer({ allowOrigins: ['http://evil.example'] });
    await wsClient(open.url, { origin: 'http://evil.example' });
  });

  it('answers bad handshakes with a 4xx and no crash: wrong path 404, no key 400, version 12 426, POST 405', async () => {
    const server = await echoServer();
    const statuses: number[] = [];
    const heads: ResponseHead[] = [];
    for (const request of [
      'GET /nope HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
      'GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n',
      'GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 12\r\n\r\n',
      'POST /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    ]) {
      const peer = await RawPeer.connect(server.port);
      peer.write(request);
      heads.push(await peer.head());
      statuses.push(heads.at(-1)!.status);
    }
    expect(statuses).toEqual([404, 400, 426, 405]);
    // RFC 9110, section 7.8: Upgrade in a response comes with "upgrade" in Connection.
    expect(heads[2]!.headers.get('connection')).toBe('Upgrade, close');
    expect(heads[2]!.headers.get('upgrade')).toBe('websocket');
    expect(heads[0]!.headers.get('connection')).toBe('close');
  });

  it('answers a request with bare LF line ends 400, says why, and reports it (nc without -C sends those)', async () => {
    const server = await echoServer();
    const refused = once(server, 'refused');
    const peer = await RawPeer.connect(server.port);
    peer.write('GET /ws HTTP/1.1\nHost: x\n\n');
    expect((await peer.head()).status).toBe(400);
    expect(await peer.text()).toBe('not HTTP/1.1 the server can read (lines end with CR LF)\n');
    expect((await refused)[0]).toMatchObject({ what: 'request', status: 400, reason: expect.stringMatching(/ \(HPE_[A-Z_]+\)$/) });
    const huge = await RawPeer.connect(server.port);
    huge.write(`GET / HTTP/1.1\r\nHost: x\r\nX-Padding: ${'x'.repeat(64 * 1024)}\r\n\r\n`);
    expect((await huge.head()).status).toBe(431);
  });

  it('survives telnet garbage and a client that resets mid-handshake, and serves the next client', async () => {
    const server = await echoServer();
    const garbage = await RawPeer.connect(server.port);
    garbage.write('\x00\x01\x02 hello? \xff\xfe\r\n\r\n');
    await garbage.closed();
    const reset = await RawPeer.connect(server.port);
    reset.write('GET /ws HTTP/1.1\r\nHost: x\r\nUpg');
    reset.socket.resetAndDestroy();
    const upgraded = await RawPeer.upgraded(server.port);
    upgraded.write(Buffer.from([0x81])); // half a frame, then gone
    upgraded.socket.destroy();
    const ws = await wsClient(server.url);
    const reply = nextMessage(ws);
    ws.send('fine');
    expect((await reply).data.toString()).toBe('fine');
  });

  it('serves nothing outside its page: /../, %2e%2e and %00 get 404 or 400', async () => {
    const server = await echoServer();
    const page = await fetch(server.pageUrl);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'none'; script-src 'self'/);
    expect(await page.text()).toContain('<meta name="netlab-ws-path" content="/ws">');
    expect((await fetch(`${server.pageUrl}echo.js`)).status).toBe(200);
    for (const target of ['/../package.json', '/%2e%2e/package.json', '/..%2fpackage.json', '/echo.js%00.html', '/%zz', '/index.html']) {
      const peer = await RawPeer.connect(server.port);
      peer.write(`GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n`);
      expect([400, 404], target).toContain((await peer.head()).status);
    }
  });

  it('terminates a client that stops answering pings within two heartbeat intervals', async () => {
    const server = await echoServer({ heartbeatIntervalMs: 100 });
    const closed = once(server, 'close');
    const silent = await RawPeer.upgraded(server.port); // a raw peer never answers a ping
    const ping = await silent.frame();
    expect(ping.opcode).toBe(OPCODES.ping);
    const [, info] = await closed;
    expect(info.byServer).toEqual({ code: 1006, why: 'no pong within 0.1 s' });
    await silent.closed();
  });

  it('keeps a client that answers pings, as every browser and ws do', async () => {
    const server = await echoServer({ heartbeatIntervalMs: 50 });
    const ws = await wsClient(server.url);
    let pings = 0;
    ws.on('ping', () => pings++);
    await waitUntil(
      () => pings >= 4,
      (check) => (ws.on('ping', check), () => ws.off('ping', check)),
      () => `4 pings, got ${pings}`,
    );
    expect(ws.readyState).toBe(ws.OPEN);
  });

  it('stops reading from a client that does not read its echoes, with its buffer capped, and serves the others', async () => {
    // The heartbeat judges the hog on its second beat, at least one interval after it connects.
    // By then the server must have stalled on it, so the interval is long next to the time the
    // server takes to read 4 MiB (milliseconds, even in a loaded CI run), and the 24 MB are
    // masked before the hog connects, to arrive in one write rather than 400 slow ones.
    const server = await echoServer({ heartbeatIntervalMs: 1000 });
    const closed = once(server, 'close');
    const chunk = Buffer.alloc(60_000, 0x62);
    const frames = Buffer.concat(Array.from({ length: 400 }, () => encodeFrame({ fin: true, opcode: OPCODES.binary, payload: chunk, mask: randomBytes(4) })));
    const hog = await RawPeer.upgraded(server.port);
    hog.socket.pause(); // never reads again
    hog.write(frames); // 24 MB of echoes asked for
    const other = await wsClient(server.url);
    const reply = nextMessage(other);
    other.send('unaffected');
    expect((await reply).data.toString()).toBe('unaffected');
    expect(server.totals.messages).toBeLessThan(400 - 1);
    // Then the heartbeat ends it, and says what was wrong with it.
    const [, info] = await closed;
    expect(info.byServer).toEqual({ code: 1006, why: 'it stopped reading what it was sent' });
  });

  it('closes every client with 1001 when it closes, and closing twice is fine', async () => {
    const server = await echoServer();
    const ws = await wsClient(server.url);
    const clientSaw = new Promise<[number, string]>((resolve) => ws.once('close', (code, reason) => resolve([code, reason.toString()])));
    await Promise.all([server.close(), server.close()]);
    expect(await clientSaw).toEqual([1001, 'server shutting down']);
    await server.close();
  });

  it('ends a close handshake a client starts: its close frame is answered with the same code', async () => {
    const server = await echoServer();
    const peer = await RawPeer.upgraded(server.port);
    peer.sendFrame({ fin: true, opcode: OPCODES.close, payload: closePayload(1000, 'bye') });
    const frame = await peer.frame();
    expect(readClosePayload(frame.payload)).toEqual({ code: 1000, reason: 'bye' });
    await peer.closed();
  });
});
