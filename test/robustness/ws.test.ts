/**
 * ROBUSTNESS.md, WebSocket: every case of the list against the real ws-echo and ws-chat servers
 * (src/ws/) on loopback, with raw TCP peers that write handshakes and frames by hand (RawPeer:
 * what ws would never send) and netlab's own reconnecting chat client. Each test is named by the
 * list's own words (cases.ts) and checks both halves of the rule: the peer that misbehaves
 * loses at most its own connection, and a well-behaved client connected throughout loses nothing.
 *
 * Heartbeats and backoffs are shortened for speed; every wait is for an event, with a hang
 * guard, never a timing threshold. "Within two heartbeat intervals" is counted in pings.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { WebSocketServer } from 'ws';
import { errnoCode } from '../../src/core/errors.js';
import { seededRandom } from '../../src/core/seeded-random.js';
import { backoffDelayMs, type BackoffPolicy } from '../../src/ws/backoff.js';
import { openChatClient, type ChatClient as NetlabChatClient, type ChatClientOptions } from '../../src/ws/chat-client.js';
import { MAX_QUEUED_MESSAGES } from '../../src/ws/chat-outbox.js';
import type { ChatLine } from '../../src/ws/chat-protocol.js';
import { startWsChatServer, type WsChatServer } from '../../src/ws/chat-server.js';
import type { WsCloseInfo } from '../../src/ws/connection-end.js';
import type { WsEchoServer } from '../../src/ws/echo-server.js';
import { OPCODES, closePayload, decodeFrame, encodeFrame, readClosePayload, type Frame } from '../../src/ws/frame.js';
import { openWsClient } from '../../src/ws/ws-client.js';
import { MAX_FRAGMENTS, type WsPeer } from '../../src/ws/ws-listener.js';
import { freePort } from '../support/free-port.js';
import { NO_THROTTLE, chatServer, connect, joined, recordEvents } from '../ws/chat-support.js';
import { RawPeer, echoServer, nextMessage, waitUntil, wsClient } from '../ws/ws-support.js';
import { WS } from './cases.js';

type Lab = 'ws-echo' | 'ws-chat';
type LabServer = WsEchoServer | WsChatServer;
const LABS: Lab[] = ['ws-echo', 'ws-chat'];

interface LabOptions {
  maxMessageBytes?: number;
  heartbeatIntervalMs?: number;
  allowOrigins?: string[];
}

/** Either lab's server on 127.0.0.1, port 0, path /ws; closed when the test finishes. */
function labServer(lab: Lab, options: LabOptions = {}): Promise<LabServer> {
  return lab === 'ws-echo' ? echoServer(options) : chatServer(options);
}

/** The server's 'close' events (either lab), with the peer each was for. */
function closesOf(server: LabServer): { seen: Array<[WsPeer, WsCloseInfo]>; until: (peer: () => WsPeer | undefined) => Promise<WsCloseInfo> } {
  const seen: Array<[WsPeer, WsCloseInfo]> = [];
  const emitter = server as unknown as NodeJS.EventEmitter;
  // ws-echo says (peer, info), ws-chat (conn, info) with conn.peer.
  emitter.on('close', (who: WsPeer | { peer: WsPeer }, info: WsCloseInfo) => seen.push(['peer' in who ? who.peer : who, info]));
  return {
    seen,
    until: async (peer) => {
      const find = () => seen.find(([p]) => p === peer())?.[1];
      await waitUntil(
        () => find() !== undefined,
        (check) => (emitter.on('close', check), () => emitter.off('close', check)),
        () => `the server's close of that peer; it reported ${seen.length} closes`,
      );
      return find()!;
    },
  };
}

/** The peers of the server's connections, in order of arrival. */
function peersOf(server: LabServer): WsPeer[] {
  const peers: WsPeer[] = [];
  (server as unknown as NodeJS.EventEmitter).on('connection', (peer: WsPeer) => peers.push(peer));
  return peers;
}

/**
 * A well-behaved client, connected before the misbehaviour starts: `check()` proves it still
 * gets answers (an echo, or its own chat message back).
 */
