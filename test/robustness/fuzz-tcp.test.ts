/**
 * A fuzzer for the TCP echo and chat servers (ROBUSTNESS.md, TCP; issue #11): many short-lived
 * connections send random bytes and mutations of valid chat lines and commands (lines split
 * across writes, huge lines, NUL, invalid UTF-8, ANSI escapes, /nick with junk), then leave by
 * FIN, /quit, reset or destroy. Meanwhile one well-behaved chat sender, one chat reader and one
 * echo client stay connected throughout, and must get exactly what they should.
 *
 * Seeded and bounded by a count of inputs, not a duration: the same seed sends the same bytes
 * in the same order (how the kernel groups them into reads still varies). A failure names the
 * seed and the input; rerun one with NETLAB_FUZZ_SEED=<seed> (and NETLAB_FUZZ_INPUTS=<count>
 * for a longer run than CI's).
 */
import { once, type EventEmitter } from 'node:events';
import net from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { seededRandom } from '../../src/core/seeded-random.js';
import { startEchoServer } from '../../src/tcp/echo-server.js';
import { join, startServer, type ChatPeer } from '../tcp/chat-support.js';
import { fuzzRun, gc } from './support.js';

/** INPUTS: fuzz connections in all, half to each server on average. */
const { seed: SEED, inputs: INPUTS } = fuzzRun({ seed: 20_261_202, inputs: 600 });
/** Connections open at once; the well-behaved clients send once per wave. */
const WAVE = 8;
/**
 * Generous: heapUsed after a forced GC, from after the first wave to the end. Measured (2-core
 * Linux VM, Node 20): 0.5-1.0 MiB for the 600 inputs (3 MB) here, 1.2-1.5 MiB for 1,500 to
 * 4,000 inputs (7-20 MB), so it does not grow with the input; most of it is the test's own.
 */
const MAX_HEAP_GROWTH_BYTES = 8 * 1024 * 1024;
const HANG_GUARD_MS = 10_000;

/** Control characters that must never reach a terminal raw (what src/core/text-view.ts escapes). */
const RAW_CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
/** What a chat client may receive: a notice, a /me, or a message prefixed by a real name. */
const NAME = String.raw`[\p{L}\p{N}][\p{L}\p{N}._-]*`;
const CHAT_LINE = new RegExp(String.raw`^(?:\*\*\* |\* ${NAME} |${NAME}(?: \(private\))?: )`, 'u');

const VALID_LINES = [
  'hello everyone',
  '/nick alice',
  '/who',
  '/me waves',
  '/msg guest-1 psst',
  '/msg alice hi there',
  '/help',
  '//not a command',
  'guest-1: steady 0', // poses as the well-behaved sender
  '*** server shutting down', // poses as the server
  'héllo wörld 😀 €',
  '/NICK Bob',
  '/quit',
];
const JUNK: Buffer[] = [
  '\u0000', '\u001b[2J', '\u001b[31m', '\u001b]0;title\u0007', '\r', '\r\n', '\n', '\t', '\u007f', '\u009b6n', '\u2028', 'é', '😀', ' ', '/',
].map((s) => Buffer.from(s)).concat(
  // Invalid UTF-8: a stray continuation, truncated sequences, an overlong slash, a surrogate.
  [[0xff], [0x80], [0xc3], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xc0, 0xaf], [0xed, 0xa0, 0x80]].map((b) => Buffer.from(b)),
);

type Ending = 'fin' | 'quit' | 'reset' | 'destroy';

interface FuzzInput {
  target: 'chat' | 'echo';
  /** Each element is one write. */
  writes: Buffer[];
  /** Chat only: wait for the welcome line before writing. */
  waitForWelcome: boolean;
  ending: Ending;
  /** What was generated, for a failure message. */
  recipe: string[];
}

