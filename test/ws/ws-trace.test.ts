/**
 * `--trace` on the WebSocket labs (src/ws/ws-trace.ts, lesson 04 "Frames on the wire"), on
 * real loopback connections: a WsEchoServer or WsListener with a Tracer, a WsClient with one,
 * and raw TCP peers that send what ws never would in the way ws never would (the handshake and
 * a frame in one write, a frame one byte at a time). The Tracer writes to collecting streams
 * and its clock never moves, so every event starts `+0.000s` and is compared whole.
 *
 * What the decoder and the field lines say about one frame is tested with literal bytes in
 * frame-reader.test.ts and frame-view.test.ts; here it is where the bytes are taken: the HTTP
 * head each way, every frame in each direction, in the order they crossed the wire.
 */
import { once } from 'node:events';
import net from 'node:net';
import { Writable } from 'node:stream';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { Output } from '../../src/core/output.js';
import { hex, hexDump } from '../../src/core/text-view.js';
import { DEFAULT_TRACE_BYTES, Tracer } from '../../src/core/trace.js';
import { encodeFrame } from '../../src/ws/frame.js';
import { newKey, requestLines, responseLines } from '../../src/ws/handshake.js';
import { WsClient } from '../../src/ws/ws-client.js';
import { startWsListener, type WsListenerOptions, type WsPeer } from '../../src/ws/ws-listener.js';
import { RawPeer, echoServer, waitUntil } from './ws-support.js';

/** One event as the Tracer printed it: `+0.000s FROM → TO WHAT`, then its detail lines. */
interface TraceEvent {
  from: string;
  to: string;
  what: string;
  details: string[];
}

const HEADER = /^\+0\.000s (\S+) → (\S+) (.+)$/;

/**
 * A Tracer with a clock that never moves, over an Output whose stderr keeps each write apart
 * (the Tracer makes one write per event). `until()` waits, bounded, for the events to satisfy
 * a condition, checking again after every write.
 */
function collectingTracer(dumpBytes = DEFAULT_TRACE_BYTES) {
  const writes: string[] = [];
  const watchers = new Set<() => void>();
  const stream = (keep: boolean) =>
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        if (keep) writes.push(chunk.toString());
        for (const check of [...watchers]) check();
        done();
      },
    });
  const output = new Output({ stdout: stream(false), stderr: stream(true) }, { env: {} });
  const tracer = new Tracer(output, { dumpBytes, now: () => 0 });
  const events = (): TraceEvent[] =>
    writes.map((text) => {
      const [header = '', ...details] = text.replace(/\n$/, '').split('\n');
      const match = HEADER.exec(header);
      if (!match) throw new Error(`not a trace event header: ${JSON.stringify(header)}`);
      for (const line of details) if (!line.startsWith('  ')) throw new Error(`a detail line not indented: ${JSON.stringify(line)}`);
      return { from: match[1]!, to: match[2]!, what: match[3]!, details: details.map((line) => line.slice(2)) };
    });
  const until = (condition: (events: TraceEvent[]) => boolean, what: string) =>
    waitUntil(
      () => condition(events()),
      (check) => (watchers.add(check), () => watchers.delete(check)),
      () => `${what}; traced so far:\n${writes.join('')}`,
    );
  return { tracer, events, until, stderr: () => writes.join('') };
}

/** A WsClient, open and delivering messages; terminated when the test finishes. */
async function openClient(url: string, tracer?: Tracer): Promise<WsClient> {
  const client = await WsClient.open({ url, tracer });
  onTestFinished(() => client.terminate());
  client.resume();
  return client;
}

/** The next message a WsClient receives. */
function nextMessage(client: WsClient): Promise<{ data: Buffer; isBinary: boolean }> {
  return new Promise((resolve) => client.once('message', (data, isBinary) => resolve({ data, isBinary })));
}

/**
 * An echo on a WsListener (the lab's machinery without the lab), traced, closed when the test
 * finishes. Each connection notes how many bytes its socket held unread when ws handed it over:
 * the bytes that came in the same read as the HTTP head, which ws puts back with unshift().
 */
