/**
 * The connection manager of lesson 07: chat-manager.ts's job when several ws-chat servers share
 * one chat through Redis (`netlab ws-chat serve --redis redis://127.0.0.1:6379`).
 *
 * Each server still knows only its own connections, rooms and users, as chat-manager.ts does.
 * What the group shares lives in Redis (chat-redis-scripts.ts says where; chat-cluster-wire.ts
 * holds the events on its channel):
 *
 *   fan-out     a message is published on one pub/sub channel, and every server, the sender's
 *               too, delivers it to its own connections when it comes back from Redis. So every
 *               client of every server sees the room in one order: the order Redis published in.
 *   history     kept in the same step as the publish, so it is in that order too
 *   presence    who is in which room, per server; "bob joined" when bob's first connection on
 *               any server enters, "bob left" when his last one on any server leaves
 *   names       one holder per name across the group; free again with the user's last
 *               connection anywhere
 *   liveness    each server says it is alive every timeout/4; one that has not for `timeout`
 *               is cleared by the others: its users leave their rooms, its names are freed
 *
 * A client's messages are acted on one after another, each once Redis has answered the one
 * before. Answers made here (a refusal) can still overtake the copy of an earlier message, which
 * comes back through Redis. While Redis is unreachable, a message is refused with `unavailable`
 * rather than silently lost (if Redis ran it but its answer was lost, it was delivered, and a
 * client that sends it again doubles it); when Redis is back, the server writes its part again.
 * Lines published while this server's subscriber is reconnecting do not reach its clients:
 * Redis pub/sub keeps nothing for a subscriber that is away (lesson 07 says so).
 *
 * Leaves out: Redis Cluster and Sentinel (one Redis is the one point of failure, lesson 07 says
 * so); authentication beyond what a redis:// URL carries; MAX_ROOMS across the group (each
 * server keeps its own limit).
 */
import { randomBytes } from 'node:crypto';
import { createClient } from '@redis/client';
import { visible } from '../core/text-view.js';
import type { ChatConnection, Room, User, WsChatEvents } from './chat-manager.js';
import { ids, MAX_HISTORY, MAX_ROOMS, refusal } from './chat-manager.js';
import {
  DEFAULT_ROOM,
  encode,
  nameKey,
  nameProblem,
  roomKey,
  type ChatLine,
  type ClientMessage,
  type Presence,
  type ProtocolError,
} from './chat-protocol.js';
import { describeRedisError, isRedisError, parseEntry, parseEvent, shaOf, withDeadline, withoutPassword, type GroupEvent, type HistoryEntry } from './chat-cluster-wire.js';
import * as lua from './chat-redis-scripts.js';

export { describeRedisError, withoutPassword };
import { showLine } from './chat-view.js';

/** The prefix of every key and of the channel, unless a test picks its own. */
export const REDIS_PREFIX = 'netlab:ws-chat:';
/** How long a silent server counts as alive, by default. */
export const PRESENCE_TIMEOUT_MS = 10_000;
/** How long the first connection to Redis may take before the server gives up. */
export const CONNECT_TIMEOUT_MS = 3_000;
/** How long a stopping server waits for Redis before it stops anyway. */
const CLOSE_TIMEOUT_MS = 2_000;

export interface ClusterOptions {
  /** `redis://127.0.0.1:6379` */
  url: string;
  /** How long a server may stay silent before the others clear it, in ms. */
  timeoutMs?: number;
  prefix?: string;
}

/** What happens between this server and Redis, for the log. */
export type RedisState =
  | { state: 'lost'; url: string; reason: string }
  | { state: 'back'; url: string; namesLost: number }
  | { state: 'cleared'; servers: number };

export interface ClusterEvents {
  redis: [state: RedisState];
  /** A message or notice from another server (`lobby · alice: hi`), delivered here to `deliveries` connections. */
  relayed: [what: string, deliveries: number];
  /** Something went wrong that is not Redis being away: a bug, said rather than hidden. */
  failure: [err: Error];
}

