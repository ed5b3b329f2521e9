/**
 * The tcp-chat server over loopback, with raw node:net clients speaking the line protocol the
 * way `nc` does (lesson 02; ROBUSTNESS.md, TCP). Each test starts its own server on port 0 and
 * waits for what the clients receive; the throttling and idle-timeout tests fake the clock
 * (setTimeout and Date only: the sockets stay real) so that they need no real waiting.
 */
import net from 'node:net';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import type { LeaveReason } from '../../src/tcp/chat-protocol.js';
import type { ChatMember } from '../../src/tcp/chat-room.js';
import {
  NO_THROTTLE,
  join,
  joinMany,
  nextEvent,
  rename,
  serverSocketOf,
  startServer,
  writeAndWaitForRead,
  type ChatPeer,
} from './chat-support.js';

/** Fakes setTimeout and Date (the server's token bucket and idle timers) until the test ends. */
function fakeClock(): void {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: Date.now() });
  onTestFinished(() => {
    vi.useRealTimers();
  });
}

/** The messages (not notices) a client received, as [sender, text]. */
function messages(peer: ChatPeer): Array<[string, string]> {
  return peer.lines.flatMap((line) => {
    const m = /^([^\s*:]+): (.*)$/.exec(line);
    return m ? [[m[1]!, m[2]!] as [string, string]] : [];
  });
}

/** Control characters that must never reach a terminal raw (what text-view.ts escapes). */
const RAW_CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

