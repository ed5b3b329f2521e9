/**
 * The ws-chat client's record of what the server has not confirmed (src/ws/chat-outbox.ts,
 * lesson 05): ids, the bounded queue, the order after a dropped connection, and settled().
 */
import { describe, expect, it } from 'vitest';
import { MAX_QUEUED_MESSAGES, Outbox } from '../../src/ws/chat-outbox.js';

describe('Outbox', () => {
  it('gives each request the next id, on the wire as JSON', () => {
    const outbox = new Outbox();
    expect(outbox.prepare({ type: 'message', text: 'hi' })).toEqual({ id: '1', wire: '{"type":"message","text":"hi","id":"1"}' });
    expect(outbox.prepare({ type: 'users' }).id).toBe('2');
  });

  it('queues at most MAX_QUEUED_MESSAGES', () => {
    const outbox = new Outbox();
    const held = Array.from({ length: MAX_QUEUED_MESSAGES + 1 }, () => outbox.hold(outbox.prepare({ type: 'users' })));
    expect(held.filter(Boolean)).toHaveLength(MAX_QUEUED_MESSAGES);
    expect(held.at(-1)).toBe(false);
    expect(outbox.waiting).toBe(MAX_QUEUED_MESSAGES);
  });

  it('puts what was sent without an answer back in front of what was queued when a connection drops', () => {
    const outbox = new Outbox();
    const [a, b, c] = ['a', 'b', 'c'].map((text) => outbox.prepare({ type: 'message', text }));
    outbox.sent(a!);
    outbox.sent(b!);
    outbox.confirm(a!.id);
    outbox.hold(c!);
    outbox.requeue();
    expect(outbox.takeQueued().map((o) => o.id)).toEqual([b!.id, c!.id]);
    expect(outbox.unconfirmedCount).toBe(0);
  });

  it('is settled once everything is confirmed, or once it has ended', async () => {
    const outbox = new Outbox();
    await outbox.settled(); // nothing said yet
    const message = outbox.prepare({ type: 'message', text: 'hi' });
    outbox.sent(message);
    let settled = false;
    const waiting = outbox.settled().then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    outbox.confirm(message.id);
    await waiting;

    const ending = new Outbox();
    ending.hold(ending.prepare({ type: 'users' }));
    const ended = ending.settled();
    ending.end();
    await ended;
    expect(ending.waiting).toBe(1);
  });
});
