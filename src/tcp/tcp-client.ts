/**
 * A TCP client connection as a value with a lifecycle (lessons 01 and 02).
 *
 * The client side of the BSD socket calls:
 *   socket + connect  →  net.connect({ host, port }) and its 'connect' event
 *   send              →  socket.write(bytes)
 *   recv              →  'data' events, each one read's worth of bytes
 *   shutdown(SHUT_WR) →  socket.end(): "I will send nothing more", while still reading
 *   close             →  'close', after both sides have finished (or a reset)
 * A client never calls bind() or listen(): the kernel picks its local port on connect.
 *
 * Never prints: callers listen to 'data', 'end' and 'close'.
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { NetlabError, formatAddress } from '../core/errors.js';

/** How long connect() waits for the handshake before giving up with ETIMEDOUT. */
export const CONNECT_TIMEOUT_MS = 10_000;

export interface TcpClientOptions {
  host: string;
  port: number;
  connectTimeoutMs?: number;
  /** TCP_NODELAY: send each write at once instead of letting Nagle's algorithm hold small ones. */
  noDelay?: boolean;
  /** Called with the connected socket before the client reads from it: --trace (core/trace.ts). */
  tap?: (socket: net.Socket) => void;
}

export interface TcpClientEvents {
  /** One read: the bytes as the kernel delivered them. */
  data: [chunk: Buffer];
  /** The server sent FIN: it will send nothing more. */
  end: [];
  /** The connection is gone; `error` is set when it did not end cleanly (e.g. ECONNRESET). */
  close: [error: Error | undefined];
}

export class TcpClient extends EventEmitter<TcpClientEvents> {
  private error: Error | undefined;
  private closed: Promise<void>;

  private constructor(private readonly socket: net.Socket) {
    super();
    socket.on('error', (err) => (this.error = err));
    socket.on('data', (chunk: Buffer) => this.emit('data', chunk));
    socket.on('end', () => this.emit('end'));
    this.closed = new Promise((resolve) =>
      socket.on('close', () => {
        this.emit('close', this.error);
        resolve();
      }),
    );
  }

  /**
   * Connects. Resolves once the three-way handshake is done; rejects with the system error
   * (ECONNREFUSED, ENOTFOUND, ETIMEDOUT…) when it cannot be.
   */
  static connect(options: TcpClientOptions): Promise<TcpClient> {
    const timeoutMs = options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      // When the server closes first we have nothing left to say, so its FIN is answered at
      // once (allowHalfOpen off); our own half-close (end()) still keeps reading.
      const socket = net.connect({ host: options.host, port: options.port, noDelay: options.noDelay ?? true });
      const fail = (err: Error) => {
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      };
      const timer = setTimeout(() => {
        const err = new NetlabError('ETIMEDOUT', `connect to ${formatAddress(options.host, options.port)} timed out`);
        fail(err);
      }, timeoutMs);
      socket.once('error', fail);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.off('error', fail);
        options.tap?.(socket);
        resolve(new TcpClient(socket));
      });
    });
  }

  /** Our end of the connection: the port the kernel chose for us. */
  get local(): string {
    return formatAddress(this.socket.localAddress ?? '?', this.socket.localPort ?? 0);
  }

  /** The server's address. */
  get remote(): string {
    return formatAddress(this.socket.remoteAddress ?? '?', this.socket.remotePort ?? 0);
  }

  get bytesSent(): number {
    return this.socket.bytesWritten;
  }

  get bytesReceived(): number {
    return this.socket.bytesRead;
  }

  /** False once we have sent FIN (end()) or the connection is closed: nothing more can be sent. */
  get writable(): boolean {
    return this.socket.writable;
  }

  /** send(): queues the bytes; resolves once they are handed to the kernel. */
  send(data: string | Uint8Array): Promise<void> {
    return new Promise((resolve) => {
      if (!this.socket.writable) return resolve();
      // The error, if any, arrives through 'error' and ends the connection with 'close'.
      this.socket.write(data, () => resolve());
    });
  }

  /** shutdown(SHUT_WR): sends FIN after what is queued; we keep reading until the server closes. */
  end(): void {
    this.socket.end();
  }

  /** Closes at once (a reset if bytes are still in flight). Safe to call twice. */
  destroy(): void {
    this.socket.destroy();
  }

  /** Resolves when the connection is fully closed. */
  whenClosed(): Promise<void> {
    return this.closed;
  }
}

/** Connects a TCP client (DESIGN.md's client handle). See TcpClient.connect. */
export function connectTcp(options: TcpClientOptions): Promise<TcpClient> {
  return TcpClient.connect(options);
}
