/**
 * --trace (src/core/trace.ts): the Tracer's lines with a fixed clock over collecting streams,
 * the options that create it, and traceTcpSocket / tapWrites on a real loopback connection,
 * where a write of three lines is one event and each read is traced before the program sees it.
 */
import { once } from 'node:events';
import net from 'node:net';
import { Writable } from 'node:stream';
import { Command } from 'commander';
import { describe, expect, it, onTestFinished } from 'vitest';
import { Output, type LineSink } from '../../src/core/output.js';
import { hexDump } from '../../src/core/text-view.js';
import {
  DEFAULT_TRACE_BYTES,
  MAX_TRACE_BYTES,
  Tracer,
  addTraceOptions,
  socketEnds,
  tapWrites,
  tracerFor,
} from '../../src/core/trace.js';
import { traceTcpSocket } from '../../src/tcp/tcp-trace.js';

interface Written {
  stream: 'stdout' | 'stderr';
  text: string;
}

/** An Output over streams that keep each write() call apart, in the order the calls came. */
function collect() {
  const writes: Written[] = [];
  const stream = (name: Written['stream']) =>
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        writes.push({ stream: name, text: chunk.toString() });
        done();
      },
    });
  const output = new Output({ stdout: stream('stdout'), stderr: stream('stderr') }, { env: {} });
  /** Each write to stderr: with a Tracer, one per event. */
  const stderr = () => writes.filter((w) => w.stream === 'stderr').map((w) => w.text);
  /** Each event's lines, without the final newline. */
  const events = () => stderr().map((text) => text.replace(/\n$/, '').split('\n'));
  /** Each event's first line. */
  const headers = () => events().map((lines) => lines[0]);
  return { output, writes, stderr, events, headers };
}

/** A Tracer whose clock never moves, so every header starts `+0.000s`, and where it writes. */
function fixedTracer(dumpBytes = DEFAULT_TRACE_BYTES) {
  const sink = collect();
  return { tracer: new Tracer(sink.output, { dumpBytes, now: () => 0 }), ...sink };
}

describe('Tracer', () => {
  it('starts each event with the seconds since it was made, then FROM → TO and what happened', () => {
    let nowMs = 5_000;
    const { output, stderr } = collect();
    const tracer = new Tracer(output, { dumpBytes: 64, now: () => nowMs });
    tracer.event('127.0.0.1:53422', '127.0.0.1:12345', 'connected');
    nowMs = 5_012;
    tracer.event('127.0.0.1:53422', '127.0.0.1:12345', 'read 6 bytes');
    nowMs = 65_234;
    tracer.event('127.0.0.1:12345', '127.0.0.1:53422', 'FIN: we will send nothing more');
    expect(stderr()).toEqual([
      '+0.000s 127.0.0.1:53422 → 127.0.0.1:12345 connected\n',
      '+0.012s 127.0.0.1:53422 → 127.0.0.1:12345 read 6 bytes\n',
      '+60.234s 127.0.0.1:12345 → 127.0.0.1:53422 FIN: we will send nothing more\n',
    ]);
  });

  it('indents each detail line by two spaces and writes the whole event in one write', () => {
    const { tracer, stderr, writes } = fixedTracer();
    tracer.event('a', 'b', 'frame', ['first detail', 'second detail']);
    expect(stderr()).toEqual(['+0.000s a → b frame\n  first detail\n  second detail\n']);
    expect(writes.filter((w) => w.stream === 'stdout')).toEqual([]);
  });

  it('details an event about bytes with their hex dump, cut at dumpBytes', () => {
    const { tracer, stderr } = fixedTracer(4);
    tracer.bytes('a', 'b', 'read 6 bytes', Buffer.from('hello\n'));
    expect(stderr()).toEqual([
      '+0.000s a → b read 6 bytes\n' + '  0000  68 65 6c 6c                                       |hell|\n' + '  … 2 more bytes\n',
    ]);
    expect(tracer.dumpBytes).toBe(4);
    expect(tracer.dump(Buffer.from('hello\n'))).toEqual(hexDump(Buffer.from('hello\n'), 4));
  });

  it('writes only the header for an event about no bytes', () => {
    const { tracer, stderr } = fixedTracer();
    tracer.bytes('a', 'b', 'write 0 bytes', Buffer.alloc(0));
    expect(stderr()).toEqual(['+0.000s a → b write 0 bytes\n']);
  });

  it('first writes the stdout lines waiting in the batch, so stdout and stderr stay in order', () => {
    const { tracer, output, writes } = fixedTracer();
    output.data('before');
    tracer.event('a', 'b', 'read 1 byte', ['0000  78']);
    output.data('after');
    output.flush();
    expect(writes).toEqual([
      { stream: 'stdout', text: 'before\n' },
      { stream: 'stderr', text: '+0.000s a → b read 1 byte\n  0000  78\n' },
      { stream: 'stdout', text: 'after\n' },
    ]);
  });

  it('prints an event above an attached prompt in one go (the prompt is redrawn once), on stderr', () => {
    const { tracer, output, writes } = fixedTracer();
    const seen: string[] = [];
    const sink: LineSink = { printAbove: (line, stream) => seen.push(`${stream}:${line}`) };
    output.attach(sink);
    tracer.event('a', 'b', 'write 1 byte', ['0000  78']);
    output.attach(undefined);
    expect(seen).toEqual(['stderr:+0.000s a → b write 1 byte\n  0000  78']);
    expect(writes).toEqual([]);
  });
});