async function bystander(server: LabServer, lab: Lab): Promise<{ check: () => Promise<void> }> {
  let sent = 0;
  if (lab === 'ws-echo') {
    const ws = await wsClient(server.url);
    return {
      check: async () => {
        const text = `still here ${sent++}`;
        const reply = nextMessage(ws);
        ws.send(text);
        expect((await reply).data.toString()).toBe(text);
      },
    };
  }
  const client = await joined(server as WsChatServer, { name: 'bystander' });
  return {
    check: async () => {
      const text = `still here ${sent++}`;
      const from = client.mark();
      client.send({ type: 'message', text });
      await client.waitFor((m) => m.type === 'message' && m.text === text, from);
    },
  };
}

/**
 * Sends a raw request, then FIN, and reads everything until the server closes: the answer's
 * status, or undefined when it closed without one.
 */
async function rawAnswer(port: number, request: string | Buffer): Promise<{ status: number | undefined; text: string }> {
  const peer = await RawPeer.connect(port);
  peer.socket.end(request);
  const text = await peer.text();
  const status = /^HTTP\/1\.1 (\d{3}) /.exec(text)?.[1];
  return { status: status === undefined ? undefined : Number(status), text };
}

/** A hand-made upgrade request; `drop` leaves headers out, `extra` adds some. */
function upgradeRequest(options: { method?: string; path?: string; drop?: string[]; extra?: string[] } = {}): string {
  const headers = [
    'Host: 127.0.0.1',
    'Upgrade: websocket',
    'Connection: Upgrade',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version: 13',
  ].filter((line) => !(options.drop ?? []).some((name) => line.startsWith(`${name}:`)));
  return `${options.method ?? 'GET'} ${options.path ?? '/ws'} HTTP/1.1\r\n${[...headers, ...(options.extra ?? [])].join('\r\n')}\r\n\r\n`;
}

/** Every frame a raw peer receives, decoded from its socket's bytes once it has closed. */
function framesOf(peer: RawPeer): () => Frame[] {
  let bytes = Buffer.alloc(0);
  peer.socket.on('data', (chunk: Buffer) => (bytes = Buffer.concat([bytes, chunk])));
  return () => {
    const frames: Frame[] = [];
    for (let rest = bytes; ; ) {
      const decoded = decodeFrame(rest);
      if (!decoded) return frames;
      frames.push(decoded.frame);
      rest = rest.subarray(decoded.size);
    }
  };
}

/** The server's 'error' events: a misbehaving peer must never cause one. */
function serverErrors(server: LabServer): Error[] {
  const errors: Error[] = [];
  (server as unknown as NodeJS.EventEmitter).on('error', (err: Error) => errors.push(err));
  return errors;
}

describe(WS.protocolErrors.when, () => {
  for (const lab of LABS) {
    it(`${lab}: ${WS.protocolErrors.then}`, async () => {
      const server = await labServer(lab, { maxMessageBytes: 1000 });
      const errors = serverErrors(server);
      const other = await bystander(server, lab);
      const text = (payload: Buffer, fin = true): Omit<Frame, 'mask'> => ({ fin, opcode: OPCODES.text, payload });
      const cases: Array<[string, number, (peer: RawPeer) => void]> = [
        ['an unmasked frame', 1002, (peer) => peer.sendFrame(text(Buffer.from('no mask')), false)],
        ['invalid UTF-8 in a text frame', 1007, (peer) => peer.sendFrame(text(Buffer.from([0x68, 0xc3, 0x28])))],
        ['a message over the size limit', 1009, (peer) => peer.sendFrame(text(Buffer.alloc(1001, 0x61)))],
        [
          'a message over the size limit in fragments',
          1009,
          (peer) => {
            peer.sendFrame(text(Buffer.alloc(600, 0x61), false));
            peer.sendFrame({ fin: true, opcode: OPCODES.continuation, payload: Buffer.alloc(600, 0x61) });
          },
        ],
        [
          'too many fragments',
          1008,
          (peer) => {
            peer.sendFrame(text(Buffer.from('a'), false));
            for (let i = 0; i < MAX_FRAGMENTS; i++) peer.sendFrame({ fin: false, opcode: OPCODES.continuation, payload: Buffer.alloc(0) });
          },
        ],
        // Four bytes from telnet after the handshake: 'h' (0x68) is a frame with RSV1 and RSV2 set.
        ['four bytes of telnet', 1002, (peer) => peer.write('hi\r\n')],
      ];
      for (const [what, code, send] of cases) {
        const peer = await RawPeer.upgraded(server.port);
        send(peer);
        const frame = await peer.frame();
        expect([what, frame.opcode, readClosePayload(frame.payload).code]).toEqual([what, OPCODES.close, code]);
        await peer.closed();
        await other.check();
      }
      // Four bytes of telnet before any handshake, too: not even HTTP.
      expect((await rawAnswer(server.port, 'hi\r\n')).status).toBe(400);
      await other.check();
      expect(errors).toEqual([]);
    });
  }
});

