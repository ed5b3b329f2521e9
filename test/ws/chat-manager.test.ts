/**
 * The ws-chat connection manager (src/ws/chat-manager.ts, lesson 05) with no sockets at all:
 * fake connections whose send() keeps what it is given, parsed back from JSON. Messages go
 * through parseClientMessage first, as chat-server.ts does, so each test speaks the protocol.
 */
import { describe, expect, it } from 'vitest';
import { ChatManager, MAX_HISTORY, MAX_ROOMS, type ChatConnection, type Room, type User, type WsChatEvents } from '../../src/ws/chat-manager.js';
import { parseClientMessage, type ServerMessage } from '../../src/ws/chat-protocol.js';

const TIME = '2026-05-01T12:00:00.000Z';

/** A connection that keeps every message it is sent, parsed; `open = false` makes send() fail. */
class FakeConnection implements ChatConnection {
  readonly received: ServerMessage[] = [];
  readonly remote: string;
  user?: User;
  room?: Room;
  open = true;

  constructor(readonly id: number) {
    this.remote = `127.0.0.1:${40_000 + id}`;
  }

  send(data: Buffer): boolean {
    if (!this.open) return false;
    this.received.push(JSON.parse(data.toString('utf8')) as ServerMessage);
    return true;
  }

  /** The messages of one type received so far. */
  all<T extends ServerMessage['type']>(type: T): Array<Extract<ServerMessage, { type: T }>> {
    return this.received.filter((m): m is Extract<ServerMessage, { type: T }> => m.type === type);
  }

  last(): ServerMessage | undefined {
    return this.received.at(-1);
  }

  /** Forgets what was received, so a test can look at what comes next. */
  clear(): void {
    this.received.length = 0;
  }
}

type Recorded = { [K in keyof WsChatEvents]: [K, ...WsChatEvents[K]] }[keyof WsChatEvents];

/** A manager on a fixed clock with tokens 0…01, 0…02…, its events, and a way to make connections. */
function setup() {
  const events: Recorded[] = [];
  let tokens = 0;
  const manager = new ChatManager(
    { emit: (event, ...args) => events.push([event, ...args] as unknown as Recorded) },
    () => new Date(TIME),
    () => (++tokens).toString(16).padStart(32, '0'),
  );
  let nextId = 1;
  const connection = () => new FakeConnection(nextId++);
  /** Parses a message as the server would and hands it to the manager. */
  const act = (conn: FakeConnection, message: object) => {
    const parsed = parseClientMessage(JSON.stringify(message));
    if (!parsed.ok) throw new Error(`the test sent an invalid message ${JSON.stringify(message)}: ${parsed.text}`);
    manager.handle(conn, parsed.message);
  };
  /** A new connection that has joined. */
  const member = (join: { name?: string; room?: string; token?: string } = {}) => {
    const conn = connection();
    act(conn, { type: 'join', ...join });
    if (!conn.user) throw new Error(`join ${JSON.stringify(join)} was refused: ${JSON.stringify(conn.last())}`);
    return conn;
  };
  return { manager, events, connection, act, member };
}

/** The presence notices a connection received, as "event name" (rename: "rename old>new"). */
function presences(conn: FakeConnection): string[] {
  return conn.all('notice').flatMap((n) => (n.presence ? [`${n.presence.event} ${n.presence.old ? `${n.presence.old}>` : ''}${n.presence.name}@${n.room}`] : []));
}

/** The chat messages a connection received, as "from: text". */
function said(conn: FakeConnection): string[] {
  return conn.all('message').map((m) => `${m.from}: ${m.text}`);
}