type Emitter = { emit<K extends keyof (WsChatEvents & ClusterEvents)>(event: K, ...args: (WsChatEvents & ClusterEvents)[K]): unknown };

type Redis = ReturnType<typeof createClient>;

/** Redis is not there: what the caller turns into one sentence (exit 1). */
export class RedisUnreachableError extends Error {
  constructor(
    readonly url: string,
    readonly reason: string,
  ) {
    super(`cannot reach Redis at ${url} (${reason})`);
  }
}

export class ClusterChatManager {
  /** This server in the group: random, so a restarted server is a new one. */
  readonly serverId = randomBytes(4).toString('hex');
  readonly totals = { joined: 0, messages: 0, deliveries: 0 };
  private readonly users = new Map<string, User>();
  private readonly rooms = new Map<string, Room>();
  private readonly byId = new Map<number, ChatConnection>();
  /** Each connection's work, one message after another. */
  private readonly queues = new Map<ChatConnection, Promise<void>>();
  /** What comes for a connection while it is being sent its history: held, then sent after it. */
  private readonly joining = new Map<ChatConnection, Array<{ wire: Buffer; seq: number | undefined }>>();
  /** The number of the last line of the history a connection was sent: older lines are not sent again. */
  private readonly floors = new Map<ChatConnection, number>();
  private readonly prefix: string;
  private readonly timeoutMs: number;
  private beat: NodeJS.Timeout | undefined;
  private up = true;
  private closed = false;
  private serversAtStart = 1;

  private constructor(
    private readonly url: string,
    private readonly redis: Redis,
    private readonly sub: Redis,
    options: ClusterOptions,
    private readonly events: Emitter,
    private readonly now: () => Date,
    private readonly newToken: () => string,
  ) {
    this.prefix = options.prefix ?? REDIS_PREFIX;
    this.timeoutMs = options.timeoutMs ?? PRESENCE_TIMEOUT_MS;
  }

  /**
   * Connects to Redis (twice: a connection that subscribes can do nothing else), joins the
   * group and starts saying it is alive. Rejects with RedisUnreachableError when Redis does not
   * answer within CONNECT_TIMEOUT_MS.
   */
  static async start(
    options: ClusterOptions,
    events: Emitter,
    now: () => Date = () => new Date(),
    newToken: () => string = () => randomBytes(16).toString('hex'),
  ): Promise<ClusterChatManager> {
    let started = false;
    let firstError = 'no answer';
    const make = (): Redis =>
      createClient({
        url: options.url,
        // Once running, a lost Redis is retried for good (every 0.1 s, then up to every 2 s);
        // before that, the first failure ends the start.
        socket: { connectTimeout: CONNECT_TIMEOUT_MS, reconnectStrategy: (retries) => (started ? Math.min(100 * 2 ** retries, 2000) : false) },
        // A command while Redis is away fails at once: the client hears `unavailable` now,
        // rather than a message sent minutes later or never.
        disableOfflineQueue: true,
      });
    const redis = make();
    const sub = make();
    const remember = (err: unknown) => {
      if (!started) firstError = describeRedisError(err);
    };
    redis.on('error', remember);
    sub.on('error', remember);
    const shown = withoutPassword(options.url);
    try {
      // A peer that accepts but never answers would keep connect() waiting: give up in time.
      await withDeadline(Promise.all([redis.connect(), sub.connect()]), CONNECT_TIMEOUT_MS, () => (firstError = 'no answer'));
      started = true;
      const manager = new ClusterChatManager(shown, redis, sub, options, events, now, newToken);
      await manager.join();
      return manager;
    } catch (err) {
      redis.destroy();
      sub.destroy();
      throw new RedisUnreachableError(shown, started ? describeRedisError(err) : firstError);
    }
  }

  /** How many servers the group had when this one joined, itself included. */
  get groupSize(): number {
    return this.serversAtStart;
  }

