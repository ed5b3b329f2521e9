/**
 * The raw WebSocket client `netlab check ws-echo` drives (lesson 04): the opening handshake
 * written by hand over a TcpProbe, masked frames made with encodeFrame() (src/ws/frame.ts), and
 * the server's frames read with FrameReader (src/ws/frame-reader.ts) exactly as they crossed the
 * wire, MASK bit and all. A library client would hide what a check must see (the accept value,
 * a masked server frame) or refuse the connection before the check could say why.
 *
 * Like TcpProbe, it does not decide whether a server is right once connected: a wait resolves
 * to what happened (a frame, a message, a close frame, the connection gone, or nothing in time),
 * and the check decides what that means. Server pings that arrive while a check waits are
 * answered, as every client must (RFC 6455, section 5.5.2).
 *
 * The one exception is its limits, which keep a check's memory bounded whatever a server sends:
 * a frame longer than MAX_PAYLOAD_BYTES, more than MAX_RECEIVED_BYTES in all, or more than
 * MAX_QUEUED_FRAMES frames the check has not read. Past one, the probe stops reading and the
 * check's next wait fails it, saying which limit, rather than going quiet.
 *
 * Leaves out: extensions (none is offered), subprotocols, and TLS (ws:// only).
 */
import { randomBytes } from 'node:crypto';
import { formatAddress } from '../core/errors.js';
import { count, thousands } from '../core/text-view.js';
import { sizeInUnits } from './check-text.js';
import { CheckFailure, fail, type CheckContext } from './checklist.js';
import { TcpProbe } from './tcp-probe.js';
import { OPCODES, closePayload, encodeFrame, opcodeName, readClosePayload } from '../ws/frame.js';
import { FrameReader, type TracedFrame } from '../ws/frame-reader.js';
import { newKey, parseResponseHead, requestLines, type ResponseHead } from '../ws/handshake.js';

/** The longest frame payload a probe reads: far more than any message a check sends and expects back. */
export const MAX_PAYLOAD_BYTES = 1024 * 1024;
/** The most a probe reads from one connection after the handshake: a check needs a few KiB of it. */
export const MAX_RECEIVED_BYTES = 16 * 1024 * 1024;
/** Frames received that the check has not read yet: a server sending this many is sending unasked. */
export const MAX_QUEUED_FRAMES = 1000;
/** A handshake answer longer than this without its empty line is not one. */
export const MAX_HEAD_BYTES = 16 * 1024;
/**
 * How long the cleanup at the end of a check waits for the server's answer to its close frame
 * (at most the check's wait): long enough for a server's log to show a normal closure, short
 * enough that a server that never answers costs little. Whether a server answers a close is
 * checked by a check of its own, which waits the whole wait.
 */
export const POLITE_CLOSE_WAIT_MS = 250;
/** Sent with every handshake, so the student's server log says who connected. */
export const CHECK_USER_AGENT = 'netlab check';
const LESSON_FRAMES = 'lesson 04, "Frames on the wire"';

/** What came back to a handshake request. */
export type HandshakeAnswer =
  | { kind: 'answer'; head: ResponseHead }
  /** The connection closed before a whole HTTP head arrived. */
  | { kind: 'closed'; received: Buffer }
  | { kind: 'timeout'; received: Buffer }
  /** The first bytes are not an HTTP status line. */
  | { kind: 'not-http'; received: Buffer }
  /** A head whose lines end with "\n" alone, not "\r\n". */
  | { kind: 'bare-lf'; received: Buffer };

/** How sendHandshake() changes its request, to send one that a server must refuse. */
export interface HandshakeOptions {
  /** Changes the request's lines (drop the key, change the version) before it is sent. */
  edit?: (lines: string[]) => string[];
}

/** A frame read from the server, the connection gone, or nothing within the wait. */
export type FrameResult =
  | { kind: 'frame'; frame: TracedFrame }
  | { kind: 'unreadable'; reason: string }
  | { kind: 'closed' }
  | { kind: 'timeout' };

/** A whole message (its frames put together), a close frame, or why neither came. */
export type MessageResult =
  | { kind: 'message'; opcode: number; payload: Buffer; frames: TracedFrame[] }
  | { kind: 'close'; code: number; reason: string; frame: TracedFrame; frames: TracedFrame[] }
  | { kind: 'unreadable'; reason: string; frames: TracedFrame[] }
  | { kind: 'closed' | 'timeout'; frames: TracedFrame[] };

/**
 * Connects and sends a handshake request with a fresh key, then waits up to
 * ctx.waitMs for the answer's head; after a 101, `ws` is the WebSocket it opened. Fails the
 * check only when it cannot connect.
 */
