/**
 * The connection manager of lesson 05: who is connected, under which name, in which room.
 * The course's notes keep "a list of connections" and broadcast to all of it; a chat with
 * rooms and users needs three maps instead:
 *
 *   users        name → User: the name's token and every connection that holds it (two tabs),
 *                and token → the same User
 *   rooms        room → Room: its connections, who is there, and its last messages
 *   connection   → its user and its one room (a connection is in one room at a time)
 *
 * A message goes to the connections of one room; a private message to every connection of
 * one user, wherever they are. Presence is per user: "bob joined" when bob's first connection
 * enters a room, "bob left" when his last one leaves it.
 *
 * Pure logic over connections that can `send()`: no sockets, timers or output. chat-server.ts
 * feeds it parsed messages and closes; it answers with events (WsChatEvents) for the log.
 *
 * As in tcp-chat (chat-room.ts), a room's connection list is copy-on-write, so a broadcast
 * walks a list that nobody changes under it, and a message is encoded once for the room.
 * Rooms are kept after they empty, with their history, up to MAX_ROOMS; then the empty room
 * made first is forgotten. Memory stays bounded by MAX_ROOMS × MAX_HISTORY messages.
 */
import { randomBytes } from 'node:crypto';
import { visible } from '../core/text-view.js';
import {
  encode,
  nameKey,
  nameProblem,
  roomKey,
  type ChatLine,
  type ClientMessage,
  type Presence,
  type ProtocolError,
  type ServerMessage,
} from './chat-protocol.js';

/** How many of a room's last messages a client gets when it joins. */
export const MAX_HISTORY = 20;
/** How many rooms the server keeps; a new room past this replaces the oldest empty one. */
export const MAX_ROOMS = 256;

/** One WebSocket connection, as the manager sees it. */
export interface ChatConnection {
  readonly id: number;
  /** `127.0.0.1:53422` */
  readonly remote: string;
  /** Queues one text message; false when the connection is gone or was cut off. */
  send(data: Buffer): boolean;
  user?: User;
  room?: Room;
}

export interface User {
  name: string;
  readonly token: string;
  readonly connections: Set<ChatConnection>;
}

export interface Room {
  readonly name: string;
  /** Copy-on-write, as in tcp-chat: replaced on join and leave, never changed in place. */
  connections: readonly ChatConnection[];
  /** How many of each user's connections are here, by name key. */
  readonly users: Map<string, number>;
  readonly history: ChatLine[];
}

export interface WsChatEvents {
  /**
   * A connection entered a room; `online` is how many users are in it now, `connections` how
   * many of this user's connections (more than 1: another tab of someone already there).
   */
  join: [conn: ChatConnection, room: string, online: number, connections: number];
  /** A connection left a room; `connections` is how many of the user's are still there. */
  leave: [conn: ChatConnection, room: string, online: number, why: string, connections: number];
  rename: [conn: ChatConnection, oldName: string];
  message: [conn: ChatConnection, line: ChatLine, deliveries: number];
  private: [conn: ChatConnection, to: string, deliveries: number];
  /** A message from the client that was refused, and why (it got an error message). */
  rejected: [conn: ChatConnection, error: ProtocolError];
}

export class ChatManager {
  private readonly users = new Map<string, User>();
  /** The same users by token: how a second connection (or a reconnect) finds its user. */
  private readonly byToken = new Map<string, User>();
  private readonly rooms = new Map<string, Room>();
  private nextGuest = 1;
  readonly totals = { joined: 0, messages: 0, deliveries: 0 };

  constructor(
    /** Where the manager's events go: the server re-emits them. */
    private readonly events: { emit<K extends keyof WsChatEvents>(event: K, ...args: WsChatEvents[K]): unknown },
    private readonly now: () => Date = () => new Date(),
    private readonly newToken: () => string = () => randomBytes(16).toString('hex'),
  ) {}

  /** How many users hold at least one connection. */
  get userCount(): number {
    return this.users.size;
  }

  /** How many rooms have someone in them. */
  get roomCount(): number {
    return this.rooms.size;
  }

  /** Acts on one valid message from a connection. */
  handle(conn: ChatConnection, message: ClientMessage): void {
    if (message.type === 'join') return this.join(conn, message);
    const user = conn.user;
    const room = conn.room;
    if (!user || !room) {
      return this.refuse(conn, refusal.joinFirst(ids(message)));
    }
    switch (message.type) {
      case 'message':
        return this.say(conn, user, room, message);
      case 'private':
        return this.whisper(conn, user, message);
      case 'rename':
        return this.rename(conn, user, message.name, ids(message));
      case 'users':
        return void conn.send(encode({ ...this.usersOf(room), ...ids(message) }));
    }
  }

