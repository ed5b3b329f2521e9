/**
 * The client side of lesson 03: a UDP socket that talks to one server. There is no connect
 * handshake: the socket is bound to a free port (the kernel picks it, as for a TCP client) and
 * every send names the server's address (sendto). Nothing tells the client whether a server is
 * there; only a reply does.
 *
 * Datagrams from anyone other than the server are not replies: they are counted and reported
 * as 'stray', never mistaken for an answer.
 *
 * (A UDP socket may also call connect(): that only sets a default destination and filters what
 * arrives. On some systems it then reports an ICMP "port unreachable" as ECONNREFUSED, but
 * across the internet those messages are often filtered away, so a program cannot rely on it.)
 */
import type dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import { formatAddress } from '../core/errors.js';
import { isWildcard } from '../core/network-info.js';
import type { Tracer } from '../core/trace.js';
import { bindUdp, resolveHost, sendDatagram } from './udp-socket.js';
import { traceUdpSocket } from './udp-trace.js';

export interface UdpClientOptions {
  host: string;
  port: number;
  /** --trace (udp-trace.ts): every datagram sent and received, strays included. */
  trace?: Tracer;
}

export interface UdpClientEvents {
  /** A datagram from the server, with the time it arrived (performance.now()). */
  datagram: [data: Buffer, atMs: number];
  /** A datagram from some other address. */
  stray: [from: string, size: number];
  error: [err: Error];
}

export class UdpClient extends EventEmitter<UdpClientEvents> {
  /** The server as `host:port` (its resolved address). */
  readonly remote: string;
  /** The port the kernel gave this client. */
  readonly localPort: number;
  readonly totals = { datagramsSent: 0, bytesSent: 0, datagramsReceived: 0, bytesReceived: 0 };
  private closed = false;

  private constructor(
    private readonly socket: dgram.Socket,
    private readonly address: string,
    private readonly port: number,
  ) {
    super();
    this.remote = formatAddress(address, port);
    this.localPort = socket.address().port;
    // A server bound to 0.0.0.0 answers from whichever address the datagram reached.
    const anyAddress = isWildcard(address);
    socket.on('message', (data, rinfo) => {
      if (rinfo.port === port && (anyAddress || rinfo.address === address)) {
        this.totals.datagramsReceived++;
        this.totals.bytesReceived += data.length;
        this.emit('datagram', data, performance.now());
      } else {
        this.emit('stray', formatAddress(rinfo.address, rinfo.port), data.length);
      }
    });
    socket.on('error', (err) => this.emit('error', err));
  }

  /** Resolves the server's host and binds a socket of the same family to a free port. */
  static async open(options: UdpClientOptions): Promise<UdpClient> {
    const server = await resolveHost(options.host);
    const socket = await bindUdp(undefined, 0, server.family);
    if (options.trace) traceUdpSocket(socket, options.trace);
    return new UdpClient(socket, server.address, options.port);
  }

  /** sendto() the server; resolves when the kernel has taken the datagram (see sendDatagram). */
  async send(data: Uint8Array): Promise<void> {
    await sendDatagram(this.socket, data, this.port, this.address);
    this.totals.datagramsSent++;
    this.totals.bytesSent += data.length;
  }

  /** Closes the socket. Safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close();
  }
}

/** Opens a UDP client socket for one server (see UdpClient). */
export function openUdpClient(options: UdpClientOptions): Promise<UdpClient> {
  return UdpClient.open(options);
}
