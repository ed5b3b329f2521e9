/**
 * `--trace` for the UDP labs (lesson 03, "Watch the datagrams with --trace"): every datagram a
 * socket receives and every one it sends, with its source and destination, in the shape
 * src/core/trace.ts gives every lab:
 *
 *   +0.010s 127.0.0.1:40000 → 127.0.0.1:12347 datagram 6 bytes
 *     0000  68 65 6c 6c 6f 0a                                 |hello.|
 *
 * The unit is the datagram: one 'message' event is one recvfrom(), one socket.send() one
 * sendto(), so the trace shows the boundaries exactly as the kernel keeps them. The dump is the
 * payload only. The kernel strips the 8-byte UDP header (ports, length, checksum) before a
 * program sees a datagram; its two ports are on the event's header line.
 *
 * A socket that is not traced is never touched: a lab without --trace does not call this file,
 * so its hot path gains no listener, no wrapper and no branch (BENCHMARKS.md, udp-echo).
 *
 * Leaves out: datagrams the kernel itself drops (a full receive buffer: the program never sees
 * them), and the outcome of a send (an error reaches the socket's 'error' listener later).
 */
import type dgram from 'node:dgram';
import { formatAddress } from '../core/errors.js';
import { bytes } from '../core/text-view.js';
import type { Tracer } from '../core/trace.js';

/**
 * The trace of one bound socket, made by traceUdpSocket() or traceUdpSends(). Making one wraps
 * the socket's send(), so every datagram it sends is traced from then on.
 */
export class DatagramTrace {
  /** This socket's address as socket.address() reports it: `0.0.0.0:…` when bound to any address. */
  readonly local: string;
  /** A note for the header line of the next send, from annotateNextSend(). */
  private nextNote = '';

  constructor(
    socket: dgram.Socket,
    private readonly tracer: Tracer,
  ) {
    const { address, family, port } = socket.address();
    this.local = formatAddress(address, port);
    // Where node:dgram sends when send() names a port but no address.
    const defaultHost = family === 'IPv6' ? '::1' : '127.0.0.1';
    tapSends(socket, (call, peer) => {
      const to = call.port === undefined ? (peer() ?? '?') : formatAddress(call.address ?? defaultHost, call.port);
      const note = this.nextNote;
      this.nextNote = '';
      this.tracer.bytes(this.local, to, header(call.data.length, note), call.data);
    });
  }

  /** A datagram received from `rinfo`: `FROM → LOCAL datagram N bytes[ · note]`, then its dump. */
  received(data: Buffer, rinfo: dgram.RemoteInfo, note = ''): void {
    this.tracer.bytes(formatAddress(rinfo.address, rinfo.port), this.local, header(data.length, note), data);
  }

  /** Adds ` · note` to the header line of this socket's next send (the chat's duplicates). */
  annotateNextSend(note: string): void {
    this.nextNote = note;
  }

  /**
   * A datagram the program decided not to send (the chat's simulated loss), traced as if it
   * had gone, with `note` saying why it did not: its bytes show what the receiver never gets.
   */
  notSent(data: string | Uint8Array, port: number, address: string, note: string): void {
    const payload = typeof data === 'string' ? Buffer.from(data) : data;
    this.tracer.bytes(this.local, formatAddress(address, port), header(payload.length, note), payload);
  }
}

/**
 * Traces a bound socket: every datagram it receives, before the program's own 'message'
 * listeners run, and every send(). Throws if the socket is not bound yet (socket.address()).
 */
export function traceUdpSocket(socket: dgram.Socket, tracer: Tracer): DatagramTrace {
  const trace = new DatagramTrace(socket, tracer);
  socket.prependListener('message', (data, rinfo) => trace.received(data, rinfo));
  return trace;
}

/**
 * Traces only the sends of a bound socket, for a program that traces each received datagram
 * itself, with a note on what it did about it (the echo server: what happened to the reply).
 */