describe('broadcast to many clients at once', () => {
  it('delivers each of 50 clients × 100 messages to every other client exactly once, in order, never back to its sender', async () => {
    const CLIENTS = 50;
    const PER_CLIENT = 100;
    const server = await startServer({ rate: NO_THROTTLE });
    // Each receiver checks order as lines arrive: next[sender] is the number it expects next.
    const next = Array.from({ length: CLIENTS }, () => new Map<string, number>());
    const problems: string[] = [];
    const counts = new Array<number>(CLIENTS).fill(0);
    const peers: ChatPeer[] = [];
    for (let i = 0; i < CLIENTS; i++) {
      const onLine = (line: string) => {
        const m = /^(guest-\d+): m (\d+)$/.exec(line);
        if (!m) return;
        const [, sender = '', seq] = m;
        if (sender === peers[i]!.name) problems.push(`${sender} received its own message ${seq}`);
        const expected = next[i]!.get(sender) ?? 0;
        if (Number(seq) !== expected) problems.push(`${peers[i]!.name} got ${sender}'s ${seq}, expected ${expected}`);
        next[i]!.set(sender, Number(seq) + 1);
        counts[i]!++;
      };
      peers.push(await join(server, { keepLines: false, onLine }));
    }

    // Everyone is in the room (each has its welcome); now all of them talk at once.
    for (let seq = 0; seq < PER_CLIENT; seq++) {
      for (const peer of peers) peer.send(`m ${seq}\n`);
    }
    const expectedEach = (CLIENTS - 1) * PER_CLIENT;
    await Promise.all(
      peers.map((peer, i) => peer.until(() => counts[i]! >= expectedEach || problems.length > 0, `${expectedEach} messages`)),
    );

    expect(problems.slice(0, 10)).toEqual([]);
    expect(counts).toEqual(new Array(CLIENTS).fill(expectedEach));
    for (let i = 0; i < CLIENTS; i++) {
      expect(next[i]!.size, `${peers[i]!.name} heard from every other client`).toBe(CLIENTS - 1);
      expect([...next[i]!.values()].every((n) => n === PER_CLIENT)).toBe(true);
    }
    expect(server.room.totals).toMatchObject({ messages: CLIENTS * PER_CLIENT, deliveries: CLIENTS * expectedEach });
  });

  it('loses nothing and repeats nothing for steady clients while others join and leave mid-stream', async () => {
    const ROUNDS = 20;
    const PER_ROUND = 10;
    const server = await startServer({ rate: NO_THROTTLE });
    const steady = await joinMany(server, 4); // guest-1 and guest-2 also send
    const [s1, s2, watcher] = steady as [ChatPeer, ChatPeer, ChatPeer, ChatPeer];

    type Leave = { how: string; peer: ChatPeer; reasons: LeaveReason[] };
    const ways: Array<{ how: string; leave: (p: ChatPeer) => void; reasons: LeaveReason[] }> = [
      { how: 'end()', leave: (p) => p.socket.end(), reasons: ['quit'] },
      { how: '/quit', leave: (p) => p.send('/quit\n'), reasons: ['quit'] },
      { how: 'resetAndDestroy()', leave: (p) => p.socket.resetAndDestroy(), reasons: ['connection lost'] },
      // A close with unread bytes in our receive buffer is a reset, as the kernel decides.
      { how: 'destroy()', leave: (p) => p.socket.destroy(), reasons: ['quit', 'connection lost'] },
    ];
    const churners: ChatPeer[] = [];
    const left: Leave[] = [];
    let seq = 0;
    for (let round = 0; round < ROUNDS; round++) {
      for (let k = 0; k < PER_ROUND; k++, seq++) {
        s1.send(`s ${seq}\n`);
        s2.send(`s ${seq}\n`);
      }
      // Joins while this round's messages are in flight; says hello; leaves two rounds later.
      const churner = await join(server);
      churner.send(`hi from ${churner.name}\n`);
      churners.push(churner);
      if (round >= 2) {
        const goer = churners[round - 2]!;
        await watcher.waitForLine(`${goer.name}: hi from ${goer.name}`);
        const way = ways[round % ways.length]!;
        way.leave(goer);
        left.push({ how: way.how, peer: goer, reasons: way.reasons });
      }
    }

    const total = ROUNDS * PER_ROUND;
    const from = (peer: ChatPeer, sender: string) => messages(peer).filter(([name, text]) => name === sender && text.startsWith('s '));
    const stream = Array.from({ length: total }, (_, i) => `s ${i}`);
    await s1.until(() => from(s1, 'guest-2').length >= total, `${total} messages from guest-2`);
    await s2.until(() => from(s2, 'guest-1').length >= total, `${total} messages from guest-1`);
    for (const peer of steady.slice(2)) {
      await peer.until(() => from(peer, 'guest-1').length >= total && from(peer, 'guest-2').length >= total, 'both streams');
    }
    for (const peer of steady) {
      const told = (goer: ChatPeer) => peer.lines.some((l) => l.startsWith(`*** ${goer.name} left (`));
      await peer.until(() => left.every(({ peer: goer }) => told(goer)), 'every leave notice');
    }

    for (const peer of steady) {
      for (const sender of ['guest-1', 'guest-2'].filter((name) => name !== peer.name)) {
        expect(from(peer, sender).map(([, text]) => text), `${peer.name}'s copy of ${sender}'s stream`).toEqual(stream);
      }
      expect(new Set(peer.lines).size, `${peer.name} received no line twice`).toBe(peer.lines.length);
      for (const churner of churners) {
        expect(peer.lines.filter((l) => l.startsWith(`*** ${churner.name} joined (`))).toHaveLength(1);
        expect(peer.lines).toContain(`${churner.name}: hi from ${churner.name}`);
      }
      for (const { how, peer: goer, reasons } of left) {
        const notices = peer.lines.filter((l) => l.startsWith(`*** ${goer.name} left (`));
        expect(notices, `${peer.name} was told once that ${goer.name} left by ${how}`).toHaveLength(1);
        const reason = /left \(([^)]+)\)/.exec(notices[0]!)![1] as LeaveReason;
        expect(reasons, `the reason given for ${how}`).toContain(reason);
      }
    }
    expect(server.room.online).toBe(steady.length + 2);
  });
});

