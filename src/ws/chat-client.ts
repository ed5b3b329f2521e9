/**
 * The ws-chat client of lesson 05: one user in one room of a ws-chat server, through any
 * number of connections over time. What a plain WebSocket leaves to the application, done by
 * hand (the lesson's "What a framework adds"):
 *
 *   reconnect     when the connection drops, try again after backoff.ts's delays (random
 *                 first, then capped exponential), up to `maxRetries` attempts
 *   restore       rejoin with the same name, room and token, so the server knows it is us
 *   queue         what is sent while disconnected waits in a bounded queue (chat-outbox.ts),
 *                 and goes once we are back in the room
 *   no loss       each message carries an id; the server's copy with that id is the receipt.
 *                 Messages without a receipt when the connection dropped are sent again
 *                 (at least once: a receipt lost with the connection means a repeat)
 *
 * send() never throws: a message is sent, queued, or refused because the queue is full.
 * Never prints: it emits events (ChatClientEvents) that chat-session.ts turns into lines.
 */
import { EventEmitter } from 'node:events';
import { NetlabError, errnoCode } from '../core/errors.js';
import { visible } from '../core/text-view.js';
import { describeCloseCode } from './close-codes.js';
import { DEFAULT_BACKOFF, backoffDelayMs, type BackoffPolicy } from './backoff.js';
import { DEFAULT_ROOM, type ServerMessage } from './chat-protocol.js';
import { Outbox, type Outgoing } from './chat-outbox.js';
import type { Tracer } from '../core/trace.js';
import { openWsClient, type WsClient } from './ws-client.js';

/** How long the server has to answer a join: one that never does is not a ws-chat server. */
export const JOIN_TIMEOUT_MS = 5000;

/**
 * Close codes after which reconnecting would fail the same way: the server found what we sent
 * broken (1002, 1003, 1007, 1009, 1010). After any other, the server went away or dropped us
 * (1001 restarting, 1006 connection lost, 1008 not reading, 1011–1014), and we try again.
 */
const FINAL_CLOSE_CODES = new Set([1002, 1003, 1007, 1009, 1010]);

/** What the user can ask for; ids are added by the client. */
export type ChatRequest =
  | { type: 'message'; text: string; action?: boolean }
  | { type: 'private'; to: string; text: string }
  | { type: 'rename'; name: string }
  | { type: 'join'; room: string }
  | { type: 'users' };

export interface ChatClientOptions {
  url: string;
  /** The name to join with; the server picks a guest name without one. */
  name?: string;
  room?: string;
  /** How many failed attempts in a row before giving up; Infinity keeps trying. */
  maxRetries?: number;
  backoff?: BackoffPolicy;
  handshakeTimeoutMs?: number;
  /** --trace: each connection's handshake and frames (ws-trace.ts). */
  tracer?: Tracer;
  /** How long the server has to answer the first join (JOIN_TIMEOUT_MS). */
  joinTimeoutMs?: number;
  /** For tests: the random numbers of the backoff. */
  random?: () => number;
}

export interface ChatClientEvents {
  /** Every message from the server, parsed. */
  message: [message: ServerMessage];
  /** The connection ended and the client will try again; `code` is the close code (1006: none). */
  lost: [code: number, reason: string];
  /** Attempt `attempt` will be made in `delayMs`; `failure` is why the one before it failed. */
  retrying: [attempt: number, delayMs: number, failure: Error | undefined];
  /** Connected again after `attempts` attempts; rejoining. */
  reconnected: [attempts: number];
  /** Back in the room; `sent` queued messages went out. */
  restored: [sent: number];
  /** The name was taken while we were away: back as a guest. */
  nameLost: [name: string];
  /** The client stopped for good: it gave up, or the server closed with a final code. */
  ended: [err: NetlabError];
}

type State = 'joining' | 'joined' | 'waiting' | 'closed';

export class ChatClient extends EventEmitter<ChatClientEvents> {
  readonly totals = { sent: 0, received: 0, reconnects: 0 };
  private ws: WsClient | undefined;
  private state: State = 'joining';
  private name: string | undefined;
  private room: string;
  private token: string | undefined;
  /** What was said and not yet confirmed (chat-outbox.ts). */
  private readonly outbox = new Outbox();
  private timer: NodeJS.Timeout | undefined;
  private firstJoin: { resolve: () => void; reject: (err: Error) => void } | undefined;
  /** The reconnect attempt in progress (0 while in the room). */
  private attempt = 0;
  /** A join whose `joined` has come, waiting for its `users`; `rejoined` after a reconnect. */
  private answering: { id: string | undefined; rejoined: boolean } | undefined;
  private closed: Promise<void> | undefined;

  private constructor(
    ws: WsClient,
    private readonly options: ChatClientOptions,
  ) {
    super();
    this.name = options.name;
    this.room = options.room ?? DEFAULT_ROOM;
    this.attach(ws);
  }