export function traceUdpSends(socket: dgram.Socket, tracer: Tracer): DatagramTrace {
  return new DatagramTrace(socket, tracer);
}

/** `datagram 6 bytes`, or `datagram 6 bytes · dropped (simulated loss)`. */
function header(size: number, note: string): string {
  return note ? `datagram ${bytes(size)} · ${note}` : `datagram ${bytes(size)}`;
}

/** One socket.send() call: its datagram and where it goes. */
export interface SendCall {
  /** The datagram's payload, as the call's arguments make it. */
  data: Buffer;
  /** Undefined for a connected socket's send, which goes to its peer without naming it. */
  port?: number;
  /** Undefined when the call names none: node:dgram then sends to 127.0.0.1 (or ::1). */
  address?: string;
}

/**
 * Reads the arguments of socket.send() as node:dgram does, for each of its forms:
 *
 *   send(msg, port, address?, callback?)
 *   send(msg, offset, length, port, address?, callback?)
 *   send(msg, callback?)                        a connected socket
 *   send(msg, offset, length, callback?)        a connected socket
 *
 * where msg is a Buffer, TypedArray, DataView or string (sent as UTF-8), or, without offset
 * and length, an array of them that makes one datagram. Only meant for a call that node:dgram
 * accepted (it throws at once on bad arguments).
 * https://nodejs.org/api/dgram.html#socketsendmsg-offset-length-port-address-callback
 */
export function readSendCall(args: readonly unknown[]): SendCall {
  const [msg, offset, length, port, address] = args;
  // node:dgram's own test: a 4th argument that is a port, or a 5th at all, means offset and length.
  if (address || (port && typeof port !== 'function')) {
    return { data: slice(msg, offset, length), port: Number(port), address: host(address) };
  }
  if (isPort(offset) && (length === undefined || length === null || typeof length === 'string' || typeof length === 'function')) {
    return { data: payload(msg), port: Number(offset), address: host(length) };
  }
  return { data: typeof length === 'number' ? slice(msg, offset, length) : payload(msg) };
}

/**
 * Calls `onSend` after every send() on this one socket that node:dgram accepted, with what it
 * sends; `peer()` gives a connected socket's peer. Only for tracing: it replaces the socket's
 * own send method. A send made before the socket is bound is queued by node:dgram and made
 * again later, so only a bound socket is tapped (DatagramTrace reads its address first).
 */
export function tapSends(socket: dgram.Socket, onSend: (call: SendCall, peer: () => string | undefined) => void): void {
  const send = socket.send as (...args: unknown[]) => void;
  const peer = () => {
    try {
      const { address, port } = socket.remoteAddress();
      return formatAddress(address, port);
    } catch {
      return undefined; // not connected
    }
  };
  socket.send = function (this: dgram.Socket, ...args: unknown[]): void {
    send.apply(this, args);
    onSend(readSendCall(args), peer);
  } as typeof socket.send;
}

/** A port as node:dgram accepts one: 1 to 65535, a number or a string of digits. */
function isPort(value: unknown): boolean {
  if (typeof value !== 'number' && (typeof value !== 'string' || value.trim() === '')) return false;
  const n = Number(value);
  return n === n >>> 0 && n >= 1 && n <= 65_535;
}

/** The address a send names; an empty one, or a callback in its place, names none. */
function host(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** `length` bytes of msg from `offset`, as node:dgram's sliceBuffer() takes them. */
function slice(msg: unknown, offset: unknown, length: unknown): Buffer {
  const start = Number(offset) >>> 0;
  return payload(msg).subarray(start, start + (Number(length) >>> 0));
}

/** The bytes of a message, or of a list of them (one datagram). */
function payload(msg: unknown): Buffer {
  if (Array.isArray(msg)) return Buffer.concat(msg.map((part: unknown) => payload(part)));
  if (typeof msg === 'string') return Buffer.from(msg);
  const view = msg as ArrayBufferView;
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}
