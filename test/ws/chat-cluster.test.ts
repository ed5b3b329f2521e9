/**
 * Lesson 07: ws-chat servers that share one chat through a real Redis (chat-cluster.ts). Every
 * test runs two or three servers against a redis-server this file starts on a free loopback
 * port (test/support/redis.ts); each test has a key prefix of its own, so they share one Redis
 * without seeing each other. The tests that stop Redis, or a server, get a Redis of their own.
 */
import { randomBytes } from 'node:crypto';
import { createClient } from '@redis/client';
import { afterAll, beforeAll, expect, it, onTestFinished } from 'vitest';
import type { ChatLine } from '../../src/ws/chat-protocol.js';
import { withoutPassword } from '../../src/ws/chat-cluster.js';
import { MAX_ROOMS } from '../../src/ws/chat-manager.js';
import type { WsChatServer } from '../../src/ws/chat-server.js';
import { freePort, runCli, startCli } from '../cli/run-cli.js';
import { describeWithRedis, RedisProcess } from '../support/redis.js';
import { chatServer, joined, recordEvents, type ChatClient } from './chat-support.js';

const LISTENING = /^ws-chat server listening on 127\.0\.0\.1:(\d+) /m;

describeWithRedis('ws-chat across servers, through Redis (lesson 07)', () => {
  let redis: RedisProcess;
  beforeAll(async () => {
    redis = await RedisProcess.start();
  });
  afterAll(() => redis?.kill());

  /** `count` servers of one group: the same Redis, the same prefix, 1 s timeout. */
  async function group(count: number, url = redis.url, prefix = `test-${randomBytes(4).toString('hex')}:`): Promise<WsChatServer[]> {
    const servers: WsChatServer[] = [];
    for (let i = 0; i < count; i++) servers.push(await chatServer({ redis: { url, prefix, timeoutMs: 1000 } }));
    return servers;
  }

  const lines = (client: ChatClient, from = 0) => client.messages.slice(from).filter((m): m is ChatLine => m.type === 'message');

  it('lets clients of two servers chat as if on one: rooms, users, history', async () => {
    const [one, two] = await group(2);
    const alice = await joined(one!, { name: 'alice' });
    const bob = await joined(two!, { name: 'bob' });
    const carol = await joined(two!, { name: 'carol', room: 'games' });

    await alice.waitFor((m) => m.type === 'notice' && m.text === 'bob joined lobby (2 here)');
    expect(bob.all('users').at(-1)?.users).toEqual(['alice', 'bob']);

    alice.send({ type: 'message', text: 'hello from one', id: 'm1' });
    const own = await alice.waitFor((m) => m.type === 'message' && m.text === 'hello from one');
    expect(own).toMatchObject({ from: 'alice', room: 'lobby', id: 'm1' });
    const got = await bob.waitFor('message');
    expect(got).toMatchObject({ from: 'alice', room: 'lobby', text: 'hello from one' });
    expect(got).not.toHaveProperty('id');

    // A newcomer on the other server gets the room's history, and the room's users.
    const dave = await joined(two!, { name: 'dave' });
    expect(dave.all('history')[0]?.messages.map((m) => m.text)).toEqual(['hello from one']);
    expect(dave.all('users')[0]?.users).toEqual(['alice', 'bob', 'dave']);
    expect(lines(carol)).toEqual([]);
  });

  it('shows every client of every server the same order, each sender in its own order', async () => {
    const [one, two] = await group(2);
    const clients = [await joined(one!, { name: 'a1' }), await joined(two!, { name: 'b1' }), await joined(one!, { name: 'a2' }), await joined(two!, { name: 'b2' })];
    const perSender = 25;
    for (let i = 0; i < perSender; i++) for (const client of clients) client.send({ type: 'message', text: `${client.name} ${i}` });
    const total = perSender * clients.length;
    for (const client of clients) await client.until(() => lines(client).length === total, `${total} lines`);

    const order = lines(clients[0]!).map((m) => m.text);
    for (const client of clients) expect(lines(client).map((m) => m.text)).toEqual(order);
    for (const sender of clients) {
      const own = order.filter((text) => text.startsWith(`${sender.name} `));
      expect(own).toEqual(Array.from({ length: perSender }, (_, i) => `${sender.name} ${i}`));
    }
    // The history is the same order's last 20.
    const late = await joined(two!, { name: 'late' });
    expect(late.all('history')[0]?.messages.map((m) => m.text)).toEqual(order.slice(-20));
  });

  it('gives a client that joins during a flood its history and then every later line, none twice', async () => {
    const [one, two] = await group(2);
    const sender = await joined(one!, { name: 'sender' });
    const count = 300;
    for (let i = 0; i < count; i++) sender.send({ type: 'message', text: String(i) });
    await sender.until(() => lines(sender).length >= 40, 'the flood under way');
    const joiner = await joined(two!, { name: 'joiner' });
    await joiner.until(() => lines(joiner).at(-1)?.text === String(count - 1), 'the last line');

    const seen = [...joiner.all('history')[0]!.messages, ...lines(joiner)].map((m) => Number(m.text));
    const first = seen[0]!;
    expect(seen).toEqual(Array.from({ length: count - first }, (_, i) => first + i));
  });

  it('holds a name across servers, whatever its case, until its user’s last connection leaves', async () => {
    const [one, two] = await group(2);
    const alice = await joined(one!, { name: 'alice' });
    const bob = await joined(two!, { name: 'bob' });

    const impostor = await joined(two!, { name: 'ALICE' });
    expect(impostor.all('error')[0]).toMatchObject({ code: 'name-taken', field: 'name' });

    // Alice's second tab, on the other server: the same user, so nobody is told she joined.
    const tab = await joined(two!, { token: alice.token });
    expect(tab.name).toBe('alice');
    expect(bob.all('users').length).toBe(1);
    const mark = bob.mark();

    alice.ws.close();
    await alice.waitForClose();
    bob.send({ type: 'users', id: 'u1' });
    const users = await bob.waitFor((m) => m.type === 'users' && m.id === 'u1', mark);
    expect(users).toMatchObject({ users: ['alice', 'bob'] });
    expect(bob.messages.slice(mark).filter((m) => m.type === 'notice')).toEqual([]);

    tab.ws.close();
    await bob.waitFor((m) => m.type === 'notice' && m.text === 'alice left lobby (left) · 1 here', mark);
    const newAlice = await joined(two!, { name: 'ALICE' });
    expect(newAlice.name).toBe('ALICE');
  });

  it('sends private messages and renames across servers', async () => {
    const [one, two, three] = await group(3);
    const alice = await joined(one!, { name: 'alice' });
    const bob = await joined(two!, { name: 'bob' });
    const bobsTab = await joined(three!, { token: bob.token });

    bob.send({ type: 'private', to: 'Alice', text: 'psst', id: 'p1' });
    expect(await alice.waitFor('private')).toMatchObject({ from: 'bob', to: 'alice', text: 'psst' });
    expect(await bob.waitFor('private')).toMatchObject({ id: 'p1', to: 'alice' });
    expect(await bobsTab.waitFor('private')).toMatchObject({ from: 'bob', to: 'alice', text: 'psst' });

    alice.send({ type: 'rename', name: 'alicia', id: 'r1' });
    expect(await alice.waitFor((m) => m.type === 'notice' && m.id === 'r1')).toMatchObject({ text: 'alice is now alicia' });
    await bob.waitFor((m) => m.type === 'notice' && m.presence?.event === 'rename');
    bob.send({ type: 'users', id: 'u' });
    expect(await bob.waitFor((m) => m.type === 'users' && m.id === 'u')).toMatchObject({ users: ['alicia', 'bob'] });

    bob.send({ type: 'private', to: 'alice', text: 'still there?', id: 'p2' });
    expect(await bob.waitFor((m) => m.type === 'error' && m.id === 'p2')).toMatchObject({ code: 'no-such-user' });
    bob.send({ type: 'rename', name: 'ALICIA', id: 'r2' });
    expect(await bob.waitFor((m) => m.type === 'error' && m.id === 'r2')).toMatchObject({ code: 'name-taken' });
  });

  it('gives guests names that are unique across the group', async () => {
    const [one, two] = await group(2);
    const guests = [await joined(one!), await joined(two!), await joined(one!), await joined(two!)];
    const names = guests.map((g) => g.name);
    expect(new Set(names).size).toBe(4);
    for (const name of names) expect(name).toMatch(/^guest-\d+$/);
  });

  it('keeps the in-process chat as it was without --redis: another server is another chat', async () => {
    const [withRedis] = await group(1);
    const alone = await chatServer();
    const a = await joined(withRedis!, { name: 'alice' });
    const b = await joined(alone, { name: 'alice' });
    expect(b.name).toBe('alice');
    a.send({ type: 'message', text: 'only here' });
    await a.waitFor('message');
    expect(b.all('users')[0]?.users).toEqual(['alice']);
    expect(lines(b)).toEqual([]);
  });

  it('takes the users of a server that stops answering out of the chat after the timeout', async () => {
    const own = await RedisProcess.start();
    onTestFinished(() => own.kill());
    // A real process, so that it can really die: SIGKILL, no goodbye to Redis or its clients.
    const doomed = startCli(['ws-chat', 'serve', '--port', '0', '--redis', own.url, '--redis-timeout', '1', '--quiet']);
    const port = Number((await doomed.waitForStdout(LISTENING))[1]);
    const [survivor] = await group(1, own.url, 'netlab:ws-chat:');
    const alice = await joinedAt(port, 'alice');
    const bob = await joined(survivor!, { name: 'bob' });
    await alice.waitFor((m) => m.type === 'notice' && m.text === 'bob joined lobby (2 here)');

    doomed.kill('SIGKILL');
    await bob.waitFor((m) => m.type === 'notice' && m.text === 'alice left lobby (their server stopped answering) · 1 here');
    const again = await joined(survivor!, { name: 'alice' });
    expect(again.name).toBe('alice');
    expect(again.all('users')[0]?.users).toEqual(['alice', 'bob']);

    async function joinedAt(at: number, name: string): Promise<ChatClient> {
      const fake = { url: `ws://127.0.0.1:${at}/ws` } as WsChatServer;
      return joined(fake, { name });
    }
  });

  it('survives a Redis restart: says so, refuses messages while it is away, then chats on', async () => {
    const own = await RedisProcess.start();
    onTestFinished(() => own.kill());
    const server = startCli(['ws-chat', 'serve', '--port', '0', '--redis', own.url]);
    const port = Number((await server.waitForStdout(LISTENING))[1]);
    await server.waitForStdout(/sharing the chat through Redis at redis:\/\/127\.0\.0\.1:\d+ · the first server of the group\n/);
    const [other] = await group(1, own.url, 'netlab:ws-chat:');
    const otherState = recordEvents(other!, 'redis');
    const alice = await joined({ url: `ws://127.0.0.1:${port}/ws` } as WsChatServer, { name: 'alice' });
    const bob = await joined(other!, { name: 'bob' });
    alice.send({ type: 'message', text: 'before' });
    await bob.waitFor('message');
    // Carol's history ends at line 1; Redis, restarted empty, numbers from 1 again.
    const carol = await joined(other!, { name: 'carol' });

    await own.kill();
    await server.waitForStderr(/warning: lost Redis at redis:\/\/127\.0\.0\.1:\d+ \([^)]+\); reconnecting, and refusing messages until it is back\n/);
    alice.send({ type: 'message', text: 'into the void', id: 'v' });
    expect(await alice.waitFor((m) => m.type === 'error' && m.id === 'v')).toMatchObject({ code: 'unavailable' });

    await own.restart();
    await server.waitForStdout(/Redis at redis:\/\/127\.0\.0\.1:\d+ is back; this server's users and rooms are in it again\n/);
    // Pub/sub keeps nothing for a subscriber that is away: wait until the other server is back too.
    await otherState.until((state) => state.state === 'back', 'the other server back on Redis');
    alice.send({ type: 'message', text: 'back again', id: 'b' });
    expect(await bob.waitFor((m) => m.type === 'message' && m.text === 'back again')).toMatchObject({ from: 'alice' });
    expect(await carol.waitFor((m) => m.type === 'message' && m.text === 'back again')).toMatchObject({ from: 'alice' });
    bob.send({ type: 'users', id: 'u' });
    const users = await bob.waitFor((m) => m.type === 'users' && m.id === 'u');
    expect(users).toMatchObject({ users: ['alice', 'bob', 'carol'] });
    const impostor = await joined(other!, { name: 'Alice' });
    expect(impostor.all('error')[0]).toMatchObject({ code: 'name-taken' });
  });

  it('says in one sentence, exit 1, when Redis cannot be reached at start', async () => {
    const port = await freePort();
    const result = await runCli(['ws-chat', 'serve', '--port', '0', '--redis', `redis://127.0.0.1:${port}`]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      `error: cannot reach Redis at redis://127.0.0.1:${port} (connection refused).\n` +
        `hint: is redis-server running? Start one with \`redis-server --port ${port}\`, or leave out --redis for one server on its own\n`,
    );
  });

  it('refuses a --redis that is not a redis:// URL, exit 2', async () => {
    for (const bad of ['127.0.0.1:6379', 'http://127.0.0.1:6379', 'redis://']) {
      const result = await runCli(['ws-chat', 'serve', '--redis', bad]);
      expect(result.code, bad).toBe(2);
      expect(result.stderr, bad).toMatch(/--redis .*redis:\/\/127\.0\.0\.1:6379/);
    }
  });

  it('drops what else is published on its channel, and keeps beating and chatting', async () => {
    const prefix = `test-${randomBytes(4).toString('hex')}:`;
    const [one, two] = await group(2, redis.url, prefix);
    const failures = recordEvents(one!, 'failure');
    const alice = await joined(one!, { name: 'alice' });
    const bob = await joined(two!, { name: 'bob' });
    const raw = await createClient({ url: redis.url }).connect();
    onTestFinished(() => raw.destroy());
    const junk = ['null', '42', 'not json', '{"kind":"rename"}', '{"kind":"line","server":"x","room":"lobby"}', '{"kind":"rename","server":"x","token":"t","name":"n","old":"o","rooms":{}}', '{"kind":"private","server":"x"}'];
    for (const message of junk) await raw.publish(`${prefix}events`, message);
    const before = await raw.zScore(`${prefix}servers`, (one!.manager as { serverId: string }).serverId);
    // A third server joining later must find both alive, not clear them.
    const [three] = await group(1, redis.url, prefix);
    const carol = await joined(three!, { name: 'carol' });
    alice.send({ type: 'message', text: 'still here' });
    await bob.waitFor((m) => m.type === 'message' && m.text === 'still here');
    await carol.waitFor((m) => m.type === 'message' && m.text === 'still here');
    await raw.publish(`${prefix}events`, 'null');
    await new Promise((resolve) => setTimeout(resolve, 600));
    const after = await raw.zScore(`${prefix}servers`, (one!.manager as { serverId: string }).serverId);
    expect(after).toBeGreaterThan(before ?? 0);
    expect(carol.all('notice').filter((m) => m.presence?.event === 'leave')).toEqual([]);
    expect(failures.seen).toEqual([]);
  });

  it('sends a message right after a rename under the new name', async () => {
    const [one, two] = await group(2);
    const alice = await joined(one!, { name: 'alice' });
    const bob = await joined(two!, { name: 'bob' });
    alice.send({ type: 'rename', name: 'alicia' });
    alice.send({ type: 'message', text: 'who am I?' });
    expect(await bob.waitFor('message')).toMatchObject({ from: 'alicia', text: 'who am I?' });
  });

  it('keeps no room for a join it refused: refused joins cannot use up the rooms', async () => {
    const [one] = await group(1);
    const taken = await joined(one!, { name: 'taken' });
    const mallory = await joined(one!, { name: 'mallory' });
    for (let i = 0; i < MAX_ROOMS + 10; i++) taken.send({ type: 'join', name: 'mallory', room: `r${i}`, id: String(i) });
    await taken.waitFor((m) => m.type === 'error' && m.id === String(MAX_ROOMS + 9));
    const newcomer = await joined(one!, { name: 'newcomer', room: 'fresh' });
    expect(newcomer.room).toBe('fresh');
    expect(mallory.closed).toBeUndefined();
  });

  it('frees the name of a user who left while Redis was away', async () => {
    const own = await RedisProcess.start();
    onTestFinished(() => own.kill());
    const [one] = await group(1, own.url);
    const states = recordEvents(one!, 'redis');
    const alice = await joined(one!, { name: 'alice' });
    await own.kill();
    await states.until((state) => state.state === 'lost', 'Redis lost');
    alice.ws.close();
    await alice.waitForClose();
    await own.restart();
    await states.until((state) => state.state === 'back', 'Redis back');
    expect(one!.manager.userCount).toBe(0);
    const again = await joined(one!, { name: 'alice' });
    expect(again.name).toBe('alice');
  });

  it('shows a Redis URL without its password', () => {
    expect(withoutPassword('redis://:sekrit@127.0.0.1:6379')).toBe('redis://:***@127.0.0.1:6379');
    expect(withoutPassword('redis://user:sekrit@127.0.0.1:6379/2')).toBe('redis://user:***@127.0.0.1:6379/2');
    expect(withoutPassword('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
  });
});
