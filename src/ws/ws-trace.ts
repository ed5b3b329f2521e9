/**
 * `--trace` for the WebSocket labs (lesson 04, "Frames on the wire"): the HTTP upgrade request
 * and its answer, then every frame in each direction decoded field by field (frame-reader.ts,
 * frame-view.ts), in the shape of every other trace (src/core/trace.ts):
 *
 *   +0.031s 127.0.0.1:53422 → 127.0.0.1:8000 frame, 11 bytes: text
 *     FIN 1 · RSV1 0 · RSV2 0 · RSV3 0 · opcode 0x1 (text)
 *     MASK 1 · payload length 5 (7-bit) · masking key 37 fa 21 3d
 *     …
 *
 * The bytes are taken where the ws library meets its TCP socket, so what is shown is what the
 * kernel was given and what it delivered (over wss://, the bytes before encryption and after
 * decryption: a TLS socket's write() and 'data' carry plaintext):
 *   - writes: socket.write() is tapped before the handshake (tapWrites), so the first bytes
 *     out are the HTTP head, as written, and the rest are frames;
 *   - reads: a 'data' listener put on the socket once ws has it, so it sees every byte ws sees,
 *     including those that came in the same read as the handshake (ws puts them back with
 *     unshift()). The HTTP head that came in before that was read by Node's HTTP parser, which
 *     does not hand out the raw bytes; it is shown from what the parser found, line by line.
 *
 * A frame is shown once it is complete; a trace never holds more than a frame's header and the
 * first bytes of its payload (FrameReader), whatever a peer sends.
 */
import type http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { socketEnds, tapWrites, type Tracer } from '../core/trace.js';
import { bytes, visible } from '../core/text-view.js';
import { FrameReader } from './frame-reader.js';
import { frameFields, frameSummary } from './frame-view.js';

/** An HTTP head is this long at most before the trace stops looking for its end (Node's own limit). */
const MAX_HEAD_BYTES = 16 * 1024;
/** Header lines are cut to fit 80 columns with the trace's indentation. */
const MAX_HEAD_LINE_CHARS = 76;

/** One direction of one connection: an HTTP head first (optionally), then frames. */
class Direction {
  private head: Buffer | undefined;
  /** After an answer other than 101, what follows is its body, not frames. */
  private body = false;
  private readonly frames: FrameReader;

  constructor(
    private readonly tracer: Tracer,
    private readonly from: () => string,
    private readonly to: () => string,
    expectHead: boolean,
  ) {
    this.head = expectHead ? Buffer.alloc(0) : undefined;
    // Kept payload bytes: what the dump shows, and at least a close frame's code and reason.
    this.frames = new FrameReader({ keepBytes: tracer.dumpBytes });
  }

  push(data: Buffer): void {
    if (this.head !== undefined) {
      const all = Buffer.concat([this.head, data]);
      const end = all.indexOf('\r\n\r\n');
      if (end === -1 && all.length < MAX_HEAD_BYTES) {
        this.head = all;
        return;
      }
      const headEnd = end === -1 ? all.length : end + 4;
      this.head = undefined;
      this.http(all.subarray(0, headEnd));
      data = all.subarray(headEnd);
      if (data.length === 0) return;
    }
    if (this.body) return this.tracer.bytes(this.from(), this.to(), `HTTP body, ${bytes(data.length)}`, data);
    for (const event of this.frames.push(data)) {
      if (event.kind === 'frame') {
        this.tracer.event(this.from(), this.to(), frameSummary(event.frame), frameFields(event.frame, this.tracer.dumpBytes));
      } else {
        // The bytes from the frame it could not read to the end of this read.
        const rest = data.subarray(Math.max(0, data.length - event.bytes));
        this.tracer.bytes(this.from(), this.to(), `${bytes(event.bytes)} not decoded: ${event.reason}`, rest);
      }
    }
  }

  /** An HTTP head as it went out, line by line. */
  private http(head: Buffer): void {
    const lines = head.toString('latin1').split('\r\n');
    while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    const response = /^HTTP\//.test(lines[0] ?? '');
    this.body = response && !/^HTTP\/\S+ 101 /.test(lines[0] ?? '');
    const what = response ? 'HTTP response' : 'HTTP request';
    this.tracer.event(this.from(), this.to(), `${what}, ${bytes(head.length)}`, lines.map(headLine));
  }
}

/** A header line made safe for a terminal and cut to fit. */
function headLine(line: string): string {
  const shown = visible(line);
  return shown.length > MAX_HEAD_LINE_CHARS ? `${shown.slice(0, MAX_HEAD_LINE_CHARS - 1)}…` : shown;
}

