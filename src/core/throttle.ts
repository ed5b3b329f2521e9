/**
 * A rate limit that delays instead of dropping (lessons 02 and 05): a client's messages go
 * through a token bucket; when it runs dry, the client's connection stops being read (TCP's
 * flow control then slows the sender for us) and what was already read waits here, to be
 * handled in order as tokens come back. Nothing the client sent is lost.
 *
 * What is already read is bounded: reading stops at the first message over the rate, so at
 * most one read's worth waits (a 64 KiB read of tiny WebSocket frames is some 10,000 messages,
 * delivered at the rate: a flood is replayed slowly, never dropped).
 */
import { fullBucket, takeToken, type RateLimit, type TokenBucket } from './token-bucket.js';

export interface ThrottleHooks<T> {
  /** Acts on one message, now that the rate allows it. */
  handle: (item: T) => void;
  /** Stop and start reading from the client. */
  pause: () => void;
  resume: () => void;
  /** The client went over the rate (called once per `noticeIntervalMs` at most). */
  throttled: () => void;
  /** Whether the connection is gone, so waiting messages are dropped with it. */
  gone: () => boolean;
}

export class Throttle<T> {
  private readonly bucket: TokenBucket;
  private readonly pending: T[] = [];
  private throttledAtMs = -Infinity;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly rate: RateLimit,
    private readonly hooks: ThrottleHooks<T>,
    private readonly noticeIntervalMs: number,
  ) {
    this.bucket = fullBucket(rate, Date.now());
  }

  /** Messages read but not yet handled. */
  get waiting(): number {
    return this.pending.length;
  }

  /** One message from the client: handled now, or queued behind the ones already waiting. */
  push(item: T): void {
    if (this.pending.length > 0) {
      this.pending.push(item);
      return;
    }
    const waitMs = takeToken(this.bucket, this.rate, Date.now());
    if (waitMs === 0) {
      this.hooks.handle(item);
      return;
    }
    this.hooks.pause();
    this.pending.push(item);
    const now = Date.now();
    if (now - this.throttledAtMs > this.noticeIntervalMs) this.hooks.throttled();
    this.throttledAtMs = now;
    this.schedule(waitMs);
  }

  /** Stops the timer; what is waiting is dropped (the connection is gone). */
  dispose(): void {
    clearTimeout(this.timer);
    this.pending.length = 0;
  }

  private schedule(waitMs: number): void {
    this.timer = setTimeout(() => this.drain(), waitMs);
    this.timer.unref();
  }

  private drain(): void {
    while (this.pending.length > 0 && !this.hooks.gone()) {
      const waitMs = takeToken(this.bucket, this.rate, Date.now());
      if (waitMs > 0) return this.schedule(waitMs);
      this.hooks.handle(this.pending.shift()!);
    }
    if (!this.hooks.gone()) this.hooks.resume();
  }
}