  private async join(): Promise<void> {
    const onError = (err: unknown) => this.lost(err);
    this.redis.on('error', onError);
    this.sub.on('error', onError);
    // Back only when both are: a subscriber that reconnects alone (Redis dropped it) counts too.
    this.redis.on('ready', () => void this.back());
    this.sub.on('ready', () => void this.back());
    await this.sub.subscribe(`${this.prefix}events`, (message) => this.receive(message));
    await this.heartbeat();
    this.serversAtStart = await this.redis.zCard(`${this.prefix}servers`);
    this.beat = setInterval(() => void this.heartbeat(), Math.max(100, Math.floor(this.timeoutMs / 4)));
    this.beat.unref();
  }

  /** How many users hold at least one connection here. */
  get userCount(): number {
    return this.users.size;
  }

  /** How many rooms have someone in them here. */
  get roomCount(): number {
    return this.rooms.size;
  }

  /** Acts on one valid message from a connection, after the connection's earlier ones. */
  handle(conn: ChatConnection, message: ClientMessage): void {
    this.queue(conn, () => this.act(conn, message), ids(message));
  }

  /** Tells a connection its message was refused, in order with its other answers. */
  refuse(conn: ChatConnection, error: ProtocolError): void {
    this.queue(conn, async () => this.refuseNow(conn, error));
  }

  /** A connection closed: it leaves its room, and its name goes with its user's last one. */
  disconnect(conn: ChatConnection, why: string): void {
    this.queue(conn, async () => {
      const user = conn.user;
      this.byId.delete(conn.id);
      this.joining.delete(conn);
      this.floors.delete(conn);
      if (!user) return;
      // This server's own state first, so that a Redis that fails here leaves no ghost behind:
      // RESTORE writes back what is here, and frees what is not.
      user.connections.delete(conn);
      if (user.connections.size === 0) this.users.delete(user.token);
      try {
        await this.leaveRoom(conn, why, user);
      } finally {
        conn.user = undefined;
        await this.script(lua.RELEASE, this.serverId, user.token);
      }
    }, {}, false);
    // Nothing more will come from it: forget its queue once it has run.
    void this.queues.get(conn)?.then(() => {
      if (!conn.user) this.queues.delete(conn);
    });
  }

