/**
 * The WebSocket echo server of lesson 04: every message comes back to its sender as it came,
 * text as text and binary as binary. The WebSocket machinery (the page, the handshake, origins,
 * heartbeats) is ws-listener.ts; this file is what an echo adds to it, the equivalent of the
 * course's FastAPI endpoint `await websocket.send_text(await websocket.receive_text())`.
 *
 * Back-pressure, as in tcp-echo: a client that sends faster than it reads would fill the
 * server's memory with echoes. When more than MAX_BUFFERED_BYTES wait to be sent to a client,
 * the server stops reading from it (ws.pause()) until they are gone. A client that never reads
 * again is left unread; its pongs go unread too, so the heartbeat ends it.
 *
 * Cheap per message and per connection, since a class may push it hard (BENCHMARKS.md, ws-echo):
 * - one write per read, not per echo: ws writes every frame it sends on its own, so the first
 *   echo of an event-loop turn corks the socket and the end of the turn uncorks it, and the
 *   echoes of every frame that one read brought in leave in one writev;
 * - one 'message' function for every connection, which finds the connection from `this` (the
 *   WebSocket), as ws-listener.ts does, rather than a closure per connection.
 *
 * Never prints: it emits events (WsEchoEvents) that echo-log.ts turns into lines.
 */
import type net from 'node:net';
import type { WebSocket } from 'ws';
import { watchConnectionEnd, type WsCloseInfo } from './connection-end.js';
import { MAX_MESSAGE_BYTES, startWsListener, type WsListener, type WsListenerOptions, type WsPeer } from './ws-listener.js';
import { WsLabServer, type WsLabServerEvents } from './ws-lab-server.js';

/** Echoes waiting to be sent to one client, in bytes, before the server stops reading from it. */
export const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

export type { WsCloseInfo };

export type WsEchoServerOptions = Omit<WsListenerOptions, 'lab'>;

export interface WsEchoEvents extends WsLabServerEvents {
  connection: [peer: WsPeer];
  /** A message, already on its way back. */
  message: [peer: WsPeer, data: Buffer, isBinary: boolean];
  /** The client broke the protocol; the server closes with `closeCode`. */
  protocolError: [peer: WsPeer, err: Error, closeCode: number];
  close: [peer: WsPeer, info: WsCloseInfo];
}

export class WsEchoServer extends WsLabServer<WsEchoEvents> {
  readonly totals = { connections: 0, messages: 0, bytes: 0 };
  /** The 'message' listener of every connection; `this` is the WebSocket. */
  private readonly onMessage: (this: WebSocket, data: Buffer, isBinary: boolean) => void;

  private constructor(
    listener: WsListener,
    private readonly maxMessageBytes: number,
  ) {
    super(listener);
    const server = this;
    this.onMessage = function (data, isBinary) {
      server.echo(this, data, isBinary);
    };
    listener.on('connection', (ws, peer) => this.serve(ws, peer));
  }

  static async start(options: WsEchoServerOptions): Promise<WsEchoServer> {
    return new WsEchoServer(await startWsListener({ ...options, lab: 'ws-echo' }), options.maxMessageBytes ?? MAX_MESSAGE_BYTES);
  }

  private serve(ws: WebSocket, peer: WsPeer): void {
    this.totals.connections++;
    ws.on('message', this.onMessage);
    watchConnectionEnd(this.listener, ws, peer, this.maxMessageBytes, {
      protocolError: (err, code) => this.emit('protocolError', peer, err, code),
      close: (info) => this.emit('close', peer, info),
    });
    this.emit('connection', peer);
  }

  private echo(ws: WebSocket, data: Buffer, isBinary: boolean): void {
    const peer = this.listener.peerOf(ws);
    const socket = this.listener.socketOf(ws);
    // A message ws still delivers from the read that brought the close: nothing to answer.
    if (peer === undefined || socket === undefined) return;
    // The first echo of this turn corks; the turn's end (process.nextTick runs once the read's
    // callback is done) uncorks, and Node sends everything queued since in one writev.
    if (socket.writableCorked === 0) {
      socket.cork();
      process.nextTick(uncork, socket);
    }
    // Echo first, then tell the log (as tcp-echo does).
    const full = ws.bufferedAmount + data.length > MAX_BUFFERED_BYTES;
    ws.send(data, { binary: isBinary }, full ? () => resume(ws, peer) : undefined);
    if (full) {
      ws.pause();
      peer.notReading = true;
    }
    this.totals.messages++;
    this.totals.bytes += data.length;
    this.emit('message', peer, data, isBinary);
  }
}

function uncork(socket: net.Socket): void {
  socket.uncork();
}

/** The client has read its echoes down to below the cap: read from it again. */
function resume(ws: WebSocket, peer: WsPeer): void {
  peer.notReading = false;
  ws.resume();
}

export function startWsEchoServer(options: WsEchoServerOptions): Promise<WsEchoServer> {
  return WsEchoServer.start(options);
}
