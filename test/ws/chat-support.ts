/**
 * Helpers for the ws-chat loopback tests (lesson 05): a chat server on 127.0.0.1 port 0, and
 * real ws clients that parse every JSON message the server sends and keep it, with waits for
 * a message of a type or one that matches a predicate.
 *
 * - Cleanup is registered (onTestFinished) on the line after each resource is created. Vitest
 *   runs those hooks in reverse order, so clients are terminated before the server closes and
 *   no test waits out the server's close grace period.
 * - Waits are event-driven: a condition is re-checked after every message and on close. Each
 *   has a hang guard (waitUntil's, real time even under fake timers) that fails with what the
 *   client received; a wait also fails at once when the connection closes before it is met.
 *
 * Leaves out: assertions. The tests say what they expect; these helpers only wait and collect.
 */
import type { EventEmitter } from 'node:events';
import { onTestFinished } from 'vitest';
import WebSocket from 'ws';
import type { RateLimit } from '../../src/core/token-bucket.js';
import type { ServerMessage } from '../../src/ws/chat-protocol.js';
import { startWsChatServer, type WsChatServer, type WsChatServerEvents, type WsChatServerOptions } from '../../src/ws/chat-server.js';
import { waitUntil } from './ws-support.js';

/** A limit loose enough that no test client is throttled by accident. */
export const NO_THROTTLE: RateLimit = { perSecond: 1_000_000, burst: 1_000_000 };

/** A ws-chat server on 127.0.0.1, port 0, path /ws, not throttling; closed when the test finishes. */
export async function chatServer(options: Partial<WsChatServerOptions> = {}): Promise<WsChatServer> {
  const server = await startWsChatServer({ host: '127.0.0.1', port: 0, path: '/ws', rate: NO_THROTTLE, ...options });
  onTestFinished(() => server.close());
  return server;
}

export type MessageOf<T extends ServerMessage['type']> = Extract<ServerMessage, { type: T }>;
type Match = ServerMessage['type'] | ((message: ServerMessage) => boolean);

export interface ClientOptions {
  /** Keep every message in `messages` (default). Flood tests count in `onMessage` instead. */
  keep?: boolean;
  /** Called with every parsed message, before waits are re-checked. */
  onMessage?: (message: ServerMessage) => void;
}

/** A ws client of the chat: JSON out, parsed JSON in. */
export class ChatClient {
  /** Every message received, parsed (unless `keep` is false). */
  readonly messages: ServerMessage[] = [];
  /** How many messages arrived, kept or not. */
  count = 0;
  /** How many of each type arrived, kept or not. */
  readonly counts = new Map<ServerMessage['type'], number>();
  /** The close the client saw, once it is closed. */
  closed: { code: number; reason: string } | undefined;
  /** What the server's "joined" said, once it did. */
  name = '';
  room = '';
  token = '';
  private readonly watchers = new Set<() => void>();