  /** Waits for every connection's work, leaves the group and closes both connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.beat);
    // A Redis that stopped answering must not keep the server from stopping.
    const finished = (async () => {
      await Promise.allSettled([...this.queues.values()]);
      await this.script(lua.LEAVE_GROUP, this.serverId).catch(() => {});
    })();
    await withDeadline(finished, CLOSE_TIMEOUT_MS).catch(() => {});
    this.redis.destroy();
    this.sub.destroy();
  }

  private queue(conn: ChatConnection, work: () => Promise<void>, id: { id?: string } = {}, answer = true): void {
    const before = this.queues.get(conn) ?? Promise.resolve();
    const next = before.then(work).catch((err: unknown) => {
      if (!isRedisError(err)) this.events.emit('failure', err instanceof Error ? err : new Error(String(err)));
      if (answer) this.refuseNow(conn, { code: 'unavailable', text: 'the chat cannot reach its Redis just now; send it again in a moment', ...id });
    });
    this.queues.set(conn, next);
  }

  private async act(conn: ChatConnection, message: ClientMessage): Promise<void> {
    if (message.type === 'join') return this.joinRoom(conn, message);
    const user = conn.user;
    const room = conn.room;
    if (!user || !room) {
      return this.refuseNow(conn, refusal.joinFirst(ids(message)));
    }
    switch (message.type) {
      case 'message':
        return this.say(conn, user, room, message);
      case 'private':
        return this.whisper(conn, user, message);
      case 'rename':
        return this.rename(conn, user, message.name, ids(message));
      case 'users':
        return void conn.send(encode({ type: 'users', room: room.name, users: await this.usersIn(room), ...ids(message) }));
    }
  }

  private refuseNow(conn: ChatConnection, error: ProtocolError): void {
    conn.send(encode({ type: 'error', ...error }));
    this.events.emit('rejected', conn, error);
  }

  private async joinRoom(conn: ChatConnection, message: Extract<ClientMessage, { type: 'join' }>): Promise<void> {
    const id = ids(message);
    let user = conn.user;
    const wanted = message.room ?? DEFAULT_ROOM;
    if (user) {
      if (message.name !== undefined && nameKey(message.name) !== nameKey(user.name)) {
        return this.refuseNow(conn, { code: 'bad-field', field: 'name', text: `you are ${user.name} here; "rename" changes your name`, ...id });
      }
      if (!this.roomAvailable(wanted)) return this.refuseTooManyRooms(conn, id);
      if (conn.room && roomKey(conn.room.name) !== roomKey(wanted)) await this.leaveRoom(conn, `went to ${wanted}`, user);
      return this.enterRoom(conn, user, wanted, id);
    }
    if (!this.roomAvailable(wanted)) return this.refuseTooManyRooms(conn, id);
    // As on one server: a known token (another tab, a reconnect, on any server of the group)
    // is its user, under the user's name now.
    const known = message.token === undefined ? undefined : ((await this.redis.hGet(`${this.prefix}names`, message.token)) ?? undefined);
    const token = message.token ?? this.newToken();
    let name = known ?? message.name;
    if (!known && name !== undefined) {
      const reclaimed = message.token !== undefined && /^guest-\d+$/i.test(name);
      const problem = message.name === undefined || reclaimed ? undefined : nameProblem(name, () => false);
      if (problem) return this.refuseNow(conn, { code: 'bad-field', field: 'name', text: problem, ...id });
    }
    for (let tries = 0; ; tries++) {
      const guest = name === undefined;
      const asked = name ?? `guest-${await this.redis.incr(`${this.prefix}guests`)}`;
      // The name the user holds now, if it holds one already (renamed meanwhile, in another tab).
      const held = (await this.script(lua.CLAIM, this.serverId, token, nameKey(asked), asked)) as string | null;
      if (held !== null) {
        name = held;
        break;
      }
      if (!guest || tries >= 20) return this.refuseNow(conn, { code: 'name-taken', field: 'name', text: `"${asked}" is taken; choose another name`, ...id });
    }
    user = this.users.get(token) ?? { name, token, connections: new Set() };
    user.name = name;
    this.users.set(token, user);
    user.connections.add(conn);
    conn.user = user;
    this.byId.set(conn.id, conn);
    return this.enterRoom(conn, user, wanted, id);
  }

  private async enterRoom(conn: ChatConnection, user: User, name: string, id: { id?: string }): Promise<void> {
    const key = roomKey(name);
    // Looked up (or made) now, not before the awaits of the join: the room may have emptied.
    const room = this.roomFor(name);
    if (!room) return this.refuseTooManyRooms(conn, id);
    const entering = conn.room !== room;
    // Everything for this connection is held until its history is sent (see below).
    this.joining.set(conn, []);
    this.floors.delete(conn);
    let history: HistoryEntry[];
    try {
      if (entering) {
        conn.room = room;
        room.connections = [...room.connections, conn];
        const here = room.users.get(user.token) ?? 0;
        room.users.set(user.token, here + 1);
        const event: GroupEvent = { kind: 'presence', server: this.serverId, room: key, event: 'join', name: user.name, token: user.token, online: 0, conn: conn.id };
        const online = Number(await this.script(lua.ENTER, this.serverId, key, user.token, JSON.stringify(event)));
        this.totals.joined++;
        this.events.emit('join', conn, room.name, online, here + 1);
      }
      // `joined` only once the history is read: then a line is in the history if Redis published
      // it before `joined`, and comes on its own after it if not.
      history = (await this.redis.lRange(`${this.prefix}history:${key}`, 0, -1)).flatMap(parseEntry);
    } catch (err) {
      this.joining.delete(conn);
      if (entering && conn.room === room) this.dropFromRoom(conn, user, room);
      throw err;
    }
    const held = this.joining.get(conn) ?? [];
    this.joining.delete(conn);
    conn.send(encode({ type: 'joined', name: user.name, room: room.name, token: user.token, ...id }));
    conn.send(encode({ type: 'history', room: room.name, messages: history.map((entry) => entry.line) }));
    // Lines carry Redis's number for the room: what the history has is not sent again, whether
    // it was held meanwhile or comes from Redis later.
    const floor = history.at(-1)?.seq ?? 0;
    for (const item of held) if (item.seq === undefined || item.seq > floor) conn.send(item.wire);
    this.floors.set(conn, floor);
    conn.send(encode({ type: 'users', room: room.name, users: await this.usersIn(room) }));
  }

  /** Sends to a connection, or holds it while the connection is being sent its history. */
  private sendTo(conn: ChatConnection, wire: Buffer, seq?: number): boolean {
    const held = this.joining.get(conn);
    if (held) {
      held.push({ wire, seq });
      return true;
    }
    const floor = this.floors.get(conn);
    if (seq !== undefined && floor !== undefined) {
      if (seq <= floor) return false;
      this.floors.delete(conn);
    }
    return conn.send(wire);
  }

