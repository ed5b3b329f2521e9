/**
 * ping.ts is pure: the payload of a ping datagram, how a reply is classified (late, duplicate,
 * out of order), and the summary ping prints. Times are plain numbers here, so every case is
 * exact: no clock, no socket.
 */
import { describe, expect, it } from 'vitest';
import { MIN_PING_BYTES, PingStats, formatMs, pingPayload, pingSequence, replyLine, summaryLines, type PingSummary } from '../../src/udp/ping.js';

describe('pingPayload', () => {
  it('holds "ping N " and then filler, exactly size bytes', () => {
    expect(pingPayload(7, 32).toString('latin1')).toBe('ping 7 abcdefghijklmnopqrstuvwxy');
    expect(pingPayload(1, 60).toString('latin1')).toBe(`ping 1 ${'abcdefghijklmnopqrstuvwxyz'.repeat(2)}a`);
    expect(pingPayload(3, 65_507)).toHaveLength(65_507);
  });

  it('fits the highest --count in the smallest --size', () => {
    expect(pingPayload(100_000, MIN_PING_BYTES).toString('latin1')).toBe('ping 100000 ');
  });

  it('refuses a size too small for its sequence number', () => {
    expect(() => pingPayload(1_000_000, MIN_PING_BYTES)).toThrow(RangeError);
    expect(() => pingPayload(1, 6)).toThrow('a ping of 6 bytes cannot hold "ping 1 "');
  });
});

describe('pingSequence', () => {
  it('reads back the sequence number of every payload pingPayload makes', () => {
    for (const seq of [1, 9, 10, 12345, 100_000]) expect(pingSequence(pingPayload(seq, 32))).toBe(seq);
    expect(pingSequence(pingPayload(100_000, MIN_PING_BYTES))).toBe(100_000);
  });

  it.each([
    ['empty', ''],
    ['a greeting', 'hello'],
    ['a pong', 'pong 1 abc'],
    ['sequence 0', 'ping 0 abc'],
    ['a leading zero', 'ping 07 abc'],
    ['no space after the number', 'ping 7'],
    ['a negative number', 'ping -1 abc'],
    ['ten digits', 'ping 1234567890 abc'],
  ])('says "not one of ours" for %s', (_what, text) => {
    expect(pingSequence(Buffer.from(text, 'latin1'))).toBeUndefined();
  });

  it('says "not one of ours" for binary garbage', () => {
    expect(pingSequence(Buffer.from([0xff, 0x00, 0x70, 0x69, 0x6e, 0x67, 0x20, 0x31, 0x20]))).toBeUndefined();
  });
});

describe('PingStats', () => {
  it('classifies replies that come back in order, in time and once as plain replies', () => {
    const stats = new PingStats();
    stats.sent(1, 0);
    stats.sent(2, 100);
    expect(stats.reply(1, 3)).toEqual({ seq: 1, rttMs: 3, late: false, duplicate: false, outOfOrder: false });
    expect(stats.reply(2, 105)).toEqual({ seq: 2, rttMs: 5, late: false, duplicate: false, outOfOrder: false });
    expect(stats.summary()).toEqual({
      sent: 2,
      received: 2,
      lossPercent: 0,
      duplicates: 0,
      outOfOrder: 0,
      late: 0,
      rtt: { minMs: 3, avgMs: 4, maxMs: 5, mdevMs: 1 },
    });
  });

  it('marks a second reply to the same datagram as a duplicate and leaves it out of the round trips', () => {
    const stats = new PingStats();
    stats.sent(1, 0);
    stats.reply(1, 2);
    expect(stats.reply(1, 50)).toMatchObject({ seq: 1, rttMs: 50, duplicate: true, outOfOrder: false });
    expect(stats.summary()).toMatchObject({ sent: 1, received: 1, lossPercent: 0, duplicates: 1, rtt: { minMs: 2, maxMs: 2 } });
  });

  it('marks a reply that arrives after a higher sequence number as out of order', () => {
    const stats = new PingStats();
    for (const seq of [1, 2, 3]) stats.sent(seq, seq * 10);
    expect(stats.reply(2, 21)?.outOfOrder).toBe(false);
    expect(stats.reply(1, 22)?.outOfOrder).toBe(true);
    expect(stats.reply(3, 31)?.outOfOrder).toBe(false);
    expect(stats.summary()).toMatchObject({ received: 3, outOfOrder: 1 });
  });

  it('does not let an out-of-order reply lower the bar for the ones after it', () => {
    const stats = new PingStats();
    for (const seq of [1, 2, 3, 4]) stats.sent(seq, 0);
    stats.reply(3, 1);
    expect(stats.reply(1, 2)?.outOfOrder).toBe(true);
    expect(stats.reply(2, 3)?.outOfOrder).toBe(true);
    expect(stats.reply(4, 4)?.outOfOrder).toBe(false);
  });

  it('marks a reply to a datagram whose timeout passed as late, and still counts it as received', () => {
    const stats = new PingStats();
    stats.sent(1, 0);
    stats.sent(2, 0);
    stats.expire(2); // the caller's timer reported 2 missing
    expect(stats.reply(1, 5000)?.late).toBe(false); // slow, but its timer had not fired
    expect(stats.reply(2, 201)).toMatchObject({ late: true, duplicate: false });
    expect(stats.summary()).toMatchObject({ sent: 2, received: 2, lossPercent: 0, late: 1 });
  });

  it('ignores the expiry of a datagram already answered', () => {
    const stats = new PingStats();
    stats.sent(1, 0);
    stats.reply(1, 5);
    stats.expire(1);
    expect(stats.reply(1, 500)).toMatchObject({ late: false, duplicate: true });
    expect(stats.summary()).toMatchObject({ duplicates: 1, late: 0 });
  });

  it('ignores a reply to a datagram it never sent', () => {
    const stats = new PingStats();
    stats.sent(1, 0);
    expect(stats.reply(2, 1)).toBeUndefined();
    expect(stats.isAnswered(2)).toBe(false);
    expect(stats.summary()).toEqual({ sent: 1, received: 0, lossPercent: 100, duplicates: 0, outOfOrder: 0, late: 0 });
  });

  it('reports loss as the share of datagrams never answered', () => {
    const stats = new PingStats();
    for (const seq of [1, 2, 3]) stats.sent(seq, 0);
    stats.reply(2, 1);
    stats.reply(2, 2);
    expect(stats.isAnswered(2)).toBe(true);
    expect(stats.isAnswered(1)).toBe(false);
    expect(stats.summary().lossPercent).toBeCloseTo(200 / 3, 10);
  });

  it('computes mdev as ping does: the square root of the mean square minus the square of the mean', () => {
    const stats = new PingStats();
    [1, 2, 3, 4].forEach((rtt, i) => {
      stats.sent(i + 1, 0);
      stats.reply(i + 1, rtt);
    });
    const { rtt } = stats.summary();
    expect(rtt?.minMs).toBe(1);
    expect(rtt?.avgMs).toBe(2.5);
    expect(rtt?.maxMs).toBe(4);
    expect(rtt?.mdevMs).toBeCloseTo(Math.sqrt(1.25), 12);
  });

  it('has an mdev of 0, never NaN, when every round trip is the same', () => {
    const stats = new PingStats();
    for (let seq = 1; seq <= 10; seq++) {
      stats.sent(seq, seq * 0.1);
      stats.reply(seq, seq * 0.1 + 0.3);
    }
    expect(stats.summary().rtt?.mdevMs).toBeGreaterThanOrEqual(0);
    expect(stats.summary().rtt?.mdevMs).toBeCloseTo(0, 6);
  });

  it('reports 0% loss and no round trips when nothing was sent', () => {
    expect(new PingStats().summary()).toEqual({ sent: 0, received: 0, lossPercent: 0, duplicates: 0, outOfOrder: 0, late: 0 });
  });
});