describe('joining', () => {
  it('answers a join with joined (name, room, token), the history, then the users, and tells the room', () => {
    const { member, events } = setup();
    const bob = member({ name: 'bob' });
    const alice = member({ name: 'alice', room: 'lobby' });
    expect(alice.received).toEqual([
      { type: 'joined', name: 'alice', room: 'lobby', token: '00000000000000000000000000000002' },
      { type: 'history', room: 'lobby', messages: [] },
      { type: 'users', room: 'lobby', users: ['alice', 'bob'] },
    ]);
    expect(bob.all('notice')).toEqual([{ type: 'notice', room: 'lobby', text: 'alice joined lobby (2 here)', presence: { event: 'join', name: 'alice' } }]);
    expect(presences(alice), 'no notice of its own join').toEqual([]);
    expect(events.filter(([e]) => e === 'join').map(([, conn, room, online]) => [conn, room, online])).toEqual([
      [bob, 'lobby', 1],
      [alice, 'lobby', 2],
    ]);
  });

  it('carries the id of a join back in its joined', () => {
    const { connection, act } = setup();
    const conn = connection();
    act(conn, { type: 'join', name: 'alice', id: 'j1' });
    expect(conn.received[0]).toMatchObject({ type: 'joined', name: 'alice', id: 'j1' });
  });

  it('gives a join without a name a guest name, guest-1, guest-2 and so on', () => {
    const { member } = setup();
    const first = member();
    const second = member();
    expect([first.user?.name, second.user?.name]).toEqual(['guest-1', 'guest-2']);
    expect(second.received[0]).toMatchObject({ type: 'joined', name: 'guest-2', room: 'lobby' });
  });

  it('lets no one pick a guest-N name, by join without a token or by rename', () => {
    const { connection, act, member } = setup();
    const picker = connection();
    act(picker, { type: 'join', name: 'guest-7' });
    expect(picker.last()).toMatchObject({ type: 'error', code: 'bad-field', field: 'name' });
    expect(picker.user).toBeUndefined();
    const alice = member({ name: 'alice' });
    act(alice, { type: 'rename', name: 'guest-9' });
    expect(alice.last()).toMatchObject({ type: 'error', code: 'bad-field', field: 'name' });
  });

  it('gives a reconnecting guest its guest-N name back when it brings its token', () => {
    const { manager, member } = setup();
    const guest = member();
    const { name, token } = guest.user!;
    manager.disconnect(guest, 'connection lost');
    const again = member({ name, token });
    expect(again.received[0]).toEqual({ type: 'joined', name: 'guest-1', room: 'lobby', token });
    expect(member().user?.name, 'the next guest gets a new number').toBe('guest-2');
  });

  it('refuses names the rules forbid, and the connection can then join with a good one', () => {
    const { connection, act } = setup();
    const conn = connection();
    for (const name of ['two words', '-dash', 'tab\there', '<img>']) {
      act(conn, { type: 'join', name });
      expect(conn.last(), name).toMatchObject({ type: 'error', code: 'bad-field', field: 'name' });
    }
    expect(conn.user).toBeUndefined();
    act(conn, { type: 'join', name: 'Zoë' });
    expect(conn.user?.name).toBe('Zoë');
  });

  it('refuses a name someone holds (in any case) with name-taken; the connection stays out and may join as someone else', () => {
    const { connection, act, member, manager, events } = setup();
    const alice = member({ name: 'alice' });
    alice.clear();
    const other = connection();
    for (const name of ['alice', 'ALICE', 'Alice']) {
      act(other, { type: 'join', name, id: `try-${name}` });
      expect(other.last()).toMatchObject({ type: 'error', code: 'name-taken', field: 'name', id: `try-${name}` });
    }
    // A token that is not alice's does not help.
    act(other, { type: 'join', name: 'alice', token: 'f'.repeat(32) });
    expect(other.last()).toMatchObject({ type: 'error', code: 'name-taken', field: 'name' });
    expect(other.user).toBeUndefined();
    expect(other.room).toBeUndefined();
    expect(alice.received, 'the room heard nothing of it').toEqual([]);
    expect(events.filter(([e]) => e === 'rejected')).toHaveLength(4);

    act(other, { type: 'message', text: 'hi?' });
    expect(other.last()).toMatchObject({ type: 'error', code: 'join-first' });
    act(other, { type: 'join', name: 'alice2' });
    expect(other.user?.name).toBe('alice2');
    expect(manager.userCount).toBe(2);
    expect(presences(alice)).toEqual(['join alice2@lobby']);
  });

  it('refuses everything but a join before the connection has joined, with join-first and the id', () => {
    const { connection, act, events } = setup();
    const conn = connection();
    act(conn, { type: 'message', text: 'hi', id: 'm1' });
    act(conn, { type: 'private', to: 'bob', text: 'psst', id: 'p1' });
    act(conn, { type: 'rename', name: 'al', id: 'r1' });
    act(conn, { type: 'users' });
    expect(conn.received.map((m) => (m.type === 'error' ? [m.code, m.id] : m.type))).toEqual([
      ['join-first', 'm1'],
      ['join-first', 'p1'],
      ['join-first', 'r1'],
      ['join-first', undefined],
    ]);
    expect(events.map(([e]) => e)).toEqual(['rejected', 'rejected', 'rejected', 'rejected']);
  });
});

