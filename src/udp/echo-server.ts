/**
 * The UDP echo server of lesson 03: every datagram goes back to the address it came from,
 * unchanged, one reply per datagram. There is no connection and no accept(): one socket
 * receives every client's datagrams, each with its source address (recvfrom), and answers with
 * sendto(). A datagram is a unit: the server gets it whole or not at all, never half of one and
 * never two at once (lesson 01's byte stream could do both).
 *
 * Optional impairment (impairment.ts) drops, delays, duplicates or reorders replies, so a class
 * on a perfect loopback sees what UDP does not promise. Every decision is reported in the
 * 'datagram' event, and with --trace on the datagram's trace line, before its reply leaves.
 *
 * Guards against echo storms (lesson 03, "Echo servers on the open internet"): no answer to a
 * well-known service port (below 1024: an echo or chargen server would answer back, forever)
 * or to this server's own address and port. A reply is never larger than its request.
 *
 * Never prints: commands.ts turns the events into lines (echo-log.ts).
 * Leaves out: rate limits per source (a real internet-facing service needs them).
 */
import type dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import { formatAddress } from '../core/errors.js';
import type { Tracer } from '../core/trace.js';
import { whatHappened } from './echo-log.js';
import { EchoStormGuard, type StormRisk } from './echo-storm.js';
import { Impairment, type Fate, type ImpairmentSettings } from './impairment.js';
import { bindUdp } from './udp-socket.js';
import { traceUdpSends, type DatagramTrace } from './udp-trace.js';

export { FIRST_UNPRIVILEGED_PORT } from './echo-storm.js';
/** Replies waiting for their delay or held back for reordering, in bytes at most… */
export const MAX_WAITING_REPLY_BYTES = 8 * 1024 * 1024;
/**
 * …and in number: an empty datagram weighs nothing in bytes, but its waiting reply still costs
 * a timer and a closure (a few hundred bytes), so a flood of them is bounded by count.
 */
export const MAX_WAITING_REPLIES = 10_000;
/** A reply held back for reordering goes anyway after this long without a next one. */
export const REORDER_MAX_HOLD_MS = 1000;

export interface UdpEchoServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Simulated loss, delay, duplication and reordering of replies; none by default. */
  impairment?: ImpairmentSettings;
  /**
   * --trace (udp-trace.ts): every datagram in and out. Each received one is traced with what
   * happens to its reply, before the reply goes; a reply delayed or held back is traced when
   * it really leaves.
   */
  trace?: Tracer;
}

/** Why a datagram got no reply at all. */
export type Refusal = StormRisk | 'too many waiting';

/** One datagram as received (recvfrom), and what the server does with it. */
export interface DatagramInfo {
  /** The source as `host:port`. */
  readonly from: string;
  readonly port: number;
  readonly data: Buffer;
  /** What the impairment decided for its reply. */
  readonly fate: Fate;
  /** Set when the server does not answer (the guards above). */
  readonly refusal?: Refusal;
}

export interface UdpEchoServerEvents {
  datagram: [info: DatagramInfo];
  /** A socket error after binding (a send that failed, for instance). */
  error: [err: Error];
}

/** A running UDP echo server: where it is bound, its totals, and close(). */
export class UdpEchoServer extends EventEmitter<UdpEchoServerEvents> {
  readonly host: string;
  readonly port: number;
  /** Totals since the start, for the summary on exit. */
  readonly totals = { datagrams: 0, bytes: 0, replies: 0, dropped: 0, refused: 0 };
  private readonly impairment: Impairment | undefined;
  private readonly guard: EchoStormGuard;
  /** Replies waiting for their delay, and the one held back per peer for reordering. */
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly held = new Map<string, { data: Buffer; timer: NodeJS.Timeout }>();
  private waitingBytes = 0;
  private waitingReplies = 0;
  private closed = false;

  private constructor(
    private readonly socket: dgram.Socket,
    options: UdpEchoServerOptions,
  ) {
    super();
    const address = socket.address();
    this.host = address.address;
    this.port = address.port;
    const impairment = options.impairment ? new Impairment(options.impairment) : undefined;
    this.impairment = impairment?.active ? impairment : undefined;
    this.guard = new EchoStormGuard(this.host, this.port);
    // Chosen once, here: a server that is not tracing does nothing per datagram but receive().
    if (options.trace) {
      const trace = traceUdpSends(socket, options.trace);
      socket.on('message', (data, rinfo) => this.receiveTraced(data, rinfo, trace));
    } else {
      socket.on('message', (data, rinfo) => this.receive(data, rinfo));
    }
    socket.on('error', (err) => this.emit('error', err));
  }

  /** socket() + bind(); resolves once bound, rejects with the system error. */
  static async start(options: UdpEchoServerOptions): Promise<UdpEchoServer> {
    return new UdpEchoServer(await bindUdp(options.host, options.port), options);
  }

