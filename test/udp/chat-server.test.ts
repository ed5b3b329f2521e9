/**
 * The UDP chat server on loopback (src/udp/chat-server.ts), with raw dgram sockets as members,
 * the way `nc -u` would speak to it: joining, relaying, numbering, expiry, limits, simulated
 * loss, and what it does with datagrams from strangers.
 */
import dgram from 'node:dgram';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { hexDump } from '../../src/core/text-view.js';
import { DEFAULT_TRACE_BYTES } from '../../src/core/trace.js';
import { MAX_CHAT_DATAGRAM_BYTES, formatServerDatagram, joinDatagram, parseServerDatagram, type ServerMessage } from '../../src/udp/chat-protocol.js';
import { RATE_LIMIT, startUdpChatServer, type UdpChatServer, type UdpChatServerOptions } from '../../src/udp/chat-server.js';
import { Impairment } from '../../src/udp/impairment.js';
import { collectingTracer, waitUntil } from './udp-support.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startServer(options: Partial<UdpChatServerOptions> = {}): Promise<UdpChatServer> {
  const server = await startUdpChatServer({ host: '127.0.0.1', port: 0, ...options });
  cleanups.push(() => server.close());
  return server;
}

interface Received {
  seq: number;
  message: ServerMessage;
}

/** A raw UDP socket speaking the protocol; what it receives waits in a queue. */
class Peer {
  private readonly queue: Received[] = [];
  private waiter: (() => void) | undefined;
  readonly raw: Buffer[] = [];

  private constructor(
    readonly socket: dgram.Socket,
    private readonly port: number,
  ) {
    socket.on('message', (data) => {
      this.raw.push(data);
      const parsed = parseServerDatagram(data.toString('utf8'));
      if (!parsed) throw new Error(`not a udp-chat datagram: ${data.toString()}`);
      this.queue.push(parsed);
      this.waiter?.();
    });
  }

  static async open(port: number): Promise<Peer> {
    const socket = dgram.createSocket('udp4');
    socket.bind(0, '127.0.0.1');
    await once(socket, 'listening');
    const peer = new Peer(socket, port);
    cleanups.push(() => socket.close());
    return peer;
  }

  get localPort(): number {
    return this.socket.address().port;
  }

  send(text: string | Buffer): void {
    this.socket.send(text, this.port, '127.0.0.1');
  }

  /** The next datagram that is not an ALIVE (heartbeat answers are noise here). */
  async next(): Promise<Received> {
    for (;;) {
      while (this.queue.length === 0) await new Promise<void>((resolve) => (this.waiter = resolve));
      const item = this.queue.shift()!;
      if (item.message.kind !== 'ALIVE') return item;
    }
  }

  /** Waits for the next datagram of `kind`, skipping others. */
  async nextOf(kind: ServerMessage['kind']): Promise<Received> {
    for (;;) {
      const item = await this.next();
      if (item.message.kind === kind) return item;
    }
  }

  /** Joins and returns the welcome. */
  async join(name?: string): Promise<Received> {
    this.send(joinDatagram(name));
    return this.nextOf('WELCOME');
  }
}

/** alice, bob and carol joined, in that order, with the JOINED notices of the later ones read. */
async function threeMembers(port: number): Promise<{ alice: Peer; bob: Peer; carol: Peer }> {
  const [alice, bob, carol] = await Promise.all([Peer.open(port), Peer.open(port), Peer.open(port)]);
  await alice.join('alice');
  await bob.join('bob');
  await carol.join('carol');
  await alice.nextOf('JOINED');
  await alice.nextOf('JOINED');
  await bob.nextOf('JOINED');
  return { alice, bob, carol };
}