describe('rooms', () => {
  it('keeps messages and presence notices in their room', () => {
    const { member, act, manager } = setup();
    const alice = member({ name: 'alice' });
    const bob = member({ name: 'bob' });
    const carol = member({ name: 'carol', room: 'games' });
    act(alice, { type: 'message', text: 'hello lobby' });
    act(carol, { type: 'message', text: 'hello games' });
    const dave = member({ name: 'dave', room: 'Games' }); // "Games" is "games"
    manager.disconnect(dave, 'left');

    expect(said(alice)).toEqual(['alice: hello lobby']);
    expect(said(bob)).toEqual(['alice: hello lobby']);
    expect(said(carol)).toEqual(['carol: hello games']);
    expect(presences(alice)).toEqual(['join bob@lobby']);
    expect(presences(bob)).toEqual([]);
    expect(presences(carol)).toEqual(['join dave@games', 'leave dave@games']);
    act(carol, { type: 'users', id: 'u1' });
    expect(carol.last()).toEqual({ type: 'users', room: 'games', users: ['carol'], id: 'u1' });
    act(bob, { type: 'users' });
    expect(bob.last()).toEqual({ type: 'users', room: 'lobby', users: ['alice', 'bob'] });
  });

  it('sends a message to everyone in the room, the sender included; only the sender’s copy has its id', () => {
    const { member, act, events, manager } = setup();
    const alice = member({ name: 'alice' });
    const bob = member({ name: 'bob' });
    act(alice, { type: 'message', text: 'hi', id: '7' });
    act(alice, { type: 'message', text: 'waves', action: true });
    expect(alice.all('message')).toEqual([
      { type: 'message', room: 'lobby', from: 'alice', text: 'hi', time: TIME, id: '7' },
      { type: 'message', room: 'lobby', from: 'alice', text: 'waves', time: TIME, action: true },
    ]);
    expect(bob.all('message')).toEqual([
      { type: 'message', room: 'lobby', from: 'alice', text: 'hi', time: TIME },
      { type: 'message', room: 'lobby', from: 'alice', text: 'waves', time: TIME, action: true },
    ]);
    expect(events.filter(([e]) => e === 'message').map(([, , line, deliveries]) => [(line as { text: string }).text, deliveries])).toEqual([
      ['hi', 2],
      ['waves', 2],
    ]);
    expect(manager.totals).toMatchObject({ messages: 2, deliveries: 4 });
  });

  it('shows control characters in a message as escapes, never raw', () => {
    const { member, act } = setup();
    const alice = member({ name: 'alice' });
    act(alice, { type: 'message', text: 'red\u001b[31m\u0000' });
    expect(alice.all('message')[0]?.text).toBe('red\\x1b[31m\\x00');
  });

  it('counts only the deliveries that were sent, and still delivers to the others', () => {
    const { member, act, events } = setup();
    const alice = member({ name: 'alice' });
    const gone = member({ name: 'gone' });
    const bob = member({ name: 'bob' });
    gone.open = false; // cut off by the server, not yet closed
    act(alice, { type: 'message', text: 'still' });
    expect(said(bob)).toEqual(['alice: still']);
    expect(events.filter(([e]) => e === 'message').map(([, , , deliveries]) => deliveries)).toEqual([2]);
  });

  it('moves a connection to another room with a join: a leave notice in the old, a join notice in the new', () => {
    const { member, act } = setup();
    const alice = member({ name: 'alice' });
    const bob = member({ name: 'bob' });
    const carol = member({ name: 'carol', room: 'games' });
    act(carol, { type: 'message', text: 'before alice came' });
    alice.clear();
    act(alice, { type: 'join', room: 'games', id: 'move' });

    expect(bob.all('notice').at(-1)).toEqual({
      type: 'notice',
      room: 'lobby',
      text: 'alice left lobby (went to games) · 1 here',
      presence: { event: 'leave', name: 'alice' },
    });
    expect(presences(carol)).toEqual(['join alice@games']);
    expect(alice.received).toEqual([
      { type: 'joined', name: 'alice', room: 'games', token: alice.user!.token, id: 'move' },
      { type: 'history', room: 'games', messages: [{ type: 'message', room: 'games', from: 'carol', text: 'before alice came', time: TIME }] },
      { type: 'users', room: 'games', users: ['alice', 'carol'] },
    ]);
    act(alice, { type: 'message', text: 'hi games' });
    expect(said(carol)).toContain('alice: hi games');
    expect(said(bob)).not.toContain('alice: hi games');
  });

  it('answers a join to the room a connection is already in again, with no notices', () => {
    const { member, act } = setup();
    const alice = member({ name: 'alice' });
    const bob = member({ name: 'bob' });
    alice.clear();
    bob.clear();
    act(alice, { type: 'join', room: 'LOBBY' });
    expect(alice.received.map((m) => m.type)).toEqual(['joined', 'history', 'users']);
    expect(bob.received).toEqual([]);
  });

  it('refuses a join under another name from a connection that has joined: rename does that', () => {
    const { member, act } = setup();
    const alice = member({ name: 'alice' });
    act(alice, { type: 'join', name: 'bob', room: 'games' });
    expect(alice.last()).toMatchObject({ type: 'error', code: 'bad-field', field: 'name' });
    expect(alice.room?.name).toBe('lobby');
    act(alice, { type: 'join', name: 'ALICE', room: 'games' }); // her own name, in any case, is fine
    expect(alice.last()).toMatchObject({ type: 'users', room: 'games' });
    expect(alice.user?.name).toBe('alice');
  });

  it(`gives a joining client the room's last ${MAX_HISTORY} messages, oldest first, without ids`, () => {
    const { member, act } = setup();
    const alice = member({ name: 'alice' });
    for (let i = 0; i < MAX_HISTORY + 5; i++) act(alice, { type: 'message', text: `m${i}`, id: `${i}` });
    const other = member({ name: 'carol', room: 'games' });
    act(other, { type: 'message', text: 'elsewhere' });
    const bob = member({ name: 'bob' });
    const history = bob.all('history')[0]!;
    expect(history.room).toBe('lobby');
    expect(history.messages.map((m) => m.text)).toEqual(Array.from({ length: MAX_HISTORY }, (_, i) => `m${i + 5}`));
    expect(history.messages[0]).toEqual({ type: 'message', room: 'lobby', from: 'alice', text: 'm5', time: TIME });
    expect(history.messages.some((m) => 'id' in m)).toBe(false);
  });

  it(`keeps up to ${MAX_ROOMS} rooms with their history, then forgets the oldest empty one`, () => {
    const { member, act } = setup();
    const walker = member({ name: 'walker', room: 'r0' });
    act(walker, { type: 'message', text: 'in r0' });
    act(walker, { type: 'join', room: 'r1' });
    act(walker, { type: 'message', text: 'in r1' });
    for (let i = 2; i < MAX_ROOMS; i++) act(walker, { type: 'join', room: `r${i}` });
    // All MAX_ROOMS rooms exist; only the walker's is in use. A new one replaces r0, the oldest.
    act(walker, { type: 'join', room: 'new' });
    expect(walker.last()).toMatchObject({ type: 'users', room: 'new' });
    act(walker, { type: 'join', room: 'r1' });
    expect(walker.all('history').at(-1)?.messages.map((m) => m.text)).toEqual(['in r1']);
    act(walker, { type: 'join', room: 'r0' });
    expect(walker.all('history').at(-1)).toEqual({ type: 'history', room: 'r0', messages: [] });
  });

  it(`refuses a new room with too-many-rooms when all ${MAX_ROOMS} are in use, and the connection keeps its place`, () => {
    const { member, connection, act, manager } = setup();
    const members = Array.from({ length: MAX_ROOMS }, (_, i) => member({ name: `u${i}`, room: `r${i}` }));
    const late = connection();
    act(late, { type: 'join', name: 'late', room: 'one-more', id: 'x' });
    expect(late.last()).toMatchObject({ type: 'error', code: 'too-many-rooms', field: 'room', id: 'x' });
    expect(late.user).toBeUndefined();
    expect(manager.userCount).toBe(MAX_ROOMS);
    const first = members[0]!;
    act(first, { type: 'join', room: 'one-more' });
    expect(first.last()).toMatchObject({ type: 'error', code: 'too-many-rooms' });
    expect(first.room?.name).toBe('r0');
    // A room that exists can still be joined; the name "late" was never taken.
    act(late, { type: 'join', name: 'late', room: 'r5' });
    expect(late.room?.name).toBe('r5');
  });
});