export async function sendHandshake(
  ctx: CheckContext,
  serveCommand: string,
  options: HandshakeOptions = {},
): Promise<{ probe: TcpProbe; key: string; answer: HandshakeAnswer; headBytes: number; ws?: WsProbe }> {
  const probe = await TcpProbe.connect(ctx, serveCommand);
  // Fresh for every request: a server that answers with a value copied from an example
  // (RFC 6455's, say) must not pass by luck.
  const key = newKey();
  const { host, port, path } = ctx.target;
  const lines = requestLines({ host: formatAddress(host, port), path, key, headers: [`User-Agent: ${CHECK_USER_AGENT}`] });
  await probe.write(`${(options.edit ? options.edit(lines) : lines).join('\r\n')}\r\n\r\n`);
  await probe.waitFor((p) => headEnd(p.bytes()) !== undefined || !looksLikeHttp(p.bytes()) || p.bytes().length > MAX_HEAD_BYTES || p.ended || p.closed, ctx.waitMs);
  const received = probe.bytes();
  const end = headEnd(received);
  if (!looksLikeHttp(received)) return { probe, key, answer: { kind: 'not-http', received }, headBytes: 0 };
  if (end === undefined) return { probe, key, answer: { kind: probe.ended || probe.closed ? 'closed' : 'timeout', received }, headBytes: 0 };
  if (end.bareLf) return { probe, key, answer: { kind: 'bare-lf', received }, headBytes: end.size };
  const head = parseResponseHead(received.subarray(0, end.at).toString('latin1'));
  if (!head) return { probe, key, answer: { kind: 'not-http', received }, headBytes: 0 };
  const answer = { kind: 'answer', head } as const;
  if (head.status !== 101) return { probe, key, answer, headBytes: end.size };
  return { probe, key, answer, headBytes: end.size, ws: WsProbe.upgraded(ctx, probe, end.size) };
}

/** Where the head ends: at the first empty line, "\r\n\r\n" or (wrongly) "\n\n". */
function headEnd(bytes: Buffer): { at: number; size: number; bareLf: boolean } | undefined {
  const crlf = bytes.indexOf('\r\n\r\n');
  const lf = bytes.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return { at: crlf, size: crlf + 4, bareLf: false };
  if (lf >= 0) return { at: lf, size: lf + 2, bareLf: true };
  return undefined;
}

/** False once the first bytes cannot begin "HTTP/": no need to wait for more. */
function looksLikeHttp(bytes: Buffer): boolean {
  const start = bytes.subarray(0, 5).toString('latin1');
  return 'HTTP/'.startsWith(start);
}

/** A frame, or bytes that cannot be framed, received and not yet read by the check. */
type Queued = Exclude<FrameResult, { kind: 'closed' | 'timeout' }>;

/**
 * An upgraded connection: masked frames out, the server's frames in. Made by sendHandshake()
 * or open(); a close frame is sent when its check ends, unless the check sent one.
 */
export class WsProbe {
  private readonly reader = new FrameReader({ keepBytes: MAX_PAYLOAD_BYTES });
  private readonly queue: Queued[] = [];
  private closeSent = false;
  /** Bytes read from the connection since the handshake's head. */
  private receivedBytes = 0;
  /** False once the stream cannot be framed or a limit is passed: what comes after is not read. */
  private reading = true;
  /** What the check fails with once a limit is passed. */
  private limit: CheckFailure | undefined;

  private constructor(readonly tcp: TcpProbe) {}

  /**
   * A WebSocket, handshake done; fails the check when the server does not answer 101 (the
   * checklist's first check says why in detail). When the check ends, a close frame is sent
   * and the server's answer awaited briefly, so the server's log shows a normal closure.
   */
  static async open(ctx: CheckContext, serveCommand: string): Promise<WsProbe> {
    const { answer, ws } = await sendHandshake(ctx, serveCommand);
    if (ws) return ws;
    const seen = answer.kind === 'answer' ? `answered ${answer.head.status} ${answer.head.statusText}` : `gave no 101 answer (${answer.kind})`;
    return fail(`the handshake failed: the server ${seen}.`, 'fix the handshake first: see the checklist\'s first check (lesson 04, "The Upgrade handshake").');
  }

  /**
   * The WebSocket on a connection whose handshake got its 101 after `headBytes` bytes: from
   * now on the connection's bytes go to the frame reader, not into tcp.bytes().
   */
  static upgraded(ctx: CheckContext, tcp: TcpProbe, headBytes: number): WsProbe {
    const ws = new WsProbe(tcp);
    ws.take(tcp.bytes().subarray(headBytes)); // frames that came with the head
    tcp.divert((chunk) => ws.take(chunk));
    tcp.beforeDestroy(() => ws.closePolitely(Math.min(ctx.waitMs, POLITE_CLOSE_WAIT_MS)));
    return ws;
  }

  /** Sends one frame, masked with a fresh key as every client frame must be (section 5.3). */
  send(opcode: number, payload: Buffer | string, fin = true): Promise<void> {
    if (opcode === OPCODES.close) this.closeSent = true;
    const data = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
    return this.tcp.write(encodeFrame({ fin, opcode, mask: randomBytes(4), payload: data }));
  }

