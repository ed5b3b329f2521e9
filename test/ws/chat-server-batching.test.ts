/**
 * How the ws-chat server batches its writes (chat-server.ts with src/core/turn-batch.ts), over
 * loopback: a lone message in a quiet room is written at once, a socket written to twice in one
 * event-loop turn is corked until the turn ends, and once turns without writes have passed the
 * room is quiet again. (That the turn right after a busy one corks from its first write needs
 * control of the turns: test/core/turn-batch.test.ts.) cork() is watched with a spy on net.Socket, counting the calls on the server's side
 * of one client's connection; what the clients receive, and in which order, is checked too,
 * since batching must never change it. The frames themselves are ws-internals.test.ts's.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import { OPCODES, encodeFrame } from '../../src/ws/frame.js';
import { chatServer, joined, recordEvents, type ChatClient } from './chat-support.js';
import { RawPeer } from './ws-support.js';

/** A chat message as a masked text frame, as a client sends it. */
const messageFrame = (text: string) =>
  encodeFrame({ fin: true, opcode: OPCODES.text, payload: Buffer.from(JSON.stringify({ type: 'message', text })), mask: randomBytes(4) });

/** Waits until `client` has the message `text`. */
const heard = (client: ChatClient, text: string) => client.waitFor((m) => m.type === 'message' && m.text === text);

describe('batching writes per event-loop turn', () => {
  it('writes a lone message at once, corks a socket at its second write in a turn, and is quiet again once a turn passes without writes', async () => {
    const server = await chatServer();
    const joins = recordEvents(server, 'join');
    // alice speaks raw frames, so that two messages can leave in one TCP write: one read.
    const alice = await RawPeer.upgraded(server.port);
    alice.write(encodeFrame({ fin: true, opcode: OPCODES.text, payload: Buffer.from(JSON.stringify({ type: 'join', name: 'alice' })), mask: randomBytes(4) }));
    for (let i = 0; i < 3; i++) await alice.frame(); // joined, history, users
    const bob = await joined(server, { name: 'bob' });
    const carol = await joined(server, { name: 'carol' });
    const [bobConn] = await joins.until((conn) => conn.user?.name === 'bob', "bob's join");
    // A join is answered with three messages in one turn (joined, history, users): a busy
    // turn, but turns without a write follow it, and the room is quiet again.
    alice.write(messageFrame('zero'));
    await heard(bob, 'zero');

    // The server's side of bob's connection is the socket whose remote end is bob's.
    const cork = vi.spyOn(net.Socket.prototype, 'cork');
    const bobCorks = () => cork.mock.contexts.filter((s) => `${(s as net.Socket).remoteAddress}:${(s as net.Socket).remotePort}` === bobConn.remote).length;

    alice.write(messageFrame('one'));
    await heard(bob, 'one');
    expect(bobCorks(), 'a quiet room: straight to the socket').toBe(0);

    // Two messages in one write: one read, two broadcasts in one turn. The first goes out at
    // once, the second is held by the cork until the turn ends.
    alice.write(Buffer.concat([messageFrame('two'), messageFrame('three')]));
    await heard(bob, 'three');
    expect(bobCorks()).toBe(1);

    // Turns without a write have passed while bob's client read: the room is quiet again.
    carol.send({ type: 'message', text: 'four' });
    await heard(bob, 'four');
    expect(bobCorks()).toBe(1);
    alice.write(messageFrame('five'));
    await heard(bob, 'five');
    expect(bobCorks()).toBe(1);
    cork.mockRestore();

    expect(bob.all('message').map((m) => `${m.from}: ${m.text}`)).toEqual(['alice: zero', 'alice: one', 'alice: two', 'alice: three', 'carol: four', 'alice: five']);
  });
});