describe('a client that stops reading', () => {
  it('is disconnected once its queue passes the cap, while the server stays bounded and the others keep their full stream', async () => {
    const MAX_QUEUE_BYTES = 64 * 1024;
    const LINE_BYTES = 8000;
    const LINES_PER_ROUND = 2; // per flooder: each server read holds at most this many lines
    const AFTER_ROUNDS = 64; // rounds flooded after the disconnect (2 × 2 × 8 KB × 64 ≈ 2 MB)
    const MAX_FLOOD_BYTES = 64 * 1024 * 1024; // hang guard: far more than the kernel buffers hold
    const server = await startServer({ maxQueueBytes: MAX_QUEUE_BYTES, maxLineBytes: LINE_BYTES + 100, rate: NO_THROTTLE });

    const lazy = await join(server);
    lazy.socket.pause(); // reads nothing more: the kernel buffers fill, then the server's queue
    const lazySide = serverSocketOf(server, lazy.name);

    // The readers keep counts, not lines, so their own memory does not blur the measurement.
    const readerState = [0, 1].map(() => ({
      next: new Map<string, number>(),
      count: 0,
      notices: [] as string[],
      problems: [] as string[],
    }));
    const readers: ChatPeer[] = [];
    for (const state of readerState) {
      const onLine = (line: string) => {
        const m = /^(guest-\d+): (\d+) x+$/.exec(line);
        if (!m) return void state.notices.push(line);
        const expected = state.next.get(m[1]!) ?? 0;
        if (Number(m[2]) !== expected) state.problems.push(`${m[1]} ${m[2]}, expected ${expected}`);
        state.next.set(m[1]!, expected + 1);
        state.count++;
      };
      readers.push(await join(server, { keepLines: false, onLine }));
    }
    const flooders = await joinMany(server, 2, { keepLines: false });

    // Measured on every broadcast while the lazy client is still connected.
    let maxLazyQueue = 0;
    let lazyGone: LeaveReason | undefined;
    server.on('message', () => {
      if (!lazyGone) maxLazyQueue = Math.max(maxLazyQueue, lazySide.writableLength);
    });
    const lazyLeft = nextEvent<[ChatMember, LeaveReason, number]>(server, 'leave', (m) => m.name === lazy.name).then(([, reason]) => {
      lazyGone = reason;
    });

    const before = process.memoryUsage();
    let sent = 0; // lines sent by each flooder
    let floodedBytes = 0; // bytes broadcast towards the lazy client
    let roundsAfter = 0;
    const filler = 'x'.repeat(LINE_BYTES);
    while (roundsAfter < AFTER_ROUNDS) {
      if (floodedBytes > MAX_FLOOD_BYTES) throw new Error(`flooded ${floodedBytes} bytes and the lazy client is still connected`);
      for (let k = 0; k < LINES_PER_ROUND; k++, sent++) {
        for (const flooder of flooders) flooder.send(`${sent} ${filler}\n`);
      }
      floodedBytes += flooders.length * LINES_PER_ROUND * (LINE_BYTES + 20);
      // Both readers keep up before the next round: only the lazy client's data piles up.
      const expected = flooders.length * sent;
      await Promise.all(readers.map((reader, i) => reader.until(() => readerState[i]!.count >= expected, `${expected} lines`)));
      if (lazyGone) roundsAfter++;
    }
    await lazyLeft;
    const after = process.memoryUsage();

    expect(lazyGone).toBe('disconnected for not reading');
    // The cap is checked before each write against what earlier turns left unread, so the queue
    // passes it by at most what one event-loop turn queues: a round of both flooders' lines.
    expect(maxLazyQueue).toBeGreaterThan(0);
    expect(maxLazyQueue).toBeLessThanOrEqual(MAX_QUEUE_BYTES + flooders.length * LINES_PER_ROUND * (LINE_BYTES + 100));
    for (const [i, state] of readerState.entries()) {
      expect(state.problems, `reader ${i} saw every line in order`).toEqual([]);
      expect(state.count).toBe(flooders.length * sent);
      expect(state.notices).toContain(`*** ${lazy.name} left (disconnected for not reading) · 4 online`);
    }
    // Whole-process memory, test clients included. Measured (5 runs, 2-core Linux VM, Node 20):
    // about 4 MiB were flooded before the kernel buffers filled and the queue passed 64 KiB, 5.9
    // MiB in all; the largest queue seen was 72,126 bytes (64 KiB + part of one message); from
    // before to after, rss grew by 18–19 MiB and heapUsed + arrayBuffers by 1.2–2.7 MiB. The
    // bounds are generous on purpose: the exact check is the queue size above.
    const grewMiB = (key: 'rss' | 'heapUsed' | 'arrayBuffers') => (after[key] - before[key]) / 2 ** 20;
    expect(grewMiB('heapUsed') + grewMiB('arrayBuffers'), `flooded ${(floodedBytes / 2 ** 20).toFixed(1)} MiB`).toBeLessThan(32);
    expect(grewMiB('rss')).toBeLessThan(96);

    // The lazy client, reading again, finds its connection closed.
    lazy.socket.resume();
    await lazy.waitForClose();
    expect(server.room.online).toBe(4);
  });

  it('does not count one burst of broadcast lines against a client that reads everything', async () => {
    // One read of 20,000 short lines (40 KB) becomes 20,000 × "guest-2: x\n" = 220 KB for the
    // reader, all written while its socket is corked for this event-loop turn.
    const server = await startServer({ maxQueueBytes: 64 * 1024, rate: NO_THROTTLE });
    let received = 0;
    const reader = await join(server, { keepLines: false, onLine: (line) => void (line === 'guest-2: x' && received++) });
    const sender = await join(server);
    const leaves: string[] = [];
    server.on('leave', (member, reason) => leaves.push(`${member.name} left (${reason})`));
    sender.send('x\n'.repeat(20_000));
    await reader.until(() => received >= 20_000 || reader.closed, '20,000 lines or a close');
    expect(leaves, 'the reader, which read everything, was disconnected').toEqual([]);
    expect(reader.closed).toBe(false);
    expect(received).toBe(20_000);
  });
});

