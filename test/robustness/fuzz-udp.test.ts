/**
 * A seeded fuzzer for the UDP labs (issue #11): a fixed count of random datagrams — empty,
 * random binary, mutated chat commands, near the 65,507-byte limit — from many source ports
 * into the real udp-echo and udp-chat servers on 127.0.0.1, while a well-behaved echo peer and
 * a chat member keep talking. Loopback loses a datagram only when a receive buffer overflows,
 * so the fuzz traffic goes in batches of bounded bytes and each batch is waited for (the
 * servers' own 'message' events) before the next: then "gets every reply" is an honest claim.
 *
 * Reproduce a failure with its seed: NETLAB_FUZZ_SEED=<seed> npx vitest run test/robustness/fuzz-udp.test.ts
 */
import dgram from 'node:dgram';
import { describe, expect, it, onTestFinished } from 'vitest';
import { seededRandom } from '../../src/core/seeded-random.js';
import { joinDatagram } from '../../src/udp/chat-protocol.js';
import { startUdpChatServer } from '../../src/udp/chat-server.js';
import { MAX_DATAGRAM_BYTES } from '../../src/udp/udp-socket.js';
import { echoServer, peer, waitUntil } from '../udp/udp-support.js';
import { fuzzRun, gc } from './support.js';

/** INPUTS: datagrams in all. */
const { seed: SEED, inputs: INPUTS } = fuzzRun({ seed: 20_261_111, inputs: 10_000 });
const SOURCE_PORTS = 24;
/** A batch is waited for once it holds this many bytes or datagrams: far below a receive buffer. */
const BATCH_BYTES = 96 * 1024;
const BATCH_DATAGRAMS = 40;
const HEAP_GROWTH_LIMIT_BYTES = 16 * 1024 * 1024;

const CHAT_COMMANDS = [joinDatagram('fuzz'), joinDatagram(undefined), 'JOIN', 'SAY hello', 'NICK zed', 'WHO', 'BEAT', 'QUIT', 'SAY \x1b[31mred\x1b[0m\n'];

function fuzzer(random: () => number) {
  const int = (n: number) => Math.floor(random() * n);
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
  const mutate = (text: string): Buffer => {
    let b = Buffer.from(text);
    for (let k = 1 + int(3); k > 0; k--) {
      const at = int(b.length + 1);
      switch (int(6)) {
        case 0: // flip a byte
          if (b.length > 0) b[Math.min(at, b.length - 1)] = int(256);
          break;
        case 1: // insert bytes: invalid UTF-8, NUL, CR, escapes
          b = Buffer.concat([b.subarray(0, at), [Buffer.from([0xc3]), Buffer.from([0]), Buffer.from('\r\n'), Buffer.from('\x1b['), bytes(1 + int(8))][int(5)]!, b.subarray(at)]);
          break;
        case 2: // truncate
          b = b.subarray(0, at);
          break;
        case 3: // swap case
          b = Buffer.from(b.toString('latin1').replace(/[a-z]/gi, (c) => (random() < 0.5 ? c.toUpperCase() : c.toLowerCase())), 'latin1');
          break;
        case 4: // repeat
          b = Buffer.concat([b, b]);
          break;
        default: // a long argument
          b = Buffer.concat([b, Buffer.from(' '), Buffer.alloc(int(3000), 'n')]);
      }
    }
    return b;
  };
  return {
    int,
    next(): { kind: string; data: Buffer } {
      const r = random();
      if (r < 0.1) return { kind: 'empty', data: Buffer.alloc(0) };
      if (r < 0.45) return { kind: 'binary', data: bytes(int(1500)) };
      if (r < 0.97) return { kind: 'chat', data: mutate(CHAT_COMMANDS[int(CHAT_COMMANDS.length)]!) };
      return { kind: 'max-size', data: bytes(MAX_DATAGRAM_BYTES - int(64)) };
    },
  };
}

/** Resolves once `count()` reaches n, checked after each datagram `socket` receives. */
function untilReceived(socket: dgram.Socket, count: () => number, n: number, what: string): Promise<void> {
  return waitUntil(
    () => count() >= n,
    (check) => (socket.on('message', check), () => socket.off('message', check)),
    () => `${what}: ${count()} of ${n}`,
  );
}