describe('tracerFor', () => {
  it('makes no Tracer and prints nothing without --trace', () => {
    const { output, writes } = collect();
    expect(tracerFor({}, output)).toBeUndefined();
    expect(tracerFor({ trace: false }, output)).toBeUndefined();
    expect(writes).toEqual([]);
  });

  it('makes a Tracer that dumps DEFAULT_TRACE_BYTES with --trace alone', () => {
    const { output } = collect();
    const tracer = tracerFor({ trace: true }, output);
    expect(tracer).toBeInstanceOf(Tracer);
    expect(tracer?.dumpBytes).toBe(DEFAULT_TRACE_BYTES);
    expect(DEFAULT_TRACE_BYTES).toBe(64);
  });

  it('dumps what --trace-bytes says, 0 included', () => {
    const { output } = collect();
    expect(tracerFor({ trace: true, traceBytes: 8 }, output)?.dumpBytes).toBe(8);
    expect(tracerFor({ trace: true, traceBytes: 0 }, output)?.dumpBytes).toBe(0);
  });

  it('warns that --trace-bytes does nothing without --trace, and makes no Tracer', () => {
    const { output, stderr } = collect();
    expect(tracerFor({ traceBytes: 8 }, output)).toBeUndefined();
    expect(stderr()).toEqual(['warning: --trace-bytes does nothing without --trace.\n']);
  });
});

describe('addTraceOptions', () => {
  /** A command with the trace options that throws instead of exiting, and prints nothing. */
  function parse(args: string[]) {
    const cmd = addTraceOptions(new Command('lab').exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} }));
    cmd.parse(args, { from: 'user' });
    return cmd.opts();
  }

  it('leaves trace and traceBytes in the options', () => {
    expect(parse([])).toEqual({});
    expect(parse(['--trace'])).toEqual({ trace: true });
    expect(parse(['--trace', '--trace-bytes', '0'])).toEqual({ trace: true, traceBytes: 0 });
    expect(parse(['--trace', '--trace-bytes', String(MAX_TRACE_BYTES)])).toEqual({ trace: true, traceBytes: 65_536 });
  });

  it.each(['65537', '70000', '-1', 'abc', '8x', ''])('refuses --trace-bytes %j, naming the range', (value) => {
    expect(() => parse(['--trace', '--trace-bytes', value])).toThrow('--trace-bytes must be a whole number from 0 to 65536');
  });
});

/**
 * A connected loopback pair: `client` from net.connect and `server`, the socket the listener
 * accepted. Each is destroyed when the test finishes (a reset then is not a failure).
 */
async function loopbackPair(serverOptions: net.ServerOpts = {}): Promise<{ client: net.Socket; server: net.Socket; port: number }> {
  const listener = net.createServer(serverOptions);
  onTestFinished(() => new Promise<void>((resolve) => listener.close(() => resolve())));
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const { port } = listener.address() as net.AddressInfo;
  const accepted = once(listener, 'connection') as Promise<[net.Socket]>;
  const client = net.connect({ host: '127.0.0.1', port });
  onTestFinished(() => {
    client.destroy();
  });
  client.on('error', () => {});
  const [[server]] = await Promise.all([accepted, once(client, 'connect')]);
  onTestFinished(() => {
    server.destroy();
  });
  server.on('error', () => {});
  return { client, server, port };
}

