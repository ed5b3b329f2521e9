/**
 * The UDP chat server of lesson 03: tcp-chat's experience where UDP allows it. One socket,
 * no connections: a "member" is an address that sent JOIN, and the server knows nothing else
 * about it. It cannot tell when a member goes away, so members send heartbeats (BEAT) and
 * expire after a timeout without one; nothing guarantees that a message arrives, or in order,
 * so every datagram to a member carries that member's next sequence number, and the client
 * shows the gaps (chat-protocol.ts).
 *
 * Limits, each with a named constant and a clear answer: datagram size, messages per second per
 * member (a token bucket; UDP cannot be paused as a TCP socket can, so an extra message is
 * refused, not delayed), and the number of members.
 *
 * What UDP leaves open, and the lesson discusses: the source address of a datagram can be
 * forged. The server answers a new address with no more bytes than it received, so a forged
 * JOIN is not amplified (chat-protocol.ts, "Amplification"); but it still signs the address up
 * for the chat's traffic until it expires. Real protocols over UDP (QUIC, DTLS) first check the
 * address with a cookie round trip.
 *
 * Never prints: it emits events (UdpChatEvents) that chat-log.ts turns into lines.
 */
import type dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import { formatAddress } from '../core/errors.js';
import type { Tracer } from '../core/trace.js';
import { fullBucket, takeToken, type RateLimit } from '../core/token-bucket.js';
import { cleanText, nameKey, nameProblem } from '../tcp/chat-protocol.js';
import { MAX_CHAT_DATAGRAM_BYTES, formatServerDatagram, parseClientDatagram, type LeaveReason, type ServerMessage } from './chat-protocol.js';
import { ChatRoster, type ChatMember, type Member } from './chat-roster.js';
import { EchoStormGuard } from './echo-storm.js';
import { Impairment, type ImpairmentSettings } from './impairment.js';
import { bindUdp } from './udp-socket.js';
import { traceUdpSocket, type DatagramTrace } from './udp-trace.js';

/** A member not heard from for this long has gone; it is told to send a heartbeat three times as often. */
export const MEMBER_TIMEOUT_MS = 15_000;
/** Messages per second a member may send after a burst of twice as many. */
export const RATE_LIMIT: RateLimit = { perSecond: 10, burst: 20 };
/** Members at once; a JOIN beyond is refused. */
export const MAX_MEMBERS = 1000;
/** A member sending too fast is told so at most once in this long. */
const TOO_FAST_NOTICE_INTERVAL_MS = 1000;

export interface UdpChatServerOptions {
  host: string;
  port: number;
  memberTimeoutMs?: number;
  rate?: RateLimit;
  maxMembers?: number;
  /**
   * Simulated loss and duplication of relayed messages (MSG only, so joins and heartbeats stay
   * reliable and a run with a --seed is repeatable whatever the timing).
   */
  impairment?: ImpairmentSettings;
  /**
   * --trace (udp-trace.ts): every datagram in and out, and each relayed copy the simulated
   * network dropped or sent twice, named by its member.
   */
  trace?: Tracer;
}

export interface UdpChatEvents {
  join: [member: ChatMember, online: number];
  leave: [member: ChatMember, reason: LeaveReason, online: number];
  rename: [member: ChatMember, oldName: string];
  /** `lost`: deliveries the simulated network dropped (counted in `deliveries` too). */
  message: [member: ChatMember, text: string, deliveries: number, lost: number];
  /** A datagram the server did not act on, and why; `member` is undefined for a stranger. */
  refused: [from: string, member: ChatMember | undefined, reason: string];
  error: [err: Error];
}