describe('clients that vanish', () => {
  it('announces "connection lost" when a client resets in the middle of a line, and the others carry on', async () => {
    const server = await startServer();
    const [victim, a, b] = (await joinMany(server, 3)) as [ChatPeer, ChatPeer, ChatPeer];
    victim.send('before\nhalf a li');
    await a.waitForLine('guest-1: before');
    const leave = nextEvent<[ChatMember, LeaveReason, number]>(server, 'leave');
    victim.socket.resetAndDestroy();

    const notice = '*** guest-1 left (connection lost) · 2 online';
    await Promise.all([a.waitForLine(notice), b.waitForLine(notice)]);
    const [member, reason, online] = await leave;
    expect([member.name, reason, online]).toEqual(['guest-1', 'connection lost', 2]);

    b.send('still here\n');
    await a.waitForLine('guest-3: still here');
    for (const peer of [a, b]) {
      expect(peer.lines.join('\n')).not.toContain('half a li');
      expect(peer.lines.filter((l) => l.startsWith('*** guest-1 left'))).toHaveLength(1);
    }
  });

  it('delivers the line a client wrote before half-closing, then announces that it left', async () => {
    const server = await startServer();
    const quitter = await join(server, { allowHalfOpen: true });
    const other = await join(server);
    quitter.socket.end('last words\n'); // write, then FIN: it sends nothing more but still reads

    await other.waitForLine(/^\*\*\* guest-1 left /);
    expect(other.lines.slice(-2)).toEqual(['guest-1: last words', '*** guest-1 left (quit) · 1 online']);
    await quitter.waitForClose();
    expect(quitter.ended, 'the server answered with its own FIN').toBe(true);
    expect(quitter.error).toBeUndefined();
  });

  it('still delivers every throttled line of a client that half-closed right after a burst (nc -N)', async () => {
    const server = await startServer({ rate: { perSecond: 10, burst: 2 } });
    fakeClock();
    const quitter = await join(server, { allowHalfOpen: true });
    const other = await join(server);
    const burst = Array.from({ length: 10 }, (_, i) => `line ${i}`);
    quitter.socket.end(burst.map((line) => `${line}\n`).join(''));
    await quitter.waitForLine(/^\*\*\* slow down: /);

    await vi.advanceTimersByTimeAsync(1000); // 8 more lines at 10 a second
    await other.waitForLine(/^\*\*\* guest-1 left /);
    expect(messages(other).map(([, text]) => text)).toEqual(burst);
    expect(other.lines.at(-1)).toBe('*** guest-1 left (quit) · 1 online');
    await quitter.waitForClose();
    expect(quitter.error).toBeUndefined();
  });

  it('delivers the text a client wrote without a final newline before half-closing (as `printf hi | nc` does)', async () => {
    const server = await startServer();
    const quitter = await join(server, { allowHalfOpen: true });
    const other = await join(server);
    quitter.socket.end('no newline at the end');

    await other.waitForLine(/^\*\*\* guest-1 left /);
    expect(other.lines.slice(-2)).toEqual(['guest-1: no newline at the end', '*** guest-1 left (quit) · 1 online']);
  });
});

describe('framing lines on a byte stream', () => {
  it('joins "hel" and "lo\\n" written separately into one line', async () => {
    const server = await startServer();
    const [sender, receiver] = (await joinMany(server, 2)) as [ChatPeer, ChatPeer];
    await writeAndWaitForRead(server, sender, 'hel'); // the server has read "hel" on its own
    sender.send('lo\n');
    await receiver.waitForLine('guest-1: hello');
    expect(messages(receiver)).toEqual([['guest-1', 'hello']]);
  });

  it('splits "a\\nb\\r\\nc\\n" from one write into three lines, dropping the CR', async () => {
    const server = await startServer();
    const [sender, receiver] = (await joinMany(server, 2)) as [ChatPeer, ChatPeer];
    sender.send('a\nb\r\nc\n');
    await receiver.waitForLine('guest-1: c');
    expect(messages(receiver)).toEqual([
      ['guest-1', 'a'],
      ['guest-1', 'b'],
      ['guest-1', 'c'],
    ]);
  });

  it('reassembles multi-byte UTF-8 characters split across writes at every byte boundary, never U+FFFD', async () => {
    const server = await startServer();
    const [sender, receiver] = (await joinMany(server, 2)) as [ChatPeer, ChatPeer];
    const text = 'café 😀 ü'; // 2-, 4- and 2-byte characters
    const bytes = Buffer.from(`${text}\n`);
    for (let cut = 1; cut < bytes.length; cut++) {
      await writeAndWaitForRead(server, sender, bytes.subarray(0, cut));
      sender.send(bytes.subarray(cut));
    }
    const count = bytes.length - 1;
    await receiver.until(() => messages(receiver).length >= count, `${count} messages`);
    expect(messages(receiver)).toEqual(new Array(count).fill(['guest-1', text]));
    expect(receiver.lines.join('')).not.toContain('\uFFFD');
  });
});