describe('udp-chat server', () => {
  it('welcomes a JOIN with datagram 1 and tells the others', async () => {
    const server = await startServer({ memberTimeoutMs: 6000 });
    const alice = await Peer.open(server.port);
    expect(await alice.join('alice')).toEqual({ seq: 1, message: { kind: 'WELCOME', name: 'alice', heartbeatMs: 2000, online: 1 } });
    const bob = await Peer.open(server.port);
    expect((await bob.join()).message).toMatchObject({ kind: 'WELCOME', name: 'guest-1', online: 2 });
    expect(await alice.next()).toEqual({ seq: 2, message: { kind: 'JOINED', name: 'guest-1', online: 2 } });
  });

  it('relays SAY to everyone but the sender, numbering each member’s datagrams', async () => {
    const server = await startServer();
    const { alice, bob, carol } = await threeMembers(server.port);
    alice.send('SAY hello everyone');
    expect(await bob.next()).toEqual({ seq: 3, message: { kind: 'MSG', from: 'alice', text: 'hello everyone' } });
    expect(await carol.next()).toEqual({ seq: 2, message: { kind: 'MSG', from: 'alice', text: 'hello everyone' } });
    alice.send('WHO');
    expect((await alice.next()).message).toEqual({ kind: 'WHO', names: ['alice', 'bob', 'carol'] });
    expect(server.totals).toMatchObject({ joined: 3, messages: 1, deliveries: 2 });
  });

  it('relays text with control characters made visible, one line per datagram, so nc users get no raw escapes', async () => {
    const server = await startServer();
    const [alice, bob] = await Promise.all([Peer.open(server.port), Peer.open(server.port)]);
    await alice.join('alice');
    await bob.join('bob');
    alice.send('SAY \u001b[2Jgone\r\nbob: fake line\u0007\n');
    expect((await bob.nextOf('MSG')).message).toEqual({ kind: 'MSG', from: 'alice', text: '\\x1b[2Jgone\\r\\nbob: fake line\\x07' });
    expect(bob.raw.at(-1)!.toString()).toBe('2 MSG alice \\x1b[2Jgone\\r\\nbob: fake line\\x07\n');
  });

  it('does not answer a stranger (no reflection), and relays nothing it sends', async () => {
    const server = await startServer();
    const alice = await Peer.open(server.port);
    await alice.join('alice');
    const stranger = await Peer.open(server.port);
    const refused = once(server, 'refused');
    stranger.send('SAY let me in');
    expect((await refused)[2]).toBe('SAY from an address that has not joined');
    alice.send('WHO');
    expect((await alice.next()).message).toEqual({ kind: 'WHO', names: ['alice'] });
    expect(stranger.raw).toEqual([]);
    expect(server.online).toBe(1);
  });

  it('answers a JOIN from a new address with no more bytes than the JOIN had (no amplification)', async () => {
    const server = await startServer();
    const refusals: string[] = [];
    server.on('refused', (_from, _member, reason) => refusals.push(reason));
    const carol = await Peer.open(server.port);
    const refused = once(server, 'refused');
    carol.send('JOIN carol'); // 10 bytes; the WELCOME would be 23
    await refused;
    expect(refusals).toEqual(['10-byte JOIN < 23-byte answer: pad it, no amplification']);
    expect(server.online).toBe(0);
    carol.send('JOIN carol'.padEnd(23));
    expect(await carol.nextOf('WELCOME')).toEqual({ seq: 1, message: { kind: 'WELCOME', name: 'carol', heartbeatMs: 5000, online: 1 } });
    expect(Buffer.concat(carol.raw).length).toBeLessThanOrEqual(23);
    // A taken name: the WELCOME fits a 40-byte JOIN, the ERROR that explains it would not.
    const dave = await Peer.open(server.port);
    dave.send('JOIN carol'.padEnd(40));
    expect((await dave.next()).message).toMatchObject({ kind: 'WELCOME', name: 'guest-1' });
    dave.send('WHO');
    expect((await dave.next()).message).toEqual({ kind: 'WHO', names: ['carol', 'guest-1'] }); // no ERROR came first
    expect(dave.raw[0]!.length).toBeLessThanOrEqual(40);
  });

  it('welcomes a JOIN sent again (its WELCOME was lost) without a second JOINED', async () => {
    const server = await startServer();
    const [alice, bob] = await Promise.all([Peer.open(server.port), Peer.open(server.port)]);
    await alice.join('alice');
    await bob.join('bob');
    expect((await bob.join('bob')).message).toMatchObject({ kind: 'WELCOME', name: 'bob', online: 2 });
    bob.send('SAY after the second join');
    expect((await alice.next()).message).toMatchObject({ kind: 'JOINED', name: 'bob' });
    expect((await alice.next()).message).toMatchObject({ kind: 'MSG', text: 'after the second join' });
  });

  it('gives a guest name and the reason when the asked-for name is taken or invalid', async () => {
    const server = await startServer();
    const [alice, other, weird] = await Promise.all([Peer.open(server.port), Peer.open(server.port), Peer.open(server.port)]);
    await alice.join('alice');
    expect((await other.join('ALICE')).message).toMatchObject({ name: 'guest-1' });
    expect((await other.next()).message).toEqual({ kind: 'ERROR', reason: '"ALICE" is taken; you are guest-1 (NICK NAME changes it)' });
    expect((await weird.join('<img src=x>')).message).toMatchObject({ name: 'guest-2' });
    expect((await weird.next()).message).toMatchObject({ kind: 'ERROR', reason: expect.stringContaining('only letters, digits') });
  });

  it('renames with NICK for everyone, and refuses a taken name to the asker only', async () => {
    const server = await startServer();
    const [alice, bob] = await Promise.all([Peer.open(server.port), Peer.open(server.port)]);
    await alice.join('alice');
    await bob.join('bob');
    await alice.nextOf('JOINED');
    bob.send('NICK robert');
    expect((await alice.next()).message).toEqual({ kind: 'RENAMED', from: 'bob', to: 'robert' });
    expect((await bob.next()).message).toEqual({ kind: 'RENAMED', from: 'bob', to: 'robert' });
    bob.send('NICK alice');
    expect((await bob.next()).message).toEqual({ kind: 'ERROR', reason: '"alice" is taken' });
  });

  it('expires a member that stops sending heartbeats and tells the others', async () => {
    // alice beats three times per timeout, as told: only a stall of two thirds of the timeout
    // (on a loaded two-core CI machine) could expire her too, so the timeout is not tiny.
    const server = await startServer({ memberTimeoutMs: 1500 });
    const [alice, carol] = await Promise.all([Peer.open(server.port), Peer.open(server.port)]);
    const welcome = await alice.join('alice');
    const beats = setInterval(() => alice.send('BEAT'), (welcome.message as { heartbeatMs: number }).heartbeatMs);
    cleanups.push(() => clearInterval(beats));
    await carol.join('carol'); // and then silence
    const left = await alice.nextOf('LEFT');
    expect(left.message).toEqual({ kind: 'LEFT', name: 'carol', reason: 'timed-out' });
    expect(server.online).toBe(1);
    // Expired means forgotten: a JOIN brings carol back, numbered from 1 again.
    expect(await carol.join('carol')).toMatchObject({ seq: 1, message: { kind: 'WELCOME', name: 'carol', online: 2 } });
  });

  it('says BYE to QUIT and LEFT to the others', async () => {
    const server = await startServer();
    const [alice, bob] = await Promise.all([Peer.open(server.port), Peer.open(server.port)]);
    await alice.join('alice');
    await bob.join('bob');
    bob.send('QUIT');
    expect((await bob.next()).message).toEqual({ kind: 'BYE' });
    expect((await alice.nextOf('LEFT')).message).toEqual({ kind: 'LEFT', name: 'bob', reason: 'quit' });
    expect(server.online).toBe(1);
  });

  it('refuses a datagram over 1,024 bytes with an error, and relays nothing of it', async () => {
    const server = await startServer();
    const [alice, bob] = await Promise.all([Peer.open(server.port), Peer.open(server.port)]);
    await alice.join('alice');
    await bob.join('bob');
    bob.send(`SAY ${'x'.repeat(2000)}`);
    expect((await bob.next()).message).toEqual({ kind: 'ERROR', reason: 'refused a datagram of 2004 bytes (at most 1024)' });
    bob.send('SAY short');
    expect((await alice.nextOf('MSG')).message).toMatchObject({ text: 'short' });
  });

  it('counts heartbeats beyond the rate but does not answer them: BEAT is no way around the limit', async () => {
    const server = await startServer();
    const [alice, bob] = await Promise.all([Peer.open(server.port), Peer.open(server.port)]);
    await alice.join('alice');
    await bob.join('bob');
    for (let i = 0; i < RATE_LIMIT.burst + 10; i++) bob.send('BEAT');
    bob.send('QUIT'); // QUIT always goes through, after every BEAT
    await bob.nextOf('BYE');
    const alives = bob.raw.map(String).filter((text) => text.endsWith(' ALIVE\n'));
    expect(alives).toHaveLength(RATE_LIMIT.burst);
  });

  it('answers WHO with as many names as fit one datagram, and +N for the rest', async () => {
    const server = await startServer();
    // 20 names of 20 four-byte letters (CJK Extension B): 80 bytes each, so not all fit 1,024.
    const names = Array.from({ length: 20 }, (_, i) => '\u{20000}'.repeat(19) + String.fromCodePoint(0x20001 + i));
    const peers = await Promise.all(names.map(() => Peer.open(server.port)));
    for (const [i, p] of peers.entries()) await p.join(names[i]);
    const asker = peers[0]!;
    asker.send('WHO');
    const { message } = await asker.nextOf('WHO');
    expect(message).toMatchObject({ kind: 'WHO', more: expect.any(Number) });
    if (message.kind !== 'WHO') return;
    expect(message.names.length + message.more!).toBe(20);
    expect(message.names).toEqual(names.slice(0, message.names.length));
    expect(asker.raw.at(-1)!.length).toBeLessThanOrEqual(MAX_CHAT_DATAGRAM_BYTES);
  });

  it('refuses what a member sends beyond its rate, telling it once', async () => {
    const server = await startServer();
    const [alice, bob] = await Promise.all([Peer.open(server.port), Peer.open(server.port)]);
    await alice.join('alice');
    await bob.join('bob');
    await alice.nextOf('JOINED');
    const flood = RATE_LIMIT.burst + 10;
    for (let i = 1; i <= flood; i++) bob.send(`SAY ${i}`);
    expect((await bob.next()).message).toEqual({ kind: 'ERROR', reason: `slow down: at most ${RATE_LIMIT.perSecond} messages a second` });
    bob.send('WHO'); // also refused: the bucket is empty, and the notice is not repeated
    alice.send('WHO'); // answered after everything bob sent: the server has handled it all
    const texts: string[] = [];
    for (;;) {
      const { message } = await alice.next();
      if (message.kind === 'WHO') break;
      if (message.kind === 'MSG') texts.push(message.text);
    }
    // The relayed ones are the first `burst`, in order; nothing after them.
    expect(texts).toEqual(Array.from({ length: RATE_LIMIT.burst }, (_, i) => String(i + 1)));
    expect(server.totals.messages).toBe(RATE_LIMIT.burst);
    expect(bob.raw.map(String).filter((text) => text.includes('slow down'))).toHaveLength(1);
  });

  it('with --drop and a seed, loses exactly the deliveries the seeded Impairment says, and the gaps show', async () => {
    const settings = { dropRate: 0.4, delayMs: 0, jitterMs: 0, duplicateRate: 0, reorderRate: 0, seed: 11 };
    const server = await startServer({ impairment: settings });
    const [alice, bob] = await Promise.all([Peer.open(server.port), Peer.open(server.port)]);
    await alice.join('alice');
    await bob.join('bob');
    await alice.nextOf('JOINED');
    const expected = new Impairment(settings);
    const kept: string[] = [];
    for (let i = 1; i <= 20; i++) {
      alice.send(`SAY ${i}`);
      if (!expected.next().drop) kept.push(String(i));
    }
    alice.send('QUIT'); // the LEFT after the messages is not impaired: it marks the end
    const got: Array<{ seq: number; text: string }> = [];
    for (;;) {
      const { seq, message } = await bob.next();
      if (message.kind === 'LEFT') break;
      if (message.kind === 'MSG') got.push({ seq, text: message.text });
    }
    expect(got.map((m) => m.text)).toEqual(kept);
    expect(kept.length).toBeLessThan(20);
    // Bob's numbers skip exactly where a delivery was lost: message i went out as datagram i + 1.
    expect(got.map((m) => m.seq)).toEqual(kept.map((text) => Number(text) + 1));
  });

  it('with --trace, shows each relayed copy the simulated network dropped or sent twice, naming its member', async () => {
    // Seed 9: the first delivery is dropped, the second sent twice (joins are never impaired).
    const settings = { dropRate: 0.4, delayMs: 0, jitterMs: 0, duplicateRate: 0.4, reorderRate: 0, seed: 9 };
    const fates = new Impairment(settings);
    expect([fates.next(), fates.next()]).toMatchObject([{ drop: true }, { drop: false, duplicate: true }]);
    const { tracer, lines } = collectingTracer();
    const server = await startServer({ impairment: settings, trace: tracer });
    const { alice, bob, carol } = await threeMembers(server.port);
    alice.send('SAY hi');
    expect(await carol.next()).toEqual({ seq: 2, message: { kind: 'MSG', from: 'alice', text: 'hi' } });
    await waitUntil(
      () => carol.raw.length === 3,
      (check) => (carol.socket.on('message', check), () => carol.socket.off('message', check)),
      () => `carol's copy of "hi" twice; she has ${carol.raw.map(String).join(' / ')}`,
    );

    const at = (peer: Peer) => `127.0.0.1:${peer.localPort}`;
    const self = `127.0.0.1:${server.port}`;
    const event = (header: string, text: string) => [`+0.000s ${header}`, ...hexDump(Buffer.from(text), DEFAULT_TRACE_BYTES).map((line) => `  ${line}`)];
    const trace = lines();
    const say = trace.indexOf(`+0.000s ${at(alice)} → ${self} datagram 6 bytes`);
    expect(say, trace.join('\n')).toBeGreaterThan(-1);
    const toBob = formatServerDatagram(3, { kind: 'MSG', from: 'alice', text: 'hi' });
    const toCarol = formatServerDatagram(2, { kind: 'MSG', from: 'alice', text: 'hi' });
    expect(trace.slice(say)).toEqual([
      ...event(`${at(alice)} → ${self} datagram 6 bytes`, 'SAY hi'),
      ...event(`${self} → ${at(bob)} datagram ${toBob.length} bytes · bob's copy dropped (simulated loss)`, toBob),
      ...event(`${self} → ${at(carol)} datagram ${toCarol.length} bytes`, toCarol),
      ...event(`${self} → ${at(carol)} datagram ${toCarol.length} bytes · carol's copy sent twice (simulated duplicate)`, toCarol),
    ]);
  });

  it('survives empty, garbage and 10,000 datagrams, counting them, and still serves its members', async () => {
    const server = await startServer();
    const alice = await Peer.open(server.port);
    await alice.join('alice');
    const noise = await Peer.open(server.port);
    noise.send(Buffer.alloc(0));
    noise.send(Buffer.from([0xff, 0xfe, 0x00, 0x1b, 0x5b]));
    for (let i = 0; i < 10_000; i++) noise.send(`JUNK ${i}`);
    alice.send('WHO');
    expect((await alice.nextOf('WHO')).message).toEqual({ kind: 'WHO', names: ['alice'] });
    expect(server.totals.datagrams).toBeGreaterThan(2);
    expect(server.online).toBe(1);
  });

  it('says BYE to every member when it closes, and closing twice is fine', async () => {
    const server = await startServer();
    const [alice, bob] = await Promise.all([Peer.open(server.port), Peer.open(server.port)]);
    await alice.join('alice');
    await bob.join('bob');
    await Promise.all([server.close(), server.close()]);
    expect((await alice.nextOf('BYE')).message).toEqual({ kind: 'BYE' });
    expect((await bob.nextOf('BYE')).message).toEqual({ kind: 'BYE' });
  });
});