/** The inputs of one seed, generated up front so that they do not depend on timing. */
function generateInputs(seed: number, count: number): FuzzInput[] {
  const rand = seededRandom(seed);
  const int = (n: number) => Math.floor(rand() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  const randomBytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));

  const mutate = (line: Buffer): Buffer => {
    let bytes = line;
    for (let k = 1 + int(3); k > 0; k--) {
      const at = int(bytes.length + 1);
      switch (int(4)) {
        case 0: // insert junk
          bytes = Buffer.concat([bytes.subarray(0, at), pick(JUNK), bytes.subarray(at)]);
          break;
        case 1: // flip a byte
          if (bytes.length > 0) bytes = Buffer.concat([bytes.subarray(0, at), randomBytes(1), bytes.subarray(at + 1)]);
          break;
        case 2: // cut
          bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + int(8))]);
          break;
        default: // repeat a piece
          bytes = Buffer.concat([bytes, bytes.subarray(at, at + int(16))]);
      }
    }
    return bytes;
  };

  const pieces: Array<[string, () => Buffer]> = [
    ['valid line', () => Buffer.from(`${pick(VALID_LINES)}${pick(['\n', '\r\n'])}`)],
    ['mutated line', () => Buffer.concat([mutate(Buffer.from(pick(VALID_LINES))), Buffer.from('\n')])],
    ['random bytes', () => randomBytes(1 + int(512))],
    ['huge line', () => Buffer.from(`${'x'.repeat(1025 + int(20_000))}${rand() < 0.5 ? '\n' : ''}`)],
    ['/nick junk', () => Buffer.concat([Buffer.from(pick(['/nick ', '/nick', '/NICK  '])), ...Array.from({ length: int(12) }, () => (rand() < 0.5 ? pick(JUNK) : Buffer.from(pick(['a', 'Zoë', '-', '_', '.', '7', 'guest-1', 'x'.repeat(25)])))), Buffer.from('\n')])],
    ['valid nick', () => Buffer.from(`/nick fz${int(1000)}\n`)],
    ['many lines', () => Buffer.from(Array.from({ length: 5 + int(60) }, (_, i) => `line ${i}\n`).join(''))],
    ['junk', () => Buffer.concat(Array.from({ length: 1 + int(8) }, () => pick(JUNK)))],
  ];

  return Array.from({ length: count }, () => {
    const target = rand() < 0.5 ? 'chat' : 'echo';
    const recipe: string[] = [];
    const parts = Array.from({ length: 1 + int(6) }, () => {
      const [name, make] = pick(pieces);
      recipe.push(name);
      return make();
    });
    // Cut the whole payload at random points, mid-character and mid-line included.
    const payload = Buffer.concat(parts);
    const cuts = Array.from({ length: int(5) }, () => int(payload.length + 1)).sort((a, b) => a - b);
    const writes = [0, ...cuts, payload.length].slice(1).map((end, i, ends) => payload.subarray(i === 0 ? 0 : ends[i - 1], end)).filter((w) => w.length > 0);
    const ending = pick<Ending>(target === 'chat' ? ['fin', 'quit', 'reset', 'destroy'] : ['fin', 'reset', 'destroy']);
    const waitForWelcome = target === 'chat' && rand() < 0.5;
    return { target, writes, waitForWelcome, ending, recipe: [...recipe, `${writes.length} writes`, ending] };
  });
}

/** Resolves when `condition()` holds, re-checked on each of `events`; rejects after the hang guard. */
function until(emitter: EventEmitter, events: string[], condition: () => boolean, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (!condition()) return;
      clearTimeout(guard);
      for (const event of events) emitter.off(event, check);
      resolve();
    };
    const guard = setTimeout(() => {
      for (const event of events) emitter.off(event, check);
      reject(new Error(`hang guard: waited ${HANG_GUARD_MS} ms for ${what}`));
    }, HANG_GUARD_MS);
    for (const event of events) emitter.on(event, check);
    check();
  });
}

/**
 * Runs one fuzz connection to its end and returns what is wrong with what it received (empty
 * when nothing is): an echo that is not the bytes sent, a chat line with raw control bytes.
 */
async function runInput(input: FuzzInput, port: number, live: Set<net.Socket>): Promise<string[]> {
  const socket = net.connect({ host: '127.0.0.1', port });
  // Tracked in a set rather than one cleanup each, so that the test keeps no closed socket alive.
  live.add(socket);
  socket.once('close', () => live.delete(socket));
  socket.on('error', () => {}); // a reset, ours or the server's, is part of the game
  const received: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => received.push(chunk));
  await once(socket, 'connect');
  const text = () => Buffer.concat(received).toString('utf8');
  if (input.waitForWelcome) await until(socket, ['data'], () => text().includes('\n'), 'the welcome');

  for (const [i, chunk] of input.writes.entries()) {
    // A reset or destroy may come before the last write (for about half of them, as the data
    // decides): then the rest is never sent.
    if ((input.ending === 'reset' || input.ending === 'destroy') && i === input.writes.length - 1 && chunk.length % 2 === 0) break;
    await new Promise((resolve) => socket.write(chunk, resolve));
  }
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  switch (input.ending) {
    case 'reset':
      socket.resetAndDestroy();
      return [];
    case 'destroy':
      socket.destroy();
      return [];
    case 'quit':
      socket.write('\n/quit\n');
      break;
    case 'fin':
      socket.end();
      break;
  }
  let guard: NodeJS.Timeout | undefined;
  await Promise.race([
    closed,
    new Promise((_, reject) => (guard = setTimeout(() => reject(new Error('hang guard: the server never closed the connection')), HANG_GUARD_MS))),
  ]).finally(() => clearTimeout(guard)); // a pending guard would keep this connection's memory
  if (input.target === 'echo') {
    const sent = Buffer.concat(input.writes);
    return Buffer.concat(received).equals(sent) ? [] : [`echoed ${Buffer.concat(received).length} bytes of ${sent.length}, or other bytes`];
  }
  return text()
    .split('\n')
    .filter((line) => line !== '')
    .flatMap((line) => (RAW_CONTROL.test(line) || !CHAT_LINE.test(line) ? [`received ${JSON.stringify(line)}`] : []));
}