async function echoListener(tracer: Tracer, options: Partial<WsListenerOptions> = {}) {
  const listener = await startWsListener({ host: '127.0.0.1', port: 0, path: '/ws', lab: 'ws-echo', tracer, ...options });
  onTestFinished(() => listener.close());
  const connections: Array<{ peer: WsPeer; unreadAtOpen: number }> = [];
  listener.on('connection', (ws, peer, socket) => {
    connections.push({ peer, unreadAtOpen: socket.readableLength });
    ws.on('message', (data: Buffer, isBinary) => ws.send(data, { binary: isBinary }));
  });
  return { listener, connections };
}

/** The masking key a traced frame's fields show. */
function maskingKeyOf(event: TraceEvent): Buffer {
  const match = /masking key ((?:[0-9a-f]{2} ){3}[0-9a-f]{2})$/m.exec(event.details.join('\n'));
  if (!match) throw new Error(`no masking key in "${event.what}":\n${event.details.join('\n')}`);
  return Buffer.from(match[1]!.replaceAll(' ', ''), 'hex');
}

/** RFC 6455, section 5.3: octet i XOR octet i mod 4 of the key. */
function masked(payload: Buffer, key: Buffer): Buffer {
  return Buffer.from(payload.map((byte, i) => byte ^ key[i % 4]!));
}

