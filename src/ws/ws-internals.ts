/**
 * The one place netlab reaches inside the ws library (lesson 05, the chat's fan-out): a message
 * framed once with ws's own framer, and that frame written straight to each connection's TCP
 * socket, so that a broadcast to 1,000 clients is framed once, not 1,000 times (ws.send()
 * frames every call anew). BENCHMARKS.md, ws-chat, says what it is worth.
 *
 * Written against ws 8.23.0 (node_modules/ws/package.json), and checked against the installed
 * ws by test/ws/ws-internals.test.ts, which fails as soon as ws changes under any of these:
 *
 *   - `WebSocket.Sender.frame(data, options)` (lib/sender.js) is public in ws's code but not in
 *     its documentation or its types: it returns the frame as [header, payload].
 *   - Writing to the socket ws owns is safe only because ws writes each send() to it before
 *     send() returns (Sender.sendFrame(): cork, header, payload, uncork), so a frame written
 *     here can neither overtake a frame ws still holds nor land inside one. ws holds frames
 *     back only while it compresses (permessage-deflate) or reads a Blob: canWriteFrames() says
 *     no to the first, writeFrame() checks for the second.
 *   - ws's `bufferedAmount` is the socket's writableLength plus what its Sender holds back
 *     (lib/websocket.js), so frames written here count toward it, and toward a lab's queue cap.
 *
 * On any other ws release every frame goes through ws.send() instead: slower, never wrong.
 *
 * Leaves out: binary messages, fragments and control frames (the chat sends whole text
 * messages only); TLS sockets (netlab's servers listen on plain TCP).
 */
import { createRequire } from 'node:module';
import type net from 'node:net';
import * as wsModule from 'ws';
import type { WebSocket } from 'ws';

/** The ws release line this file was written for: any 8.23.x. */
export const WS_RELEASE = '8.23';

const installed = (createRequire(import.meta.url)('ws/package.json') as { version: string }).version;

/** Whether the installed ws is of WS_RELEASE; if not, canWriteFrames() is always false. */
export const WS_RELEASE_INSTALLED = installed.startsWith(`${WS_RELEASE}.`);

/** The part of ws's Sender used here (lib/sender.js in ws 8.23). */
interface SenderStatics {
  frame(data: Buffer, options: { fin: boolean; opcode: number; mask: boolean; readOnly: boolean; rsv1: boolean }): Buffer[];
}

// ws's ESM entry (wrapper.mjs) exports Sender by name; its CommonJS one hangs it on WebSocket.
const { Sender } = wsModule as unknown as { Sender: SenderStatics };

/** RFC 6455, section 5.2: "%x1 denotes a text frame". */
const OPCODE_TEXT = 0x1;

/**
 * One text message as a whole frame in one Buffer: FIN set, unmasked ("A server MUST NOT mask
 * any frames that it sends to the client", RFC 6455, section 5.1). `payload` must be UTF-8.
 */
export function textFrame(payload: Buffer): Buffer {
  const [header, data] = Sender.frame(payload, { fin: true, opcode: OPCODE_TEXT, mask: false, readOnly: false, rsv1: false });
  if (header === undefined) throw new Error('ws Sender.frame() returned no frame');
  return data === undefined ? header : Buffer.concat([header, data], header.length + data.length);
}

/**
 * Whether frames from textFrame() may be written to this connection's socket: the installed ws
 * is the release this file knows, and the connection compresses nothing (no extension was
 * agreed). Fixed once the connection is open: ask once, right after the handshake.
 */
export function canWriteFrames(ws: WebSocket): boolean {
  return WS_RELEASE_INSTALLED && ws.extensions === '';
}

/**
 * Writes a frame from textFrame() to `socket`, the TCP socket of `ws`, for a connection that
 * canWriteFrames(), and returns true; or writes nothing and returns false if ws holds frames of
 * its own back (then the caller sends the payload with ws.send(), behind them).
 */
export function writeFrame(ws: WebSocket, socket: net.Socket, frame: Buffer): boolean {
  // Equal when ws's Sender holds nothing back (see the header): the socket has all ws sent.
  if (ws.bufferedAmount !== socket.writableLength) return false;
  socket.write(frame);
  return true;
}