describe(WS.notAnUpgrade.when, () => {
  for (const lab of LABS) {
    it(`${lab}: ${WS.notAnUpgrade.then}`, async () => {
      const server = await labServer(lab);
      const errors = serverErrors(server);
      const other = await bystander(server, lab);
      const requests: Array<[string, string | Buffer, number]> = [
        ['a plain GET', 'GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n', 426],
        ['a plain POST', 'POST /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello', 426],
        ['a POST upgrade', upgradeRequest({ method: 'POST' }), 405],
        ['telnet garbage', Buffer.from('\x00\x01\x02 hello? \xff\xfe\r\n\r\n', 'latin1'), 400],
        ['a missing key', upgradeRequest({ drop: ['Sec-WebSocket-Key'] }), 400],
        ['a key that is not 16 bytes', upgradeRequest({ drop: ['Sec-WebSocket-Key'], extra: ['Sec-WebSocket-Key: c2hvcnQ='] }), 400],
        ['a missing version', upgradeRequest({ drop: ['Sec-WebSocket-Version'] }), 400],
        ['a wrong version', upgradeRequest({ drop: ['Sec-WebSocket-Version'], extra: ['Sec-WebSocket-Version: 12'] }), 426],
        ['Upgrade: something else', upgradeRequest({ drop: ['Upgrade'], extra: ['Upgrade: h2c'] }), 400],
        ['another path', upgradeRequest({ path: '/chat' }), 404],
        ['half a request, then FIN', 'GET /ws HTTP/1.1\r\nHost: 127', 400],
      ];
      for (const [what, request, status] of requests) {
        const answer = await rawAnswer(server.port, request);
        expect([what, answer.status]).toEqual([what, status]);
        await other.check();
      }
      expect(errors).toEqual([]);
    });
  }
});

describe(WS.foreignOrigin.when, () => {
  for (const lab of LABS) {
    it(`${lab}: ${WS.foreignOrigin.then}`, async () => {
      const server = await labServer(lab);
      for (const origin of ['http://evil.example', 'null', `https://127.0.0.1:${server.port}`, `http://127.0.0.1:${server.port + 1}`]) {
        const answer = await rawAnswer(server.port, upgradeRequest({ extra: [`Origin: ${origin}`] }));
        expect([origin, answer.status]).toEqual([origin, 403]);
        expect(answer.text).toContain(`Origin ${origin} is not allowed`);
      }
      await wsClient(server.url); // no Origin: the CLI
      await wsClient(server.url, { origin: `http://127.0.0.1:${server.port}` }); // the page's own
      const open = await labServer(lab, { allowOrigins: ['http://evil.example'] });
      await wsClient(open.url, { origin: 'http://evil.example' }); // explicitly allowed
      expect((await rawAnswer(open.port, upgradeRequest({ extra: ['Origin: http://other.example'] }))).status).toBe(403);
    });
  }
});