  /** Takes a connection out of its room here (not in Redis). */
  private dropFromRoom(conn: ChatConnection, user: User, room: Room): number {
    conn.room = undefined;
    this.joining.delete(conn);
    this.floors.delete(conn);
    room.connections = room.connections.filter((c) => c !== conn);
    const here = (room.users.get(user.token) ?? 1) - 1;
    if (here > 0) room.users.set(user.token, here);
    else room.users.delete(user.token);
    if (room.connections.length === 0) this.rooms.delete(roomKey(room.name));
    return Math.max(here, 0);
  }

  private async leaveRoom(conn: ChatConnection, why: string, user: User): Promise<void> {
    const room = conn.room;
    if (!room) return;
    const here = this.dropFromRoom(conn, user, room);
    const key = roomKey(room.name);
    const event: GroupEvent = { kind: 'presence', server: this.serverId, room: key, event: 'leave', name: user.name, token: user.token, online: 0, why, conn: conn.id };
    const online = Number(await this.script(lua.LEAVE, this.serverId, key, user.token, JSON.stringify(event)));
    this.events.emit('leave', conn, room.name, online, why, here);
  }

  private async say(conn: ChatConnection, user: User, room: Room, message: Extract<ClientMessage, { type: 'message' }>): Promise<void> {
    const line: ChatLine = { type: 'message', room: room.name, from: user.name, text: visible(message.text), time: this.now().toISOString() };
    if (message.action) line.action = true;
    const key = roomKey(room.name);
    const event: GroupEvent = { kind: 'line', server: this.serverId, room: key, line, conn: conn.id, ...ids(message) };
    await this.script(lua.SAY, key, JSON.stringify(line), JSON.stringify(event), MAX_HISTORY);
    this.totals.messages++;
  }

  private async whisper(conn: ChatConnection, user: User, message: Extract<ClientMessage, { type: 'private' }>): Promise<void> {
    const id = ids(message);
    const to = (await this.script(lua.WHO, nameKey(message.to))) as [string, string] | null;
    if (!to) return this.refuseNow(conn, { code: 'no-such-user', field: 'to', text: `no one called ${visible(message.to)} is connected`, ...id });
    if (to[0] === user.token) return this.refuseNow(conn, { code: 'bad-field', field: 'to', text: 'that is you; a private message goes to someone else', ...id });
    const whisper = { type: 'private', from: user.name, to: to[1], text: visible(message.text), time: this.now().toISOString() } as const;
    const event: GroupEvent = { kind: 'private', server: this.serverId, to: to[0], from: user.token, message: whisper, conn: conn.id, ...id };
    await this.redis.publish(`${this.prefix}events`, JSON.stringify(event));
  }