export class UdpChatServer extends EventEmitter<UdpChatEvents> {
  readonly host: string;
  readonly port: number;
  readonly heartbeatMs: number;
  readonly totals = { joined: 0, messages: 0, deliveries: 0, datagrams: 0 };
  private readonly members = new ChatRoster();
  private readonly memberTimeoutMs: number;
  private readonly rate: RateLimit;
  private readonly maxMembers: number;
  private readonly sweeper: NodeJS.Timeout;
  private readonly impairment: Impairment | undefined;
  private readonly guard: EchoStormGuard;
  private readonly trace: DatagramTrace | undefined;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly socket: dgram.Socket,
    options: UdpChatServerOptions,
  ) {
    super();
    const address = socket.address();
    this.host = address.address;
    this.port = address.port;
    this.memberTimeoutMs = options.memberTimeoutMs ?? MEMBER_TIMEOUT_MS;
    this.heartbeatMs = Math.max(1, Math.floor(this.memberTimeoutMs / 3));
    this.rate = options.rate ?? RATE_LIMIT;
    this.maxMembers = options.maxMembers ?? MAX_MEMBERS;
    const impairment = options.impairment ? new Impairment(options.impairment) : undefined;
    this.impairment = impairment?.active ? impairment : undefined;
    this.guard = new EchoStormGuard(this.host, this.port);
    this.trace = options.trace ? traceUdpSocket(socket, options.trace) : undefined;
    socket.on('message', (data, rinfo) => this.receive(data, rinfo));
    socket.on('error', (err) => this.emit('error', err));
    this.sweeper = setInterval(() => this.expire(), Math.min(1000, this.heartbeatMs));
  }

  static async start(options: UdpChatServerOptions): Promise<UdpChatServer> {
    return new UdpChatServer(await bindUdp(options.host, options.port), options);
  }

  /** How many members there are now. */
  get online(): number {
    return this.members.size;
  }

  /** Says BYE to every member, then closes the socket. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.sweeper);
      const members = this.members.clear();
      await Promise.all(members.map((m) => this.send(m, { kind: 'BYE' })));
      for (const m of members) this.emit('leave', m, 'server-stopped', 0);
      await new Promise<void>((resolve) => this.socket.close(() => resolve()));
    })();
    return this.closing;
  }

  private receive(data: Buffer, rinfo: dgram.RemoteInfo): void {
    if (this.closing) return;
    this.totals.datagrams++;
    const remote = formatAddress(rinfo.address, rinfo.port);
    // The echo server's guard: a service port, or this server itself, would answer back.
    const risk = this.guard.check(rinfo.address, rinfo.port);
    if (risk) {
      const from = risk === 'own address' ? 'this server itself' : `port ${rinfo.port}, a well-known service`;
      this.emit('refused', remote, undefined, `from ${from}: never answered`);
      return;
    }
    const member = this.members.get(remote);
    if (data.length > MAX_CHAT_DATAGRAM_BYTES) {
      return this.refuse(remote, member, `a datagram of ${data.length} bytes (at most ${MAX_CHAT_DATAGRAM_BYTES})`);
    }
    const command = parseClientDatagram(data.toString('utf8'));
    if (!member) {
      if (command.kind === 'join') return this.join(rinfo, command.name, data.length);
      // No answer to a stranger: anyone can forge a source address, and an answer would make
      // this server a reflector. A client that was forgotten (the server restarted, or it
      // expired) notices the silence and sends JOIN again (chat-session.ts).
      const what = command.kind === 'invalid' ? 'an unknown command' : command.kind.toUpperCase();
      this.emit('refused', remote, undefined, `${what} from an address that has not joined`);
      return;
    }
    const now = performance.now();
    member.lastHeardMs = now;
    if (command.kind === 'quit') return this.leave(member, 'quit');
    const tooFast = takeToken(member.bucket, this.rate, now) > 0;
    // A heartbeat counts even when it comes too fast; only its answer is skipped.
    if (command.kind === 'beat') return tooFast ? undefined : void this.send(member, { kind: 'ALIVE' });
    if (tooFast) {
      if (now - member.toldTooFastMs >= TOO_FAST_NOTICE_INTERVAL_MS) {
        member.toldTooFastMs = now;
        void this.send(member, { kind: 'ERROR', reason: `slow down: at most ${this.rate.perSecond} messages a second` });
      }
      this.emit('refused', remote, member, 'sending too fast');
      return;
    }
    switch (command.kind) {
      case 'join':
        // A JOIN sent again because the WELCOME was lost: welcome it again.
        void this.send(member, { kind: 'WELCOME', name: member.name, heartbeatMs: this.heartbeatMs, online: this.online });
        if (command.name && nameKey(command.name) !== nameKey(member.name)) this.rename(member, command.name);
        return;
      case 'say':
        return this.say(member, command.text);
      case 'nick':
        return this.rename(member, command.name);
      case 'who':
        return void this.send(member, this.members.whoIsHere());
      case 'invalid':
        void this.send(member, { kind: 'ERROR', reason: command.reason });
        this.emit('refused', remote, member, command.reason);
        return;
    }
  }

  /**
   * A JOIN from a new address. What it gets back is never bigger than the JOIN itself (see
   * "Amplification" in chat-protocol.ts): a JOIN too short for its WELCOME gets no answer.
   */
  private join(rinfo: dgram.RemoteInfo, wanted: string | undefined, joinBytes: number): void {
    const remote = formatAddress(rinfo.address, rinfo.port);
    if (this.members.size >= this.maxMembers) {
      const full: ServerMessage = { kind: 'ERROR', reason: `the chat is full (${this.maxMembers} members)` };
      if (datagramBytes(0, full) <= joinBytes) this.sendTo(rinfo.address, rinfo.port, 0, full);
      return void this.emit('refused', remote, undefined, 'the chat is full');
    }
    const problem = wanted === undefined ? undefined : nameProblem(wanted, (key) => this.members.nameTaken(key));
    const name = wanted !== undefined && !problem ? wanted : this.members.guestName();
    const welcome: ServerMessage = { kind: 'WELCOME', name, heartbeatMs: this.heartbeatMs, online: this.online + 1 };
    const welcomeBytes = datagramBytes(1, welcome);
    if (welcomeBytes > joinBytes) {
      const why = `${joinBytes}-byte JOIN < ${welcomeBytes}-byte answer`;
      return void this.emit('refused', remote, undefined, `${why}: pad it, no amplification`);
    }
    if (name !== wanted) this.members.guestName(true);
    const now = performance.now();
    const member: Member = {
      remote,
      name,
      address: rinfo.address,
      port: rinfo.port,
      seq: 0,
      lastHeardMs: now,
      bucket: fullBucket(this.rate, now),
      toldTooFastMs: -Infinity,
    };
    this.members.add(member);
    this.totals.joined++;
    void this.send(member, welcome);
    // Why the asked-for name was not given, if that fits the JOIN's size too.
    const refusal: ServerMessage | undefined = problem ? { kind: 'ERROR', reason: `${problem}; you are ${name} (NICK NAME changes it)` } : undefined;
    if (refusal && welcomeBytes + datagramBytes(2, refusal) <= joinBytes) void this.send(member, refusal);
    this.broadcast(member, { kind: 'JOINED', name, online: this.online });
    this.emit('join', member, this.online);
  }

  private say(member: Member, text: string): void {
    // Control characters made visible, as tcp-chat does: other members may read with nc.
    const message: ServerMessage = { kind: 'MSG', from: member.name, text: cleanText(text) };
    let deliveries = 0;
    let lost = 0;
    for (const m of this.members.values()) {
      if (m === member) continue;
      deliveries++;
      const fate = this.impairment?.next();
      if (fate?.drop) {
        m.seq++; // numbered, then lost on the way: the receiver sees the gap
        lost++;
        this.trace?.notSent(formatServerDatagram(m.seq, message), m.port, m.address, `${m.name}'s copy dropped (simulated loss)`);
        continue;
      }
      void this.send(m, message);
      if (fate?.duplicate) {
        this.trace?.annotateNextSend(`${m.name}'s copy sent twice (simulated duplicate)`);
        void this.sendTo(m.address, m.port, m.seq, message);
      }
    }
    this.totals.messages++;
    this.totals.deliveries += deliveries;
    this.emit('message', member, text, deliveries, lost);
  }

  private rename(member: Member, wanted: string): void {
    const problem = nameProblem(wanted, (key) => key !== nameKey(member.name) && this.members.nameTaken(key));
    if (problem) {
      void this.send(member, { kind: 'ERROR', reason: problem });
      return void this.emit('refused', member.remote, member, problem);
    }
    const oldName = member.name;
    member.name = wanted;
    for (const m of this.members.values()) void this.send(m, { kind: 'RENAMED', from: oldName, to: wanted });
    this.emit('rename', member, oldName);
  }

  private leave(member: Member, reason: LeaveReason): void {
    this.members.remove(member);
    if (reason === 'quit') void this.send(member, { kind: 'BYE' });
    this.broadcast(member, { kind: 'LEFT', name: member.name, reason });
    this.emit('leave', member, reason, this.online);
  }

  /** Members not heard from within the timeout have gone (UDP never says so itself). */
  private expire(): void {
    for (const member of this.members.silentSince(performance.now() - this.memberTimeoutMs)) this.leave(member, 'timed-out');
  }

  private refuse(remote: string, member: Member | undefined, reason: string): void {
    if (member) void this.send(member, { kind: 'ERROR', reason: `refused ${reason}` });
    this.emit('refused', remote, member, reason);
  }

  /** Sends to every member but `from`; returns how many datagrams went out. */
  private broadcast(from: Member, message: ServerMessage): number {
    let deliveries = 0;
    for (const m of this.members.values()) {
      if (m === from) continue;
      void this.send(m, message);
      deliveries++;
    }
    return deliveries;
  }

  /** The member's next datagram; resolves once the kernel took it (errors become 'error'). */
  private send(member: Member, message: ServerMessage): Promise<void> {
    member.seq++;
    return this.sendTo(member.address, member.port, member.seq, message);
  }

  private sendTo(address: string, port: number, seq: number, message: ServerMessage): Promise<void> {
    return new Promise((resolve) => {
      this.socket.send(formatServerDatagram(seq, message), port, address, (err) => {
        if (err) this.emit('error', err);
        resolve();
      });
    });
  }
}

/** The size of a server datagram on the wire. */
function datagramBytes(seq: number, message: ServerMessage): number {
  return Buffer.byteLength(formatServerDatagram(seq, message));
}

export function startUdpChatServer(options: UdpChatServerOptions): Promise<UdpChatServer> {
  return UdpChatServer.start(options);
}