describe(WS.markupInChat.when, () => {
  it(WS.markupInChat.then, async () => {
    const markup = '<img src=x onerror=alert(1)>';
    const server = await chatServer();
    const alice = await joined(server, { name: 'alice' });
    const bob = await joined(server, { name: 'bob' });
    // The server passes the text on as it is, in JSON; the page must show it as text.
    alice.send({ type: 'message', text: markup });
    expect(await bob.waitFor('message')).toMatchObject({ from: 'alice', text: markup });
    // A name with markup is refused, with the reason.
    const mallory = await connect(server);
    mallory.send({ type: 'join', name: markup });
    expect(await mallory.waitFor('error')).toMatchObject({ field: 'name' });

    // The page: served with a CSP that runs only the page's own scripts, none inline.
    const page = await fetch(server.pageUrl);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/(^|; )default-src 'none'(;|$)/);
    expect(csp).toMatch(/(^|; )script-src 'self'(;|$)/);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    const html = await page.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i); // no inline script
    expect(html).not.toMatch(/\son[a-z]+\s*=/i); // no inline handler
    const scripts = [...html.matchAll(/<script[^>]*\bsrc="([^"]+)"/gi)].map((m) => m[1]!);
    expect(scripts.length).toBeGreaterThan(0);
    for (const src of scripts) {
      const script = await (await fetch(new URL(src, server.pageUrl))).text();
      // Text from the network goes in with textContent; nothing in the script parses HTML.
      expect(script, src).not.toMatch(/\.(innerHTML|outerHTML)\s*\+?=|insertAdjacentHTML|document\.write|createContextualFragment|DOMParser|\beval\(|new Function\(/);
      expect(script, src).toMatch(/\.textContent = text/);
    }
  });
});

