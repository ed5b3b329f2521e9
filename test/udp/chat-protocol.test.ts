/**
 * The udp-chat protocol as pure functions (src/udp/chat-protocol.ts): what a client's datagram
 * means, how the server's datagrams are written and read back, and how a client tells a gap,
 * a late datagram and a duplicate apart.
 */
import { describe, expect, it } from 'vitest';
import {
  JOIN_PADDED_BYTES,
  describeServerMessage,
  formatServerDatagram,
  joinDatagram,
  parseClientDatagram,
  parseServerDatagram,
  type ServerMessage,
} from '../../src/udp/chat-protocol.js';
import { SequenceTracker } from '../../src/udp/sequence-tracker.js';

describe('parseClientDatagram', () => {
  it('reads each command word, in any case, with or without the newline nc adds', () => {
    expect(parseClientDatagram('JOIN bob')).toEqual({ kind: 'join', name: 'bob' });
    expect(parseClientDatagram('join\n')).toEqual({ kind: 'join' });
    expect(parseClientDatagram('SAY hello there\r\n')).toEqual({ kind: 'say', text: 'hello there' });
    expect(parseClientDatagram('nick robert')).toEqual({ kind: 'nick', name: 'robert' });
    expect(parseClientDatagram('WHO')).toEqual({ kind: 'who' });
    expect(parseClientDatagram('BEAT')).toEqual({ kind: 'beat' });
    expect(parseClientDatagram('QUIT\n')).toEqual({ kind: 'quit' });
  });

  it('refuses an empty SAY or NICK and an unknown word, naming the commands', () => {
    expect(parseClientDatagram('SAY')).toMatchObject({ kind: 'invalid', reason: 'SAY needs a text' });
    expect(parseClientDatagram('NICK ')).toMatchObject({ kind: 'invalid', reason: 'NICK needs a name' });
    const unknown = parseClientDatagram('\u001b[2Jhello');
    expect(unknown.kind).toBe('invalid');
    expect(unknown).toMatchObject({ reason: expect.stringContaining('JOIN, SAY, NICK, WHO, BEAT or QUIT') });
    expect(JSON.stringify(unknown)).not.toContain('\u001b');
  });

  it('treats an empty datagram as an unknown command', () => {
    expect(parseClientDatagram('').kind).toBe('invalid');
  });
});

describe('server datagrams', () => {
  const messages: ServerMessage[] = [
    { kind: 'WELCOME', name: 'bob', heartbeatMs: 5000, online: 3 },
    { kind: 'MSG', from: 'alice', text: 'hello  there, two spaces' },
    { kind: 'JOINED', name: 'carol', online: 3 },
    { kind: 'LEFT', name: 'carol', reason: 'timed-out' },
    { kind: 'RENAMED', from: 'bob', to: 'robert' },
    { kind: 'WHO', names: ['alice', 'robert'] },
    { kind: 'WHO', names: [] },
    { kind: 'WHO', names: ['alice'], more: 998 },
    { kind: 'ALIVE' },
    { kind: 'ERROR', reason: 'slow down: at most 10 messages a second' },
    { kind: 'BYE' },
  ];

  it('read back exactly what was written, with the sequence number in front', () => {
    messages.forEach((message, i) => {
      const text = formatServerDatagram(i + 1, message);
      expect(text.startsWith(`${i + 1} ${message.kind}`)).toBe(true);
      expect(text.endsWith('\n') && text.indexOf('\n') === text.length - 1, 'one line, newline at the end').toBe(true);
      expect(parseServerDatagram(text)).toEqual({ seq: i + 1, message });
    });
  });

  it('are shown in the words of tcp-chat, ALIVE not at all', () => {
    expect(describeServerMessage({ kind: 'MSG', from: 'alice', text: 'hi\u001b[31m' })).toBe('alice: hi\\x1b[31m');
    expect(describeServerMessage({ kind: 'LEFT', name: 'carol', reason: 'timed-out' })).toBe('*** carol left (no heartbeat: timed out)');
    expect(describeServerMessage({ kind: 'ALIVE' })).toBeUndefined();
    expect(describeServerMessage({ kind: 'WHO', names: ['alice', 'bob'], more: 3 })).toBe('*** online: alice, bob and 3 more');
  });

  it('never print a control character, not even in a name (a datagram "from the server" can be forged)', () => {
    const evil = 'x\u001b]0;pwned\u0007';
    const shown = [
      describeServerMessage({ kind: 'WELCOME', name: evil, heartbeatMs: 5000, online: 1 }),
      describeServerMessage({ kind: 'MSG', from: evil, text: evil }),
      describeServerMessage({ kind: 'JOINED', name: evil, online: 2 }),
      describeServerMessage({ kind: 'LEFT', name: evil, reason: 'quit' }),
      describeServerMessage({ kind: 'RENAMED', from: evil, to: evil }),
      describeServerMessage({ kind: 'WHO', names: [evil] }),
      describeServerMessage({ kind: 'ERROR', reason: evil }),
    ];
    for (const line of shown) expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
  });

  it('are read with or without their newline (nc -u sends one only if asked)', () => {
    expect(parseServerDatagram('7 BYE')).toEqual({ seq: 7, message: { kind: 'BYE' } });
    expect(parseServerDatagram('7 BYE\n')).toEqual({ seq: 7, message: { kind: 'BYE' } });
    expect(parseServerDatagram('7 MSG bob two\nlines\n')).toEqual({ seq: 7, message: { kind: 'MSG', from: 'bob', text: 'two\nlines' } });
  });

  it('that are not udp-chat are not mistaken for one', () => {
    for (const text of ['', 'hello', '1', '1 welcome bob 5000 3', 'x MSG a b', '-1 BYE', '1 WELCOME bob', '1 LEFT bob sulking', '1 BYE now']) {
      expect(parseServerDatagram(text), text).toBeUndefined();
    }
  });
});