describe('the line length limit', () => {
  it('refuses a 10 KB line to its sender only, and the next line works', async () => {
    const server = await startServer({ maxLineBytes: 1024 });
    const [sender, receiver] = (await joinMany(server, 2)) as [ChatPeer, ChatPeer];
    sender.send(`${'x'.repeat(10_000)}\n`);
    sender.send('after\n');
    await receiver.waitForLine('guest-1: after');

    expect(messages(receiver)).toEqual([['guest-1', 'after']]);
    const errors = sender.lines.filter((l) => l.startsWith('*** error:'));
    expect(errors).toHaveLength(1);
    expect(errors[0], 'the error names the limit').toMatch(/^\*\*\* error: line\b.*\b1024 bytes\b/);
  });

  it('refuses a line that grows past the limit without a newline once, discards it up to its newline, and reads on', async () => {
    const server = await startServer({ maxLineBytes: 1024 });
    const [sender, receiver] = (await joinMany(server, 2)) as [ChatPeer, ChatPeer];
    const refused = nextEvent(server, 'refused');
    sender.send('y'.repeat(10_000)); // no newline yet
    await sender.waitForLine(/^\*\*\* error: line\b/);
    await refused;
    await writeAndWaitForRead(server, sender, 'y'.repeat(10_000)); // the same line, still growing
    sender.send('end of the long line\nnext\n');
    await receiver.waitForLine('guest-1: next');

    expect(messages(receiver)).toEqual([['guest-1', 'next']]);
    expect(sender.lines.filter((l) => l.startsWith('*** error:'))).toHaveLength(1);
  });

  it('accepts a line of exactly the limit and refuses one byte more', async () => {
    const server = await startServer({ maxLineBytes: 1024 });
    const [sender, receiver] = (await joinMany(server, 2)) as [ChatPeer, ChatPeer];
    sender.send(`${'a'.repeat(1024)}\n${'b'.repeat(1025)}\nend\n`);
    await Promise.all([receiver.waitForLine('guest-1: end'), sender.waitForLine(/^\*\*\* error: /)]);
    expect(messages(receiver)).toEqual([
      ['guest-1', 'a'.repeat(1024)],
      ['guest-1', 'end'],
    ]);
    expect(sender.lines.filter((l) => l.startsWith('*** error: '))).toHaveLength(1);
  });

  it('does not count the CR of a CRLF line ending against the limit (telnet sends \\r\\n)', async () => {
    const server = await startServer({ maxLineBytes: 1024 });
    const [sender, receiver] = (await joinMany(server, 2)) as [ChatPeer, ChatPeer];
    sender.send(`${'a'.repeat(1024)}\r\nend\r\n`);
    await receiver.waitForLine('guest-1: end');
    expect(sender.lines.filter((l) => l.startsWith('*** error:'))).toEqual([]);
    expect(messages(receiver)).toEqual([
      ['guest-1', 'a'.repeat(1024)],
      ['guest-1', 'end'],
    ]);
  });
});