describe(WS.pathTraversal.when, () => {
  for (const lab of LABS) {
    it(`${lab}: ${WS.pathTraversal.then}`, async () => {
      const server = await labServer(lab);
      const targets = [
        '/../package.json',
        '/..%2fpackage.json',
        '/%2e%2e/package.json',
        '/%2e%2e%2f%2e%2e%2fpackage.json',
        '/%252e%252e/package.json',
        '/./../../package.json',
        '/ws/../../package.json',
        '/../../../../../../etc/passwd',
        '//etc/passwd',
        '/..\\package.json',
        '/index.html%00',
        '/%00',
        '/favicon.svg%00.html',
        '/%zz',
        `/pages/${lab}/index.html`,
        '/index.html',
        '/src/ws/pages.ts',
        '/.git/config',
      ];
      for (const target of targets) {
        const answer = await rawAnswer(server.port, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
        expect([400, 404], target).toContain(answer.status);
        expect(answer.text, target).not.toMatch(/"name": "netlab"|root:|\[core\]|import /);
      }
      expect((await fetch(server.pageUrl)).status).toBe(200); // the page itself is still served
    });
  }
});

describe(WS.stopsReading.when, () => {
  it(`ws-chat: ${WS.stopsReading.then}`, async () => {
    const MAX_QUEUE_BYTES = 64 * 1024;
    const MAX_FLOOD_BYTES = 64 * 1024 * 1024; // hang guard: far more than the kernel buffers hold
    const server = await chatServer({ maxQueueBytes: MAX_QUEUE_BYTES });
    const peers = peersOf(server);
    const closes = closesOf(server);
    const lazy = await RawPeer.upgraded(server.port);
    lazy.sendFrame({ fin: true, opcode: OPCODES.text, payload: Buffer.from(JSON.stringify({ type: 'join', name: 'lazy' })) });
    for (let i = 0; i < 3; i++) await lazy.frame(); // joined, history, users: the last it reads
    lazy.socket.pause(); // reads nothing more: the kernel buffers fill, then the server's queue
    const lazyPeer = peers[0]!;
    let got = 0;
    const reader = await joined(server, { name: 'reader' }, { keep: false, onMessage: (m) => m.type === 'message' && got++ });
    const flooder = await joined(server, { name: 'flooder' }, { keep: false });
    const pad = '🙂'.repeat(990); // about 4 KB a message, under the 1,000 characters of a text
    let sent = 0;
    while (!closes.seen.some(([p]) => p === lazyPeer) && !lazyPeer.notReading) {
      if (sent * 4000 > MAX_FLOOD_BYTES) throw new Error(`flooded ${sent} messages and lazy was never cut off`);
      for (let k = 0; k < 16; k++) flooder.send({ type: 'message', text: `${sent++} ${pad}` });
      await reader.until(() => got >= sent, `${sent} messages`);
    }
    // Sent close 1008, which it does not read either: dropped after the grace period.
    const info = await closes.until(() => lazyPeer);
    expect(info.byServer).toEqual({ code: 1008, why: 'not reading: more than 65,536 bytes waited for it' });
    expect(info.code, 'no close frame came back').toBe(1006);
    lazy.socket.resume();
    await lazy.closed();
    for (let k = 0; k < 16; k++) flooder.send({ type: 'message', text: `${sent++} after` });
    await reader.until(() => got >= sent, `${sent} messages`);
    expect(got).toBe(sent);
    expect(server.manager.userCount).toBe(2);
  });

  it(`ws-echo: ${WS.stopsReading.then}`, async () => {
    // The heartbeat judges the hog at its second beat; the interval is long next to the time
    // the server takes to read the 4 MiB that fill the hog's buffer (see echo-server.test.ts).
    const server = await echoServer({ heartbeatIntervalMs: 1000 });
    const closes = closesOf(server);
    const peers = peersOf(server);
    const chunk = Buffer.alloc(60_000, 0x62);
    const frames = Buffer.concat(Array.from({ length: 400 }, () => encodeFrame({ fin: true, opcode: OPCODES.binary, payload: chunk, mask: randomBytes(4) })));
    const hog = await RawPeer.upgraded(server.port);
    hog.socket.pause(); // never reads again
    hog.write(frames); // 24 MB of echoes asked for
    const other = await bystander(server, 'ws-echo');
    await other.check();
    // Its echoes are held to MAX_BUFFERED_BYTES: the server stopped reading what it sent.
    expect(server.totals.messages).toBeLessThan(400 - 1);
    const info = await closes.until(() => peers[0]);
    expect(info.byServer).toEqual({ code: 1006, why: 'it stopped reading what it was sent' });
    hog.socket.resume();
    await hog.closed();
    await other.check();
  });
});

describe(WS.ignoresPings.when, () => {
  for (const lab of LABS) {
    it(`${lab}: ${WS.ignoresPings.then}`, async () => {
      const server = await labServer(lab, { heartbeatIntervalMs: 100 });
      const closes = closesOf(server);
      const peers = peersOf(server);
      const good = await wsClient(server.url); // ws answers every ping
      let pings = 0;
      good.on('ping', () => pings++);
      const silent = await RawPeer.upgraded(server.port); // a raw peer never answers one
      const frames = framesOf(silent);
      const info = await closes.until(() => peers[1]);
      expect(info.byServer).toEqual({ code: 1006, why: 'no pong within 0.1 s' });
      await silent.closed();
      // Terminated at the beat after its first unanswered ping: within two intervals.
      expect(frames().map((f) => f.opcode)).toEqual([OPCODES.ping]);
      await waitUntil(
        () => pings >= 3,
        (check) => (good.on('ping', check), () => good.off('ping', check)),
        () => `3 pings to the good client, got ${pings}`,
      );
      expect(good.readyState).toBe(good.OPEN);
    });
  }
});

describe(WS.badClose.when, () => {
  for (const lab of LABS) {
    it(`${lab} (a peer's close frame): ${WS.badClose.then}`, async () => {
      const server = await labServer(lab, { heartbeatIntervalMs: 100 });
      const closes = closesOf(server);
      const peers = peersOf(server);
      const other = await bystander(server, lab);
      const cases: Array<[string, Buffer, number]> = [
        ['a reason of 124 bytes (a control frame over 125)', closePayload(1000, 'r'.repeat(124)), 1002],
        ['one byte', Buffer.from([0x03]), 1002],
        ...[0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535].map((code): [string, Buffer, number] => [`code ${code}`, closePayload(code, 'x'), 1002]),
        ['a reason that is not UTF-8', Buffer.concat([closePayload(1000), Buffer.from([0xc3, 0x28])]), 1007],
      ];
      for (const [what, payload, code] of cases) {
        // A peer that keeps its side open and never answers: the server must not wait on it forever.
        const peer = await RawPeer.upgraded(server.port);
        peer.socket.allowHalfOpen = true;
        const ended = once(peer.socket, 'end');
        const frames = framesOf(peer);
        const index = peers.length - 1;
        peer.sendFrame({ fin: true, opcode: OPCODES.close, payload });
        const info = await closes.until(() => peers[index]);
        expect([what, info.byServer?.code]).toEqual([what, code]);
        await ended;
        expect([what, frames().find((f) => f.opcode === OPCODES.close)?.payload.readUInt16BE(0)]).toEqual([what, code]);
      }
      // The longest valid reason, 123 bytes, is answered with the same code and reason.
      const valid = await RawPeer.upgraded(server.port);
      valid.sendFrame({ fin: true, opcode: OPCODES.close, payload: closePayload(4000, 'é'.repeat(61) + 'x') });
      expect(readClosePayload((await valid.frame()).payload)).toEqual({ code: 4000, reason: 'é'.repeat(61) + 'x' });
      await valid.closed();
      await other.check();
    });
  }

  it(`netlab's client: ${WS.badClose.then}`, async () => {
    const server = await echoServer();
    const client = await openWsClient({ url: server.url });
    onTestFinished(() => client.terminate());
    client.resume();
    for (const [code, reason] of [[1006, ''], [1005, ''], [999, ''], [5000, ''], [1000, 'x'.repeat(124)], [1000, 'é'.repeat(62)]] as const) {
      expect(() => client.close(code, reason), `close(${code}, ${reason.length} chars)`).toThrow(RangeError);
      expect(client.open).toBe(true); // nothing was sent: not left in CLOSING
    }
    const reply = once(client, 'message');
    void client.send('still open');
    expect(String((await reply)[0])).toBe('still open');
    expect(await client.close(1000, 'y'.repeat(123))).toEqual({ code: 1000, reason: 'y'.repeat(123) });
  });
});

/** A chat server on `port`, retrying while the old one's port is not free yet; closed when the test finishes. */
async function chatServerOn(port: number): Promise<WsChatServer> {
  for (let tries = 1; ; tries++) {
    try {
      const server = await startWsChatServer({ host: '127.0.0.1', port, path: '/ws', rate: NO_THROTTLE });
      onTestFinished(() => server.close());
      return server;
    } catch (err) {
      if (errnoCode(err) !== 'EADDRINUSE' || tries === 50) throw err;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/** A netlab chat client, joined; closed when the test finishes. */
async function netlabClient(url: string, options: Partial<ChatClientOptions>): Promise<NetlabChatClient> {
  const client = await openChatClient({ url, ...options });
  onTestFinished(() => client.close());
  await client.join();
  return client;
}

/** Waits for a client's event, with a hang guard naming it. */
function nextEvent<T extends unknown[]>(client: NetlabChatClient, event: 'lost' | 'restored' | 'retrying' | 'ended', accept: (...args: T) => boolean = () => true): Promise<T> {
  let found: T | undefined;
  const emitter = client as unknown as NodeJS.EventEmitter;
  const listener = (...args: unknown[]) => (found ??= accept(...(args as T)) ? (args as T) : undefined);
  emitter.on(event, listener);
  return waitUntil(
    () => found !== undefined,
    (check) => (emitter.on(event, check), () => emitter.off(event, check)),
    () => `the client's '${event}' event`,
  ).then(
    () => (emitter.off(event, listener), found!),
    (err: unknown) => (emitter.off(event, listener), Promise.reject(err)),
  );
}

/** The retry delays a client draws, by attempt, from its own seeded random numbers. */
function recordRetries(client: NetlabChatClient): Array<[attempt: number, delayMs: number]> {
  const retries: Array<[number, number]> = [];
  client.on('retrying', (attempt, delayMs) => retries.push([attempt, delayMs]));
  return retries;
}

describe(WS.serverRestarts.when, () => {
  it(WS.serverRestarts.then, async () => {
    const policy: BackoffPolicy = { firstMs: 20, maxMs: 80 };
    const port = await freePort();
    const first = await chatServerOn(port);
    const alice = await netlabClient(first.url, { name: 'alice', room: 'games', backoff: policy, random: seededRandom(1) });
    const carol = await netlabClient(first.url, { name: 'carol', room: 'other', backoff: policy, random: seededRandom(2) });
    const retries = recordRetries(alice);

    const lost = Promise.all([nextEvent(alice, 'lost'), nextEvent(carol, 'lost')]);
    await first.close();
    expect((await lost)[0]).toEqual([1001, 'server shutting down']);
    // send() never throws: while away it queues, up to a bound, then says the queue is full.
    const typed = Array.from({ length: 5 }, (_, i) => `typed while down ${i}`);
    expect(typed.map((text) => alice.send({ type: 'message', text }))).toEqual(typed.map(() => 'queued'));
    const outcomes = Array.from({ length: MAX_QUEUED_MESSAGES + 1 }, (_, i) => carol.send({ type: 'message', text: `c${i}` }));
    expect(outcomes.filter((o) => o === 'queued')).toHaveLength(MAX_QUEUED_MESSAGES);
    expect(outcomes.at(-1)).toBe('full');
    // Down long enough for a few refused attempts, each waiting longer, up to the cap.
    await nextEvent(alice, 'retrying', (attempt: number) => attempt === 5);

    const restored = Promise.all([nextEvent<[number]>(alice, 'restored'), nextEvent<[number]>(carol, 'restored')]);
    const second = await chatServerOn(port);
    const [[sentByAlice], [sentByCarol]] = await restored;
    expect([sentByAlice, sentByCarol]).toEqual([5, MAX_QUEUED_MESSAGES]);
    expect([alice.currentName, alice.currentRoom, carol.currentName, carol.currentRoom]).toEqual(['alice', 'games', 'carol', 'other']);
    await Promise.all([alice.settled(), carol.settled()]);
    expect([alice.unconfirmedCount, carol.unconfirmedCount]).toEqual([0, 0]);

    // Each queued message reached the room once, in order: a newcomer finds them in its history.
    const observer = await joined(second, { name: 'observer', room: 'games' });
    const history = observer.all('history')[0]!.messages as ChatLine[];
    expect(history.map((m) => [m.from, m.text])).toEqual(typed.map((text) => ['alice', text]));

    // The schedule: a random first delay under firstMs, then half to all of a doubling ceiling, capped.
    expect(retries.slice(0, 5).map(([attempt]) => attempt)).toEqual([1, 2, 3, 4, 5]);
    for (const [attempt, delayMs] of retries) {
      const ceilingMs = attempt === 1 ? policy.firstMs : Math.min(policy.maxMs, policy.firstMs * 2 ** (attempt - 1));
      expect(delayMs, `attempt ${attempt}`).toBeGreaterThanOrEqual(attempt === 1 ? 0 : ceilingMs / 2);
      expect(delayMs, `attempt ${attempt}`).toBeLessThanOrEqual(attempt === 1 ? policy.firstMs - 1 : ceilingMs);
    }
    expect(Math.max(...retries.map(([, delayMs]) => delayMs))).toBeLessThanOrEqual(policy.maxMs);

    // And after close(), send() still does not throw.
    await alice.close();
    expect(alice.send({ type: 'message', text: 'after close' })).toBe('full');
  });
});

describe(WS.silentUpgrade.when, () => {
  it(WS.silentUpgrade.then, async () => {
    const port = await freePort();
    const first = await chatServerOn(port);
    const alice = await netlabClient(first.url, { name: 'alice', handshakeTimeoutMs: 100, backoff: { firstMs: 20, maxMs: 50 } });
    const lost = nextEvent(alice, 'lost');
    await first.close();
    await lost;

    // A TCP server on the chat's port that takes connections, reads, and never answers.
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => (sockets.add(socket), socket.on('error', () => {})));
    onTestFinished(() => {
      for (const socket of sockets) socket.destroy();
      if (silent.listening) silent.close();
    });
    await new Promise<void>((resolve) => silent.listen(port, '127.0.0.1', resolve));
    const failures: Error[] = [];
    alice.on('retrying', (_attempt, _delay, failure) => failure && failures.push(failure));
    const timedOut = (err: Error) => /did not answer the handshake within 100 ms/.test(err.message);
    await waitUntil(
      () => failures.filter(timedOut).length >= 2,
      (check) => (alice.on('retrying', check), () => alice.off('retrying', check)),
      () => `two timed-out attempts; failures: ${failures.map((f) => f.message).join(' | ')}`,
    );
    expect(failures.filter(timedOut)[0]).toMatchObject({ code: 'NETLAB_ERR_HANDSHAKE_TIMEOUT' });
    expect(sockets.size).toBeGreaterThanOrEqual(2); // each attempt was a new connection
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));

    const restored = nextEvent(alice, 'restored');
    await chatServerOn(port);
    await restored;
    expect(alice.connected).toBe(true);
    expect(alice.currentName).toBe('alice');
  });
});

describe(WS.reconnectStorm.when, () => {
  it(WS.reconnectStorm.then, async () => {
    const CLIENTS = 50;
    const policy: BackoffPolicy = { firstMs: 500, maxMs: 1000 };
    const port = await freePort();
    const first = await chatServerOn(port);
    // Each client draws from its own seeded random numbers, as each process would from Math.random.
    // Fifty draws in a 500 ms window may well share a millisecond (the birthday problem); with
    // these fixed seeds they do not, so distinct delays show each client waits its own draw.
    const SEEDS = 11_000;
    const clients = await Promise.all(
      Array.from({ length: CLIENTS }, (_, i) => netlabClient(first.url, { name: `user${i}`, room: `room${i % 5}`, backoff: policy, random: seededRandom(SEEDS + i) })),
    );
    const firstDelays = new Map<number, number>();
    clients.forEach((c, i) => c.on('retrying', (attempt, delayMs) => attempt === 1 && firstDelays.set(i, delayMs)));
    const restored = Promise.all(clients.map((c) => nextEvent(c, 'restored')));
    await first.close();
    const second = await chatServerOn(port);
    await restored;
    expect(second.manager.userCount).toBe(CLIENTS);
    expect(clients.map((c, i) => [c.currentName, c.currentRoom, c.connected])).toEqual(clients.map((_, i) => [`user${i}`, `room${i % 5}`, true]));
    // Spread: every first attempt at its own delay, across the whole first window.
    const delays = [...firstDelays.values()];
    expect(delays).toHaveLength(CLIENTS);
    expect(new Set(delays).size).toBe(CLIENTS);
    for (const [i, delayMs] of firstDelays) expect(delayMs).toBe(backoffDelayMs(1, policy, seededRandom(SEEDS + i)()));
    expect(Math.min(...delays)).toBeLessThan(policy.firstMs / 4);
    expect(Math.max(...delays)).toBeGreaterThan((policy.firstMs * 3) / 4);
  });
});

describe(WS.noDeflate.when, () => {
  it('no server accepts permessage-deflate, and netlab\'s client never offers it', async () => {
    for (const lab of LABS) {
      const server = await labServer(lab);
      const peer = await RawPeer.connect(server.port);
      const response = await peer.handshake('/ws', ['Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits, permessage-deflate']);
      expect(response.status).toBe(101);
      expect(response.headers.has('sec-websocket-extensions'), lab).toBe(false);
      // A compressed frame (RSV1) is then a protocol error, not something to inflate.
      const compressed = encodeFrame({ fin: true, opcode: OPCODES.text, payload: Buffer.from([0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]), mask: randomBytes(4) });
      compressed[0]! |= 0x40; // RSV1: "Hello", deflated
      peer.write(compressed);
      expect(readClosePayload((await peer.frame()).payload).code).toBe(1002);
    }
    // What netlab's own clients ask for: a plain ws server that records the request.
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    onTestFinished(() => new Promise<void>((resolve) => wss.close(() => resolve())));
    await once(wss, 'listening');
    const offered: Array<string | undefined> = [];
    wss.on('connection', (ws, req) => {
      offered.push(req.headers['sec-websocket-extensions']);
      ws.close();
    });
    const { port } = wss.address() as net.AddressInfo;
    const client = await openWsClient({ url: `ws://127.0.0.1:${port}/` });
    onTestFinished(() => client.terminate());
    client.resume();
    await client.whenClosed();
    expect(offered).toEqual([undefined]);
  });
});
