/**
 * The reconnecting ws-chat client of lesson 05 (src/ws/chat-client.ts) against real servers
 * on loopback: a server restart it survives with its name, room and queued messages; a server
 * that stays down (it gives up after --max-retries); one that accepts TCP but never answers
 * the handshake (it retries); fifty clients reconnecting at once; a name taken meanwhile.
 *
 * The backoff is shortened for speed; its shape is backoff.test.ts's business.
 */
import { once } from 'node:events';
import net from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { openChatClient, type ChatClient, type ChatClientEvents, type ChatClientOptions } from '../../src/ws/chat-client.js';
import { MAX_QUEUED_MESSAGES } from '../../src/ws/chat-outbox.js';
import type { ServerMessage } from '../../src/ws/chat-protocol.js';
import { startWsChatServer, type WsChatServer } from '../../src/ws/chat-server.js';
import { startWsEchoServer } from '../../src/ws/echo-server.js';
import { WebSocketServer } from 'ws';
import { NO_THROTTLE, joined } from './chat-support.js';
import { waitUntil } from './ws-support.js';

const FAST = { firstMs: 50, maxMs: 200 };

async function server(port = 0): Promise<WsChatServer> {
  // The old server's port may take a moment to be free again for a new listener.
  for (let tries = 0; ; tries++) {
    try {
      const started = await startWsChatServer({ host: '127.0.0.1', port, path: '/ws', rate: NO_THROTTLE });
      onTestFinished(() => started.close());
      return started;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || tries >= 50) throw err;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/** A chat client that has joined; everything it receives is kept in `received`. */
async function client(url: string, options: Partial<ChatClientOptions> = {}): Promise<ChatClient & { received: ServerMessage[] }> {
  const opened = Object.assign(await openChatClient({ url, backoff: FAST, ...options }), { received: [] as ServerMessage[] });
  onTestFinished(() => opened.close());
  opened.on('message', (message) => opened.received.push(message));
  await opened.join();
  return opened;
}

/** Waits for an event of a client, with the suite's hang guard. */
function next<T extends unknown[]>(emitter: ChatClient, event: keyof ChatClientEvents): Promise<T> {
  return once(emitter, event) as Promise<T>;
}

describe('ws-chat client', () => {
  it('survives a server restart: back in its room with its name, and what was typed meanwhile is delivered', async () => {
    const first = await server();
    const port = first.port;
    const alice = await client(first.url, { name: 'alice', room: 'games' });
    const bob = await client(first.url, { name: 'bob', room: 'games' });

    const lost = next<[number, string]>(alice, 'lost');
    await first.close();
    expect(await lost).toEqual([1001, 'server shutting down']);
    expect(alice.connected).toBe(false);
    expect(alice.send({ type: 'message', text: 'typed while the server was down' })).toBe('queued');

    const restored = Promise.all([next<[number]>(alice, 'restored'), next<[number]>(bob, 'restored')]);
    const second = await server(port);
    const [[sentByAlice], [sentByBob]] = await restored;
    expect([sentByAlice, sentByBob]).toEqual([1, 0]);
    expect([alice.currentName, alice.currentRoom, bob.currentName, bob.currentRoom]).toEqual(['alice', 'games', 'bob', 'games']);

    // Whoever is back first: bob gets it as a message, or in the room's history when he rejoins.
    const queued = (m: ServerMessage) =>
      (m.type === 'message' && m.text === 'typed while the server was down') || (m.type === 'history' && m.messages.some(queued));
    await waitUntil(
      () => bob.received.some(queued),
      (check) => (bob.on('message', check), () => bob.off('message', check)),
      () => `bob to get alice's queued message; he got ${JSON.stringify(bob.received.slice(-3))}`,
    );
    await alice.settled();
    expect(second.manager.userCount).toBe(2);
    expect(alice.totals.reconnects).toBe(1);
  });

  it('keeps at most MAX_QUEUED_MESSAGES while disconnected, and says so for the next one', async () => {
    const first = await server();
    const alice = await client(first.url, { name: 'alice', maxRetries: 1, backoff: { firstMs: 60_000, maxMs: 60_000 } });
    const lost = next(alice, 'lost');
    await first.close();
    await lost;
    const outcomes = Array.from({ length: MAX_QUEUED_MESSAGES + 1 }, (_, i) => alice.send({ type: 'message', text: `m${i}` }));
    expect(outcomes.filter((o) => o === 'queued')).toHaveLength(MAX_QUEUED_MESSAGES);
    expect(outcomes.at(-1)).toBe('full');
    expect(alice.waiting).toBe(MAX_QUEUED_MESSAGES);
  });

  it('gives up after --max-retries failed attempts with a sentence that says so', async () => {
    const first = await server();
    const alice = await client(first.url, { name: 'alice', maxRetries: 2 });
    const attempts: number[] = [];
    alice.on('retrying', (attempt) => attempts.push(attempt));
    const ended = next<[Error & { code: string }]>(alice, 'ended');
    await first.close();
    const [err] = await ended;
    expect(attempts).toEqual([1, 2]);
    expect(err.code).toBe('NETLAB_ERR_GAVE_UP');
    expect(err.message).toMatch(/^gave up reconnecting to ws:\/\/127\.0\.0\.1:\d+\/ws after 2 attempts \(the last one: connection refused\)\.$/);
    await alice.settled(); // an ended client has nothing left to wait for
  });

  it('retries when a server accepts the connection but never answers the handshake', async () => {
    const first = await server();
    const port = first.port;
    const alice = await client(first.url, { name: 'alice', handshakeTimeoutMs: 100 });
    const lost = next(alice, 'lost');
    await first.close();
    await lost;

    // A TCP server on the chat's port that reads and never answers: a stuck server.
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => (sockets.add(socket), socket.on('error', () => {})));
    await new Promise<void>((resolve) => silent.listen(port, '127.0.0.1', resolve));
    const failures: Error[] = [];
    alice.on('retrying', (_attempt, _delay, failure) => failure && failures.push(failure));
    await waitUntil(
      () => failures.length > 0,
      (check) => (alice.on('retrying', check), () => alice.off('retrying', check)),
      () => 'a failed attempt',
    );
    expect(failures[0]!.message).toMatch(/did not answer the handshake within 100 ms/);
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));

    const restored = next(alice, 'restored');
    await server(port);
    await restored;
    expect(alice.connected).toBe(true);
  });

  it('brings fifty clients back after a restart, their first attempts spread by the random delay', async () => {
    const first = await server();
    const port = first.port;
    const clients = await Promise.all(
      Array.from({ length: 50 }, (_, i) => client(first.url, { name: `user${i}`, backoff: { firstMs: 500, maxMs: 1000 }, random: () => i / 50 })),
    );
    const firstDelays: number[] = [];
    for (const c of clients) c.on('retrying', (attempt, delayMs) => attempt === 1 && firstDelays.push(delayMs));
    const restored = Promise.all(clients.map((c) => next(c, 'restored')));
    await first.close();
    const second = await server(port);
    await restored;
    expect(new Set(firstDelays).size).toBe(50);
    expect(second.manager.userCount).toBe(50);
    expect(clients.every((c, i) => c.currentName === `user${i}` && c.connected)).toBe(true);
  });

  it('comes back as a guest when its name was taken while it was away', async () => {
    const first = await server();
    const port = first.port;
    const alice = await client(first.url, { name: 'alice', backoff: { firstMs: 300, maxMs: 300 }, random: () => 0.99 });
    const lost = next(alice, 'lost');
    await first.close();
    await lost;
    const second = await server(port);
    await joined(second, { name: 'alice' }); // someone else, quicker than alice's backoff
    const nameLost = next<[string]>(alice, 'nameLost');
    const restored = next(alice, 'restored');
    expect(await nameLost).toEqual(['alice']);
    await restored;
    expect(alice.currentName).toMatch(/^guest-\d+$/);
  });

  it('refuses a first join whose name is taken, with the reason and a hint', async () => {
    const first = await server();
    await client(first.url, { name: 'alice' });
    const second = await openChatClient({ url: first.url, name: 'alice' });
    onTestFinished(() => second.close());
    await expect(second.join()).rejects.toMatchObject({ code: 'NETLAB_ERR_JOIN_REFUSED', hint: 'choose another name with --name.' });
  });

  it('gives up on a server that never answers the join, naming what it expected', async () => {
    const echo = await startWsEchoServer({ host: '127.0.0.1', port: 0, path: '/ws' });
    onTestFinished(() => echo.close());
    const client = await openChatClient({ url: echo.url, name: 'alice', joinTimeoutMs: 100 });
    onTestFinished(() => client.close());
    await expect(client.join()).rejects.toMatchObject({ code: 'NETLAB_ERR_JOIN_TIMEOUT', message: `${echo.url} did not answer our join within 0.1 s.` });
  });

  it('counts on through attempts that reconnect but are dropped before the rejoin is done', async () => {
    const first = await server();
    const port = first.port;
    const alice = await client(first.url, { name: 'alice', maxRetries: 3 });
    const attempts: number[] = [];
    alice.on('retrying', (attempt) => attempts.push(attempt));
    const ended = next<[Error & { code: string }]>(alice, 'ended');
    await first.close();
    // A server that takes the connection and fails every join (1011: internal error).
    const flaky = new WebSocketServer({ host: '127.0.0.1', port });
    onTestFinished(() => new Promise<void>((resolve) => flaky.close(() => resolve())));
    flaky.on('connection', (ws) => ws.on('message', () => ws.close(1011, 'broken')));
    const [err] = await ended;
    expect(err.code).toBe('NETLAB_ERR_GAVE_UP');
    expect(attempts).toEqual([1, 2, 3]);
  });
});
