/**
 * The ws-chat server on loopback (src/ws/chat-server.ts, lesson 05): real ws clients that
 * speak the JSON protocol, and raw TCP peers for a client that stops reading. The cases are
 * ROBUSTNESS.md's: the peer that misbehaves gets a clear message and loses at most its own
 * connection; every other peer loses nothing. The rate-limit test fakes the clock (setTimeout
 * and Date only: the sockets stay real) so that it needs no real waiting.
 */
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import WebSocket from 'ws';
import type { ServerMessage } from '../../src/ws/chat-protocol.js';
import { MAX_MESSAGE_BYTES, type WsChatServer } from '../../src/ws/chat-server.js';
import { OPCODES } from '../../src/ws/frame.js';
import { CLOSE_GRACE_MS, type WsPeer } from '../../src/ws/ws-listener.js';
import { ChatClient, chatServer, connect, joined, recordEvents } from './chat-support.js';
import { RawPeer, waitUntil } from './ws-support.js';

/** Fakes setTimeout and Date (the throttle's timer and token bucket) until the test ends. */
function fakeClock(): void {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: Date.now() });
  onTestFinished(() => {
    vi.useRealTimers();
  });
}

/** The chat messages a client received, as "from: text". */
function said(client: ChatClient): string[] {
  return client.all('message').map((m) => `${m.from}: ${m.text}`);
}

/** The presence notices a client received, as "event name@room". */
function presences(client: ChatClient): string[] {
  return client.all('notice').flatMap((n) => (n.presence ? [`${n.presence.event} ${n.presence.name}@${n.room}`] : []));
}

describe('ws-chat server', () => {
  it('listens on the port the system picked; two clients join, talk, whisper and list the room', async () => {
    const server = await chatServer();
    expect(server.url).toBe(`ws://127.0.0.1:${server.port}/ws`);
    const alice = await joined(server, { name: 'alice' });
    expect(alice.messages.slice(0, 3)).toEqual([
      { type: 'joined', name: 'alice', room: 'lobby', token: expect.stringMatching(/^[0-9a-f]{32}$/) },
      { type: 'history', room: 'lobby', messages: [] },
      { type: 'users', room: 'lobby', users: ['alice'] },
    ]);
    const bob = await joined(server, { name: 'bob' });
    await alice.waitFor((m) => m.type === 'notice' && m.presence?.name === 'bob');

    alice.send({ type: 'message', text: 'hi bob', id: '1' });
    expect(await bob.waitFor('message')).toEqual({ type: 'message', room: 'lobby', from: 'alice', text: 'hi bob', time: expect.any(String) });
    expect(await alice.waitFor('message')).toMatchObject({ from: 'alice', text: 'hi bob', id: '1' });

    bob.send({ type: 'private', to: 'alice', text: 'psst', id: '2' });
    expect(await alice.waitFor('private')).toEqual({ type: 'private', from: 'bob', to: 'alice', text: 'psst', time: expect.any(String) });
    expect(await bob.waitFor('private')).toMatchObject({ from: 'bob', to: 'alice', id: '2' });

    const from = bob.mark();
    bob.send({ type: 'users', id: 'u' });
    expect(await bob.waitFor('users', from)).toEqual({ type: 'users', room: 'lobby', users: ['alice', 'bob'], id: 'u' });
  });

  it('lets a second connection with the token share the name: one presence notice, and both get private messages', async () => {
    const server = await chatServer();
    const bob = await joined(server, { name: 'bob' });
    const tab1 = await joined(server, { name: 'alice' });
    const tab2 = await joined(server, { name: 'alice', token: tab1.token });
    expect([tab2.name, tab2.token]).toEqual(['alice', tab1.token]);
    expect(tab2.all('users')).toEqual([{ type: 'users', room: 'lobby', users: ['alice', 'bob'] }]);
    bob.send({ type: 'private', to: 'alice', text: 'both tabs' });
    expect(await tab1.waitFor('private')).toMatchObject({ from: 'bob', text: 'both tabs' });
    expect(await tab2.waitFor('private')).toMatchObject({ from: 'bob', text: 'both tabs' });
    // A message after the second join: had bob been told twice, he would know by now.
    tab1.send({ type: 'message', text: 'after' });
    await bob.waitFor('message');
    expect(presences(bob)).toEqual(['join alice@lobby']);
  });
});

