/**
 * The soak of issue #11: 1,000 chat clients join and leave, in waves, while messages flow, and
 * afterwards the process is as it was. Run against the tcp-chat and the ws-chat servers, in
 * this process, on loopback.
 *
 * Each wave of PER_WAVE clients joins (CONCURRENCY at a time) while the wave before leaves;
 * each client sends MESSAGES messages; a few keepers stay in the room throughout and must hear
 * every message exactly once, each sender's in order, all of them in the same order, and every
 * client's join and leave notice exactly once. Half of the clients leave politely (a quarter
 * with /quit or a close handshake, a quarter with a bare FIN), half abruptly (socket destroyed).
 *
 * "Afterwards" is counted, not assumed. Before the first client and after the last has gone,
 * with GC forced, the test takes:
 *   - process.getActiveResourcesInfo() by kind (TCPSocketWrap, TCPServerWrap, PipeWrap…): the
 *     handles that keep the process alive;
 *   - every live async resource by type (TCPWRAP, Timeout…), from an async_hooks census: this
 *     is where timers are counted, since the servers' are unref()'d (grace periods, throttles)
 *     and getActiveResourcesInfo() leaves those out;
 *   - the listeners on the servers' emitters and on `process`, by event;
 *   - the servers' own books: who is online, open connections, the maps behind them;
 *   - heapUsed, which must be back within HEAP_GROWTH_BOUND of where it started.
 * Everything but the heap must be back exactly where it was. A server frees some things a
 * moment after a client has gone (a /quit's grace timer), so the end is waited for: the
 * server's books reaching zero (on its leave events), then the census matching the baseline,
 * re-checked every POLL_MS until a hang guard. Neither wait is a timing threshold.
 */
import { createHook } from 'node:async_hooks';
import type { EventEmitter } from 'node:events';
import type http from 'node:http';
import net from 'node:net';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it, onTestFinished } from 'vitest';
import WebSocket, { type WebSocketServer } from 'ws';
import { HANG_GUARD_MS, startServer, welcomed, type PeerOptions } from '../tcp/chat-support.js';
import { ChatClient, chatServer, joinAgain } from '../ws/chat-support.js';
import { waitUntil } from '../ws/ws-support.js';
import { gc } from './support.js';

const WAVES = 10;
const PER_WAVE = 100;
/** Clients joining (or leaving) at the same moment, at most. */
const CONCURRENCY = 50;
const MESSAGES = 3;
const KEEPERS = 3;
/** Generous: 1,000 clients' sockets, buffers and closures are some tens of MB while they live. */
const HEAP_GROWTH_BOUND = 5 * 1024 * 1024;
/** How often the end is re-checked while the server lets go of what a client left behind. */
const POLL_MS = 20;

// Captured at import, like the support files' hang guards.
const realSetTimeout = globalThis.setTimeout;

/** What one lab gives the soak: its server's books and emitters, and its clients. */
interface Lab {
  /** The server's own counts of what is open; all 0 once everyone has gone. */
  books(): Promise<Record<string, number>>;
  /** Resolves once the server counts no one online (re-checked on each of its leave events). */
  untilEmpty(): Promise<void>;
  /** The server's emitters whose listeners are counted. */
  emitters: Record<string, EventEmitter>;
  /** Joins a keeper, which reports everything it hears to `heard`. */
  keeper(heard: Heard): Promise<Member>;
  /** Joins a client that only talks. */
  member(): Promise<Member>;
}

/** /quit or a close handshake; a FIN and nothing more; the socket destroyed (a reset, often). */
type Leaving = 'quit' | 'end' | 'destroy';

interface Member {
  readonly name: string;
  say(text: string): void;
  /** Leaves and resolves once its connection is closed on this side. */
  leave(how: Leaving): Promise<void>;
  until(condition: () => boolean, what: string): Promise<void>;
}

/** What one keeper heard: messages as "sender: text", and join and leave notices by name. */
class Heard {
  readonly messages: string[] = [];
  readonly joins = new Map<string, number>();
  readonly leaves = new Map<string, number>();
  leaveCount = 0;