  private async rename(conn: ChatConnection, user: User, name: string, id: { id?: string }): Promise<void> {
    if (name === user.name) return this.refuseNow(conn, { code: 'bad-field', field: 'name', text: `you are already ${user.name}`, ...id });
    const problem = nameProblem(name, () => false);
    if (problem) return this.refuseNow(conn, { code: 'bad-field', field: 'name', text: `${problem}; you are still ${user.name}`, ...id });
    const event: GroupEvent = { kind: 'rename', server: this.serverId, token: user.token, name, old: user.name, rooms: [], conn: conn.id, ...id };
    const done = await this.script(lua.RENAME, user.token, nameKey(name), name, JSON.stringify(event));
    if (done !== 1) return this.refuseNow(conn, { code: 'name-taken', field: 'name', text: `"${name}" is taken; you are still ${user.name}`, ...id });
    // At once, so that this connection's next message already goes out under the new name.
    user.name = name;
  }

  /** One event from the channel, acted on for this server's own connections. */
  private receive(message: string): void {
    // Anything can be published on a channel: what is not an event of this design is dropped,
    // and a mistake in acting on one is said, never thrown into the Redis client.
    const event = parseEvent(message);
    if (!event) return;
    try {
      this.actOn(event);
    } catch (err) {
      this.events.emit('failure', err instanceof Error ? err : new Error(String(err)));
    }
  }

  private actOn(event: GroupEvent): void {
    const origin = event.server === this.serverId ? this.byId.get(event.conn ?? -1) : undefined;
    switch (event.kind) {
      case 'line':
        return this.deliverLine(event, origin);
      case 'presence':
        return this.deliverPresence(event, origin);
      case 'private':
        return this.deliverPrivate(event, origin);
      case 'rename':
        return this.deliverRename(event, origin);
    }
  }

  private deliverLine(event: Extract<GroupEvent, { kind: 'line' }>, origin: ChatConnection | undefined): void {
    const room = this.rooms.get(event.room);
    let deliveries = 0;
    if (room) {
      const wire = encode(event.line);
      for (const conn of room.connections) {
        if (this.sendTo(conn, conn === origin && event.id !== undefined ? encode({ ...event.line, id: event.id }) : wire, event.seq)) deliveries++;
      }
    }
    this.totals.deliveries += deliveries;
    if (origin) this.events.emit('message', origin, event.line, deliveries);
    else this.events.emit('relayed', `${event.line.room} · ${showLine(event.line)}`, deliveries);
  }

  private deliverPresence(event: Extract<GroupEvent, { kind: 'presence' }>, origin: ChatConnection | undefined): void {
    const room = this.rooms.get(event.room);
    if (!room) return;
    const presence: Presence = { event: event.event, name: event.name };
    const text =
      event.event === 'join'
        ? `${event.name} joined ${room.name} (${event.online} here)`
        : `${event.name} left ${room.name} (${event.why ?? 'left'}) · ${event.online} here`;
    const wire = encode({ type: 'notice', room: room.name, text, presence });
    let deliveries = 0;
    for (const conn of room.connections) if (conn !== origin && this.sendTo(conn, wire)) deliveries++;
    if (event.server !== this.serverId) this.events.emit('relayed', text, deliveries);
  }

  private deliverPrivate(event: Extract<GroupEvent, { kind: 'private' }>, origin: ChatConnection | undefined): void {
    const wire = encode(event.message);
    let deliveries = 0;
    for (const conn of this.users.get(event.to)?.connections ?? []) if (this.sendTo(conn, wire)) deliveries++;
    // The sender's other tabs see what it sent; the sending connection gets its id back.
    const own = event.id === undefined ? wire : encode({ ...event.message, id: event.id });
    for (const conn of this.users.get(event.from)?.connections ?? []) this.sendTo(conn, conn === origin ? own : wire);
    if (origin) this.events.emit('private', origin, event.message.to, deliveries);
    else if (deliveries > 0) this.events.emit('relayed', `${event.message.from} → ${event.message.to}: a private message`, deliveries);
  }