  /** Sends a close frame with a code and reason. */
  sendClose(code: number, reason: string): Promise<void> {
    return this.send(OPCODES.close, closePayload(code, reason));
  }

  /**
   * The next frame from the server, or why there is none within `ms`. Frames received before
   * a limit was passed come first; then it fails the check with the limit (a CheckFailure).
   */
  async nextFrame(ms: number): Promise<FrameResult> {
    await this.tcp.waitFor(() => this.queue.length > 0 || this.limit !== undefined || this.tcp.ended || this.tcp.closed, ms);
    const next = this.queue.shift();
    if (next) return next;
    if (this.limit) throw this.limit;
    return { kind: this.tcp.ended || this.tcp.closed ? 'closed' : 'timeout' };
  }

  /**
   * The next whole message (text or binary, its continuation frames joined), or the close
   * frame, the end of the connection, or the wait's end that came first. Pings are answered
   * with pongs and unsolicited pongs skipped; `ms` bounds the whole message. Fails the check
   * past a limit, as nextFrame() does.
   */
  async nextMessage(ms: number): Promise<MessageResult> {
    const deadline = Date.now() + ms;
    const frames: TracedFrame[] = [];
    for (;;) {
      const event = await this.nextFrame(Math.max(0, deadline - Date.now()));
      if (event.kind !== 'frame') return { ...event, frames };
      const { frame } = event;
      if (frame.opcode === OPCODES.ping) await this.send(OPCODES.pong, frame.payload);
      else if (frame.opcode === OPCODES.close) return { kind: 'close', ...readClosePayload(frame.payload), frame, frames };
      else if (frame.opcode !== OPCODES.pong) {
        frames.push(frame);
        if (frame.fin) return { kind: 'message', opcode: frames[0]!.opcode, payload: Buffer.concat(frames.map((f) => f.payload)), frames };
      }
    }
  }

  /** Resolves true once the server has closed the TCP connection (FIN or reset), false after `ms`. */
  tcpClosed(ms: number): Promise<boolean> {
    return this.tcp.waitFor((p) => p.ended || p.closed, ms);
  }

  /** Reads a chunk of the connection into frames, unless the stream stopped being readable. */
  private take(chunk: Buffer): void {
    if (!this.reading || chunk.length === 0) return;
    this.receivedBytes += chunk.length;
    if (this.receivedBytes > MAX_RECEIVED_BYTES) return this.passLimit(limitFailure('bytes'));
    for (const event of this.reader.push(chunk)) {
      if (event.kind === 'unreadable') {
        // Every later chunk would be unreadable too: one event says it.
        this.queue.push(event);
        this.reading = false;
        return;
      }
      if (event.frame.length > MAX_PAYLOAD_BYTES) return this.passLimit(limitFailure('payload', event.frame));
      this.queue.push(event);
      if (this.queue.length > MAX_QUEUED_FRAMES) return this.passLimit(limitFailure('frames'));
    }
  }

  /** Stops reading (the server's writes then wait, instead of this process's memory growing). */
  private passLimit(limit: CheckFailure): void {
    this.limit = limit;
    this.reading = false;
    this.tcp.socket.pause();
  }

  /** The close handshake a well-behaved client does at the end, unless the check did it already. */
  private async closePolitely(ms: number): Promise<void> {
    if (this.closeSent || this.limit || this.tcp.ended || this.tcp.closed) return;
    await this.sendClose(1000, 'netlab check done');
    await this.tcpClosed(ms);
  }
}

/** What a check fails with when its probe passes a limit: which one, and what to look at. */
function limitFailure(limit: 'payload' | 'bytes' | 'frames', frame?: TracedFrame): CheckFailure {
  const lengths = `send each message back once, as it came. If the server meant to send less, check how it writes a payload length: up to 125 in byte 1, else 126 and 16 bits, or 127 and 64 bits, in network byte order (RFC 6455, section 5.2) (${LESSON_FRAMES}).`;
  switch (limit) {
    case 'payload':
      return new CheckFailure(
        `the server sent a ${opcodeName(frame!.opcode)} frame of ${thousands(frame!.length)} bytes, more than the ${sizeInUnits(MAX_PAYLOAD_BYTES)} netlab check reads of a frame, and far more than it sent.`,
        lengths,
      );
    case 'bytes':
      return new CheckFailure(`the server sent more than ${sizeInUnits(MAX_RECEIVED_BYTES)} on one connection, far more than the check sent; netlab check stopped reading there.`, lengths);
    case 'frames':
      return new CheckFailure(
        `the server sent more than ${count(MAX_QUEUED_FRAMES, 'frame')} the check had not read yet, for the few it sent; netlab check stopped reading there.`,
        'an echo sends one message back for each message it gets: a loop that keeps sending what it last received, or sends without waiting to receive, floods the client (lesson 04, "Messages: text, binary, empty").',
      );
  }
}