  constructor(
    readonly ws: WebSocket,
    private readonly options: ClientOptions = {},
  ) {
    ws.on('error', () => {}); // a close follows; the tests look at that
    ws.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString('utf8')) as ServerMessage;
      this.count++;
      this.counts.set(message.type, (this.counts.get(message.type) ?? 0) + 1);
      if (message.type === 'joined') ({ name: this.name, room: this.room, token: this.token } = message);
      if (this.options.keep !== false) this.messages.push(message);
      this.options.onMessage?.(message);
      this.notify();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString('utf8') };
      this.notify();
    });
  }

  /** Sends one message as JSON text. */
  send(message: object): void {
    this.ws.send(JSON.stringify(message));
  }

  /** Sends bytes or text as they are: not JSON, or a binary message. */
  sendRaw(data: string | Buffer, binary = false): void {
    this.ws.send(data, { binary });
  }

  /** The messages of one type received so far. */
  all<T extends ServerMessage['type']>(type: T): Array<MessageOf<T>> {
    return this.messages.filter((m): m is MessageOf<T> => m.type === type);
  }

  /** How many messages are kept so far: pass it to waitFor to wait for a later one. */
  mark(): number {
    return this.messages.length;
  }

  /** Waits for a message of `type` (or matching a predicate) at index `from` or later. */
  async waitFor<T extends ServerMessage['type']>(match: T, from?: number): Promise<MessageOf<T>>;
  async waitFor(match: (message: ServerMessage) => boolean, from?: number): Promise<ServerMessage>;
  async waitFor(match: Match, from = 0): Promise<ServerMessage> {
    const matches = typeof match === 'string' ? (m: ServerMessage) => m.type === match : match;
    let found: ServerMessage | undefined;
    await this.until(() => (found = this.messages.slice(from).find(matches)) !== undefined, `a message matching ${String(match)}`);
    return found!;
  }

  /**
   * Waits until `condition()` holds; re-checked after every message and on close. Fails at
   * once if the connection closes first, since nothing more can arrive.
   */
  async until(condition: () => boolean, what: string): Promise<void> {
    await waitUntil(
      () => condition() || this.closed !== undefined,
      (check) => (this.watchers.add(check), () => this.watchers.delete(check)),
      () => `${what}; ${this.describe()}`,
    );
    if (!condition()) throw new Error(`${this.name || 'a client'} was closed (${JSON.stringify(this.closed)}) before ${what}; ${this.describe()}`);
  }

  /** Resolves with the close the client saw. */
  async waitForClose(): Promise<{ code: number; reason: string }> {
    await this.until(() => this.closed !== undefined, 'the connection to close');
    return this.closed!;
  }

  /** What arrived so far, for failure messages (the last few only). */
  describe(): string {
    const shown = this.messages.slice(-10).map((m) => JSON.stringify(m).slice(0, 200));
    return `${this.name || 'the client'} received ${this.count} messages${this.closed ? ', then closed' : ''}; the last ones:\n${shown.join('\n')}`;
  }

  private notify(): void {
    for (const check of [...this.watchers]) check();
  }
}

/** Opens a ws client to the server (not joined yet); terminated when the test finishes. */
export async function connect(server: WsChatServer, options: ClientOptions & { ws?: WebSocket.ClientOptions } = {}): Promise<ChatClient> {
  const ws = new WebSocket(server.url, { perMessageDeflate: false, ...options.ws });
  onTestFinished(() => ws.terminate());
  const client = new ChatClient(ws, options);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return client;
}

/**
 * Connects and joins, then waits for the "users" message that ends the server's answer to a
 * join (joined, history, users): by then everyone already there has been told.
 */
export async function joined(
  server: WsChatServer,
  join: { name?: string; room?: string; token?: string } = {},
  options: ClientOptions = {},
): Promise<ChatClient> {
  const client = await connect(server, options);
  await joinAgain(client, join);
  return client;
}

/** Sends a join on an open client and waits for the server's whole answer to it (or an error). */
export async function joinAgain(client: ChatClient, join: { name?: string; room?: string; token?: string } = {}): Promise<void> {
  // Counted, not searched, so it also works for clients that do not keep messages.
  const answers = () => (client.counts.get('users') ?? 0) + (client.counts.get('error') ?? 0);
  const before = answers();
  client.send({ type: 'join', ...join });
  await client.until(() => answers() > before, `the answer to a join ${JSON.stringify(join)}`);
}

/**
 * Records every `event` the server emits from now on, with a wait for the first one that
 * satisfies `accept` (hang-guarded like every other wait).
 */
export function recordEvents<K extends keyof WsChatServerEvents>(
  server: WsChatServer,
  event: K,
): { seen: Array<WsChatServerEvents[K]>; until: (accept: (...args: WsChatServerEvents[K]) => boolean, what: string) => Promise<WsChatServerEvents[K]> } {
  const seen: Array<WsChatServerEvents[K]> = [];
  // The server's events are typed per name; this helper takes any of them.
  const emitter = server as unknown as EventEmitter;
  emitter.on(event, (...args: unknown[]) => seen.push(args as WsChatServerEvents[K]));
  return {
    seen,
    until: async (accept, what) => {
      let found: WsChatServerEvents[K] | undefined;
      await waitUntil(
        () => (found = seen.find((args) => accept(...args))) !== undefined,
        (check) => (emitter.on(event, check), () => emitter.off(event, check)),
        () => `the server's '${event}' event: ${what}; it emitted ${seen.length}`,
      );
      return found!;
    },
  };
}