  private deliverRename(event: Extract<GroupEvent, { kind: 'rename' }>, origin: ChatConnection | undefined): void {
    const user = this.users.get(event.token);
    if (user) user.name = event.name;
    const presence: Presence = { event: 'rename', name: event.name, old: event.old };
    const text = `${event.old} is now ${event.name}`;
    for (const key of event.rooms) {
      const room = this.rooms.get(key);
      if (!room) continue;
      const wire = encode({ type: 'notice', room: room.name, text, presence });
      for (const conn of room.connections) if (conn !== origin) this.sendTo(conn, wire);
    }
    if (origin) {
      this.sendTo(origin, encode({ type: 'notice', room: origin.room?.name, text, presence, ...(event.id === undefined ? {} : { id: event.id }) }));
      this.events.emit('rename', origin, event.old);
    } else if (event.server !== this.serverId && user) this.events.emit('relayed', text, user.connections.size);
  }

  private async usersIn(room: Room): Promise<string[]> {
    const names = (await this.script(lua.USERS, roomKey(room.name))) as string[];
    return names.sort((a, b) => a.localeCompare(b));
  }

  /** Whether a connection may enter the room called `name` here (it exists, or one more may). */
  private roomAvailable(name: string): boolean {
    return this.rooms.has(roomKey(name)) || this.rooms.size < MAX_ROOMS;
  }

  /** The room called `name` here, made if it is new; undefined when MAX_ROOMS are in use. */
  private roomFor(name: string): Room | undefined {
    const key = roomKey(name);
    const known = this.rooms.get(key);
    if (known) return known;
    if (this.rooms.size >= MAX_ROOMS) return undefined;
    const room: Room = { name, connections: [], users: new Map(), history: [] };
    this.rooms.set(key, room);
    return room;
  }

  private refuseTooManyRooms(conn: ChatConnection, id: { id?: string }): void {
    this.refuseNow(conn, refusal.tooManyRooms(id));
  }

  /** Says this server is alive, clears dead ones, and writes its part again if Redis forgot it. */
  private async heartbeat(): Promise<void> {
    if (this.closed) return;
    try {
      const [known, cleared] = (await this.script(lua.BEAT, this.serverId, this.timeoutMs)) as [number, number];
      if (known === 0 && this.users.size > 0) await this.restore();
      if (cleared > 0) this.events.emit('redis', { state: 'cleared', servers: cleared });
    } catch {
      // The 'error' event has said that Redis is gone; the next beat tries again.
    }
  }

  private lost(err: unknown): void {
    if (!this.up || this.closed) return;
    this.up = false;
    this.events.emit('redis', { state: 'lost', url: this.url, reason: describeRedisError(err) });
  }

  private async back(): Promise<void> {
    if (this.up || this.closed || !this.redis.isReady || !this.sub.isReady) return;
    this.up = true;
    const namesLost = await this.restore().catch(() => 0);
    this.events.emit('redis', { state: 'back', url: this.url, namesLost });
  }

  /** Writes this server's users and presence into Redis again; how many names were taken. */
  private async restore(): Promise<number> {
    // A Redis that restarted empty numbers each room's lines from 1 again: no old floor holds.
    this.floors.clear();
    const users = [...this.users.values()].map((u) => [u.token, nameKey(u.name), u.name, u.connections.size]);
    const here: [string, number][] = [];
    for (const [key, room] of this.rooms) for (const [token, n] of room.users) here.push([`${key}\n${token}`, n]);
    return Number(await this.script(lua.RESTORE, this.serverId, this.timeoutMs, JSON.stringify(users), JSON.stringify(here)));
  }

  /**
   * Runs a script by its SHA1 (EVALSHA), so a message does not carry the script's source; a
   * Redis that does not know it (it restarted) gets the source once (EVAL), then its SHA1 again.
   */
  private async script(source: string, ...args: (string | number)[]): Promise<unknown> {
    const options = { arguments: [this.prefix, ...args.map(String)] };
    const sha = shaOf(source);
    try {
      return await this.redis.evalSha(sha, options);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return this.redis.eval(source, options);
    }
  }
}
