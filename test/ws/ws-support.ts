/**
 * Helpers for the WebSocket loopback tests: a ws-echo server on port 0, a raw TCP peer that
 * speaks the handshake and frames by hand (to send what ws never would: an unmasked frame,
 * a plain GET, garbage), and a ws client. Everything is closed when its test finishes, and
 * every wait has a hang guard.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { onTestFinished } from 'vitest';
import WebSocket from 'ws';
import { startWsEchoServer, type WsEchoServer, type WsEchoServerOptions } from '../../src/ws/echo-server.js';
import { decodeFrame, encodeFrame, type Frame } from '../../src/ws/frame.js';
import { newKey, parseResponseHead, requestLines, type ResponseHead } from '../../src/ws/handshake.js';
import { waitUntil } from '../udp/udp-support.js';

export { waitUntil };

/** A ws-echo server on 127.0.0.1, port 0, path /ws; closed when the test finishes. */
export async function echoServer(options: Partial<WsEchoServerOptions> = {}): Promise<WsEchoServer> {
  const server = await startWsEchoServer({ host: '127.0.0.1', port: 0, path: '/ws', ...options });
  onTestFinished(() => server.close());
  return server;
}

/** A ws client, open; terminated when the test finishes. */
export async function wsClient(url: string, options: WebSocket.ClientOptions = {}): Promise<WebSocket> {
  const ws = new WebSocket(url, { perMessageDeflate: false, ...options });
  onTestFinished(() => ws.terminate());
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return ws;
}

/** The next message a ws client receives. */
export function nextMessage(ws: WebSocket): Promise<{ data: Buffer; isBinary: boolean }> {
  return new Promise((resolve) => ws.once('message', (data: Buffer, isBinary) => resolve({ data, isBinary })));
}

/** A bare TCP socket that keeps what it receives and reads HTTP heads and frames from it. */
export class RawPeer {
  private buffered = Buffer.alloc(0);
  private listeners = new Set<() => void>();
  ended = false;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      this.notify();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.ended = true;
      this.notify();
    });
  }

  static async connect(port: number): Promise<RawPeer> {
    const socket = net.connect({ host: '127.0.0.1', port });
    onTestFinished(() => void socket.destroy());
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawPeer(socket);
  }

  /** Connects and completes a handshake by hand; resolves with the 101 answer. */
  static async upgraded(port: number, path = '/ws'): Promise<RawPeer> {
    const peer = await RawPeer.connect(port);
    const response = await peer.handshake(path);
    if (response.status !== 101) throw new Error(`expected 101, got ${response.lines[0]}`);
    return peer;
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Sends a handshake request (its lines, or the default ones) and reads the answer's head. */
  async handshake(path = '/ws', extra: string[] = [], key = newKey()): Promise<ResponseHead> {
    this.write(`${[...requestLines({ host: `127.0.0.1:${this.socket.remotePort}`, path, key }), ...extra].join('\r\n')}\r\n\r\n`);
    return this.head();
  }

  /** The next HTTP head (up to the empty line); its body, if any, stays in the buffer. */
  async head(): Promise<ResponseHead> {
    await this.until(() => this.buffered.includes('\r\n\r\n'), 'an HTTP head');
    const end = this.buffered.indexOf('\r\n\r\n');
    const head = parseResponseHead(this.buffered.subarray(0, end).toString('latin1'));
    this.buffered = this.buffered.subarray(end + 4);
    if (!head) throw new Error('not an HTTP response');
    return head;
  }

  /** What is left in the buffer as text (an HTTP body, after head()). */
  async text(): Promise<string> {
    await this.until(() => this.ended, 'the server to close');
    return this.buffered.toString('utf8');
  }

  /** The next whole frame from the server. */
  async frame(): Promise<Frame> {
    await this.until(() => decodeFrame(this.buffered) !== undefined, 'a frame');
    const { frame, size } = decodeFrame(this.buffered)!;
    this.buffered = this.buffered.subarray(size);
    return frame;
  }

  /** Sends a frame, masked as a client must unless `masked` is false. */
  sendFrame(frame: Omit<Frame, 'mask'>, masked = true): void {
    this.write(encodeFrame(masked ? { ...frame, mask: randomBytes(4) } : frame));
  }

  /** Resolves once the server has closed the connection. */
  closed(): Promise<void> {
    return this.until(() => this.ended, 'the server to close the connection');
  }

  private until(condition: () => boolean, what: string): Promise<void> {
    return waitUntil(
      condition,
      (check) => {
        this.listeners.add(check);
        return () => this.listeners.delete(check);
      },
      () => `${what}; have ${this.buffered.length} bytes${this.ended ? ', connection closed' : ''}`,
    );
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}