/** The bytes of an HTTP head made of these lines: CR LF after each, and the empty line. */
function headBytes(lines: readonly string[]): number {
  return Buffer.byteLength(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
}

const HELLO = Buffer.from('Hello');
const TEXT_FIELDS = 'FIN 1 · RSV1 0 · RSV2 0 · RSV3 0 · opcode 0x1 (text)';
const BINARY_FIELDS = 'FIN 1 · RSV1 0 · RSV2 0 · RSV3 0 · opcode 0x2 (binary)';
const CLOSE_FIELDS = 'FIN 1 · RSV1 0 · RSV2 0 · RSV3 0 · opcode 0x8 (close)';
const HELLO_DUMP = '0000  48 65 6c 6c 6f                                    |Hello|';
const CODE_1000_DUMP = '0000  03 e8                                             |..|';

/** RFC 6455's own masked "Hello" (section 5.7), and how the trace shows it. */
const RFC_MASK = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
const RFC_MASKED_HELLO = encodeFrame({ fin: true, opcode: 0x1, mask: RFC_MASK, payload: HELLO });
const RFC_MASKED_HELLO_DETAILS = [
  TEXT_FIELDS,
  'MASK 1 · payload length 5 (7-bit) · masking key 37 fa 21 3d',
  'payload as sent (masked):',
  '0000  7f 9f 4d 51 58                                    |..MQX|',
  'payload unmasked:',
  HELLO_DUMP,
];
const UNMASKED_HELLO_DETAILS = [TEXT_FIELDS, 'MASK 0 · payload length 5 (7-bit)', 'payload:', HELLO_DUMP];

describe('serverTrace, through a WsEchoServer', () => {
  it("shows the request, the 101 with its size, the client's masked frame, the echo and both close frames, in causal order", async () => {
    const trace = collectingTracer();
    const server = await echoServer({ tracer: trace.tracer });
    const connected = new Promise<WsPeer>((resolve) => server.once('connection', resolve));
    const client = await openClient(server.url);
    const clientEnd = (await connected).remote;
    const serverEnd = `127.0.0.1:${server.port}`;

    const echoed = nextMessage(client);
    await client.send('Hello');
    expect((await echoed).data).toEqual(HELLO);
    // Resolves once the server's close frame came back and TCP closed: the server traced all.
    expect(await client.close()).toEqual({ code: 1000, reason: '' });

    const events = trace.events();
    expect(events.map((e) => `${e.from} → ${e.to} ${e.what}`)).toEqual([
      expect.stringMatching(new RegExp(`^${clientEnd} → ${serverEnd} HTTP request, \\d+ bytes$`)),
      `${serverEnd} → ${clientEnd} HTTP response, ${headBytes(responseLines(client.key))} bytes`,
      `${clientEnd} → ${serverEnd} frame, 11 bytes: text`,
      `${serverEnd} → ${clientEnd} frame, 7 bytes: text`,
      `${clientEnd} → ${serverEnd} frame, 8 bytes: close 1000`,
      `${serverEnd} → ${clientEnd} frame, 4 bytes: close 1000`,
    ]);
    const [request, response, text, echo, clientClose, serverClose] = events as [TraceEvent, ...TraceEvent[]];

    // The request as Node's parser read it: the method line first, then ws's headers.
    expect(request.details[0]).toBe('GET /ws HTTP/1.1');
    expect(request.details.slice(1).sort()).toEqual(
      [
        `Host: ${serverEnd}`,
        'Upgrade: websocket',
        'Connection: Upgrade',
        `Sec-WebSocket-Key: ${client.key}`,
        'Sec-WebSocket-Version: 13',
        'User-Agent: netlab',
      ].sort(),
    );
    expect(request.what).toBe(`HTTP request, ${headBytes(request.details)} bytes`);
    expect(response!.details).toEqual(responseLines(client.key));

    const textKey = maskingKeyOf(text!);
    expect(text!.details).toEqual([
      TEXT_FIELDS,
      `MASK 1 · payload length 5 (7-bit) · masking key ${hex(textKey)}`,
      'payload as sent (masked):',
      ...hexDump(masked(HELLO, textKey), 64),
      'payload unmasked:',
      HELLO_DUMP,
    ]);
    expect(echo!.details).toEqual(UNMASKED_HELLO_DETAILS);

    const closeKey = maskingKeyOf(clientClose!);
    expect(clientClose!.details).toEqual([
      CLOSE_FIELDS,
      `MASK 1 · payload length 2 (7-bit) · masking key ${hex(closeKey)}`,
      'close code 1000 (normal closure) · no reason',
      'payload as sent (masked):',
      ...hexDump(masked(Buffer.from([0x03, 0xe8]), closeKey), 64),
      'payload unmasked:',
      CODE_1000_DUMP,
    ]);
    expect(serverClose!.details).toEqual([
      CLOSE_FIELDS,
      'MASK 0 · payload length 2 (7-bit)',
      'close code 1000 (normal closure) · no reason',
      'payload:',
      CODE_1000_DUMP,
    ]);
  });

  it('shows a frame that came in the same read as the upgrade request (ws unshift()s it), and its echo', async () => {
    const trace = collectingTracer();
    const { listener, connections } = await echoListener(trace.tracer);
    const peer = await RawPeer.connect(listener.port);
    const serverEnd = `127.0.0.1:${listener.port}`;
    const clientEnd = `127.0.0.1:${peer.socket.localPort}`;
    const key = newKey();
    const request = requestLines({ host: serverEnd, path: '/ws', key });

    // One write: on loopback it arrives in one read, so Node's HTTP parser finds the frame
    // after the head and hands it to the 'upgrade' event, and ws puts it back into the socket.
    peer.write(Buffer.concat([Buffer.from(`${request.join('\r\n')}\r\n\r\n`), RFC_MASKED_HELLO]));
    const answer = await peer.head();
    expect(answer.status).toBe(101);
    expect((await peer.frame()).payload).toEqual(HELLO);
    expect(connections.map((c) => c.unreadAtOpen)).toEqual([RFC_MASKED_HELLO.length]);

    expect(trace.events()).toEqual([
      { from: clientEnd, to: serverEnd, what: `HTTP request, ${headBytes(request)} bytes`, details: request },
      // The size is that of the head the peer received, byte for byte.
      { from: serverEnd, to: clientEnd, what: `HTTP response, ${headBytes(answer.lines)} bytes`, details: answer.lines },
      { from: clientEnd, to: serverEnd, what: 'frame, 11 bytes: text', details: RFC_MASKED_HELLO_DETAILS },
      { from: serverEnd, to: clientEnd, what: 'frame, 7 bytes: text', details: UNMASKED_HELLO_DETAILS },
    ]);
  });

  it('shows a frame written one byte at a time as one frame event, decoded right', async () => {
    const trace = collectingTracer();
    const server = await echoServer({ tracer: trace.tracer });
    const peer = await RawPeer.upgraded(server.port);
    const serverEnd = `127.0.0.1:${server.port}`;
    const clientEnd = `127.0.0.1:${peer.socket.localPort}`;

    for (const byte of RFC_MASKED_HELLO) peer.write(Buffer.of(byte));
    expect((await peer.frame()).payload).toEqual(HELLO);

    expect(trace.events().map((e) => e.what.replace(/\d+ bytes$/, 'N bytes'))).toEqual([
      'HTTP request, N bytes',
      'HTTP response, N bytes',
      'frame, 11 bytes: text',
      'frame, 7 bytes: text',
    ]);
    expect(trace.events().slice(2)).toEqual([
      { from: clientEnd, to: serverEnd, what: 'frame, 11 bytes: text', details: RFC_MASKED_HELLO_DETAILS },
      { from: serverEnd, to: clientEnd, what: 'frame, 7 bytes: text', details: UNMASKED_HELLO_DETAILS },
    ]);
  });

  it('shows a 16-bit and a 64-bit length, and cuts each dump at dumpBytes with the true count of the rest', async () => {
    const trace = collectingTracer(16);
    const server = await echoServer({ tracer: trace.tracer });
    const client = await openClient(server.url);
    const text = 'netlab '.repeat(43).slice(0, 300);
    const binary = Buffer.alloc(70_000, 'netlab ');
    const netlabDump = '0000  6e 65 74 6c 61 62 20 6e  65 74 6c 61 62 20 6e 65  |netlab netlab ne|';

    const first = nextMessage(client);
    await client.send(text);
    expect((await first).data.toString()).toBe(text);
    const second = nextMessage(client);
    await client.send(binary);
    expect((await second).data.equals(binary)).toBe(true);

    const frames = trace.events().slice(2);
    expect(frames.map((e) => e.what)).toEqual(['frame, 308 bytes: text', 'frame, 304 bytes: text', 'frame, 70,014 bytes: binary', 'frame, 70,010 bytes: binary']);
    const [textSent, textEcho, binarySent, binaryEcho] = frames as [TraceEvent, TraceEvent, TraceEvent, TraceEvent];

    const textKey = maskingKeyOf(textSent);
    expect(textSent.details).toEqual([
      TEXT_FIELDS,
      `MASK 1 · payload length 300 (126, then 16 bits) · masking key ${hex(textKey)}`,
      'payload as sent (masked):',
      ...hexDump(masked(Buffer.from(text.slice(0, 16)), textKey), 16),
      '… 284 more bytes',
      'payload unmasked:',
      netlabDump,
      '… 284 more bytes',
    ]);
    expect(textEcho.details).toEqual([TEXT_FIELDS, 'MASK 0 · payload length 300 (126, then 16 bits)', 'payload:', netlabDump, '… 284 more bytes']);

    const binaryKey = maskingKeyOf(binarySent);
    expect(binarySent.details).toEqual([
      BINARY_FIELDS,
      `MASK 1 · payload length 70,000 (127, then 64 bits) · masking key ${hex(binaryKey)}`,
      'payload as sent (masked):',
      ...hexDump(masked(binary.subarray(0, 16), binaryKey), 16),
      '… 69,984 more bytes',
      'payload unmasked:',
      netlabDump,
      '… 69,984 more bytes',
    ]);
    expect(binaryEcho.details).toEqual([BINARY_FIELDS, 'MASK 0 · payload length 70,000 (127, then 64 bits)', 'payload:', netlabDump, '… 69,984 more bytes']);
  });

  it("shows the heartbeat's ping from the server and the client's pong", async () => {
    // Only setInterval is faked: the heartbeat beats when the test says, the sockets are real.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    onTestFinished(() => void vi.useRealTimers());
    const trace = collectingTracer();
    const { listener, connections } = await echoListener(trace.tracer, { heartbeatIntervalMs: 50 });
    await openClient(listener.url);
    await waitUntil(
      () => connections.length === 1,
      (check) => (listener.on('connection', check), () => listener.off('connection', check)),
      () => 'the connection',
    );
    const clientEnd = connections[0]!.peer.remote;
    const serverEnd = `127.0.0.1:${listener.port}`;

    vi.advanceTimersByTime(50);
    await trace.until((events) => events.some((e) => e.what.endsWith(': pong')), 'a pong');

    const frames = trace.events().slice(2);
    expect(frames).toEqual([
      {
        from: serverEnd,
        to: clientEnd,
        what: 'frame, 2 bytes: ping',
        details: ['FIN 1 · RSV1 0 · RSV2 0 · RSV3 0 · opcode 0x9 (ping)', 'MASK 0 · payload length 0 (7-bit)', 'payload: empty'],
      },
      {
        from: clientEnd,
        to: serverEnd,
        what: 'frame, 6 bytes: pong',
        details: [
          'FIN 1 · RSV1 0 · RSV2 0 · RSV3 0 · opcode 0xa (pong)',
          expect.stringMatching(/^MASK 1 · payload length 0 \(7-bit\) · masking key (?:[0-9a-f]{2} ){3}[0-9a-f]{2}$/),
          'payload: empty',
        ],
      },
    ]);
  });

  it('shows a refused handshake (404 for a wrong path, 403 for a foreign Origin) with its status line, as both ends saw it', async () => {
    const serverTrace = collectingTracer();
    const server = await echoServer({ tracer: serverTrace.tracer });
    const serverEnd = `127.0.0.1:${server.port}`;
    const cases = [
      { url: `ws://${serverEnd}/nowhere`, origin: undefined, requestLine: 'GET /nowhere HTTP/1.1', statusLine: 'HTTP/1.1 404 Not Found', body: 'no WebSocket here: it is at /ws\n' },
      { url: server.url, origin: 'http://evil.example', requestLine: 'GET /ws HTTP/1.1', statusLine: 'HTTP/1.1 403 Forbidden', body: 'Origin http://evil.example is not allowed\n' },
    ];
    for (const { url, origin, requestLine, statusLine, body } of cases) {
      const before = serverTrace.events().length;
      const clientTrace = collectingTracer();
      await expect(WsClient.open({ url, origin, tracer: clientTrace.tracer })).rejects.toMatchObject({ code: 'NETLAB_ERR_HANDSHAKE_REFUSED' });

      const statusLines = [statusLine, 'Connection: close', 'Content-Type: text/plain; charset=utf-8', `Content-Length: ${Buffer.byteLength(body)}`];
      const onServer = serverTrace.events().slice(before);
      expect(onServer).toEqual([
        { from: expect.any(String), to: serverEnd, what: expect.stringMatching(/^HTTP request, \d+ bytes$/), details: expect.any(Array) },
        { from: serverEnd, to: expect.any(String), what: `HTTP response, ${headBytes(statusLines)} bytes`, details: statusLines },
        // The body that says why, as bytes: it is not WebSocket frames.
        { from: serverEnd, to: expect.any(String), what: `HTTP body, ${Buffer.byteLength(body)} bytes`, details: expect.any(Array) },
      ]);
      expect(onServer[0]!.details[0]).toBe(requestLine);
      if (origin) expect(onServer[0]!.details).toContain(`Origin: ${origin}`);
      // The client wrote the request the server read, and read the answer the server wrote (the
      // client shows the head as its parser read it; the body it reads for the error is not traced).
      expect(clientTrace.events()).toEqual(onServer.slice(0, 2));
    }
  });

  it('shows a refused POST upgrade with its 405 status line', async () => {
    const trace = collectingTracer();
    const server = await echoServer({ tracer: trace.tracer });
    const peer = await RawPeer.connect(server.port);
    const serverEnd = `127.0.0.1:${server.port}`;
    const clientEnd = `127.0.0.1:${peer.socket.localPort}`;
    const request = requestLines({ host: serverEnd, path: '/ws', key: newKey() });
    request[0] = 'POST /ws HTTP/1.1';
    peer.write(`${request.join('\r\n')}\r\n\r\n`);
    const answer = await peer.head();
    expect(answer.status).toBe(405);
    expect(await peer.text()).toBe('a WebSocket handshake is a GET request\n');

    expect(trace.events().slice(0, 2)).toEqual([
      { from: clientEnd, to: serverEnd, what: `HTTP request, ${headBytes(request)} bytes`, details: request },
      { from: serverEnd, to: clientEnd, what: `HTTP response, ${headBytes(answer.lines)} bytes`, details: answer.lines },
    ]);
  });

  // Caught a bug: the bytes after any HTTP head went to the FrameReader, so the 405's body
  // "a WebSocket handshake is a GET request\n" read as a 34-byte text frame with RSV1, RSV2 set.
  it('shows no frames after a refusal: its body is not WebSocket', async () => {
    const trace = collectingTracer();
    const server = await echoServer({ tracer: trace.tracer });
    const peer = await RawPeer.connect(server.port);
    const request = requestLines({ host: `127.0.0.1:${server.port}`, path: '/ws', key: newKey() });
    request[0] = 'POST /ws HTTP/1.1';
    peer.write(`${request.join('\r\n')}\r\n\r\n`);
    await peer.closed();
    expect(trace.events().filter((e) => e.what.startsWith('frame'))).toEqual([]);
  });

  // Caught a bug: an `unreadable` event dumped the whole read under a header that counts only
  // the bytes from the unreadable frame on, so the dump began with the frame shown above it.
  it('dumps the bytes it could not decode, not the frame before them in the same read', async () => {
    const trace = collectingTracer();
    const server = await echoServer({ tracer: trace.tracer });
    const peer = await RawPeer.upgraded(server.port);
    // A 64-bit length with its top bit set (section 5.2: "the most significant bit MUST be 0").
    const unreadable = Buffer.from([0x81, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x02, 0x03, 0x04]);
    peer.write(Buffer.concat([RFC_MASKED_HELLO, unreadable]));
    await trace.until((events) => events.some((e) => e.what.includes('not decoded')), 'the unreadable frame');

    const [hello, notDecoded] = trace.events().filter((e) => e.from === `127.0.0.1:${peer.socket.localPort}`).slice(1);
    expect(hello?.details).toEqual(RFC_MASKED_HELLO_DETAILS);
    expect(notDecoded?.what).toBe('14 bytes not decoded: 64-bit length with its most significant bit set (section 5.2)');
    expect(notDecoded?.details).toEqual(hexDump(unreadable, 64));
  });
});

describe('clientTrace, through a WsClient', () => {
  it('shows the request as written, the response and the frames both ways: the same story as the server tells', async () => {
    const serverTrace = collectingTracer();
    const server = await echoServer({ tracer: serverTrace.tracer });
    const clientTrace = collectingTracer();
    const client = await openClient(server.url, clientTrace.tracer);

    const echoed = nextMessage(client);
    await client.send('Hello');
    expect((await echoed).data).toEqual(HELLO);
    await client.close();

    const events = clientTrace.events();
    expect(events.map((e) => e.what)).toEqual([
      expect.stringMatching(/^HTTP request, \d+ bytes$/),
      `HTTP response, ${headBytes(responseLines(client.key))} bytes`,
      'frame, 11 bytes: text',
      'frame, 7 bytes: text',
      'frame, 8 bytes: close 1000',
      'frame, 4 bytes: close 1000',
    ]);
    // The request as ws wrote it, byte for byte; the server shows it from what its parser read.
    expect(events[0]!.details[0]).toBe('GET /ws HTTP/1.1');
    expect(events[0]!.details).toContain(`Sec-WebSocket-Key: ${client.key}`);
    expect(events[0]!.what).toBe(`HTTP request, ${headBytes(events[0]!.details)} bytes`);
    expect(events[1]!.details).toEqual(responseLines(client.key));
    expect(events[3]!.details).toEqual(UNMASKED_HELLO_DETAILS);
    // Same addresses, same sizes, same lines, same masking keys, in the same order.
    expect(events).toEqual(serverTrace.events());
  });

  it('shows a frame the server sent in the same write as its 101, and the client still receives it', async () => {
    const greeting = encodeFrame({ fin: true, opcode: 0x1, payload: Buffer.from('welcome') });
    // A hand-made server: reads the request, answers 101 and a text frame in one write.
    const sockets = new Set<net.Socket>();
    const raw = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
      let head = '';
      let answered = false;
      socket.setEncoding('latin1').on('data', (text: string) => {
        head += text;
        const key = /^sec-websocket-key: *(\S+)\r$/im.exec(head)?.[1];
        if (answered || !head.includes('\r\n\r\n') || key === undefined) return;
        answered = true;
        socket.write(Buffer.concat([Buffer.from(`${responseLines(key).join('\r\n')}\r\n\r\n`), greeting]));
      });
    });
    onTestFinished(() => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => raw.close(() => resolve()));
    });
    raw.listen(0, '127.0.0.1');
    await once(raw, 'listening');
    const serverEnd = `127.0.0.1:${(raw.address() as net.AddressInfo).port}`;

    const trace = collectingTracer();
    const client = await WsClient.open({ url: `ws://${serverEnd}/ws`, tracer: trace.tracer });
    onTestFinished(() => client.terminate());
    const greeted = nextMessage(client);
    client.resume();
    expect((await greeted).data.toString()).toBe('welcome');

    const events = trace.events();
    expect(events.map((e) => e.what)).toEqual([
      expect.stringMatching(/^HTTP request, \d+ bytes$/),
      `HTTP response, ${headBytes(responseLines(client.key))} bytes`,
      'frame, 9 bytes: text',
    ]);
    expect(events[2]).toEqual({
      from: serverEnd,
      to: events[0]!.from,
      what: 'frame, 9 bytes: text',
      details: [TEXT_FIELDS, 'MASK 0 · payload length 7 (7-bit)', 'payload:', '0000  77 65 6c 63 6f 6d 65                              |welcome|'],
    });
  });

  it('changes nothing the peers receive: every message arrives intact both ways, traced at both ends', async () => {
    const serverTrace = collectingTracer();
    const server = await echoServer({ tracer: serverTrace.tracer });
    const atServer: Array<{ data: Buffer; isBinary: boolean }> = [];
    server.on('message', (_peer, data, isBinary) => atServer.push({ data: Buffer.from(data), isBinary }));
    const client = await openClient(server.url, collectingTracer().tracer);
    const messages: Array<{ data: Buffer; isBinary: boolean }> = [
      { data: Buffer.from('hello'), isBinary: false },
      { data: Buffer.from('привіт, ✓'), isBinary: false },
      { data: Buffer.alloc(0), isBinary: false },
      { data: Buffer.from([0x00, 0x01, 0x0a, 0x0d, 0x1b, 0xff]), isBinary: true },
      { data: Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7) & 0xff)), isBinary: true },
    ];

    const echoes: Array<{ data: Buffer; isBinary: boolean }> = [];
    for (const message of messages) {
      const echoed = nextMessage(client);
      await client.send(message.data, message.isBinary);
      echoes.push(await echoed);
    }
    // Compared as base64 strings: vitest compares a 70,000-byte Buffer byte by byte, slowly.
    const asText = (received: Array<{ data: Buffer; isBinary: boolean }>) => received.map((m) => [m.isBinary, m.data.toString('base64')]);
    expect(asText(echoes)).toEqual(asText(messages));
    expect(asText(atServer)).toEqual(asText(messages));
    expect(serverTrace.events().filter((e) => e.what.startsWith('frame'))).toHaveLength(2 * messages.length);
  });
});
