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
 * Never prints: it emits events (WsEchoEvents) that echo-log.ts turns into lines.
 */
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

  private constructor(
    listener: WsListener,
    private readonly maxMessageBytes: number,
  ) {
    super(listener);
    listener.on('connection', (ws, peer) => this.serve(ws, peer));
  }

  static async start(options: WsEchoServerOptions): Promise<WsEchoServer> {
    return new WsEchoServer(await startWsListener({ ...options, lab: 'ws-echo' }), options.maxMessageBytes ?? MAX_MESSAGE_BYTES);
  }

  private serve(ws: WebSocket, peer: WsPeer): void {
    this.totals.connections++;
    const resume = () => {
      peer.notReading = false;
      ws.resume();
    };
    ws.on('message', (data: Buffer, isBinary) => {
      // Echo first, then tell the log (as tcp-echo does).
      const full = ws.bufferedAmount + data.length > MAX_BUFFERED_BYTES;
      ws.send(data, { binary: isBinary }, full ? () => resume() : undefined);
      if (full) {
        ws.pause();
        peer.notReading = true;
      }
      this.totals.messages++;
      this.totals.bytes += data.length;
      this.emit('message', peer, data, isBinary);
    });
    watchConnectionEnd(this.listener, ws, peer, this.maxMessageBytes, {
      protocolError: (err, code) => this.emit('protocolError', peer, err, code),
      close: (info) => this.emit('close', peer, info),
    });
    this.emit('connection', peer);
  }
}

export function startWsEchoServer(options: WsEchoServerOptions): Promise<WsEchoServer> {
  return WsEchoServer.start(options);
}
