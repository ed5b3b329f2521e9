/**
 * The one event source of lesson 06, "Push vs pull": every event gets the next id and a time,
 * is kept in a bounded history, and is handed to whoever subscribed. The four transports of the
 * push-pull server (short polling, long polling, Server-Sent Events, WebSocket) all read this
 * one feed, so a comparison between them is fair: the same events, at the same moments.
 *
 *   publish()    a new event: from the ticker (irregular intervals) or a line the instructor typed
 *   since(id)    what a client that last saw `id` has missed: how polling and a reconnecting
 *                SSE stream (Last-Event-ID) or WebSocket catch up
 *   subscribe()  push: called with each event as it is published
 *
 * Ids start at 1 and never repeat within a run, so "after 0" means "everything still kept".
 * History keeps the last MAX_HISTORY events: a client gone longer than that learns how many it
 * missed instead of the server keeping everything for ever.
 *
 * Pure: no sockets and no timers (ticker.ts schedules the ticks).
 */

/** Events kept for clients that catch up; older ones are forgotten, and counted as missed. */
export const MAX_HISTORY = 1000;
/** The longest text an event may carry, in characters: an instructor's line, not a file. */
export const MAX_EVENT_TEXT_CHARS = 500;

/** Where an event came from. */
export type EventSource = 'tick' | 'instructor';

export interface FeedEvent {
  /** 1, 2, 3… in order of publication. */
  readonly id: number;
  /** When it was published, in milliseconds since the epoch (Date.now()). */
  readonly time: number;
  readonly source: EventSource;
  readonly text: string;
}

/** What a client that last saw some id has to catch up on. */
export interface CatchUp {
  /** The events after that id still kept, oldest first. */
  readonly events: readonly FeedEvent[];
  /** Events after that id that are no longer kept: the client cannot get them back. */
  readonly missed: number;
}

export type Subscriber = (event: FeedEvent) => void;

export class EventFeed {
  /** The kept events, oldest first: ids lastId - history.length + 1 … lastId, with no gap. */
  private readonly history: FeedEvent[] = [];
  private readonly subscribers = new Set<Subscriber>();
  private lastId = 0;

  constructor(
    private readonly now: () => number = Date.now,
    private readonly maxHistory = MAX_HISTORY,
  ) {
    if (!Number.isSafeInteger(maxHistory) || maxHistory < 1) throw new RangeError(`maxHistory must be a whole number of 1 or more, not ${maxHistory}`);
  }

  /** The id of the newest event; 0 before the first. */
  get latestId(): number {
    return this.lastId;
  }

  /** How many clients are subscribed right now. */
  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /**
   * Publishes one event: kept, then handed to every subscriber in the order they subscribed.
   * Text longer than MAX_EVENT_TEXT_CHARS is cut (an instructor may paste a lot by mistake).
   * A subscriber that throws does not stop the others; its error is rethrown afterwards.
   */
  publish(text: string, source: EventSource): FeedEvent {
    const event: FeedEvent = { id: ++this.lastId, time: this.now(), source, text: [...text].slice(0, MAX_EVENT_TEXT_CHARS).join('') };
    this.history.push(event);
    if (this.history.length > this.maxHistory) this.history.shift();
    let failure: unknown;
    // A copy: a subscriber may unsubscribe (or subscribe another) while it is being called.
    for (const subscriber of [...this.subscribers]) {
      try {
        subscriber(event);
      } catch (err) {
        failure ??= err;
      }
    }
    if (failure !== undefined) throw failure;
    return event;
  }

  /**
   * What a client that last saw `afterId` has missed. An id from the future (a client of an
   * earlier run of the server, whose ids started again at 1) is treated as 0: it gets what is
   * kept, rather than waiting for ids it will never see.
   */
  since(afterId: number): CatchUp {
    const after = Number.isSafeInteger(afterId) && afterId >= 0 && afterId <= this.lastId ? afterId : 0;
    const oldestKept = this.lastId - this.history.length + 1;
    const from = Math.max(after + 1, oldestKept);
    return { events: this.history.slice(from - oldestKept), missed: from - (after + 1) };
  }

  /** Push: `subscriber` gets every event published from now on. Returns the unsubscribe. */
  subscribe(subscriber: Subscriber): () => void {
    // A wrapper, so the same function subscribed twice is two subscriptions, each undone alone.
    const entry: Subscriber = (event) => subscriber(event);
    this.subscribers.add(entry);
    return () => this.subscribers.delete(entry);
  }
}