  /** Stops receiving; replies still waiting are discarded. Safe to call twice. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    for (const { timer } of this.held.values()) clearTimeout(timer);
    this.timers.clear();
    this.held.clear();
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  /** One datagram (recvfrom): decide its reply's fate, then answer it. */
  private receive(data: Buffer, rinfo: dgram.RemoteInfo): void {
    const refusal = this.refusal(rinfo, data.length);
    this.answer(data, rinfo, refusal, refusal ? DISCARDED : (this.impairment?.next() ?? SENT_AT_ONCE));
  }

  /** receive() with --trace: the datagram and its fate are traced before any reply to it. */
  private receiveTraced(data: Buffer, rinfo: dgram.RemoteInfo, trace: DatagramTrace): void {
    const refusal = this.refusal(rinfo, data.length);
    const fate = refusal ? DISCARDED : (this.impairment?.next() ?? SENT_AT_ONCE);
    trace.received(data, rinfo, whatHappened({ port: rinfo.port, fate, refusal }));
    this.answer(data, rinfo, refusal, fate);
  }

  /** Counts the datagram, carries out its fate (sendto() now, later, twice or never), then tells the log. */
  private answer(data: Buffer, rinfo: dgram.RemoteInfo, refusal: Refusal | undefined, fate: Fate): void {
    this.totals.datagrams++;
    this.totals.bytes += data.length;
    if (refusal) {
      this.totals.refused++;
    } else if (fate.drop) {
      this.totals.dropped++;
    } else if (fate === SENT_AT_ONCE) {
      // The hot path: no impairment, the reply goes straight back.
      this.transmit(data, rinfo.port, rinfo.address);
    } else {
      this.reply(data, rinfo, fate);
    }
    // Reply first, then tell the log (as tcp-echo does): building a log line is not part of
    // the round trip the client measures.
    if (this.listenerCount('datagram') > 0) {
      this.emit('datagram', { from: formatAddress(rinfo.address, rinfo.port), port: rinfo.port, data, fate, refusal });
    }
  }

  private refusal(rinfo: dgram.RemoteInfo, size: number): Refusal | undefined {
    const risk = this.guard.check(rinfo.address, rinfo.port);
    if (risk) return risk;
    if (this.impairment && (this.waitingBytes + size > MAX_WAITING_REPLY_BYTES || this.waitingReplies >= MAX_WAITING_REPLIES)) {
      return 'too many waiting';
    }
    return undefined;
  }

  /** A reply with an impaired fate: after its delay, maybe twice, maybe held back. */
  private reply(data: Buffer, rinfo: dgram.RemoteInfo, fate: Fate): void {
    const send = () => {
      if (fate.duplicate) this.transmit(data, rinfo.port, rinfo.address); // the extra copy goes at once
      if (fate.reorder) this.hold(data, rinfo);
      else this.transmit(data, rinfo.port, rinfo.address);
    };
    if (fate.delayMs === 0) return send();
    this.startWaiting(data.length);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.stopWaiting(data.length);
      send();
    }, fate.delayMs);
    this.timers.add(timer);
  }

  /** Holds a reply back until the next reply to the same peer has gone (or at most a while). */
  private hold(data: Buffer, rinfo: dgram.RemoteInfo): void {
    const key = formatAddress(rinfo.address, rinfo.port);
    this.release(key, rinfo.port, rinfo.address); // one held reply per peer
    this.startWaiting(data.length);
    const timer = setTimeout(() => this.release(key, rinfo.port, rinfo.address), REORDER_MAX_HOLD_MS);
    this.held.set(key, { data, timer });
  }

  private release(key: string, port: number, address: string): void {
    const held = this.held.get(key);
    if (!held) return;
    this.held.delete(key);
    clearTimeout(held.timer);
    this.stopWaiting(held.data.length);
    this.send(held.data, port, address);
  }

  /** Counts a reply that starts waiting (delayed or held back), for the limits above. */
  private startWaiting(bytes: number): void {
    this.waitingBytes += bytes;
    this.waitingReplies++;
  }

  private stopWaiting(bytes: number): void {
    this.waitingBytes -= bytes;
    this.waitingReplies--;
  }

  /** sendto(), then the reply held back for this peer, if any: now it has been overtaken. */
  private transmit(data: Buffer, port: number, address: string): void {
    this.send(data, port, address);
    if (this.held.size > 0) this.release(formatAddress(address, port), port, address);
  }

  private send(data: Buffer, port: number, address: string): void {
    if (this.closed) return;
    this.totals.replies++;
    // No callback: then Node reports a failed send as the socket's 'error' event, which the
    // constructor forwards, and saves a process.nextTick() per datagram.
    // https://nodejs.org/api/dgram.html#socketsendmsg-offset-length-port-address-callback
    this.socket.send(data, port, address);
  }
}

/** Starts a UDP echo server (see UdpEchoServer). */
export function startUdpEchoServer(options: UdpEchoServerOptions): Promise<UdpEchoServer> {
  return UdpEchoServer.start(options);
}

const SENT_AT_ONCE: Fate = Object.freeze({ drop: false, delayMs: 0, duplicate: false, reorder: false });
const DISCARDED: Fate = Object.freeze({ drop: false, delayMs: 0, duplicate: false, reorder: false });