  /** Tells a connection its message was refused, and why. */
  refuse(conn: ChatConnection, error: ProtocolError): void {
    conn.send(encode({ type: 'error', ...error }));
    this.events.emit('rejected', conn, error);
  }

  /** A connection closed: it leaves its room, and its user goes when it was the last one. */
  disconnect(conn: ChatConnection, why: string): void {
    const user = conn.user;
    if (!user) return;
    this.leaveRoom(conn, why);
    user.connections.delete(conn);
    if (user.connections.size === 0) {
      this.users.delete(nameKey(user.name));
      this.byToken.delete(user.token);
    }
    conn.user = undefined;
  }

  private join(conn: ChatConnection, message: Extract<ClientMessage, { type: 'join' }>): void {
    const id = ids(message);
    let user = conn.user;
    if (user) {
      if (message.name !== undefined && nameKey(message.name) !== nameKey(user.name)) {
        return this.refuse(conn, { code: 'bad-field', field: 'name', text: `you are ${user.name} here; "rename" changes your name`, ...id });
      }
    } else {
      // The token says who a connection is; the name is only what it asks to be called. A
      // known token joins its user under the user's name now (renamed while this connection
      // was away, say), and `joined` tells the client that name.
      const known = message.token === undefined ? undefined : this.byToken.get(message.token);
      const name = known?.name ?? message.name ?? this.guestName();
      if (!known) {
        if (this.users.has(nameKey(name))) {
          return this.refuse(conn, { code: 'name-taken', field: 'name', text: `"${name}" is taken; choose another name`, ...id });
        }
        // A reconnecting guest (with its token) may take its guest-N name back; nobody may
        // pick one otherwise.
        const reclaimed = message.token !== undefined && /^guest-\d+$/i.test(name);
        const problem = message.name === undefined || reclaimed ? undefined : nameProblem(name, () => false);
        if (problem) return this.refuse(conn, { code: 'bad-field', field: 'name', text: problem, ...id });
      }
      const room = this.roomFor(message.room);
      if (!room) return this.refuseTooManyRooms(conn, id);
      // A token the server does not know (it restarted) is adopted, so the user's tabs keep it.
      user = known ?? { name, token: message.token ?? this.newToken(), connections: new Set() };
      this.users.set(nameKey(user.name), user);
      this.byToken.set(user.token, user);
      user.connections.add(conn);
      conn.user = user;
      return this.enterRoom(conn, user, room, id);
    }
    const room = this.roomFor(message.room);
    if (!room) return this.refuseTooManyRooms(conn, id);
    if (room !== conn.room) this.leaveRoom(conn, `went to ${room.name}`);
    this.enterRoom(conn, user, room, id);
  }

  private enterRoom(conn: ChatConnection, user: User, room: Room, id: { id?: string }): void {
    const key = nameKey(user.name);
    if (conn.room !== room) {
      conn.room = room;
      room.connections = [...room.connections, conn];
      const here = room.users.get(key) ?? 0;
      room.users.set(key, here + 1);
      this.totals.joined++;
      if (here === 0) this.presence(room, { event: 'join', name: user.name }, `${user.name} joined ${room.name} (${room.users.size} here)`, conn);
      this.events.emit('join', conn, room.name, room.users.size, here + 1);
    }
    conn.send(encode({ type: 'joined', name: user.name, room: room.name, token: user.token, ...id }));
    conn.send(encode({ type: 'history', room: room.name, messages: room.history }));
    conn.send(encode(this.usersOf(room)));
  }

  private leaveRoom(conn: ChatConnection, why: string): void {
    const room = conn.room;
    const user = conn.user;
    if (!room || !user) return;
    conn.room = undefined;
    room.connections = room.connections.filter((c) => c !== conn);
    const key = nameKey(user.name);
    const here = (room.users.get(key) ?? 1) - 1;
    if (here > 0) room.users.set(key, here);
    else {
      room.users.delete(key);
      this.presence(room, { event: 'leave', name: user.name }, `${user.name} left ${room.name} (${why}) · ${room.users.size} here`);
    }
    this.events.emit('leave', conn, room.name, room.users.size, why, Math.max(here, 0));
  }

  private say(conn: ChatConnection, user: User, room: Room, message: Extract<ClientMessage, { type: 'message' }>): void {
    const line: ChatLine = { type: 'message', room: room.name, from: user.name, text: visible(message.text), time: this.now().toISOString() };
    if (message.action) line.action = true;
    room.history.push(line);
    if (room.history.length > MAX_HISTORY) room.history.shift();
    // Encoded once for the room; the sender's own copy carries its id, so it knows it arrived.
    const wire = encode(line);
    const own = message.id === undefined ? wire : encode({ ...line, id: message.id });
    let deliveries = 0;
    for (const other of room.connections) {
      if (other.send(other === conn ? own : wire)) deliveries++;
    }
    this.totals.messages++;
    this.totals.deliveries += deliveries;
    this.events.emit('message', conn, line, deliveries);
  }

