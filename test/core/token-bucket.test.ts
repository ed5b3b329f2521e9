import { describe, expect, it } from 'vitest';
import { fullBucket, takeToken, type RateLimit } from '../../src/core/token-bucket.js';

const limit: RateLimit = { perSecond: 10, burst: 3 };

describe('token bucket', () => {
  it('allows a burst, then says how long until the next token', () => {
    const bucket = fullBucket(limit, 0);
    expect([takeToken(bucket, limit, 0), takeToken(bucket, limit, 0), takeToken(bucket, limit, 0)]).toEqual([0, 0, 0]);
    expect(takeToken(bucket, limit, 0)).toBe(100); // 10 per second: one token every 100 ms
  });

  it('refills with time, never beyond the burst', () => {
    const bucket = fullBucket(limit, 0);
    for (let i = 0; i < 3; i++) takeToken(bucket, limit, 0);
    expect(takeToken(bucket, limit, 50)).toBe(50);
    expect(takeToken(bucket, limit, 100)).toBe(0);
    takeToken(bucket, limit, 100_000);
    expect(bucket.tokens).toBe(2); // refilled to 3, one taken
  });

  it('sustains exactly the rate over a long run', () => {
    const bucket = fullBucket(limit, 0);
    let sent = 0;
    for (let t = 0; t <= 10_000; t += 10) if (takeToken(bucket, limit, t) === 0) sent++;
    expect(sent).toBe(3 + 100); // the burst, then 10 a second for 10 s
  });

  it('ignores a clock that goes backwards', () => {
    const bucket = fullBucket(limit, 1000);
    for (let i = 0; i < 3; i++) takeToken(bucket, limit, 1000);
    expect(takeToken(bucket, limit, 0)).toBe(100);
  });
});