describe(`UDP fuzzer (seed ${SEED}, ${INPUTS} datagrams)`, () => {
  it('both servers stay up, count every datagram, keep memory bounded, and the well-behaved peers get every reply', async () => {
    const random = seededRandom(SEED);
    const fuzz = fuzzer(random);
    const echo = await echoServer();
    // The member beats once per batch, far faster than the default 10 a second: the rate
    // limit is not what this test is about.
    const chat = await startUdpChatServer({ host: '127.0.0.1', port: 0, rate: { perSecond: 100_000, burst: 100_000 } });
    onTestFinished(() => chat.close());
    // Each server's socket, to wait for its 'message' event (after the server's own handler).
    const echoSocket = (echo as unknown as { socket: dgram.Socket }).socket;
    const chatSocket = (chat as unknown as { socket: dgram.Socket }).socket;
    const sources = await Promise.all(Array.from({ length: SOURCE_PORTS }, () => peer()));

    const echoPeer = await peer();
    const member = await peer();
    await member.send(joinDatagram('steady'), chat.port);
    await member.until(1);

    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    const sent = { echo: 0, chat: 0, echoBytes: 0, kinds: {} as Record<string, number> };
    let probes = 0;
    let beats = 0;
    let batchBytes = 0;
    let batchDatagrams = 0;
    const alive = () => member.received.filter((d) => / ALIVE\n$/.test(String(d))).length;

    const settle = async () => {
      await untilReceived(echoSocket, () => echo.totals.datagrams, sent.echo + probes, 'echo server datagrams');
      await untilReceived(chatSocket, () => chat.totals.datagrams, sent.chat + beats + 1, 'chat server datagrams');
      // The well-behaved peers, once per batch.
      probes++;
      echoPeer.socket.send(`probe ${probes}`, echo.port, '127.0.0.1');
      beats++;
      member.socket.send('BEAT', chat.port, '127.0.0.1');
      await echoPeer.until(probes);
      await untilReceived(member.socket, alive, beats, 'ALIVE answers');
      batchBytes = 0;
      batchDatagrams = 0;
    };

    for (let i = 0; i < INPUTS; i++) {
      const { kind, data } = fuzz.next();
      const toEcho = fuzz.int(2) === 0;
      if (batchBytes + data.length > BATCH_BYTES || batchDatagrams >= BATCH_DATAGRAMS) await settle();
      sent.kinds[kind] = (sent.kinds[kind] ?? 0) + 1;
      const source = sources[fuzz.int(sources.length)]!;
      source.socket.send(data, toEcho ? echo.port : chat.port, '127.0.0.1');
      if (toEcho) {
        sent.echo++;
        sent.echoBytes += data.length;
      } else {
        sent.chat++;
      }
      batchBytes += data.length;
      batchDatagrams++;
    }
    await settle();
    for (const source of sources) source.received.length = 0;
    gc();
    const growth = process.memoryUsage().heapUsed - heapBefore;
    console.log(`fuzz-udp seed ${SEED}: ${JSON.stringify(sent.kinds)}; heap growth ${(growth / 1024).toFixed(0)} KiB`);

    // Counted: every fuzz datagram and probe reached the echo server and was answered once.
    expect(echo.totals).toMatchObject({ datagrams: sent.echo + probes, replies: sent.echo + probes, refused: 0, dropped: 0 });
    expect(chat.totals.datagrams).toBe(sent.chat + beats + 1);
    // Every reply, in order, to the well-behaved peers.
    expect(echoPeer.received.map(String)).toEqual(Array.from({ length: probes }, (_, k) => `probe ${k + 1}`));
    expect(alive()).toBe(beats);
    expect(growth, `heap grew by ${growth} bytes`).toBeLessThan(HEAP_GROWTH_LIMIT_BYTES);

    // Still up and answering.
    await echoPeer.send('after', echo.port);
    expect(String((await echoPeer.until(probes + 1))[probes])).toBe('after');
    await member.send('WHO', chat.port);
    await untilReceived(member.socket, () => member.received.filter((d) => / WHO /.test(String(d))).length, 1, 'the WHO answer');
    expect(chat.online).toBeGreaterThanOrEqual(1);
  });
});