  /** Opens the first connection; rejects as openWsClient does (refused, not found, 404…). */
  static async open(options: ChatClientOptions): Promise<ChatClient> {
    const ws = await openWsClient({ url: options.url, handshakeTimeoutMs: options.handshakeTimeoutMs, tracer: options.tracer });
    return new ChatClient(ws, options);
  }

  /**
   * Joins; call it once the listeners are on. Resolves when we are in the room; rejects when
   * the server refuses the join (a name taken, a bad room name), with its reason.
   */
  join(): Promise<void> {
    return new Promise((resolve, reject) => {
      const timeoutMs = this.options.joinTimeoutMs ?? JOIN_TIMEOUT_MS;
      const timer = setTimeout(() => {
        this.firstJoin = undefined;
        void this.close();
        const sentence = `${this.options.url} did not answer our join within ${timeoutMs / 1000} s.`;
        reject(new NetlabError('NETLAB_ERR_JOIN_TIMEOUT', sentence, 'is it a ws-chat server? Start one with `netlab ws-chat serve` (port 8001).'));
      }, timeoutMs);
      this.firstJoin = {
        resolve: () => (clearTimeout(timer), resolve()),
        reject: (err) => (clearTimeout(timer), reject(err)),
      };
      this.sendJoin();
      this.ws?.resume();
    });
  }

  /** Our name as the server knows it (after a join or a rename), or the one we asked for. */
  get currentName(): string | undefined {
    return this.name;
  }

  get currentRoom(): string {
    return this.room;
  }

  /** True while in the room; false while reconnecting. */
  get connected(): boolean {
    return this.state === 'joined';
  }

  /** Messages waiting for the connection. */
  get waiting(): number {
    return this.outbox.waiting;
  }

  /** Messages not yet confirmed by the server: waiting, or sent without a receipt yet. */
  get unconfirmedCount(): number {
    return this.outbox.unconfirmedCount;
  }

  /** Sends now when connected, queues otherwise; 'full' when MAX_QUEUED_MESSAGES wait already. */
  send(request: ChatRequest): 'sent' | 'queued' | 'full' {
    if (this.state === 'closed') return 'full';
    const outgoing = this.outbox.prepare(request);
    if (this.state === 'joined' && this.ws) {
      this.transmit(outgoing);
      return 'sent';
    }
    return this.outbox.hold(outgoing) ? 'queued' : 'full';
  }

  /** Resolves once nothing waits to be sent or confirmed, or the client has ended. */
  settled(): Promise<void> {
    return this.outbox.settled();
  }

