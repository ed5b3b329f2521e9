/**
 * The ws-echo server's log: its events as lines (lesson 04). What a student watches while the
 * browser and the CLI connect: the page being fetched over plain HTTP, the upgrade, each
 * message with its kind and size, and how each connection ended, in words.
 *
 *   [127.0.0.1:40112] GET / → 200
 *   [127.0.0.1:40114] connected · Origin http://127.0.0.1:8000 · Mozilla/5.0 (X11; Linux …
 *   [127.0.0.1:40114] < text 5 bytes "hello"
 *   [127.0.0.1:40114] < binary 3 bytes 01 02 ff
 *   [127.0.0.1:40114] closed by the client: 1001 (going away: …)
 *
 * --quiet keeps connections, closes and refusals, and drops the per-message lines (with no
 * 'message' listener the server does no logging work per message at all).
 */
import type { Output } from '../core/output.js';
import { bytes, hex, preview, visible } from '../core/text-view.js';
import { describeCloseCode } from './close-codes.js';
import type { WsCloseInfo, WsEchoServer } from './echo-server.js';
import type { WsPeer } from './ws-listener.js';

/** How much of a User-Agent a connection line shows. */
const USER_AGENT_CHARS = 40;

export interface WsEchoLogOptions {
  quiet?: boolean;
  /** Role tag for a demo, where server and client share one terminal. */
  tag?: string;
}

export function logWsEchoServer(server: WsEchoServer, output: Output, options: WsEchoLogOptions = {}): void {
  const { tag } = options;
  server.on('connection', (peer) => output.peer(peer.remote, `connected · ${describePeer(peer)}`, tag));
  server.on('close', (peer, info) => output.peer(peer.remote, describeClose(info), tag));
  server.on('refused', (refusal) => output.peer(refusal.remote, `${refusal.what ?? 'handshake'} refused → ${refusal.status}: ${visible(refusal.reason)}`, tag));
  server.on('error', (err) => output.warn(`server error: ${err.message}`));
  if (options.quiet) return;
  server.on('http', (remote, answer) => output.peer(remote, `${visible(answer.method)} ${visible(answer.target.slice(0, 60))} → ${answer.status}`, tag));
  server.on('message', (peer, data, isBinary) => output.peer(peer.remote, `< ${describeMessage(data, isBinary)}`, tag));
}

/** `text 5 bytes "hello"`, `binary 3 bytes 01 02 ff`. */
export function describeMessage(data: Buffer, isBinary: boolean): string {
  return isBinary ? `binary ${bytes(data.length)} ${hex(data)}` : `text ${bytes(data.length)} ${preview(data)}`;
}

/** `no Origin · netlab`, `Origin http://127.0.0.1:8000 · Mozilla/5.0 …`. */
export function describePeer(peer: WsPeer): string {
  const origin = peer.origin === undefined ? 'no Origin' : `Origin ${visible(peer.origin)}`;
  const agent = peer.userAgent === undefined ? 'no User-Agent' : shorten(visible(peer.userAgent), USER_AGENT_CHARS);
  const protocol = peer.protocol ? ` · subprotocol ${visible(peer.protocol)}` : '';
  return `${origin} · ${agent}${protocol}`;
}

/** How a connection ended, in words. */
export function describeClose(info: WsCloseInfo): string {
  if (info.byServer) {
    const { code, why } = info.byServer;
    return code === 1006 ? `terminated by the server: ${visible(why)}` : `closed by the server with ${describeCloseCode(code)}: ${visible(why)}`;
  }
  const reason = info.reason ? ` "${visible(info.reason)}"` : '';
  if (info.code === 1006) return `connection lost: ${describeCloseCode(1006)}`;
  return `closed by the client: ${describeCloseCode(info.code)}${reason}`;
}

function shorten(text: string, chars: number): string {
  return text.length <= chars ? text : `${text.slice(0, chars)}…`;
}