/** An HTTP head Node's parser read, as its lines: what was sent, but for spacing. */
function parsedHead(first: string, rawHeaders: readonly string[]): string[] {
  const lines = [first];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) lines.push(`${rawHeaders[i]}: ${rawHeaders[i + 1]}`);
  return lines;
}

/** The bytes those lines took (CR LF after each, and the empty line that ends the head). */
function headSize(lines: readonly string[]): number {
  return lines.reduce((sum, line) => sum + Buffer.byteLength(line, 'latin1') + 2, 2);
}

/** The trace of one WebSocket connection's TCP socket. */
class ConnectionTrace {
  private readonly outgoing: Direction;
  private readonly incoming: Direction;
  private ends: { local: string; remote: string } | undefined;
  /** Writes made before the socket connected (a client's request): shown once it has. */
  private early: Buffer[] | undefined;

  constructor(
    private readonly tracer: Tracer,
    private readonly socket: net.Socket,
  ) {
    const local = () => this.addresses().local;
    const remote = () => this.addresses().remote;
    this.outgoing = new Direction(tracer, local, remote, true);
    this.incoming = new Direction(tracer, remote, local, false);
    if (socket.connecting) {
      this.early = [];
      socket.once('connect', () => {
        const early = this.early ?? [];
        this.early = undefined;
        for (const data of early) this.outgoing.push(data);
      });
    }
    tapWrites(socket, (data) => (this.early ? this.early.push(data) : this.outgoing.push(data)));
  }

  /** The HTTP head the other side sent, as Node's parser read it (see the header). */
  parsedHead(first: string, rawHeaders: readonly string[]): void {
    const lines = parsedHead(first, rawHeaders);
    const what = first.startsWith('HTTP/') ? 'HTTP response' : 'HTTP request';
    const { local, remote } = this.addresses();
    this.tracer.event(remote, local, `${what}, ${bytes(headSize(lines))}`, lines.map(headLine));
  }

  /** From now on, every read: the socket is ws's, and its next bytes are frames. */
  readFrames(): void {
    this.socket.prependListener('data', (chunk: Buffer) => this.incoming.push(chunk));
  }

  private addresses(): { local: string; remote: string } {
    this.ends ??= socketEnds(this.socket);
    return this.ends;
  }
}

/** The server side: WsListener calls these for each upgrade request (ws-listener.ts). */
export interface WsServerTrace {
  /** Before the request is answered: shows it, and taps the socket's writes (the answer, then frames). */
  upgrade(req: http.IncomingMessage, socket: net.Socket): void;
  /** The socket became a WebSocket: its reads are frames from now on. */
  open(socket: net.Socket): void;
}

/** The WsServerTrace that prints to `tracer`. */
export function serverTrace(tracer: Tracer): WsServerTrace {
  const traces = new WeakMap<net.Socket, ConnectionTrace>();
  return {
    upgrade(req, socket) {
      const trace = new ConnectionTrace(tracer, socket);
      traces.set(socket, trace);
      trace.parsedHead(`${req.method ?? '?'} ${req.url ?? ''} HTTP/${req.httpVersion}`, req.rawHeaders);
    },
    open(socket) {
      traces.get(socket)?.readFrames();
    },
  };
}

/** What http.request() hands ws's createConnection option: the URL's host and port among them. */
export type ConnectOptions = tls.ConnectionOptions & { host?: string; port?: number; socketPath?: string; path?: string | null };

/** The client side: what WsClient.open() needs to trace its connection (ws-client.ts). */
export interface WsClientTrace {
  /** ws's createConnection option: the TCP (or TLS) socket, with its writes tapped. */
  createConnection(options: ConnectOptions, secure: boolean): net.Socket;
  /** The server's answer, as Node's parser read it. */
  response(res: http.IncomingMessage): void;
  /** The handshake is done: the socket's reads are frames from now on. */
  open(): void;
}

/** A WsClientTrace for one connection, printing to `tracer`. */
export function clientTrace(tracer: Tracer): WsClientTrace {
  let trace: ConnectionTrace | undefined;
  return {
    createConnection(options, secure) {
      // What ws's own netConnect and tlsConnect do (ws 8, lib/websocket.js), with the tap added.
      // (`path` is the request's path there, which net.connect() would take for a Unix socket.)
      const socket = secure
        ? tls.connect({ ...options, path: undefined, servername: options.servername ?? (net.isIP(options.host ?? '') ? '' : options.host) })
        : net.connect({ ...options, path: options.socketPath } as net.NetConnectOpts);
      trace = new ConnectionTrace(tracer, socket);
      return socket;
    },
    response(res) {
      trace?.parsedHead(`HTTP/${res.httpVersion} ${res.statusCode ?? '?'} ${res.statusMessage ?? ''}`.trimEnd(), res.rawHeaders);
    },
    open() {
      trace?.readFrames();
    },
  };
}