  /** Leaves: close 1000, no more reconnecting. Safe to call twice. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      this.state = 'closed';
      clearTimeout(this.timer);
      this.outbox.end();
      const ws = this.ws;
      this.ws = undefined;
      if (ws) await ws.close(1000);
    })();
    return this.closed;
  }

  private attach(ws: WsClient): void {
    this.ws = ws;
    ws.on('message', (data, isBinary) => {
      if (isBinary || ws !== this.ws) return;
      let message: ServerMessage;
      try {
        message = JSON.parse(data.toString('utf8')) as ServerMessage;
      } catch {
        return; // not from a ws-chat server; nothing to show
      }
      if (typeof message !== 'object' || message === null || typeof message.type !== 'string') return;
      this.totals.received++;
      this.receive(message);
    });
    ws.on('error', () => {}); // the close that follows says what happened
    ws.on('close', (code, reason) => {
      if (ws !== this.ws) return;
      this.ws = undefined;
      if (this.state === 'closed') return;
      if (this.firstJoin) {
        const err = new NetlabError('NETLAB_ERR_SERVER_CLOSED', `the server closed the connection before we joined: ${describeCloseCode(code)}.`);
        this.firstJoin.reject(err);
        this.firstJoin = undefined;
        return this.end(err);
      }
      if (FINAL_CLOSE_CODES.has(code)) {
        const why = reason ? ` "${visible(reason)}"` : '';
        return this.end(new NetlabError('NETLAB_ERR_SERVER_CLOSED', `closed by the server with ${describeCloseCode(code)}${why}; reconnecting would not help.`));
      }
      // What was sent without a receipt goes again, before what was typed while disconnected.
      this.outbox.requeue();
      // Dropped again before we were back in the room: the attempts go on counting, so a server
      // that fails every rejoin still meets --max-retries.
      const attempt = this.state === 'joining' ? this.attempt + 1 : 1;
      this.state = 'waiting';
      this.emit('lost', code, reason);
      this.retry(attempt, undefined);
    });
  }

  private receive(message: ServerMessage): void {
    // Every answer to one of our requests carries its id: the receipt.
    const id = 'id' in message && typeof message.id === 'string' ? message.id : undefined;
    switch (message.type) {
      case 'joined':
        // A join is answered by joined, history, then users: it is complete with users.
        this.answering = { id, rejoined: this.firstJoin === undefined && this.state === 'joining' };
        this.name = message.name;
        this.room = message.room;
        this.token = message.token;
        this.state = 'joined';
        break;
      case 'users': {
        const join = this.answering;
        if (!join) break;
        this.answering = undefined;
        this.emit('message', message);
        this.firstJoin?.resolve();
        this.firstJoin = undefined;
        if (join.rejoined || this.outbox.waiting > 0) this.flush(join.rejoined);
        if (join.id !== undefined) this.confirm(join.id);
        if (id !== undefined) this.confirm(id);
        return;
      }
      case 'error':
        if (id === undefined && this.state === 'joining' && (message.field === 'name' || message.field === 'room' || message.field === 'token')) {
          return this.joinRefused(message);
        }
        break;
      case 'notice':
        if (message.presence?.event === 'rename' && message.presence.old === this.name) this.name = message.presence.name;
        break;
    }
    this.emit('message', message);
    if (id !== undefined) this.confirm(id);
  }

  private joinRefused(error: Extract<ServerMessage, { type: 'error' }>): void {
    if (this.firstJoin) {
      this.firstJoin.reject(new NetlabError('NETLAB_ERR_JOIN_REFUSED', `the server refused to let us join: ${visible(error.text)}.`, joinHint(error.field)));
      this.firstJoin = undefined;
      void this.close();
      return;
    }
    if (error.code === 'name-taken' && this.name !== undefined) {
      // Someone took the name while we were away: come back as a guest rather than not at all.
      this.emit('nameLost', this.name);
      this.name = undefined;
      this.token = undefined;
      this.sendJoin();
      return;
    }
    this.end(new NetlabError('NETLAB_ERR_JOIN_REFUSED', `after reconnecting, the server refused to let us join: ${visible(error.text)}.`));
  }

  private sendJoin(): void {
    const join = { type: 'join', room: this.room, ...(this.name ? { name: this.name } : {}), ...(this.token ? { token: this.token } : {}) };
    this.ws?.send(JSON.stringify(join)).catch(() => {});
  }

  private transmit(outgoing: Outgoing): void {
    this.outbox.sent(outgoing);
    this.totals.sent++;
    // A send that fails is followed by the connection's close; the message is sent again then.
    this.ws?.send(outgoing.wire).catch(() => {});
  }

  private flush(rejoined: boolean): void {
    const queued = this.outbox.takeQueued();
    for (const outgoing of queued) this.transmit(outgoing);
    if (rejoined) {
      this.attempt = 0;
      this.emit('restored', queued.length);
    }
  }

  private confirm(id: string): void {
    this.outbox.confirm(id);
  }

  private retry(attempt: number, failure: Error | undefined): void {
    this.attempt = attempt;
    const maxRetries = this.options.maxRetries ?? Infinity;
    if (attempt > maxRetries) {
      const tries = maxRetries === 1 ? '1 attempt' : `${maxRetries} attempts`;
      const why = failure ? ` (the last one: ${describeFailure(failure)})` : '';
      return this.end(
        new NetlabError(
          'NETLAB_ERR_GAVE_UP',
          `gave up reconnecting to ${this.options.url} after ${tries}${why}${this.unsentNote()}.`,
          'start the server again (netlab ws-chat serve), then connect again; --max-retries sets how many attempts.',
        ),
      );
    }
    const delayMs = backoffDelayMs(attempt, this.options.backoff ?? DEFAULT_BACKOFF, (this.options.random ?? Math.random)());
    this.emit('retrying', attempt, delayMs, failure);
    this.timer = setTimeout(() => this.reconnect(attempt), delayMs);
  }

  private reconnect(attempt: number): void {
    openWsClient({ url: this.options.url, handshakeTimeoutMs: this.options.handshakeTimeoutMs, tracer: this.options.tracer }).then(
      (ws) => {
        if (this.state === 'closed') return void ws.close(1000).catch(() => {});
        this.totals.reconnects++;
        this.state = 'joining';
        this.attach(ws);
        this.emit('reconnected', attempt);
        this.sendJoin();
        ws.resume();
      },
      (err: Error) => {
        if (this.state !== 'closed') this.retry(attempt + 1, err);
      },
    );
  }

  /** `; 2 messages were not sent`, or nothing. */
  private unsentNote(): string {
    const unsent = this.unconfirmedCount;
    return unsent === 0 ? '' : `; ${unsent === 1 ? '1 message was' : `${unsent} messages were`} not sent`;
  }

  private end(err: NetlabError): void {
    this.state = 'closed';
    clearTimeout(this.timer);
    void this.ws?.close(1000).catch(() => {});
    this.emit('ended', err);
    this.outbox.end();
  }
}

function joinHint(field: string | undefined): string | undefined {
  if (field === 'name') return 'choose another name with --name.';
  if (field === 'room') return 'choose another room with --room.';
  return undefined;
}

export function openChatClient(options: ChatClientOptions): Promise<ChatClient> {
  return ChatClient.open(options);
}

/** Why one reconnect attempt failed, in a few words. */
export function describeFailure(err: Error): string {
  const code = errnoCode(err);
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ECONNRESET') return 'connection reset';
  if (code === 'ENOTFOUND') return 'host not found';
  if (err instanceof NetlabError) return err.message.replace(/\.$/, '');
  return code ?? err.message;
}
