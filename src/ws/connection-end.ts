/**
 * How a WebSocket connection ended, told the same way by every lab's server (lessons 04 and
 * 05): who closed it, with which code, and why. The ws library reports a close as a code and a
 * reason from the peer's close frame; whether the server itself started it (a protocol error,
 * a client that does not read, no pong, shutting down) is something only the server knows, so
 * it is recorded here as it happens and attached to the close.
 */
import type { WebSocket } from 'ws';
import { count } from '../core/text-view.js';
import { closeCodeForWsError } from './close-codes.js';
import { SHUTDOWN_CLOSE, type WsListener, type WsPeer } from './ws-listener.js';

/** How a connection ended. */
export interface WsCloseInfo {
  /** The code of the close frame the client sent (1005: none; 1006: no close frame at all). */
  code: number;
  reason: string;
  /**
   * Set when the server ended the connection, with the code it sent and why: shutting down
   * (1001), a protocol error (1002, 1007, 1008, 1009), or no pong (1006: no close frame at all).
   */
  byServer?: { code: number; why: string };
}

export interface ConnectionEndHandlers {
  /** The client broke the protocol; ws closes with `closeCode`. */
  protocolError: (err: Error, closeCode: number) => void;
  close: (info: WsCloseInfo) => void;
}

/**
 * Listens for the end of one connection. Returns a function the lab calls when it closes the
 * connection itself, so the close is reported with the lab's code and reason.
 */
export function watchConnectionEnd(
  listener: WsListener,
  ws: WebSocket,
  peer: WsPeer,
  maxMessageBytes: number,
  handlers: ConnectionEndHandlers,
): (code: number, why: string) => void {
  let serverClose: { code: number; why: string } | undefined;
  ws.on('error', (err: Error & { code?: string }) => {
    const code = closeCodeForWsError(err.code);
    const why = code === 1009 ? `a message over ${count(maxMessageBytes, 'byte')}` : err.message.replace(/^Invalid WebSocket frame: /, '');
    serverClose ??= { code, why };
    handlers.protocolError(err, code);
  });
  ws.on('close', (code, reason) => {
    // The first cause wins: a client cut off for not reading may be terminated by the
    // heartbeat too before its grace period is over.
    const byServer =
      serverClose ??
      (peer.endedBecause ? { code: 1006, why: peer.endedBecause } : listener.closing ? { code: SHUTDOWN_CLOSE.code, why: SHUTDOWN_CLOSE.reason } : undefined);
    handlers.close({ code, reason: reason.toString('utf8'), ...(byServer ? { byServer } : {}) });
  });
  return (code, why) => (serverClose ??= { code, why });
}
