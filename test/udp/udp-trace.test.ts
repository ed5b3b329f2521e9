/**
 * --trace for UDP sockets (src/udp/udp-trace.ts): how every form of socket.send() is read, pure
 * and with literal bytes; then, on loopback, that the tap reports exactly the datagram a peer
 * receives and where it went, that received datagrams are traced before the program's own
 * listener runs, and that --trace-bytes cuts the dump.
 */
import dgram from 'node:dgram';
import { once } from 'node:events';
import { describe, expect, it, onTestFinished } from 'vitest';
import { readSendCall, tapSends, traceUdpSocket, type SendCall } from '../../src/udp/udp-trace.js';
import { collectingTracer, peer } from './udp-support.js';

const noop = () => {};

/** A bare UDP socket bound to 127.0.0.1 on a free port; closed when the test finishes. */
async function boundSocket(): Promise<dgram.Socket> {
  const socket = dgram.createSocket('udp4');
  onTestFinished(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  return socket;
}

describe('readSendCall', () => {
  const bytes = (text: string) => Buffer.from(text, 'latin1');
  const cases: Array<[string, unknown[], SendCall]> = [
    ['(msg, port, address, callback)', [bytes('hello'), 12347, '127.0.0.1', noop], { data: bytes('hello'), port: 12347, address: '127.0.0.1' }],
    ['(msg, port)', [bytes('hi'), 12347], { data: bytes('hi'), port: 12347, address: undefined }],
    ['(msg, port, callback)', [bytes('hi'), 12347, noop], { data: bytes('hi'), port: 12347, address: undefined }],
    ['(msg, port as a string, address)', [bytes('hi'), '12347', '::1'], { data: bytes('hi'), port: 12347, address: '::1' }],
    [
      '(msg, offset, length, port, address, callback)',
      [bytes('abcdef'), 1, 3, 9, 'localhost', noop],
      { data: bytes('bcd'), port: 9, address: 'localhost' },
    ],
    ['(msg, offset, length, port)', [bytes('abcdef'), 4, 2, 9], { data: bytes('ef'), port: 9, address: undefined }],
    ['(msg, 0, 0, port, address): an empty slice', [bytes('abc'), 0, 0, 9, '127.0.0.1'], { data: bytes(''), port: 9, address: '127.0.0.1' }],
    ['a string, sent as UTF-8', ['привіт', 9, '127.0.0.1'], { data: Buffer.from('привіт', 'utf8'), port: 9, address: '127.0.0.1' }],
    [
      'a string cut by offset and length in bytes',
      ['привіт', 2, 4, 9, '127.0.0.1'],
      { data: Buffer.from('ри', 'utf8'), port: 9, address: '127.0.0.1' },
    ],
    [
      'an array of Buffers and strings: one datagram',
      [[bytes('ab'), 'cd', new Uint8Array([0x65])], 9, '127.0.0.1'],
      { data: bytes('abcde'), port: 9, address: '127.0.0.1' },
    ],
    ['an empty array: an empty datagram', [[], 9, '127.0.0.1'], { data: bytes(''), port: 9, address: '127.0.0.1' }],
    ['an empty address: none', [bytes('x'), 9, ''], { data: bytes('x'), port: 9, address: undefined }],
    ['a connected socket: (msg)', [bytes('hi')], { data: bytes('hi') }],
    ['a connected socket: (msg, callback)', [bytes('hi'), noop], { data: bytes('hi') }],
    ['a connected socket: (msg, offset, length, callback)', [bytes('abcdef'), 2, 2, noop], { data: bytes('cd') }],
  ];
  it.each(cases)('reads %s', (_, args, expected) => {
    expect(readSendCall(args)).toEqual(expected);
  });

  it('takes only the bytes a TypedArray or DataView shows of its ArrayBuffer', () => {
    const memory = new Uint8Array([0x00, 0x61, 0x62, 0x63, 0xff]);
    expect(readSendCall([memory.subarray(1, 4), 9]).data).toEqual(Buffer.from('abc'));
    expect(readSendCall([new DataView(memory.buffer, 2, 2), 9]).data).toEqual(Buffer.from('bc'));
    expect(readSendCall([new Uint16Array(memory.buffer.slice(0, 4), 2, 1), 9]).data).toEqual(Buffer.from([0x62, 0x63]));
  });
});

describe('tapSends', () => {
  it('reports each form of send() with the datagram the peer really receives and where it went', async () => {
    const receiver = await peer();
    const sender = await boundSocket();
    const reported: Array<{ data: string; to: string }> = [];
    tapSends(sender, (call, peerOf) => {
      const to = call.port === undefined ? String(peerOf()) : `${call.address ?? '(default)'}:${call.port}`;
      reported.push({ data: call.data.toString('latin1'), to });
    });
    const port = receiver.port;
    sender.send(Buffer.from('one'), port, '127.0.0.1', noop);
    sender.send('two', port, '127.0.0.1');
    sender.send(Buffer.from('xthreex'), 1, 5, port, '127.0.0.1');
    sender.send([Buffer.from('fo'), 'ur'], port, '127.0.0.1');
    sender.send(Buffer.from('five'), port); // no address: node:dgram sends to 127.0.0.1
    await receiver.until(5);

    expect(receiver.received.map((b) => b.toString('latin1'))).toEqual(['one', 'two', 'three', 'four', 'five']);
    expect(reported).toEqual([
      { data: 'one', to: `127.0.0.1:${port}` },
      { data: 'two', to: `127.0.0.1:${port}` },
      { data: 'three', to: `127.0.0.1:${port}` },
      { data: 'four', to: `127.0.0.1:${port}` },
      { data: 'five', to: `(default):${port}` },
    ]);
  });

  it("names a connected socket's peer, which its send() does not", async () => {
    const receiver = await peer();
    const sender = await boundSocket();
    sender.connect(receiver.port, '127.0.0.1');
    await once(sender, 'connect');
    const reported: string[] = [];
    tapSends(sender, (call, peerOf) => reported.push(`${call.data.toString()} → ${call.port ?? peerOf()}`));
    sender.send('hi');
    await receiver.until(1);
    expect(reported).toEqual([`hi → 127.0.0.1:${receiver.port}`]);
  });

  it('reports nothing for a send() that node:dgram refuses, and passes the error on', async () => {
    const sender = await boundSocket();
    const reported: SendCall[] = [];
    tapSends(sender, (call) => reported.push(call));
    expect(() => sender.send('x', 0, '127.0.0.1')).toThrow(/port/i);
    expect(reported).toEqual([]);
  });
});

describe('traceUdpSocket', () => {
  it('traces each datagram with source, destination, size and dump, a receipt before the listener that handles it', async () => {
    const server = await boundSocket();
    const client = await peer();
    const { tracer, clock, lines } = collectingTracer();
    // The program's own listener is there first: the trace still comes before it.
    server.on('message', (data, rinfo) => {
      clock.ms = 5;
      server.send(data.map((byte) => (byte >= 0x61 && byte <= 0x7a ? byte - 0x20 : byte)), rinfo.port, rinfo.address); // a-z to A-Z
    });
    traceUdpSocket(server, tracer);
    const local = `127.0.0.1:${server.address().port}`;
    const remote = `127.0.0.1:${client.port}`;

    clock.ms = 12;
    await client.send('hello', server.address().port);
    await client.until(1);
    await client.send(Buffer.from([0x00, 0x1b, 0x5b, 0x32, 0x4a, 0xff]), server.address().port);
    await client.until(2);

    expect(lines()).toEqual([
      `+0.012s ${remote} → ${local} datagram 5 bytes`,
      '  0000  68 65 6c 6c 6f                                    |hello|',
      `+0.005s ${local} → ${remote} datagram 5 bytes`,
      '  0000  48 45 4c 4c 4f                                    |HELLO|',
      // Control bytes from a peer never reach the terminal: an escape sequence shows as dots.
      `+0.005s ${remote} → ${local} datagram 6 bytes`,
      '  0000  00 1b 5b 32 4a ff                                 |..[2J.|',
      `+0.005s ${local} → ${remote} datagram 6 bytes`,
      '  0000  00 1b 5b 32 4a ff                                 |..[2J.|',
    ]);
  });

  it('shows the local address as socket.address() reports it: 0.0.0.0 for a socket bound to any address', async () => {
    const receiver = await peer();
    const socket = dgram.createSocket('udp4');
    onTestFinished(() => new Promise<void>((resolve) => socket.close(() => resolve())));
    socket.bind(0);
    await once(socket, 'listening');
    const { tracer, lines } = collectingTracer();
    traceUdpSocket(socket, tracer);
    socket.send('x', receiver.port, '127.0.0.1');
    await receiver.until(1);
    expect(lines()[0]).toBe(`+0.000s 0.0.0.0:${socket.address().port} → 127.0.0.1:${receiver.port} datagram 1 byte`);
  });

  it('cuts the dump at --trace-bytes with a line for the rest, and dumps no byte at 0', async () => {
    const server = await boundSocket();
    const client = await peer();
    const cut = collectingTracer(20);
    const none = collectingTracer(0);
    traceUdpSocket(server, cut.tracer);
    traceUdpSocket(server, none.tracer);
    const payload = Buffer.from('abcdefghijklmnopqrstuvwxyz0123456789ABCD'); // 40 bytes
    const received = once(server, 'message');
    await client.send(payload, server.address().port);
    await received;

    const header = `+0.000s 127.0.0.1:${client.port} → 127.0.0.1:${server.address().port} datagram 40 bytes`;
    expect(cut.lines()).toEqual([
      header,
      '  0000  61 62 63 64 65 66 67 68  69 6a 6b 6c 6d 6e 6f 70  |abcdefghijklmnop|',
      '  0010  71 72 73 74                                       |qrst|',
      '  … 20 more bytes',
    ]);
    // At 0 no byte is dumped: the header, and at most core's line saying how many were left out.
    const [first, ...rest] = none.lines();
    expect(first).toBe(header);
    expect(rest.filter((line) => line !== '  … 40 more bytes')).toEqual([]);
  });

  it('traces an empty datagram as 0 bytes with no dump lines', async () => {
    const server = await boundSocket();
    const client = await peer();
    const { tracer, lines } = collectingTracer();
    traceUdpSocket(server, tracer);
    const received = once(server, 'message');
    await client.send(Buffer.alloc(0), server.address().port);
    await received;
    expect(lines()).toEqual([`+0.000s 127.0.0.1:${client.port} → 127.0.0.1:${server.address().port} datagram 0 bytes`]);
  });

  it('adds a note to the next send only, and traces a datagram not sent with its reason', async () => {
    const socket = await boundSocket();
    const receiver = await peer();
    const { tracer, lines } = collectingTracer();
    const trace = traceUdpSocket(socket, tracer);
    const to = `127.0.0.1:${receiver.port}`;
    trace.notSent('1 MSG a x\n', receiver.port, '127.0.0.1', "bob's copy dropped (simulated loss)");
    trace.annotateNextSend('sent twice');
    socket.send('a', receiver.port, '127.0.0.1');
    socket.send('b', receiver.port, '127.0.0.1');
    // A send is traced when it is made, so the lines are all there before anything arrives.
    expect(lines()).toEqual([
      `+0.000s ${trace.local} → ${to} datagram 10 bytes · bob's copy dropped (simulated loss)`,
      '  0000  31 20 4d 53 47 20 61 20  78 0a                    |1 MSG a x.|',
      `+0.000s ${trace.local} → ${to} datagram 1 byte · sent twice`,
      '  0000  61                                                |a|',
      `+0.000s ${trace.local} → ${to} datagram 1 byte`,
      '  0000  62                                                |b|',
    ]);
    await receiver.until(2);
    expect(receiver.received.map(String)).toEqual(['a', 'b']);
  });
});

describe('an untraced socket', () => {
  it('keeps the prototype send() and gains no listener: tracing is opt-in per socket', async () => {
    const traced = await boundSocket();
    const plain = await boundSocket();
    traceUdpSocket(traced, collectingTracer().tracer);
    expect(traced.send).not.toBe(dgram.Socket.prototype.send);
    expect(traced.listenerCount('message')).toBe(1);
    expect(plain.send).toBe(dgram.Socket.prototype.send);
    expect(plain.listenerCount('message')).toBe(0);
  });
});