  message(from: string, text: string): void {
    this.messages.push(`${from}: ${text}`);
  }
  joined(name: string): void {
    this.joins.set(name, (this.joins.get(name) ?? 0) + 1);
  }
  left(name: string): void {
    this.leaveCount++;
    this.leaves.set(name, (this.leaves.get(name) ?? 0) + 1);
  }
}

// ——— tcp-chat ———

async function tcpLab(): Promise<Lab> {
  const server = await startServer();
  // The net.Server inside, for its connection count and listeners: ChatServer keeps it private.
  const listener = (server as unknown as { server: net.Server }).server;
  // Clients made here are not registered with onTestFinished one by one (that would keep every
  // socket, and what its listeners hold, alive until the test ends, in the heap it measures):
  // a set of those still open instead.
  const open = new Set<net.Socket>();
  onTestFinished(() => open.forEach((socket) => socket.destroy()));
  const connect = async (options: PeerOptions): Promise<Member> => {
    const socket = net.connect({ host: '127.0.0.1', port: server.port });
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    const peer = await welcomed(socket, options);
    return {
      name: peer.name,
      say: (text) => peer.send(`${text}\n`),
      leave: async (how) => {
        if (how === 'quit') peer.send('/quit\n');
        else if (how === 'end') peer.socket.end();
        else peer.socket.destroy();
        if (!peer.closed) await peer.waitForClose();
      },
      until: (condition, what) => peer.until(condition, what),
    };
  };
  return {
    books: async () => ({
      online: server.room.online,
      names: (server.room as unknown as { byName: Map<string, unknown> }).byName.size,
      connections: await new Promise<number>((resolve, reject) => listener.getConnections((err, n) => (err ? reject(err) : resolve(n)))),
    }),
    untilEmpty: () =>
      waitUntil(
        () => server.room.online === 0,
        (check) => (server.on('leave', check), () => server.off('leave', check)),
        () => `the room to empty; ${server.room.online} online`,
      ),
    emitters: { ChatServer: server, 'net.Server': listener },
    keeper: (heard) =>
      connect({
        keepLines: false,
        onLine: (line) => {
          let m: RegExpExecArray | null;
          if ((m = /^([^\s*:]+): (.*)$/.exec(line))) heard.message(m[1]!, m[2]!);
          else if ((m = /^\*\*\* (\S+) joined \(/.exec(line))) heard.joined(m[1]!);
          else if ((m = /^\*\*\* (\S+) left \(/.exec(line))) heard.left(m[1]!);
        },
      }),
    member: () => connect({ keepLines: false }),
  };
}

// ——— ws-chat ———

async function wsLab(): Promise<Lab> {
  const server = await chatServer();
  // The listener and its maps are private to the server: the soak counts them all the same.
  const listener = (server as unknown as { listener: EventEmitter }).listener as EventEmitter & {
    server: http.Server;
    wss: WebSocketServer;
    connections: Map<unknown, unknown>;
    sockets: Set<unknown>;
    unanswered: Set<unknown>;
  };
  const open = new Set<WebSocket>();
  onTestFinished(() => open.forEach((ws) => ws.terminate()));
  const connect = async (options: ConstructorParameters<typeof ChatClient>[1], join: { name?: string }): Promise<Member> => {
    const ws = new WebSocket(server.url, { perMessageDeflate: false });
    open.add(ws);
    ws.once('close', () => open.delete(ws));
    const client = new ChatClient(ws, options);
    await waitUntil(
      () => ws.readyState === WebSocket.OPEN,
      (check) => (ws.on('open', check).on('close', check), () => ws.off('open', check).off('close', check)),
      () => 'the handshake',
    );
    await joinAgain(client, join);
    return {
      name: client.name,
      say: (text) => client.send({ type: 'message', text }),
      leave: async (how) => {
        if (how === 'quit') ws.close(1000, 'bye');
        // A FIN with no close frame first (ws keeps its socket private): the server sees 1006.
        else if (how === 'end') (ws as unknown as { _socket: net.Socket })._socket.end();
        else ws.terminate();
        await client.waitForClose();
      },
      until: (condition, what) => client.until(condition, what),
    };
  };
  return {
    books: async () => ({
      users: server.manager.userCount,
      connections: listener.connections.size,
      httpSockets: listener.sockets.size,
      unanswered: listener.unanswered.size,
      serverConnections: await new Promise<number>((resolve, reject) =>
        listener.server.getConnections((err, n) => (err ? reject(err) : resolve(n))),
      ),
    }),
    untilEmpty: () => {
      const emitter = server as unknown as EventEmitter;
      return waitUntil(
        () => listener.connections.size === 0 && server.manager.userCount === 0,
        (check) => (emitter.on('close', check), () => emitter.off('close', check)),
        () => `every connection to close; ${listener.connections.size} open, ${server.manager.userCount} users`,
      );
    },
    emitters: { WsChatServer: server, WsListener: listener, 'http.Server': listener.server, WebSocketServer: listener.wss },
    keeper: (heard) =>
      connect(
        {
          keep: false,
          onMessage: (message) => {
            if (message.type === 'message') heard.message(message.from, message.text);
            else if (message.type === 'notice' && message.presence?.event === 'join') heard.joined(message.presence.name);
            else if (message.type === 'notice' && message.presence?.event === 'leave') heard.left(message.presence.name);
          },
        },
        {},
      ),
    member: () => connect({ keep: false }, {}),
  };
}

// ——— counting ———

/**
 * Every live async resource by type (promises aside), from init and destroy hooks: unlike
 * getActiveResourcesInfo(), this sees unref()'d timers too. Destroy hooks run a little after
 * the fact, which is one reason the end is polled for.
 */
interface AsyncCensus {
  byType(): Record<string, number>;
  /** Runs `make` with the resources it creates left out of the census. */
  unseen<T>(make: () => T): T;
}

function asyncCensus(): AsyncCensus {
  const live = new Map<number, string>();
  let unseen = false;
  const hook = createHook({
    init: (id, type) => void (type !== 'PROMISE' && !unseen && live.set(id, type)),
    destroy: (id) => void live.delete(id),
  });
  hook.enable();
  onTestFinished(() => void hook.disable());
  return {
    byType: () => tally(live.values()),
    // The soak's own poll timers are not the server's: made unseen.
    unseen: (make) => {
      unseen = true;
      try {
        return make();
      } finally {
        unseen = false;
      }
    },
  };
}

function tally(names: Iterable<string>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const name of names) counts[name] = (counts[name] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}

function listenersOf(emitter: EventEmitter | NodeJS.Process): Record<string, number> {
  const counts = emitter.eventNames().map((event) => [String(event), emitter.listenerCount(event)] as const);
  return Object.fromEntries(counts.sort(([a], [b]) => a.localeCompare(b)));
}

interface Counts {
  activeResources: Record<string, number>;
  asyncResources: Record<string, number>;
  processListeners: Record<string, number>;
  serverListeners: Record<string, Record<string, number>>;
  books: Record<string, number>;
}

async function countAll(lab: Lab, census: AsyncCensus): Promise<Counts> {
  gc();
  return {
    // Timers are the census's to count: this list's Timeout includes the test runner's own
    // (vitest reports progress on a 100 ms timer), which comes and goes as it likes.
    activeResources: tally(process.getActiveResourcesInfo().filter((kind) => kind !== 'Timeout' && kind !== 'Immediate')),
    asyncResources: census.byType(),
    processListeners: listenersOf(process),
    serverListeners: Object.fromEntries(Object.entries(lab.emitters).map(([name, emitter]) => [name, listenersOf(emitter)])),
    books: await lab.books(),
  };
}

function heapUsed(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/**
 * Counts taken again every POLL_MS until `done(counts, previous)` (or the hang guard): what a
 * server lets go of a moment after a client has gone (a grace timer, a destroy hook) has let go.
 */
async function countsOnce(lab: Lab, census: AsyncCensus, done: (counts: Counts, previous: Counts | undefined) => boolean): Promise<Counts> {
  const giveUpAt = Date.now() + HANG_GUARD_MS;
  let previous: Counts | undefined;
  for (;;) {
    const counts = await countAll(lab, census);
    if (done(counts, previous) || Date.now() > giveUpAt) return counts;
    previous = counts;
    await census.unseen(() => new Promise((resolve) => realSetTimeout(resolve, POLL_MS)));
  }
}

/** Runs `work` on every item, `limit` at a time. */
async function inPool<T>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      await work(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Lines "sender: text" grouped by sender, in order. */
function bySender(lines: readonly string[]): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const line of lines) {
    const sender = line.slice(0, line.indexOf(':'));
    groups.set(sender, [...(groups.get(sender) ?? []), line]);
  }
  return groups;
}

const LEAVING: readonly Leaving[] = ['quit', 'end', 'destroy', 'destroy'];

/**
 * The waves, with every delivery checked; resolves with how many clients took part. Its
 * clients and what the keepers heard are garbage once it returns, before the heap is measured.
 */
async function soak(lab: Lab): Promise<number> {
  const heard = Array.from({ length: KEEPERS }, () => new Heard());
  const keepers: Member[] = [];
  for (const h of heard) keepers.push(await lab.keeper(h));
  const expected: string[] = [];
  const names: string[] = [];
  let leaving: Member[] = [];
  for (let wave = 0; wave < WAVES; wave++) {
    const members: Member[] = [];
    const joining = inPool(Array.from({ length: PER_WAVE }, (_, i) => i), CONCURRENCY, async (i) => {
      const member = await lab.member();
      members.push(member);
      names.push(member.name);
      for (let m = 0; m < MESSAGES; m++) {
        const text = `w${wave} c${i} m${m}`;
        expected.push(`${member.name}: ${text}`);
        member.say(text);
      }
    });
    // The wave before leaves while this one joins and talks.
    const departing = inPool(leaving, CONCURRENCY, (member, i) => member.leave(LEAVING[i % LEAVING.length]!));
    await Promise.all([joining, departing]);
    const want = expected.length;
    for (const [k, keeper] of keepers.entries()) await keeper.until(() => heard[k]!.messages.length >= want, `wave ${wave}'s messages`);
    leaving = members;
  }
  await inPool(leaving, CONCURRENCY, (member, i) => member.leave(LEAVING[i % LEAVING.length]!));
  for (const [k, keeper] of keepers.entries()) await keeper.until(() => heard[k]!.leaveCount >= names.length, 'every leave notice');

  const once = new Map(names.map((name) => [name, 1]));
  for (const h of heard) {
    // Keepers hear each other's joins too; the soak is about the clients that come and go.
    for (const keeper of keepers) h.joins.delete(keeper.name);
    expect(h.messages).toHaveLength(expected.length);
    expect([...h.messages].sort()).toEqual([...expected].sort());
    expect(h.messages).toEqual(heard[0]!.messages); // one broadcast order for everyone
    expect(bySender(h.messages)).toEqual(bySender(expected)); // each sender's in the order it sent them
    expect(h.joins).toEqual(once);
    expect(h.leaves).toEqual(once);
  }
  for (const keeper of keepers) await keeper.leave('quit');
  return names.length;
}

describe.each([
  ['tcp-chat', tcpLab],
  ['ws-chat', wsLab],
])('the %s server, soaked with 1,000 clients joining and leaving', (lab, start) => {
  it('leaves no socket, listener or timer behind, and memory returns to where it started', async () => {
    const census = asyncCensus();
    const server = await start();
    // The same counts twice in a row: the server's start (reading its page…) is over.
    const baseline = await countsOnce(server, census, (counts, previous) => isDeepStrictEqual(counts, previous));
    const heapBefore = heapUsed();

    const clients = await soak(server);
    expect(clients).toBe(WAVES * PER_WAVE);

    await server.untilEmpty();
    const after = await countsOnce(server, census, (counts) => isDeepStrictEqual(counts, baseline));
    expect(after).toEqual(baseline);
    const growth = heapUsed() - heapBefore;
    console.log(`${lab} soak: ${clients} clients, heap ${(heapBefore / 2 ** 20).toFixed(1)} MB before, growth ${(growth / 2 ** 20).toFixed(2)} MB`);
    expect(growth).toBeLessThan(HEAP_GROWTH_BOUND);
  });
});