describe('messages the server cannot use', () => {
  it('answers each invalid message with an error naming the problem, and the connection keeps working', async () => {
    const server = await chatServer();
    const rejected = recordEvents(server, 'rejected');
    const bob = await joined(server, { name: 'bob' });
    const client = await connect(server);

    const cases: Array<[string, () => void, Partial<Extract<ServerMessage, { type: 'error' }>>]> = [
      ['a message before joining', () => client.send({ type: 'message', text: 'hi', id: 'early' }), { code: 'join-first', id: 'early' }],
      ['the join', () => client.send({ type: 'join', name: 'alice' }), {}],
      ['invalid JSON', () => client.sendRaw('{"type": "message", "text": '), { code: 'bad-json' }],
      ['JSON that is not an object', () => client.sendRaw('[1, 2]'), { code: 'not-an-object' }],
      ['a binary message', () => client.sendRaw(Buffer.from('{"type":"users"}'), true), { code: 'binary' }],
      ['an unknown type', () => client.send({ type: 'shout', text: 'HI', id: 'u1' }), { code: 'unknown-type', field: 'type', id: 'u1' }],
      ['a missing field', () => client.send({ type: 'private', text: 'psst', id: 'm1' }), { code: 'missing-field', field: 'to', id: 'm1' }],
      ['a field of the wrong type', () => client.send({ type: 'message', text: 42 }), { code: 'bad-field', field: 'text' }],
      ['an oversized field', () => client.send({ type: 'message', text: 'x'.repeat(1001), id: 'o1' }), { code: 'too-long', field: 'text', id: 'o1' }],
    ];
    for (const [what, send, expected] of cases) {
      const from = client.mark();
      send();
      if (what === 'the join') {
        await client.waitFor('users', from);
        continue;
      }
      const error = await client.waitFor('error', from);
      expect(error, what).toMatchObject(expected);
      expect(error.text.length, `${what}: the error says what was wrong`).toBeGreaterThan(10);
    }
    expect(rejected.seen.map(([, error]) => error.code)).toEqual([
      'join-first',
      'bad-json',
      'not-an-object',
      'binary',
      'unknown-type',
      'missing-field',
      'bad-field',
      'too-long',
    ]);

    client.send({ type: 'message', text: 'still here', id: 'ok' });
    expect(await client.waitFor('message')).toMatchObject({ from: 'alice', text: 'still here', id: 'ok' });
    await bob.waitFor('message');
    expect(said(bob), 'none of the invalid messages reached the room').toEqual(['alice: still here']);
    expect(client.closed).toBeUndefined();
  });

  it('accepts the largest valid message under its default size limit, however the JSON escapes it', async () => {
    const server = await chatServer();
    const alice = await joined(server, { name: 'alice' });
    // 1000 emoji, each written as a \\ud83d\\ude42 surrogate pair escape: 12 bytes a character.
    const escape = (text: string) => Array.from({ length: text.length }, (_, i) => `\\u${text.charCodeAt(i).toString(16).padStart(4, '0')}`).join('');
    const text = '🙂'.repeat(1000);
    const raw = `{"type":"message","text":"${escape(text)}","id":"${'i'.repeat(64)}"}`;
    expect(Buffer.byteLength(raw)).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    alice.sendRaw(raw);
    expect(await alice.waitFor('message')).toMatchObject({ text, id: 'i'.repeat(64) });
  });

  it('closes 1009 on a message over maxMessageBytes, tells the room, and keeps serving everyone else', async () => {
    const server = await chatServer({ maxMessageBytes: 2000 });
    const closes = recordEvents(server, 'close');
    const other = await joined(server, { name: 'other' });
    const big = await joined(server, { name: 'big' });
    big.send({ type: 'message', text: '🙂'.repeat(600) }); // a valid message, but 2,400 bytes and more
    expect((await big.waitForClose()).code).toBe(1009);
    const [, info] = await closes.until((_conn, info) => info.byServer?.code === 1009, 'big to close');
    expect(info.byServer).toEqual({ code: 1009, why: 'a message over 2,000 bytes' });
    const leave = await other.waitFor((m) => m.type === 'notice' && m.presence?.event === 'leave');
    expect(leave).toMatchObject({ text: 'big left lobby (protocol error 1009) · 1 here', presence: { name: 'big' } });

    const newcomer = await joined(server, { name: 'newcomer' });
    newcomer.send({ type: 'message', text: '🙂'.repeat(400) }); // 1,600 bytes and a little: allowed
    expect(await other.waitFor('message')).toMatchObject({ from: 'newcomer', text: '🙂'.repeat(400) });
  });
});

