/**
 * src/core/turn-batch.ts, with stand-in sockets and real event-loop turns: which writes are
 * corked, when they are uncorked, what a queue cap is told, and when a busy spell ends.
 */
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { TurnBatch } from '../../src/core/turn-batch.js';

/** Just what TurnBatch uses of a socket: cork(), uncork(), writableCorked. */
function fakeSocket() {
  const socket = {
    writableCorked: 0,
    corks: 0,
    cork() {
      socket.writableCorked++;
      socket.corks++;
    },
    uncork() {
      socket.writableCorked--;
    },
  };
  return socket;
}
const asSocket = (fake: ReturnType<typeof fakeSocket>) => fake as unknown as Socket;

/** Ends this turn: resolves in the next turn's check phase, after the immediates queued so far. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('TurnBatch', () => {
  it('lets a lone write through, corks a socket at its second write of a turn, and uncorks it once the turn is over', async () => {
    const batch = new TurnBatch();
    const [a, b] = [fakeSocket(), fakeSocket()];
    batch.add(asSocket(a), 10);
    batch.add(asSocket(b), 10);
    expect([a.corks, b.corks]).toEqual([0, 0]);
    batch.add(asSocket(a), 5);
    expect(a.writableCorked).toBe(1);
    expect(batch.queued(asSocket(a))).toBe(15);
    expect(batch.queued(asSocket(b))).toBe(10);
    await nextTurn();
    expect(a.writableCorked).toBe(0);
    expect(batch.queued(asSocket(a))).toBe(0);
  });

  it('corks from the first write in the turn right after a busy one, and not once a turn without writes has passed', async () => {
    const batch = new TurnBatch();
    const a = fakeSocket();
    batch.add(asSocket(a), 1);
    batch.add(asSocket(a), 1); // busy: written to twice
    await nextTurn(); // the busy turn's flush ran
    batch.add(asSocket(a), 1); // the next turn: corked at once, more will likely follow
    expect(a.writableCorked).toBe(1);
    await nextTurn();
    expect(a.writableCorked).toBe(0);
    // That turn wrote once only; the next one writes nothing, and the spell is over.
    await nextTurn();
    await nextTurn();
    const corks = a.corks;
    batch.add(asSocket(a), 1);
    expect(a.corks).toBe(corks);
    expect(a.writableCorked).toBe(0);
  });

  it('ends a busy spell after one turn without a write, even with no write since', async () => {
    const batch = new TurnBatch();
    const a = fakeSocket();
    batch.add(asSocket(a), 1);
    batch.add(asSocket(a), 1);
    await nextTurn(); // flush: busy
    await nextTurn(); // a turn without writes: quiet again
    await nextTurn();
    const corks = a.corks;
    batch.add(asSocket(a), 1);
    expect(a.corks).toBe(corks);
  });
});