describe('one user on several connections', () => {
  it('lets a second connection join with the token: one presence notice, one name in the users list', () => {
    const { member, manager } = setup();
    const bob = member({ name: 'bob' });
    const tab1 = member({ name: 'alice' });
    const tab2 = member({ name: 'Alice', token: tab1.user!.token });
    expect(tab2.user).toBe(tab1.user);
    expect(tab2.received[0]).toEqual({ type: 'joined', name: 'alice', room: 'lobby', token: tab1.user!.token });
    expect(tab2.received[2]).toEqual({ type: 'users', room: 'lobby', users: ['alice', 'bob'] });
    expect(presences(bob)).toEqual(['join alice@lobby']);
    expect(manager.userCount).toBe(2);
  });

  it('says "left" only when the last connection of a user leaves, and then frees the name', () => {
    const { member, connection, act, manager } = setup();
    const bob = member({ name: 'bob' });
    const tab1 = member({ name: 'alice' });
    const token = tab1.user!.token;
    const tab2 = member({ name: 'alice', token });
    manager.disconnect(tab1, 'left');
    expect(presences(bob)).toEqual(['join alice@lobby']);
    act(bob, { type: 'users' });
    expect(bob.last()).toMatchObject({ users: ['alice', 'bob'] });
    manager.disconnect(tab2, 'connection lost');
    expect(bob.all('notice').at(-1)).toEqual({
      type: 'notice',
      room: 'lobby',
      text: 'alice left lobby (connection lost) · 1 here',
      presence: { event: 'leave', name: 'alice' },
    });
    expect(manager.userCount).toBe(1);
    expect(tab2.user).toBeUndefined();
    expect(tab2.room).toBeUndefined();

    const newcomer = connection();
    act(newcomer, { type: 'join', name: 'alice' }); // no token needed: the name is free
    expect(newcomer.received[0]).toMatchObject({ type: 'joined', name: 'alice' });
    expect(newcomer.user!.token, 'a new user, with a new token').not.toBe(token);
  });

  it('forgets a connection that never joined without a word to anyone', () => {
    const { member, connection, manager, events } = setup();
    const bob = member({ name: 'bob' });
    bob.clear();
    manager.disconnect(connection(), 'left');
    expect(bob.received).toEqual([]);
    expect(events.filter(([e]) => e === 'leave')).toEqual([]);
  });

  it('sends a message to the connections in the room: the same user’s tab in another room does not get it', () => {
    const { member, act } = setup();
    const tab1 = member({ name: 'alice' });
    const tab2 = member({ name: 'alice', token: tab1.user!.token });
    const elsewhere = member({ name: 'alice', token: tab1.user!.token, room: 'games' });
    act(tab1, { type: 'message', text: 'hi', id: '1' });
    expect(tab1.all('message')).toMatchObject([{ text: 'hi', id: '1' }]);
    expect(tab2.all('message')).toEqual([{ type: 'message', room: 'lobby', from: 'alice', text: 'hi', time: TIME }]);
    expect(elsewhere.all('message')).toEqual([]);
  });

  it("delivers a private message to every connection of the recipient and of the sender; only the sending connection's copy has the id", () => {
    const { member, act, events } = setup();
    const alice1 = member({ name: 'alice' });
    const alice2 = member({ name: 'alice', token: alice1.user!.token, room: 'games' });
    const bob1 = member({ name: 'bob' });
    const bob2 = member({ name: 'bob', token: bob1.user!.token, room: 'music' });
    const carol = member({ name: 'carol' });
    act(bob1, { type: 'private', to: 'ALICE', text: 'psst', id: '8' });

    const whisper = { type: 'private', from: 'bob', to: 'alice', text: 'psst', time: TIME };
    expect(alice1.all('private')).toEqual([whisper]);
    expect(alice2.all('private')).toEqual([whisper]);
    expect(bob1.all('private')).toEqual([{ ...whisper, id: '8' }]);
    expect(bob2.all('private')).toEqual([whisper]);
    expect(carol.all('private')).toEqual([]);
    expect(said(carol), 'a private message is not said to the room').toEqual([]);
    expect(events.filter(([e]) => e === 'private').map(([, , to, deliveries]) => [to, deliveries])).toEqual([['alice', 2]]);
  });

  it('refuses a private message to no one (no-such-user) or to oneself (bad-field), with the id', () => {
    const { member, act } = setup();
    const alice = member({ name: 'alice' });
    act(alice, { type: 'private', to: 'nobody', text: 'hi', id: 'p1' });
    expect(alice.last()).toMatchObject({ type: 'error', code: 'no-such-user', field: 'to', id: 'p1' });
    act(alice, { type: 'private', to: 'Alice', text: 'hi', id: 'p2' });
    expect(alice.last()).toMatchObject({ type: 'error', code: 'bad-field', field: 'to', id: 'p2' });
    expect(alice.all('private')).toEqual([]);
  });
});