describe('a client that stops reading', () => {
  it('is cut off with close 1008 once its queue passes maxQueueBytes, while the others receive every message', async () => {
    const MAX_QUEUE_BYTES = 128 * 1024;
    const PER_ROUND = 16; // about 64 KB a round: half the queue limit, so a reading client never reaches it
    const ROUNDS_AFTER = 10;
    const MAX_FLOOD_BYTES = 64 * 1024 * 1024; // hang guard: far more than the kernel buffers hold
    const server = await chatServer({ maxQueueBytes: MAX_QUEUE_BYTES });
    fakeClock(); // the grace period before a cut-off client's socket is destroyed is a timer
    const peers: WsPeer[] = [];
    server.on('connection', (peer) => peers.push(peer));
    const closes = recordEvents(server, 'close');

    const lazy = await RawPeer.upgraded(server.port);
    lazy.sendFrame({ fin: true, opcode: OPCODES.text, payload: Buffer.from(JSON.stringify({ type: 'join', name: 'lazy' })) });
    for (let i = 0; i < 3; i++) await lazy.frame(); // joined, history, users: the last it reads
    lazy.socket.pause(); // reads nothing more: the kernel buffers fill, then the server's queue
    const lazyPeer = peers[0]!;

    // The readers keep counts, not messages: a flood of them would blur what is measured.
    const counts = { reader: 0, flooder: 0 };
    const problems: string[] = [];
    const notices: ServerMessage[] = []; // the reader's
    const counter = (who: 'reader' | 'flooder') => (m: ServerMessage) => {
      if (who === 'reader' && m.type === 'notice' && m.presence) notices.push(m);
      if (m.type !== 'message') return;
      const seq = Number(m.text.split(' ')[0]);
      if (seq !== counts[who]) problems.push(`${who} got ${seq}, expected ${counts[who]}`);
      counts[who] = seq + 1;
    };
    const reader = await joined(server, { name: 'reader' }, { keep: false, onMessage: counter('reader') });
    const flooder = await joined(server, { name: 'flooder' }, { keep: false, onMessage: counter('flooder') });

    const pad = '🙂'.repeat(990); // about 4 KB a message
    let sent = 0;
    let roundsAfter = 0;
    while (roundsAfter < ROUNDS_AFTER) {
      if (sent * 4000 > MAX_FLOOD_BYTES) throw new Error(`flooded ${sent} messages and lazy was never cut off`);
      for (let k = 0; k < PER_ROUND; k++) flooder.send({ type: 'message', text: `${sent++} ${pad}` });
      await reader.until(() => counts.reader >= sent || problems.length > 0, `${sent} messages`);
      await flooder.until(() => counts.flooder >= sent || problems.length > 0, `its own ${sent} messages`);
      if (lazyPeer.notReading) roundsAfter++;
    }

    // It was sent close 1008, but it does not read that either: its socket goes after the grace period.
    expect(closes.seen).toEqual([]);
    await vi.advanceTimersByTimeAsync(CLOSE_GRACE_MS);
    const [, info] = await closes.until((conn) => conn.peer === lazyPeer, 'lazy to be closed');
    expect(info.code, 'no close frame came back').toBe(1006);
    expect(info.byServer).toEqual({ code: 1008, why: 'not reading: more than 131,072 bytes waited for it' });
    await reader.until(() => notices.some((n) => n.type === 'notice' && n.presence?.event === 'leave'), 'the leave notice');
    expect(problems).toEqual([]);
    expect(counts).toEqual({ reader: sent, flooder: sent });
    expect(notices.filter((n) => n.type === 'notice' && n.presence?.event === 'leave')).toEqual([
      { type: 'notice', room: 'lobby', text: 'lazy left lobby (disconnected for not reading) · 2 here', presence: { event: 'leave', name: 'lazy' } },
    ]);
    expect(reader.closed).toBeUndefined();
    expect(flooder.closed).toBeUndefined();
    expect(server.manager.userCount).toBe(2);
  });
});

