/**
 * The bookkeeping of `netlab udp-echo send --count N` (lesson 03, "Measuring loss"), as pure
 * code: what a ping datagram holds, how a reply is classified, and the summary ping prints.
 *
 * Each datagram carries its sequence number as text (`ping 7 abcdef…`), so the server's log
 * stays readable and the echo tells the client which datagram came back. Send times stay with
 * the client: it needs no clock of the server's.
 *
 * A reply is
 *   - late when it arrives after its timeout passed (it was reported missing, then showed up);
 *   - a duplicate when its sequence number was answered before;
 *   - out of order when a higher sequence number was answered first.
 *
 * Leaves out: timers and sockets (ping-session.ts).
 */

/** The smallest --size: room for `ping 999999 `. */
export const MIN_PING_BYTES = 12;

const FILLER = 'abcdefghijklmnopqrstuvwxyz';

/** The payload of ping number `seq`, exactly `size` bytes long. */
export function pingPayload(seq: number, size: number): Buffer {
  const head = `ping ${seq} `;
  if (size < head.length) throw new RangeError(`a ping of ${size} bytes cannot hold "${head}"`);
  const payload = Buffer.alloc(size);
  payload.write(head, 'latin1');
  for (let i = head.length; i < size; i++) payload[i] = FILLER.charCodeAt((i - head.length) % FILLER.length);
  return payload;
}

/** The sequence number a ping payload carries, or undefined if it is not one of ours. */
export function pingSequence(data: Buffer): number | undefined {
  const match = /^ping ([1-9][0-9]{0,8}) /.exec(data.toString('latin1', 0, 16));
  return match ? Number(match[1]) : undefined;
}

/** What one reply turned out to be. */
export interface PingReply {
  seq: number;
  rttMs: number;
  late: boolean;
  duplicate: boolean;
  outOfOrder: boolean;
}

export interface PingSummary {
  sent: number;
  /** Sequence numbers answered at least once (late ones included). */
  received: number;
  /** Percentage of sent datagrams never answered. */
  lossPercent: number;
  duplicates: number;
  outOfOrder: number;
  late: number;
  /** Over the first reply of each sequence number; undefined when nothing came back. */
  rtt?: { minMs: number; avgMs: number; maxMs: number; mdevMs: number };
}

/** Send times and replies of one ping run. */
export class PingStats {
  private readonly sentAt = new Map<number, number>();
  private readonly answered = new Set<number>();
  /** Sequence numbers whose timeout passed unanswered: reported missing. */
  private readonly expired = new Set<number>();
  private highestAnswered = 0;
  private duplicates = 0;
  private outOfOrder = 0;
  private late = 0;
  private rttSum = 0;
  private rttSquares = 0;
  private rttMin = Infinity;
  private rttMax = 0;

  /** Records that datagram `seq` left at `nowMs`. */
  sent(seq: number, nowMs: number): void {
    this.sentAt.set(seq, nowMs);
  }

  /**
   * Records that the timeout of `seq` passed without a reply (the caller's timer decides, and
   * reports it missing). A reply to it from now on is late.
   */
  expire(seq: number): void {
    if (this.sentAt.has(seq) && !this.answered.has(seq)) this.expired.add(seq);
  }

  /** Was `seq` answered at least once? */
  isAnswered(seq: number): boolean {
    return this.answered.has(seq);
  }

  /** Classifies a reply to `seq` that arrived at `nowMs`; undefined if `seq` was never sent. */
  reply(seq: number, nowMs: number): PingReply | undefined {
    const sentAt = this.sentAt.get(seq);
    if (sentAt === undefined) return undefined;
    const rttMs = nowMs - sentAt;
    const late = this.expired.has(seq);
    if (this.answered.has(seq)) {
      this.duplicates++;
      return { seq, rttMs, late, duplicate: true, outOfOrder: false };
    }
    this.answered.add(seq);
    const outOfOrder = seq < this.highestAnswered;
    if (outOfOrder) this.outOfOrder++;
    else this.highestAnswered = seq;
    if (late) this.late++;
    this.rttSum += rttMs;
    this.rttSquares += rttMs * rttMs;
    this.rttMin = Math.min(this.rttMin, rttMs);
    this.rttMax = Math.max(this.rttMax, rttMs);
    return { seq, rttMs, late, duplicate: false, outOfOrder };
  }

  summary(): PingSummary {
    const sent = this.sentAt.size;
    const received = this.answered.size;
    const lossPercent = sent === 0 ? 0 : ((sent - received) / sent) * 100;
    const base = { sent, received, lossPercent, duplicates: this.duplicates, outOfOrder: this.outOfOrder, late: this.late };
    if (received === 0) return base;
    const avgMs = this.rttSum / received;
    // The mean deviation ping prints: sqrt(mean of squares − square of mean).
    const mdevMs = Math.sqrt(Math.max(0, this.rttSquares / received - avgMs * avgMs));
    return { ...base, rtt: { minMs: this.rttMin, avgMs, maxMs: this.rttMax, mdevMs } };
  }
}

/** A round-trip time as people read it: `0.084 ms`, `3.21 ms`, `42.5 ms`, `1203 ms`. */
export function formatMs(ms: number): string {
  const digits = ms < 1 ? 3 : ms < 10 ? 2 : ms < 100 ? 1 : 0;
  return `${ms.toFixed(digits)} ms`;
}

/** `32 bytes from 127.0.0.1:12347: seq=1 time=0.084 ms (out of order)`. */
export function replyLine(reply: PingReply, size: number, from: string): string {
  const marks = [reply.duplicate && 'duplicate', reply.outOfOrder && 'out of order', reply.late && 'late'].filter(Boolean);
  const tail = marks.length > 0 ? ` (${marks.join(', ')})` : '';
  return `${size} bytes from ${from}: seq=${reply.seq} time=${formatMs(reply.rttMs)}${tail}`;
}

/** The two closing lines of a ping run, as ping prints them (after a `--- target ---` line). */
export function summaryLines(summary: PingSummary): string[] {
  const loss = `${Number(summary.lossPercent.toFixed(1))}% loss`;
  const extra = [
    summary.duplicates > 0 && plural(summary.duplicates, 'duplicate'),
    summary.outOfOrder > 0 && `${summary.outOfOrder} out of order`,
    summary.late > 0 && `${summary.late} late`,
  ].filter(Boolean);
  const lines = [[`${summary.sent} sent`, `${summary.received} received`, loss, ...extra].join(', ')];
  if (summary.rtt) {
    const { minMs, avgMs, maxMs, mdevMs } = summary.rtt;
    lines.push(`rtt min/avg/max/mdev = ${[minMs, avgMs, maxMs, mdevMs].map((ms) => ms.toFixed(3)).join('/')} ms`);
  }
  return lines;
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