describe('joinDatagram', () => {
  it('pads a JOIN with spaces to JOIN_PADDED_BYTES, and the server reads it as the plain JOIN', () => {
    for (const name of [undefined, 'bob', 'Олександр']) {
      const datagram = joinDatagram(name);
      expect(Buffer.byteLength(datagram)).toBe(JOIN_PADDED_BYTES);
      expect(parseClientDatagram(datagram)).toEqual(name ? { kind: 'join', name } : { kind: 'join' });
    }
  });
});

describe('SequenceTracker', () => {
  it('says next, gap, late and duplicate as the numbers arrive', () => {
    const tracker = new SequenceTracker();
    tracker.reset(1); // the WELCOME was datagram 1
    expect(tracker.check(2)).toEqual({ kind: 'next' });
    expect(tracker.check(5)).toEqual({ kind: 'gap', from: 3, to: 4 });
    expect(tracker.check(4)).toEqual({ kind: 'late' });
    expect(tracker.check(4)).toEqual({ kind: 'duplicate' });
    expect(tracker.check(5)).toEqual({ kind: 'duplicate' });
    expect(tracker.check(6)).toEqual({ kind: 'next' });
    expect(tracker.check(3)).toEqual({ kind: 'late' });
  });

  it('starts again after a new WELCOME', () => {
    const tracker = new SequenceTracker();
    tracker.reset(1);
    tracker.check(2);
    tracker.check(3);
    tracker.reset(1); // the server restarted and numbers from 1 again
    expect(tracker.check(2)).toEqual({ kind: 'next' });
  });

  it('keeps its memory bounded when a peer jumps far ahead', () => {
    const tracker = new SequenceTracker();
    tracker.reset(1);
    expect(tracker.check(1_000_000_000)).toEqual({ kind: 'gap', from: 2, to: 999_999_999 });
    expect(tracker.check(1_000_000_001)).toEqual({ kind: 'next' });
    expect(tracker.check(999_999_999)).toEqual({ kind: 'late' });
    expect(tracker.check(5)).toEqual({ kind: 'late' }); // too old to place: shown, not hidden
  });

  it('still tells late from duplicate after a long lossy session, remembering only the last 1,000 gaps', () => {
    const tracker = new SequenceTracker();
    tracker.reset(1);
    // 3,000 datagrams with every third one lost: 1,000 missing numbers, then more.
    for (let seq = 2; seq <= 4000; seq++) if (seq % 3 !== 0) tracker.check(seq);
    expect(tracker.check(3999)).toEqual({ kind: 'late' }); // overtaken, and remembered
    expect(tracker.check(3999)).toEqual({ kind: 'duplicate' });
    expect(tracker.check(4000)).toEqual({ kind: 'duplicate' });
    expect(tracker.check(3)).toEqual({ kind: 'late' }); // forgotten long ago: shown
  });
});