  private whisper(conn: ChatConnection, user: User, message: Extract<ClientMessage, { type: 'private' }>): void {
    const to = this.users.get(nameKey(message.to));
    const ids = message.id === undefined ? {} : { id: message.id };
    if (!to) return this.refuse(conn, { code: 'no-such-user', field: 'to', text: `no one called ${visible(message.to)} is connected`, ...ids });
    if (to === user) return this.refuse(conn, { code: 'bad-field', field: 'to', text: 'that is you; a private message goes to someone else', ...ids });
    const whisper: ServerMessage = { type: 'private', from: user.name, to: to.name, text: visible(message.text), time: this.now().toISOString() };
    const wire = encode(whisper);
    let deliveries = 0;
    for (const other of to.connections) if (other.send(wire)) deliveries++;
    // The sender's other tabs see what it sent; the sending connection gets its id back.
    const own = message.id === undefined ? wire : encode({ ...whisper, id: message.id });
    for (const mine of user.connections) mine.send(mine === conn ? own : wire);
    this.events.emit('private', conn, to.name, deliveries);
  }

  private rename(conn: ChatConnection, user: User, name: string, id: { id?: string }): void {
    if (name === user.name) return this.refuse(conn, { code: 'bad-field', field: 'name', text: `you are already ${user.name}`, ...id });
    // Changing only the case of one's own name is allowed.
    const problem = nameProblem(name, (key) => (this.users.get(key) ?? user) !== user);
    if (problem) {
      const code = problem.endsWith('is taken') ? 'name-taken' : 'bad-field';
      return this.refuse(conn, { code, field: 'name', text: `${problem}; you are still ${user.name}`, ...id });
    }
    const oldName = user.name;
    const oldKey = nameKey(oldName);
    this.users.delete(oldKey);
    user.name = name;
    this.users.set(nameKey(name), user);
    const rooms = new Set([...user.connections].map((c) => c.room).filter((room): room is Room => room !== undefined));
    for (const room of rooms) {
      const here = room.users.get(oldKey) ?? 0;
      room.users.delete(oldKey);
      room.users.set(nameKey(name), here);
      this.presence(room, { event: 'rename', name, old: oldName }, `${oldName} is now ${name}`, conn);
    }
    // The connection that asked gets the notice too, with its id: the answer to its rename.
    conn.send(encode({ type: 'notice', room: conn.room?.name, text: `${oldName} is now ${name}`, presence: { event: 'rename', name, old: oldName }, ...id }));
    this.events.emit('rename', conn, oldName);
  }

  private usersOf(room: Room): ServerMessage {
    const names = [...room.connections].map((c) => c.user?.name ?? '');
    return { type: 'users', room: room.name, users: [...new Set(names)].sort((a, b) => a.localeCompare(b)) };
  }

  /** A notice about who came, went or changed name, to everyone in the room (but `except`). */
  private presence(room: Room, presence: Presence, text: string, except?: ChatConnection): void {
    const wire = encode({ type: 'notice', room: room.name, text, presence });
    for (const conn of room.connections) if (conn !== except) conn.send(wire);
  }

  /** The room called `name`, made if it is new; undefined when MAX_ROOMS are all in use. */
  private roomFor(name: string): Room | undefined {
    const key = roomKey(name);
    const known = this.rooms.get(key);
    if (known) return known;
    if (this.rooms.size >= MAX_ROOMS) {
      const empty = [...this.rooms].find(([, room]) => room.connections.length === 0);
      if (!empty) return undefined;
      this.rooms.delete(empty[0]);
    }
    const room: Room = { name, connections: [], users: new Map(), history: [] };
    this.rooms.set(key, room);
    return room;
  }

  private refuseTooManyRooms(conn: ChatConnection, id: { id?: string }): void {
    this.refuse(conn, refusal.tooManyRooms(id));
  }

  private guestName(): string {
    let name = `guest-${this.nextGuest++}`;
    while (this.users.has(nameKey(name))) name = `guest-${this.nextGuest++}`;
    return name;
  }
}

/** Refusals in the same words from both managers (this one and chat-cluster.ts's). */
export const refusal = {
  joinFirst: (id: { id?: string }): ProtocolError => ({ code: 'join-first', text: 'send {"type":"join"} first, with a name and a room if you like', ...id }),
  tooManyRooms: (id: { id?: string }): ProtocolError => ({ code: 'too-many-rooms', field: 'room', text: `all ${MAX_ROOMS} rooms are in use; join one of them`, ...id }),
};

/** `{ id }` when a message has an id, `{}` when not: spread into the answer. */
export function ids(message: { id?: string }): { id?: string } {
  return message.id === undefined ? {} : { id: message.id };
}
