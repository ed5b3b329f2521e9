/**
 * The chat client `netlab check ws-chat` drives (lesson 05): a real WebSocket from the ws
 * library, since the handshake and the frames are `netlab check ws-echo`'s business, that
 * keeps the messages it receives and waits for one that matches. Each message is kept with the
 * JSON object it holds, if it holds one, so a check can ask for a "joined" and quote whatever
 * came instead.
 *
 * Its limits keep a check's memory bounded whatever a server sends: ws refuses a message over
 * MAX_CHAT_MESSAGE_BYTES as soon as its header announces it (closing with 1009, message too
 * big), and a client keeps MAX_KEPT_MESSAGES messages. Past either, the client's next wait
 * fails the check, saying which, rather than going quiet.
 *
 * Leaves out: the lesson's protocol itself (which messages mean what is the checks' business),
 * and reconnecting: a check that loses its connection fails.
 */
import WebSocket from 'ws';
import { explainNetworkError, formatAddress } from '../core/errors.js';
import { count, visible } from '../core/text-view.js';
import { sizeInUnits } from './check-text.js';
import { CheckFailure, fail, failToReach, type CheckContext } from './checklist.js';
import { Waiters } from './probe-waiters.js';
import { CHECK_USER_AGENT, POLITE_CLOSE_WAIT_MS } from './ws-probe.js';

/**
 * The longest message a client accepts, 1 MiB: the lesson's messages are small JSON objects
 * (netlab's own server refuses any over 16 KiB), and ws's default, 100 MiB, would let a server
 * make the check hold that much per message.
 */
export const MAX_CHAT_MESSAGE_BYTES = 1024 * 1024;
/** The most messages one client keeps: a check has each client receive a dozen or so. */
export const MAX_KEPT_MESSAGES = 1000;

/** One message the server sent: its text, and the object it holds when it is a JSON object. */
export interface Received {
  text: string;
  binary: boolean;
  json?: Record<string, unknown>;
}

/**
 * A chat client as the checks drive it, connected as `name` (joining is the check's to do).
 * Closed (1000, then terminated) when its check ends.
 */
export class ChatProbe {
  /** The messages received, in order: the first MAX_KEPT_MESSAGES of them. */
  readonly received: Received[] = [];
  /** How the connection ended, once it has. */
  closed: { code: number; reason: string } | undefined;
  /** Why the client stopped reading, once a limit was passed. */
  private limit: CheckFailure | undefined;
  private readonly waiters = new Waiters();

  private constructor(
    readonly name: string,
    private readonly ws: WebSocket,
  ) {
    ws.on('error', (err: Error & { code?: string }) => {
      // open() reports an error before the handshake; after it, errors end in 'close'.
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') this.passLimit('message');
    });
    ws.on('message', (data: Buffer, binary) => {
      if (this.limit) return;
      if (this.received.length === MAX_KEPT_MESSAGES) return this.passLimit('messages');
      this.received.push(parse(data.toString('utf8'), binary));
      this.waiters.notify();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString('utf8') };
      this.waiters.notify();
    });
  }

  /** Connects as `name` (not joined yet), or fails the check saying why it could not. */
  static async open(ctx: CheckContext, serveCommand: string, name: string): Promise<ChatProbe> {
    const { host, port, path } = ctx.target;
    const ws = new WebSocket(`ws://${formatAddress(host, port)}${path}`, {
      perMessageDeflate: false,
      maxPayload: MAX_CHAT_MESSAGE_BYTES,
      handshakeTimeout: ctx.waitMs * 2,
      headers: { 'User-Agent': CHECK_USER_AGENT },
    });
    const client = new ChatProbe(name, ws);
    ctx.defer(() => client.close(Math.min(ctx.waitMs, POLITE_CLOSE_WAIT_MS)));
    try {
      await new Promise<void>((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      });
    } catch (err) {
      if (explainNetworkError(err, { operation: 'connect', host, port })) failToReach(err, ctx.target, serveCommand);
      const echoCheck = `netlab check ws-echo --port ${port}${host === '127.0.0.1' ? '' : ` --host ${host}`}${path === '/ws' ? '' : ` --path ${path}`}`;
      fail(`the WebSocket handshake failed: ${visible((err as Error).message)}.`, `\`${echoCheck}\` checks the handshake step by step (lesson 04, "The Upgrade handshake").`);
    }
    return client;
  }

  /** Sends an object as JSON, or a string as it is, in one text message. */
  send(message: object | string): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /**
   * The first message received from index `since` on that matches, as soon as there is one;
   * undefined after `ms` without one, or at once when the connection has closed. Rejects with
   * the CheckFailure that fails the check once a limit is passed without a match.
   */
  async waitFor(match: (r: Received) => boolean, ms: number, since = 0): Promise<Received | undefined> {
    let next = since;
    let found: Received | undefined;
    const look = () => {
      for (; !found && next < this.received.length; next++) {
        if (match(this.received[next]!)) found = this.received[next];
      }
      return found !== undefined || this.limit !== undefined || this.closed !== undefined;
    };
    await this.waiters.until(look, ms);
    if (!found && this.limit) throw this.limit;
    return found;
  }

  /** Stops reading, and makes every wait from now on fail the check with `limit`'s reason. */
  private passLimit(limit: 'message' | 'messages'): void {
    this.limit =
      limit === 'message'
        ? new CheckFailure(
            `the server sent ${this.name} a message over ${sizeInUnits(MAX_CHAT_MESSAGE_BYTES)}, more than netlab check accepts, so it closed the connection (1009, message too big).`,
            'the lesson\'s messages are small JSON objects (netlab\'s server refuses any over 16 KiB): send each chat line, list of users and error as a message of its own, never a buffer or a history that grows without end (lesson 05, "Limits").',
          )
        : new CheckFailure(
            `the server sent ${this.name} more than ${count(MAX_KEPT_MESSAGES, 'message')} in one check, which has it receive a dozen or so; netlab check stopped reading there.`,
            'send a message in answer to one (a join, a message, a private message, an error) or when the room changes, once: a loop that keeps sending, or sends everything to everyone every time, floods the clients (lesson 05, "The messages are JSON").',
          );
    this.ws.pause();
    this.waiters.notify();
  }

  /**
   * A normal closure, as a student's log should show it, waiting `ms` at most for the server's
   * answer (none after a limit: the client reads no more); then the socket is destroyed.
   */
  private async close(ms: number): Promise<void> {
    if (this.ws.readyState === WebSocket.OPEN && !this.limit) {
      this.ws.close(1000, 'netlab check done');
      await this.waiters.until(() => this.closed !== undefined, ms);
    }
    this.ws.terminate();
  }
}

/** A text message holding a JSON object gets its `json`; a binary one never does (the lesson's messages are text). */
function parse(text: string, binary: boolean): Received {
  if (binary) return { text, binary };
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return { text, binary, json: value as Record<string, unknown> };
  } catch {
    // Not JSON: kept as text, and a failure quotes it.
  }
  return { text, binary };
}
