/** The push-pull lab's event feed (src/push-pull/event-feed.ts): ids, bounded history, catch-up, subscribers. */
import { describe, expect, it } from 'vitest';
import { EventFeed, MAX_EVENT_TEXT_CHARS, MAX_HISTORY } from '../../src/push-pull/event-feed.js';

/** A feed on a clock that advances 10 ms per event. */
function feed(maxHistory?: number): EventFeed {
  let t = 1_000_000;
  return new EventFeed(() => (t += 10), maxHistory);
}

describe('EventFeed', () => {
  it('numbers events 1, 2, 3… and stamps each with the time', () => {
    const f = feed();
    expect(f.latestId).toBe(0);
    expect(f.publish('a', 'tick')).toEqual({ id: 1, time: 1_000_010, source: 'tick', text: 'a' });
    expect(f.publish('b', 'instructor')).toEqual({ id: 2, time: 1_000_020, source: 'instructor', text: 'b' });
    expect(f.latestId).toBe(2);
  });

  it('gives a client what it missed since the id it last saw', () => {
    const f = feed();
    for (const text of ['a', 'b', 'c']) f.publish(text, 'tick');
    expect(f.since(0).events.map((e) => e.text)).toEqual(['a', 'b', 'c']);
    expect(f.since(1).events.map((e) => e.text)).toEqual(['b', 'c']);
    expect(f.since(3)).toEqual({ events: [], missed: 0 });
  });

  it('keeps the last events only, and counts the forgotten ones as missed', () => {
    const f = feed(3);
    for (let i = 1; i <= 10; i++) f.publish(`e${i}`, 'tick');
    expect(f.since(0)).toMatchObject({ missed: 7, events: [{ id: 8 }, { id: 9 }, { id: 10 }] });
    expect(f.since(6)).toMatchObject({ missed: 1, events: [{ id: 8 }, { id: 9 }, { id: 10 }] });
    expect(f.since(7)).toMatchObject({ missed: 0, events: [{ id: 8 }, { id: 9 }, { id: 10 }] });
    expect(f.since(9)).toMatchObject({ missed: 0, events: [{ id: 10 }] });
  });

  it(`keeps ${MAX_HISTORY} events by default`, () => {
    const f = feed();
    for (let i = 0; i < MAX_HISTORY + 5; i++) f.publish('x', 'tick');
    expect(f.since(0)).toMatchObject({ missed: 5 });
    expect(f.since(0).events).toHaveLength(MAX_HISTORY);
  });

  it('treats an id it never gave (a client of an earlier run), or one that is not a whole number, as 0', () => {
    const f = feed();
    f.publish('a', 'tick');
    for (const id of [99, -1, 1.5, Number.NaN]) expect(f.since(id).events.map((e) => e.id)).toEqual([1]);
  });

  it('hands each event to every subscriber, in the order they subscribed, until they unsubscribe', () => {
    const f = feed();
    const seen: string[] = [];
    const offA = f.subscribe((e) => seen.push(`A${e.id}`));
    f.subscribe((e) => seen.push(`B${e.id}`));
    f.publish('x', 'tick');
    offA();
    f.publish('y', 'tick');
    expect(seen).toEqual(['A1', 'B1', 'B2']);
    expect(f.subscriberCount).toBe(1);
  });

  it('lets a subscriber unsubscribe itself while it is being called, without skipping the next one', () => {
    const f = feed();
    const seen: string[] = [];
    const off = f.subscribe(() => {
      seen.push('first');
      off();
    });
    f.subscribe(() => seen.push('second'));
    f.publish('x', 'tick');
    f.publish('y', 'tick');
    expect(seen).toEqual(['first', 'second', 'second']);
  });

  it('still reaches every subscriber when one throws, then rethrows its error', () => {
    const f = feed();
    const seen: number[] = [];
    f.subscribe(() => {
      throw new Error('broken');
    });
    f.subscribe((e) => seen.push(e.id));
    expect(() => f.publish('x', 'tick')).toThrow('broken');
    expect(seen).toEqual([1]);
    expect(f.since(0).events).toHaveLength(1);
  });

  it('counts the same function subscribed twice as two subscriptions', () => {
    const f = feed();
    const seen: number[] = [];
    const listener = (e: { id: number }) => seen.push(e.id);
    const off = f.subscribe(listener);
    f.subscribe(listener);
    off();
    f.publish('x', 'tick');
    expect(seen).toEqual([1]);
  });

  it(`cuts an event's text at ${MAX_EVENT_TEXT_CHARS} characters, never inside a character`, () => {
    const f = feed();
    expect(f.publish('é'.repeat(MAX_EVENT_TEXT_CHARS + 10), 'instructor').text).toBe('é'.repeat(MAX_EVENT_TEXT_CHARS));
    expect(f.publish('🙂'.repeat(MAX_EVENT_TEXT_CHARS + 1), 'instructor').text).toBe('🙂'.repeat(MAX_EVENT_TEXT_CHARS));
  });

  it('refuses a history of fewer than one event', () => {
    expect(() => new EventFeed(Date.now, 0)).toThrow(RangeError);
  });
});