describe('what other terminals receive', () => {
  it('makes ANSI escapes, NUL, CR and other control characters visible instead of passing them on raw', async () => {
    const server = await startServer();
    const [sender, receiver] = (await joinMany(server, 2)) as [ChatPeer, ChatPeer];
    await rename(sender, 'alice');
    sender.send('red\x1b[31malert\x00nul\rcr\x07bell\x7fdel\u009bcsi\u2028sep\n');
    sender.send('/me \x1b[2Jclears the screen\n');
    sender.send('/msg guest-2 \x1b]0;title\x07\n');
    sender.send(Buffer.from([0x62, 0x61, 0x64, 0xff, 0xfe, 0x0a])); // invalid UTF-8
    sender.send('end\n');
    await receiver.waitForLine('alice: end');

    const [plain, action, whisper, invalid, end] = receiver.lines.slice(-5);
    // U+2028 (a line separator to some terminals) is escaped too; how it is spelled is not the point.
    expect(plain).toMatch(/^alice: red\\x1b\[31malert\\x00nul\\rcr\\x07bell\\x7fdel\\x9bcsi\\\S+sep$/);
    expect([action, whisper, invalid, end]).toEqual([
      String.raw`* alice \x1b[2Jclears the screen`,
      String.raw`alice (private): \x1b]0;title\x07`,
      'alice: bad\uFFFD\uFFFD',
      'alice: end',
    ]);
    for (const line of receiver.lines) expect(line).not.toMatch(RAW_CONTROL);
  });

  it('always prefixes the real sender, so a line cannot pose as another user or as the server', async () => {
    const server = await startServer();
    const [sender, receiver] = (await joinMany(server, 2)) as [ChatPeer, ChatPeer];
    await rename(sender, 'alice');
    await rename(receiver, 'bob');
    sender.send('bob: fake\n*** bob left (quit) · 1 online\nok\rbob: overwritten\n//nick carol\n');
    await receiver.waitForLine('alice: /nick carol');
    expect(receiver.lines.slice(-4)).toEqual([
      'alice: bob: fake',
      'alice: *** bob left (quit) · 1 online',
      String.raw`alice: ok\rbob: overwritten`,
      'alice: /nick carol',
    ]);
  });
});

describe('names', () => {
  it('refuses duplicate, empty, over-long, spaced, control-character and guest-N names with a reason, keeping the old name', async () => {
    const server = await startServer();
    const [alice, bob] = (await joinMany(server, 2)) as [ChatPeer, ChatPeer];
    await rename(alice, 'alice');
    await rename(bob, 'bob');
    const from = bob.lines.length;
    const attempts: Array<[string, RegExp]> = [
      // The reason, by its key words; the name that stays is checked with /who below.
      ['ALICE', /taken.*still bob/],
      ['', /usage: \/nick NAME/],
      ['   ', /usage: \/nick NAME/],
      ['a'.repeat(21), /at most 20 characters.*still bob/],
      ['bob smith', /letters, digits.*still bob/],
      ['bo\x1b[31mb', /letters, digits.*still bob/],
      ['bo\tb', /letters, digits.*still bob/],
      ['-bob', /letters, digits.*still bob/],
      ['guest-7', /guest-N.*still bob/],
      ['Guest-12', /guest-N.*still bob/],
    ];
    for (const [name] of attempts) bob.send(`/nick ${name}\n`);
    bob.send('/who\n');
    await bob.waitForLine('*** 2 online: alice, bob', from);

    const errors = bob.lines.slice(from).filter((l) => l.startsWith('*** error: '));
    expect(errors).toHaveLength(attempts.length);
    errors.forEach((line, i) => {
      const [name, reason] = attempts[i]!;
      expect(line.slice('*** error: '.length), `/nick ${JSON.stringify(name)}`).toMatch(reason);
    });
    for (const line of bob.lines) expect(line).not.toMatch(RAW_CONTROL);
    alice.send('/who\n');
    await alice.waitForLine('*** 2 online: alice, bob');
    expect(alice.lines.filter((l) => l.startsWith('*** bob is now'))).toEqual([]);
  });

  it('lets a client change the case of its own name, take a name someone gave up, and use letters of any script', async () => {
    const server = await startServer();
    const [alice, bob] = (await joinMany(server, 2)) as [ChatPeer, ChatPeer];
    await rename(alice, 'alice');
    await rename(bob, 'bob');

    bob.send('/nick bob\n');
    await bob.waitForLine(/^\*\*\* .*already bob/);
    await rename(bob, 'Bob');
    await alice.waitForLine('*** bob is now Bob');
    await rename(alice, 'Zoë');
    await rename(bob, 'alice');
    await alice.waitForLine('*** Bob is now alice');
    await rename(alice, 'z'.repeat(20));
    alice.send('/who\n');
    await alice.waitForLine(`*** 2 online: ${'z'.repeat(20)}, alice`);
  });
});

describe('commands', () => {
  it('sends a private message only to its addressee, whatever the case of the name, and reports an unknown one', async () => {
    const server = await startServer();
    const [alice, bob, carol] = (await joinMany(server, 3)) as [ChatPeer, ChatPeer, ChatPeer];
    await rename(alice, 'alice');
    await rename(bob, 'bob');
    const privates = nextEvent<[ChatMember, ChatMember]>(server, 'private');
    alice.send('/msg bob psst\n/msg BOB still psst\n/msg zed hello\n/msg \x1b[2J hello\nmarker\n');
    await Promise.all([bob.waitForLine('alice: marker'), carol.waitForLine('alice: marker')]);
    await alice.waitForLine(/^\*\*\* error: .*\\x1b\[2J/);

    expect(bob.lines.filter((l) => l.includes('(private)'))).toEqual(['alice (private): psst', 'alice (private): still psst']);
    expect(carol.lines.join('\n')).not.toContain('psst');
    expect(alice.lines.join('\n')).not.toContain('psst');
    expect(alice.lines.filter((l) => /^\*\*\* error: .*\bzed\b/.test(l))).toHaveLength(1);
    const [from, to] = await privates;
    expect([from.name, to.name]).toEqual(['alice', 'bob']);
  });

  it('answers /who, /help and unknown commands to the sender only, and relays /me to the others', async () => {
    const server = await startServer();
    const [alice, bob] = (await joinMany(server, 2)) as [ChatPeer, ChatPeer];
    await rename(alice, 'alice');
    alice.send('/who\n/help\n/dance\n/me waves\n//slash\nmarker\n');
    await bob.waitForLine('alice: marker');
    await alice.waitForLine(/^\*\*\* error: .*\/dance/);

    expect(alice.lines).toContain('*** 2 online: alice, guest-2');
    expect(alice.lines.filter((l) => /^\*\*\* .*\/msg NAME TEXT/.test(l))).toHaveLength(1);
    expect(alice.lines.filter((l) => /^\*\*\* .*\/quit/.test(l))).toHaveLength(1);
    expect(bob.lines.slice(-3)).toEqual(['* alice waves', 'alice: /slash', 'alice: marker']);
    expect(bob.lines.join('\n')).not.toMatch(/\/msg NAME|online: |\/dance/);
  });

  it('says bye to a client that sends /quit, closes it, and ignores what it sent after', async () => {
    const server = await startServer();
    const [quitter, other] = (await joinMany(server, 2)) as [ChatPeer, ChatPeer];
    quitter.send('/quit\nafter quit\n');
    await other.waitForLine('*** guest-1 left (quit) · 1 online');
    await quitter.waitForClose();
    expect(quitter.lines.at(-1)).toBe('*** bye');
    expect(other.lines.join('\n')).not.toContain('after quit');
  });
});

describe('a client that floods', () => {
  it('throttles 1000 lines sent at once: one slow-down notice, every line delivered in order, the others unaffected', async () => {
    const RATE = { perSecond: 200, burst: 10 };
    const server = await startServer({ rate: RATE });
    fakeClock(); // before the clients join: their token buckets start on the fake clock
    const [flooder, listener, other] = (await joinMany(server, 3)) as [ChatPeer, ChatPeer, ChatPeer];
    let throttled = 0;
    server.on('throttled', () => throttled++);

    const flood = Array.from({ length: 1000 }, (_, i) => `line ${i}`);
    flooder.send(flood.map((line) => `${line}\n`).join(''));
    await flooder.waitForLine(/^\*\*\* slow down: /);

    // The clock stands still: only the burst has gone out, and another client is not held up.
    other.send('not held up\n');
    await listener.waitForLine('guest-3: not held up');
    const fromFlooder = (peer: ChatPeer) => messages(peer).filter(([name]) => name === 'guest-1').map(([, text]) => text);
    expect(fromFlooder(listener)).toEqual(flood.slice(0, RATE.burst));

    // 990 more lines at 200 a second: about 5 s of (fake) time.
    await vi.advanceTimersByTimeAsync(6000);
    await listener.until(() => fromFlooder(listener).length >= flood.length, 'the whole flood');
    await other.until(() => fromFlooder(other).length >= flood.length, 'the whole flood');
    expect(fromFlooder(listener)).toEqual(flood);
    expect(fromFlooder(other)).toEqual(flood);
    const notices = flooder.lines.filter((l) => l.startsWith('*** slow down: '));
    expect(notices).toHaveLength(1);
    expect(notices[0], 'the notice names the limit').toMatch(/\b200\b/);
    expect(throttled).toBe(1);
    expect(messages(flooder).filter(([name]) => name === 'guest-1'), 'the flooder never hears its own lines').toEqual([]);
  });
});

describe('the idle timeout', () => {
  it('disconnects a silent client with "timed out" while one that talks stays', async () => {
    const server = await startServer({ idleTimeoutMs: 200 });
    fakeClock(); // before the clients join: their idle timers are set when they are accepted
    const silent = await join(server);
    const talker = await join(server);

    await vi.advanceTimersByTimeAsync(150);
    talker.send('still here\n');
    await silent.waitForLine('guest-2: still here'); // the server has read it: the talker's timer restarted
    await vi.advanceTimersByTimeAsync(100); // silent for 250 ms, the talker for 100 ms

    await talker.waitForLine('*** guest-1 left (timed out) · 1 online');
    await silent.waitForEnd();
    expect(silent.lines.at(-1)).toMatch(/^\*\*\* .*idle/);
    talker.send('/who\n');
    await talker.waitForLine('*** 1 online: guest-2');
  });

  it('does not time out a client whose throttled lines are still waiting to be delivered ("delayed, not lost")', async () => {
    const server = await startServer({ rate: { perSecond: 10, burst: 1 }, idleTimeoutMs: 1000 });
    fakeClock();
    const [sender, listener] = (await joinMany(server, 2)) as [ChatPeer, ChatPeer];
    const lines = Array.from({ length: 20 }, (_, i) => `line ${i}`);
    sender.send(lines.map((line) => `${line}\n`).join(''));
    await sender.waitForLine(/^\*\*\* slow down: /);

    // 19 lines at 10 a second take 1.9 s. The sender has said everything; the listener talks
    // now and then so that it is not the one who is idle.
    for (const step of [1, 2, 3]) {
      await vi.advanceTimersByTimeAsync(700);
      listener.send(`awake ${step}\n`);
      await sender.waitForLine(`guest-2: awake ${step}`);
    }
    const heard = () => messages(listener).filter(([name]) => name === 'guest-1').map(([, text]) => text);
    await listener.until(() => heard().length >= lines.length, 'every throttled line');
    expect(heard()).toEqual(lines);
  });

  it('never times anyone out by default', async () => {
    const server = await startServer();
    fakeClock();
    const [silent, other] = (await joinMany(server, 2)) as [ChatPeer, ChatPeer];
    await vi.advanceTimersByTimeAsync(24 * 60 * 60 * 1000);
    other.send('/who\n');
    await other.waitForLine('*** 2 online: guest-1, guest-2');
    expect(silent.ended).toBe(false);
  });
});

describe('close()', () => {
  it('tells every client the server is shutting down, resolves, is idempotent, and frees the port at once', async () => {
    const server = await startServer();
    const peers = await joinMany(server, 3);
    const first = server.close();
    expect(server.close()).toBe(first);
    await first;
    await server.close();

    for (const peer of peers) {
      await peer.waitForClose();
      expect(peer.lines.at(-1)).toBe('*** server shutting down');
      expect(peer.ended).toBe(true);
      expect(peer.lines.join('\n'), 'no leave notices during the shutdown').not.toContain(' left (');
    }
    expect(server.room.online).toBe(0);

    const again = await startServer({ port: server.port });
    expect(again.port).toBe(server.port);
    const peer = await join(again);
    expect(peer.name).toBe('guest-1');
  });

  it('does not wait forever for a client that never reads its notice', async () => {
    const server = await startServer();
    fakeClock(); // the close grace period is a timer
    const stuck = await join(server);
    stuck.socket.pause(); // never reads the notice or the FIN, never closes its side
    const closed = server.close();
    await vi.advanceTimersByTimeAsync(1000);
    await closed;
    expect(server.room.online).toBe(0);
  });

  it('closes a throttled client with a FIN, not a reset, and handles none of its waiting lines', async () => {
    const server = await startServer({ rate: { perSecond: 1, burst: 1 } });
    const flooder = await join(server);
    const listener = await join(server);
    flooder.socket.write('one\ntwo\nthree\nfour\n');
    await flooder.until(() => flooder.lines.some((line) => line.startsWith('*** slow down')), 'the slow-down notice');
    // With the clock stopped, close() can only finish if the paused client reads our FIN and
    // answers it: the grace period that would otherwise destroy it never runs out.
    fakeClock();
    await server.close();
    await flooder.waitForClose();
    expect(flooder.error).toBeUndefined();
    expect(flooder.ended).toBe(true);
    await listener.waitForClose();
    expect(listener.lines.filter((line) => line.startsWith(`${flooder.name}: `))).toEqual([`${flooder.name}: one`]);
  });

  it('refuses new connections once closed', async () => {
    const server = await startServer();
    await server.close();
    const socket = net.connect({ host: '127.0.0.1', port: server.port });
    onTestFinished(() => {
      socket.destroy();
    });
    const error = await new Promise<NodeJS.ErrnoException>((resolve) => socket.once('error', resolve));
    expect(error.code).toBe('ECONNREFUSED');
  });
});