describe('renaming', () => {
  it('renames: the room is told, the asker gets the notice with its id, the users list and later messages use the new name', () => {
    const { member, act, connection, events } = setup();
    const alice = member({ name: 'alice' });
    const bob = member({ name: 'bob' });
    alice.clear();
    act(alice, { type: 'rename', name: 'al', id: 'r1' });
    const notice = { type: 'notice', room: 'lobby', text: 'alice is now al', presence: { event: 'rename', name: 'al', old: 'alice' } };
    expect(bob.all('notice').at(-1)).toEqual(notice);
    expect(alice.all('notice')).toEqual([{ ...notice, id: 'r1' }]);
    act(bob, { type: 'users' });
    expect(bob.last()).toMatchObject({ users: ['al', 'bob'] });
    act(alice, { type: 'message', text: 'new me' });
    expect(said(bob)).toEqual(['al: new me']);
    act(bob, { type: 'private', to: 'al', text: 'hi al' });
    expect(alice.all('private')).toMatchObject([{ from: 'bob', to: 'al' }]);
    expect(events.filter(([e]) => e === 'rename').map(([, conn, old]) => [conn, old])).toEqual([[alice, 'alice']]);
    // The old name is free again.
    const other = connection();
    act(other, { type: 'join', name: 'alice' });
    expect(other.user?.name).toBe('alice');
  });

  it('refuses a name another user holds, in any case, with name-taken; allows a case change of one’s own name', () => {
    const { member, act } = setup();
    const alice = member({ name: 'alice' });
    const bob = member({ name: 'bob' });
    bob.clear();
    act(alice, { type: 'rename', name: 'BOB', id: 'r1' });
    expect(alice.last()).toMatchObject({ type: 'error', code: 'name-taken', field: 'name', id: 'r1', text: expect.stringMatching(/you are still alice$/) });
    expect(bob.received).toEqual([]);
    act(alice, { type: 'rename', name: 'alice' });
    expect(alice.last()).toMatchObject({ type: 'error', code: 'bad-field', field: 'name' });
    act(alice, { type: 'rename', name: 'no spaces' });
    expect(alice.last()).toMatchObject({ type: 'error', code: 'bad-field', field: 'name' });
    act(alice, { type: 'rename', name: 'Alice' });
    expect(presences(bob)).toEqual(['rename alice>Alice@lobby']);
    act(bob, { type: 'users' });
    expect(bob.last()).toMatchObject({ users: ['Alice', 'bob'] });
    act(alice, { type: 'message', text: 'capital' });
    expect(said(bob)).toEqual(['Alice: capital']);
  });

  it('tells each room a renamed user is in, once, however many of its connections are there', () => {
    const { member, act } = setup();
    const tab1 = member({ name: 'alice' });
    const tab2 = member({ name: 'alice', token: tab1.user!.token });
    const tab3 = member({ name: 'alice', token: tab1.user!.token, room: 'games' });
    const bob = member({ name: 'bob' });
    const carol = member({ name: 'carol', room: 'games' });
    act(tab1, { type: 'rename', name: 'al' });
    expect(presences(bob)).toEqual(['rename alice>al@lobby']);
    expect(presences(carol)).toEqual(['rename alice>al@games']);
    expect(presences(tab1), 'the asker is told once').toEqual(['join bob@lobby', 'rename alice>al@lobby']);
    expect(presences(tab2)).toEqual(['join bob@lobby', 'rename alice>al@lobby']);
    expect(presences(tab3)).toEqual(['join carol@games', 'rename alice>al@games']);
    // Presence still counts both lobby tabs as one user called al.
    act(bob, { type: 'users' });
    expect(bob.last()).toMatchObject({ users: ['al', 'bob'] });
  });

  it("joins a known token to its user under the user's name now, however it was renamed meanwhile", () => {
    const { member, manager, act } = setup();
    const tab = member({ name: 'alice' });
    const token = tab.user!.token;
    act(tab, { type: 'rename', name: 'al' });
    const away = member({ name: 'alice', token }); // a client that missed the rename
    expect(away.user).toBe(tab.user);
    expect(away.all('joined').at(-1)).toMatchObject({ name: 'al', token });
    expect(manager.userCount).toBe(1);
    expect(away.all('users').at(-1)!.users).toEqual(['al']);
  });
});