describe('a client that floods', () => {
  it('is slowed to the rate: its messages are delayed, not lost, and arrive in order; others are not held up', async () => {
    const RATE = { perSecond: 50, burst: 5 };
    const server = await chatServer({ rate: RATE });
    fakeClock(); // before the clients connect: their token buckets start on the fake clock
    const throttled = recordEvents(server, 'throttled');
    const sender = await joined(server, { name: 'sender' }); // the join takes one token
    const listener = await joined(server, { name: 'listener' });

    const texts = Array.from({ length: 30 }, (_, i) => `m${i}`);
    texts.forEach((text, i) => sender.send({ type: 'message', text, id: `${i}` }));
    const notice = await sender.waitFor((m) => m.type === 'notice' && m.text.startsWith('slow down'));
    expect(notice).toEqual({ type: 'notice', text: expect.stringContaining('50 messages a second') });

    // The clock stands still: only what the bucket held has gone out, and another client is not held up.
    listener.send({ type: 'message', text: 'not held up' });
    await listener.waitFor((m) => m.type === 'message' && m.text === 'not held up');
    const fromSender = () => listener.all('message').filter((m) => m.from === 'sender').map((m) => m.text);
    expect(fromSender()).toEqual(texts.slice(0, RATE.burst - 1));

    // 26 more at 50 a second: about half a second of (fake) time.
    await vi.advanceTimersByTimeAsync(1000);
    await listener.until(() => fromSender().length >= texts.length, 'every delayed message');
    await sender.until(() => sender.all('message').filter((m) => m.from === 'sender').length >= texts.length, 'its own copies');
    expect(fromSender()).toEqual(texts);
    expect(sender.all('message').filter((m) => m.from === 'sender').map((m) => m.id)).toEqual(texts.map((_, i) => `${i}`));
    expect(throttled.seen).toHaveLength(1);
    expect(sender.all('notice').filter((n) => n.text.startsWith('slow down'))).toHaveLength(1);
  });
  it('keeps a throttled client whose messages still wait, though its pongs wait unread behind them', async () => {
    // 15 messages wait at 10 a second: 1.5 s, several heartbeat intervals. The server does not
    // read from the client meanwhile (that is the throttle), so the client's pongs wait too.
    const server = await chatServer({ rate: { perSecond: 10, burst: 2 }, heartbeatIntervalMs: 200 });
    const closes = recordEvents(server, 'close');
    const sender = await joined(server, { name: 'sender' }); // the join takes one token
    const listener = await joined(server, { name: 'listener' });
    const texts = Array.from({ length: 16 }, (_, i) => `m${i}`);
    for (const text of texts) sender.send({ type: 'message', text });
    await sender.waitFor((m) => m.type === 'notice' && m.text.startsWith('slow down'));

    const heard = () => listener.all('message').filter((m) => m.from === 'sender').map((m) => m.text);
    await listener.until(() => heard().length >= texts.length || closes.seen.length > 0, 'every delayed message, or a close');
    expect(closes.seen.map(([conn, info]) => [conn.user?.name ?? conn.id, info.byServer]), 'nobody was closed').toEqual([]);
    expect(heard()).toEqual(texts);
  });
});

describe('many clients at once', () => {
  it('delivers each message of 100 clients in one room to every client exactly once, in order', async () => {
    const CLIENTS = 100;
    const PER_CLIENT = 2;
    const server = await chatServer();
    const clients = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => joined(server, { name: `user${i}` })));

    for (let k = 0; k < PER_CLIENT; k++) clients.forEach((client, i) => client.send({ type: 'message', text: `${i}:${k}`, id: `${k}` }));
    const expected = CLIENTS * PER_CLIENT;
    const heard = (client: ChatClient) => client.counts.get('message') ?? 0;
    await Promise.all(clients.map((client) => client.until(() => heard(client) >= expected, `${expected} messages`)));
    // A last message, behind everything else on every connection: a duplicate would come before it.
    clients[0]!.send({ type: 'message', text: 'end' });
    await Promise.all(clients.map((client) => client.until(() => client.messages.at(-1)?.type === 'message' && heard(client) > expected, 'the last message')));

    const everyStream = Array.from({ length: CLIENTS }, (_, sender) => [`user${sender}`, Array.from({ length: PER_CLIENT }, (_, k) => `${sender}:${k}`)]);
    for (const [i, client] of clients.entries()) {
      const messages = client.all('message');
      expect(messages.at(-1), `user${i}'s last message`).toMatchObject({ from: 'user0', text: 'end' });
      expect(messages, `user${i} got each message once`).toHaveLength(expected + 1);
      const streams = new Map<string, string[]>();
      for (const m of messages.slice(0, -1)) streams.set(m.from, [...(streams.get(m.from) ?? []), m.text]);
      expect([...streams].sort(([a], [b]) => Number(a.slice(4)) - Number(b.slice(4))), `user${i}'s copy of each sender's messages, in order`).toEqual(everyStream);
      const withIds = messages.filter((m) => m.id !== undefined);
      expect(withIds.map((m) => [m.from, m.id]), 'ids only on its own copies').toEqual([
        [`user${i}`, '0'],
        [`user${i}`, '1'],
      ]);
    }
    expect(server.manager.totals).toMatchObject({ messages: expected + 1, deliveries: CLIENTS * (expected + 1) });
  });
});