describe(`fuzzing the TCP echo and chat servers (seed ${SEED}, ${INPUTS} inputs; NETLAB_FUZZ_SEED reruns one)`, () => {
  it('keeps both servers up and accepting, delivers every byte and message of the well-behaved clients once and in order, frees every connection, and keeps memory bounded', async () => {
    const inputs = generateInputs(SEED, INPUTS);
    const chat = await startServer({ rate: { perSecond: 2000, burst: 20 } }); // floods get throttled, briefly
    const echo = await startEchoServer({ host: '127.0.0.1', port: 0 });
    onTestFinished(() => echo.close());
    const serverErrors: Error[] = [];
    chat.on('error', (err) => serverErrors.push(err));
    echo.on('error', (err) => serverErrors.push(err));

    // The well-behaved: a chat sender, a chat reader that checks every line, an echo client.
    const sender = await join(chat, { keepLines: false }); // hears every join and leave: kept, they would blur the measurement
    let steadyHeard = 0;
    const readerProblems: string[] = [];
    const reader: ChatPeer = await join(chat, {
      keepLines: false,
      onLine: (line) => {
        if (RAW_CONTROL.test(line) || !CHAT_LINE.test(line)) readerProblems.push(`raw or unprefixed: ${JSON.stringify(line)}`);
        const steady = new RegExp(`^${sender.name}: steady (\\d+)$`).exec(line);
        if (steady && Number(steady[1]) !== steadyHeard++) readerProblems.push(`steady ${steady[1]}, expected ${steadyHeard - 1}`);
      },
    });
    const steadyEcho = net.connect({ host: '127.0.0.1', port: echo.port });
    onTestFinished(() => {
      steadyEcho.destroy();
    });
    await once(steadyEcho, 'connect');
    const echoRand = seededRandom(SEED ^ 0x9e3779b9);
    const echoSent: Buffer[] = [];
    const echoReceived: Buffer[] = [];
    let echoReceivedBytes = 0;
    steadyEcho.on('data', (chunk: Buffer) => {
      echoReceived.push(chunk);
      echoReceivedBytes += chunk.length;
    });

    const live = new Set<net.Socket>();
    onTestFinished(() => live.forEach((socket) => socket.destroy()));
    const problems: string[] = [];
    let heapBefore = 0;
    let fuzzedBytes = 0;
    for (let start = 0, wave = 0; start < inputs.length; start += WAVE, wave++) {
      sender.send(`steady ${wave}\n`);
      echoSent.push(Buffer.from(Array.from({ length: 1 + Math.floor(echoRand() * 4096) }, () => Math.floor(echoRand() * 256))));
      steadyEcho.write(echoSent.at(-1)!);
      const batch = inputs.slice(start, start + WAVE);
      const results = await Promise.all(
        batch.map((input, i) =>
          runInput(input, input.target === 'chat' ? chat.port : echo.port, live).catch((err: Error) => [err.message]).then((found) =>
            found.map((problem) => `seed ${SEED}, input #${start + i} (${input.target}: ${input.recipe.join(', ')}): ${problem}`),
          ),
        ),
      );
      problems.push(...results.flat());
      for (const input of batch) fuzzedBytes += input.writes.reduce((n, w) => n + w.length, 0);
      if (wave === 0) {
        // The first wave warms up (JIT, buffers, lazily built tables); measure from here.
        await until(chat, ['leave'], () => chat.room.online === 2, 'the warm-up connections to leave');
        gc();
        heapBefore = process.memoryUsage().heapUsed;
      }
    }
    expect(problems.length, problems.slice(0, 10).join('\n')).toBe(0);

    // The well-behaved clients: everything, once, in order.
    const waves = Math.ceil(inputs.length / WAVE);
    await reader.until(() => steadyHeard >= waves, `all ${waves} steady messages`);
    expect(readerProblems).toEqual([]);
    expect(steadyHeard).toBe(waves);
    const echoExpected = Buffer.concat(echoSent);
    await until(steadyEcho, ['data'], () => echoReceivedBytes >= echoExpected.length, 'the steady echo');
    expect(Buffer.concat(echoReceived).equals(echoExpected), 'the steady echo client got its bytes back, exactly').toBe(true);

    // Every fuzz connection freed (counted), then memory measured after a forced GC.
    await until(chat, ['leave'], () => chat.room.online === 2, 'the chat server to count 2 online');
    await until(echo, ['close'], () => echo.connectionCount === 1, 'the echo server to count 1 connection');
    gc();
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
    console.log(`fuzz-tcp seed ${SEED}: ${inputs.length} inputs, ${fuzzedBytes} bytes fuzzed; heap grew by ${heapGrowth} bytes after GC`);
    expect(heapGrowth).toBeLessThan(MAX_HEAP_GROWTH_BYTES);
    expect(serverErrors).toEqual([]);

    // Both still accept and serve.
    const late = await join(chat);
    late.send('/who\n');
    await late.waitForLine(new RegExp(`^\\*\\*\\* 3 online: ${sender.name}, ${reader.name}, ${late.name}$`));
    const lateEcho = net.connect({ host: '127.0.0.1', port: echo.port });
    onTestFinished(() => {
      lateEcho.destroy();
    });
    lateEcho.end('still echoing\n');
    const [echoed] = (await once(lateEcho, 'data')) as [Buffer];
    expect(echoed.toString()).toBe('still echoing\n');
  }, 60_000);
});