/** The program's own reader: collects what arrives; `until(n)` resolves once n bytes have. */
function reader(socket: net.Socket) {
  const chunks: Buffer[] = [];
  let total = 0;
  let wake = () => {};
  socket.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    total += chunk.length;
    wake();
  });
  return {
    chunks,
    received: () => Buffer.concat(chunks),
    until: (n: number) =>
      new Promise<Buffer>((resolve, reject) => {
        const check = () => {
          if (total >= n) resolve(Buffer.concat(chunks));
          else if (socket.destroyed) reject(new Error(`the connection closed after ${total} of ${n} bytes`));
        };
        wake = check;
        socket.once('close', check);
        check();
      }),
  };
}

describe('socketEnds', () => {
  it('names both ends as host:port, ours first, on either side of a connection', async () => {
    const { client, server, port } = await loopbackPair();
    const clientEnd = `127.0.0.1:${client.localPort}`;
    expect(socketEnds(client)).toEqual({ local: clientEnd, remote: `127.0.0.1:${port}` });
    expect(socketEnds(server)).toEqual({ local: `127.0.0.1:${port}`, remote: clientEnd });
  });
});

describe('traceTcpSocket on a loopback connection', () => {
  it('traces one write of three lines as one event of 14 bytes, with its dump', async () => {
    const { client, server, port } = await loopbackPair();
    const trace = fixedTracer();
    traceTcpSocket(client, trace.tracer);
    const onServer = reader(server);

    client.write('one\ntwo\nthree\n');
    expect((await onServer.until(14)).toString()).toBe('one\ntwo\nthree\n');
    expect(trace.events()).toEqual([
      [
        `+0.000s 127.0.0.1:${client.localPort} → 127.0.0.1:${port} write 14 bytes`,
        '  0000  6f 6e 65 0a 74 77 6f 0a  74 68 72 65 65 0a        |one.two.three.|',
      ],
    ]);
  });

  it('traces three writes on the other side as three events, and the reads add up to them', async () => {
    const { client, server, port } = await loopbackPair();
    const serverTrace = fixedTracer();
    traceTcpSocket(server, serverTrace.tracer);
    const clientTrace = fixedTracer();
    traceTcpSocket(client, clientTrace.tracer);
    const onClient = reader(client);

    server.write('one\n');
    server.write('two\n');
    server.write('three\n');
    await onClient.until(14);
    const toClient = `127.0.0.1:${port} → 127.0.0.1:${client.localPort}`;
    expect(serverTrace.events()).toEqual([
      [`+0.000s ${toClient} write 4 bytes`, '  0000  6f 6e 65 0a                                       |one.|'],
      [`+0.000s ${toClient} write 4 bytes`, '  0000  74 77 6f 0a                                       |two.|'],
      [`+0.000s ${toClient} write 6 bytes`, '  0000  74 68 72 65 65 0a                                 |three.|'],
    ]);
    // How many reads the kernel makes of them is its business; each is one event, in order.
    expect(clientTrace.events()).toEqual(
      onClient.chunks.map((chunk) => [`+0.000s ${toClient} read ${chunk.length} bytes`, ...hexDump(chunk, 64).map((line) => `  ${line}`)]),
    );
  });

  it("traces each read before the program's own 'data' listener sees it, even one added first", async () => {
    const { client, server, port } = await loopbackPair();
    const trace = fixedTracer();
    const seenByProgram: Array<{ chunk: Buffer; tracedSoFar: string[][] }> = [];
    server.on('data', (chunk: Buffer) => seenByProgram.push({ chunk, tracedSoFar: trace.events() }));
    traceTcpSocket(server, trace.tracer);
    const onServer = reader(server);

    client.write('hello\n');
    await onServer.until(6);
    expect(seenByProgram.length).toBeGreaterThan(0);
    for (const [i, { chunk, tracedSoFar }] of seenByProgram.entries()) {
      expect(tracedSoFar).toHaveLength(i + 1);
      expect(tracedSoFar[i]).toEqual([
        `+0.000s 127.0.0.1:${client.localPort} → 127.0.0.1:${port} read ${chunk.length} bytes`,
        ...hexDump(chunk, 64).map((line) => `  ${line}`),
      ]);
    }
  });

  it('traces end() as our FIN on one side and the peer’s FIN on the other, both ways', async () => {
    // allowHalfOpen: the server ends its side only when the test says so, so the order is causal.
    const { client, server, port } = await loopbackPair({ allowHalfOpen: true });
    const clientTrace = fixedTracer();
    traceTcpSocket(client, clientTrace.tracer);
    const serverTrace = fixedTracer();
    traceTcpSocket(server, serverTrace.tracer);
    client.resume();
    server.resume();
    const clientToServer = `127.0.0.1:${client.localPort} → 127.0.0.1:${port}`;
    const serverToClient = `127.0.0.1:${port} → 127.0.0.1:${client.localPort}`;

    const clientFinished = once(client, 'finish');
    const serverEnded = once(server, 'end');
    client.end();
    await Promise.all([clientFinished, serverEnded]);
    expect(clientTrace.headers()).toEqual([`+0.000s ${clientToServer} FIN: we will send nothing more`]);
    expect(serverTrace.headers()).toEqual([`+0.000s ${clientToServer} FIN: the peer will send nothing more`]);

    const closed = Promise.all([once(client, 'close'), once(server, 'close')]);
    server.end();
    await closed;
    expect(serverTrace.events()).toEqual([
      [`+0.000s ${clientToServer} FIN: the peer will send nothing more`],
      [`+0.000s ${serverToClient} FIN: we will send nothing more`],
    ]);
    expect(clientTrace.events()).toEqual([
      [`+0.000s ${clientToServer} FIN: we will send nothing more`],
      [`+0.000s ${serverToClient} FIN: the peer will send nothing more`],
    ]);
  });

  it('traces write(string, latin1), write(Uint8Array) and end(data, hex) with the bytes that were sent', async () => {
    const { client, server, port } = await loopbackPair();
    const trace = fixedTracer();
    traceTcpSocket(client, trace.tracer);
    const onServer = reader(server);
    const serverEnded = once(server, 'end');
    const clientFinished = once(client, 'finish');

    client.write('é\u00ff', 'latin1');
    client.write(new Uint8Array([0x00, 0x01, 0xfe]));
    client.end('6279650a', 'hex');
    await Promise.all([serverEnded, clientFinished]);

    expect(onServer.received()).toEqual(Buffer.from([0xe9, 0xff, 0x00, 0x01, 0xfe, 0x62, 0x79, 0x65, 0x0a]));
    const toServer = `127.0.0.1:${client.localPort} → 127.0.0.1:${port}`;
    expect(trace.events()).toEqual([
      [`+0.000s ${toServer} write 2 bytes`, '  0000  e9 ff                                             |..|'],
      [`+0.000s ${toServer} write 3 bytes`, '  0000  00 01 fe                                          |...|'],
      [`+0.000s ${toServer} write 4 bytes`, '  0000  62 79 65 0a                                       |bye.|'],
      [`+0.000s ${toServer} FIN: we will send nothing more`],
    ]);
  });

  it('traces a string written without an encoding as its UTF-8 bytes', async () => {
    const { client, server } = await loopbackPair();
    const trace = fixedTracer();
    traceTcpSocket(client, trace.tracer);
    const onServer = reader(server);

    client.write('é\n');
    expect(await onServer.until(3)).toEqual(Buffer.from([0xc3, 0xa9, 0x0a]));
    expect(trace.events().map((lines) => lines.slice(1))).toEqual([['  0000  c3 a9 0a                                          |...|']]);
    expect(trace.headers()[0]).toMatch(/ write 3 bytes$/);
  });
});