describe('close()', () => {
  it('closes every client with 1001 "server shutting down", with no leave notices, and is idempotent', async () => {
    const server = await chatServer();
    const closes = recordEvents(server, 'close');
    const clients = [await joined(server, { name: 'a' }), await joined(server, { name: 'b', room: 'games' }), await joined(server, { name: 'c' })];
    const first = server.close();
    expect(server.close()).toBe(first);
    await first;
    await server.close();

    for (const client of clients) {
      expect(await client.waitForClose()).toEqual({ code: 1001, reason: 'server shutting down' });
      expect(presences(client).filter((p) => p.startsWith('leave')), 'no leave notices during the shutdown').toEqual([]);
    }
    await waitUntil(
      () => closes.seen.length === clients.length,
      (check) => (server.on('close', check), () => server.off('close', check)),
      () => `${clients.length} closes; saw ${closes.seen.length}`,
    );
    expect(closes.seen.map(([, info]) => info.byServer)).toEqual(clients.map(() => ({ code: 1001, why: 'server shutting down' })));
    expect(server.manager.userCount).toBe(0);
    await expectRefused(server);
  });
  it('closes a throttled client with a close handshake, without waiting out the grace period, and handles none of its waiting messages', async () => {
    const server = await chatServer({ rate: { perSecond: 1, burst: 2 } });
    const flooder = await joined(server, { name: 'flooder' }); // the join takes one token
    const listener = await joined(server, { name: 'listener' });
    for (const text of ['one', 'two', 'three', 'four']) flooder.send({ type: 'message', text });
    await flooder.waitFor((m) => m.type === 'notice' && m.text.startsWith('slow down'));
    // With the clock stopped, close() can only finish if the server reads the close frame the
    // throttled (paused) client answers with: the grace period that would otherwise destroy
    // its socket never runs out.
    fakeClock();
    const closing = server.close();
    let done = false;
    void closing.then(() => (done = true));
    try {
      await waitUntil(
        () => done,
        (check) => (void closing.then(check), () => {}),
        () => `close() to finish with the clock stopped; the flooder saw ${JSON.stringify(flooder.closed)}`,
      );
    } finally {
      await vi.advanceTimersByTimeAsync(CLOSE_GRACE_MS); // when it failed: let the grace period end what is stuck
    }
    expect(await flooder.waitForClose()).toEqual({ code: 1001, reason: 'server shutting down' });
    await listener.waitForClose();
    expect(said(listener).filter((line) => line.startsWith('flooder: '))).toEqual(['flooder: one']);
  });
});

describe('the handshake', () => {
  it('refuses a foreign Origin with 403 and says why', async () => {
    const server = await chatServer();
    const refused = recordEvents(server, 'refused');
    const peer = await RawPeer.connect(server.port);
    const response = await peer.handshake('/ws', ['Origin: http://evil.example']);
    expect(response.status).toBe(403);
    expect(await peer.text()).toBe('Origin http://evil.example is not allowed\n');
    const [refusal] = await refused.until(() => true, 'the refusal');
    expect(refusal).toMatchObject({ status: 403 });
    await joined(server, { name: 'cli' }); // no Origin at all: the CLI is welcome
  });
});

/** A new connection to a closed server is refused by the kernel. */
async function expectRefused(server: WsChatServer): Promise<void> {
  const ws = new WebSocket(server.url);
  onTestFinished(() => ws.terminate());
  const error = await new Promise<NodeJS.ErrnoException>((resolve) => ws.once('error', resolve));
  expect(error.code).toBe('ECONNREFUSED');
}