describe('formatMs', () => {
  it.each([
    [0.0844, '0.084 ms'],
    [0, '0.000 ms'],
    [3.214, '3.21 ms'],
    [42.53, '42.5 ms'],
    [1203.4, '1203 ms'],
  ])('shows %d as %s', (ms, text) => {
    expect(formatMs(ms)).toBe(text);
  });
});

describe('replyLine', () => {
  const plain = { seq: 1, rttMs: 0.0844, late: false, duplicate: false, outOfOrder: false };

  it('reads like ping', () => {
    expect(replyLine(plain, 32, '127.0.0.1:12347')).toBe('32 bytes from 127.0.0.1:12347: seq=1 time=0.084 ms');
  });

  it('names everything unusual about a reply, in brackets', () => {
    expect(replyLine({ ...plain, seq: 4, outOfOrder: true }, 16, '127.0.0.1:7')).toBe(
      '16 bytes from 127.0.0.1:7: seq=4 time=0.084 ms (out of order)',
    );
    expect(replyLine({ ...plain, rttMs: 1203, duplicate: true, late: true }, 16, '[::1]:7')).toBe(
      '16 bytes from [::1]:7: seq=1 time=1203 ms (duplicate, late)',
    );
  });
});

describe('summaryLines', () => {
  const base: PingSummary = { sent: 10, received: 10, lossPercent: 0, duplicates: 0, outOfOrder: 0, late: 0 };

  it('prints counts and loss, then min/avg/max/mdev with three decimals', () => {
    expect(summaryLines({ ...base, rtt: { minMs: 0.05, avgMs: 0.1234, maxMs: 1.5, mdevMs: 0.01 } })).toEqual([
      '10 sent, 10 received, 0% loss',
      'rtt min/avg/max/mdev = 0.050/0.123/1.500/0.010 ms',
    ]);
  });

  it('adds duplicates, out-of-order and late replies only when there were any', () => {
    const rtt = { minMs: 1, avgMs: 2, maxMs: 3, mdevMs: 0.5 };
    const lines = summaryLines({ ...base, received: 7, lossPercent: 30, duplicates: 2, outOfOrder: 1, late: 3, rtt });
    expect(lines[0]).toBe('10 sent, 7 received, 30% loss, 2 duplicates, 1 out of order, 3 late');
    expect(summaryLines({ ...base, duplicates: 1 })[0]).toBe('10 sent, 10 received, 0% loss, 1 duplicate');
  });

  it('rounds loss to one decimal', () => {
    expect(summaryLines({ ...base, sent: 3, received: 2, lossPercent: 100 / 3 })[0]).toBe('3 sent, 2 received, 33.3% loss');
  });

  it('has no round-trip line when nothing came back', () => {
    expect(summaryLines({ ...base, sent: 3, received: 0, lossPercent: 100 })).toEqual(['3 sent, 0 received, 100% loss']);
  });

  it('agrees with PingStats from first reply to last line', () => {
    const stats = new PingStats();
    for (const seq of [1, 2, 3, 4]) stats.sent(seq, 0);
    stats.reply(2, 1); // 1 and 3 still out
    stats.reply(1, 3); // out of order
    stats.reply(1, 4); // duplicate
    stats.expire(4);
    stats.reply(4, 150); // late
    expect(summaryLines(stats.summary())).toEqual([
      '4 sent, 3 received, 25% loss, 1 duplicate, 1 out of order, 1 late',
      'rtt min/avg/max/mdev = 1.000/51.333/150.000/69.773 ms',
    ]);
  });
});