describe('tapWrites', () => {
  it('hands over the bytes of every write and end(data), and leaves what the peer receives, callbacks and return values alone', async () => {
    const { client, server } = await loopbackPair();
    const tapped: Buffer[] = [];
    tapWrites(client, (data) => tapped.push(data));
    const onServer = reader(server);
    const serverEnded = once(server, 'end');

    const written: Array<Promise<void>> = [];
    const callback = () => {
      let done = () => {};
      written.push(new Promise<void>((resolve) => (done = resolve)));
      return () => done();
    };
    expect(client.write('abc', callback())).toBe(true);
    expect(client.write(Buffer.from('def'))).toBe(true);
    expect(client.write(new Uint8Array([0x30, 0x67, 0x68, 0x30]).subarray(1, 3))).toBe(true);
    expect(client.write('69', 'hex', callback())).toBe(true);
    expect(client.end('jk\n', callback())).toBe(client);
    await Promise.all([...written, serverEnded]);

    expect(onServer.received().toString()).toBe('abcdefghijk\n');
    expect(tapped.map((data) => data.toString())).toEqual(['abc', 'def', 'gh', 'i', 'jk\n']);
  });

  it('takes end() and end(callback) for a FIN, not for a write', async () => {
    const { client, server } = await loopbackPair();
    const tapped: Buffer[] = [];
    tapWrites(client, (data) => tapped.push(data));
    server.resume();
    const serverEnded = once(server, 'end');

    let called = false;
    client.end(() => (called = true));
    await Promise.all([serverEnded, once(client, 'finish')]);
    expect(called).toBe(true);
    expect(tapped).toEqual([]);
  });
});
