/**
 * How the tcp-chat batches its writes (chat-room.ts with src/core/turn-batch.ts), over
 * loopback: a lone message in a quiet chat is written at once, a socket written to twice in one
 * event-loop turn is corked until the turn ends, and once turns without writes have passed the
 * chat is quiet again. (That the turn right after a busy one corks from its first write needs
 * control of the turns: test/core/turn-batch.test.ts.)
 * The server-side socket's cork() is watched with a spy; what the clients receive, and in
 * which order, is checked too, since batching must never change it.
 */
import { describe, expect, it, vi } from 'vitest';
import { joinMany, serverSocketOf, startServer, type ChatPeer } from './chat-support.js';

/** Sends `data` from `from` and waits until `to` has received the broadcast of `last`. */
async function sendAndWait(from: ChatPeer, to: ChatPeer, data: string, last: string): Promise<void> {
  const seen = to.lines.length;
  from.send(data);
  await to.waitForLine(`${from.name}: ${last}`, seen);
}

describe('batching writes per event-loop turn', () => {
  it('writes a lone message at once, corks a socket at its second write in a turn, and is quiet again once a turn passes without writes', async () => {
    const server = await startServer();
    const [alice, bob, carol] = await joinMany(server, 3);
    const bobSocket = serverSocketOf(server, bob!.name);
    const cork = vi.spyOn(bobSocket, 'cork');

    await sendAndWait(alice!, bob!, 'one\n', 'one');
    expect(cork).toHaveBeenCalledTimes(0); // a quiet chat: straight to the socket

    // Two lines in one write: one read, two broadcasts in one turn. The first goes out at
    // once, the second is held by the cork until the turn ends.
    await sendAndWait(alice!, bob!, 'two\nthree\n', 'three');
    expect(cork).toHaveBeenCalledTimes(1);

    // Turns without a write have passed while bob's client read: the chat is quiet again.
    await sendAndWait(carol!, bob!, 'four\n', 'four');
    expect(cork).toHaveBeenCalledTimes(1);
    await sendAndWait(alice!, bob!, 'five\n', 'five');
    expect(cork).toHaveBeenCalledTimes(1);
    expect(bobSocket.writableCorked).toBe(0);

    const said = bob!.lines.filter((line) => !line.startsWith('***'));
    const a = alice!.name;
    expect(said).toEqual([`${a}: one`, `${a}: two`, `${a}: three`, `${carol!.name}: four`, `${a}: five`]);
  });
});
