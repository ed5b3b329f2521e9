/**
 * Helpers for the tcp-chat tests: a chat server on 127.0.0.1 port 0, and raw node:net clients
 * that speak the protocol the way `nc` does, collecting the server's lines as they arrive.
 *
 * - Every resource gets its cleanup registered (onTestFinished) on the line after it is
 *   created. Vitest runs those hooks in reverse order, so clients are destroyed before the
 *   server closes and no test waits out the server's close grace period.
 * - Waits are event-driven: a condition is re-checked after every line, FIN and close. Each
 *   wait has a hang guard (HANG_GUARD_MS of real time, even while a test fakes the clock)
 *   that fails with what the client received so far. It is not a timing threshold.
 *
 * Leaves out: assertions. The tests say what they expect; these helpers only wait and collect.
 */
import type { EventEmitter } from 'node:events';
import net from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import { onTestFinished } from 'vitest';
import { startChatServer, type ChatServer, type ChatServerOptions } from '../../src/tcp/chat-server.js';

/** How long any one wait may take before the test fails with what arrived. */
export const HANG_GUARD_MS = 10_000;

// Captured at import, before a test installs fake timers: hang guards keep counting real time.
const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;

/** A limit loose enough that no test client is throttled by accident. */
export const NO_THROTTLE = { perSecond: 100_000, burst: 100_000 };

/** Starts a chat server on 127.0.0.1, port 0; closed when the test finishes. */
export async function startServer(options: Partial<ChatServerOptions> = {}): Promise<ChatServer> {
  const server = await startChatServer({ host: '127.0.0.1', port: 0, rate: NO_THROTTLE, ...options });
  onTestFinished(() => server.close());
  return server;
}

export interface PeerOptions {
  /** Keep every line in `lines` (default). Flood tests count in `onLine` instead. */
  keepLines?: boolean;
  /** Called with every complete line, before waits are re-checked. */
  onLine?: (line: string) => void;
  /** node:net's allowHalfOpen: true keeps our side open after the server's FIN. */
  allowHalfOpen?: boolean;
}

/** A raw TCP client of the chat: bytes out, lines in. */
export class ChatPeer {
  /** Every line received (without "\n"; a "\r" the server sent would stay visible here). */
  readonly lines: string[] = [];
  /** How many lines arrived, kept or not. */
  lineCount = 0;
  /** The first line, the server's welcome, kept even when `lines` is not. */
  welcome: string | undefined;
  /** The name the server gave this client in its welcome (guest-N), then any rename it made. */
  name = '';
  /** Set when the server sent FIN. */
  ended = false;
  /** Set once the socket is closed; `error` says whether it closed with one (ECONNRESET…). */
  closed = false;
  error: Error | undefined;
  private partial = '';
  private readonly decoder = new StringDecoder('utf8');
  private readonly watchers = new Set<() => void>();

  constructor(
    readonly socket: net.Socket,
    private readonly options: PeerOptions = {},
  ) {
    socket.on('error', (err) => (this.error = err));
    socket.on('data', (chunk: Buffer) => this.receive(this.decoder.write(chunk)));
    socket.on('end', () => {
      this.ended = true;
      this.notify();
    });
    socket.on('close', () => {
      this.closed = true;
      this.notify();
    });
  }

  /** Writes raw text or bytes, as they are (add the "\n" yourself). */
  send(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Waits for a line matching `pattern` at index `from` or later; resolves with it. */
  async waitForLine(pattern: RegExp | string, from = 0): Promise<string> {
    const matches = (line: string) => (typeof pattern === 'string' ? line === pattern : pattern.test(line));
    let found: string | undefined;
    await this.until(() => (found = this.lines.slice(from).find(matches)) !== undefined, `a line matching ${String(pattern)}`);
    return found!;
  }

  /**
   * Waits until `condition()` holds; re-checked after every line, FIN and close. Fails at once
   * if the connection closes first, since nothing more can arrive.
   */
  until(condition: () => boolean, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (condition()) {
          realClearTimeout(guard);
          this.watchers.delete(check);
          resolve();
        } else if (this.closed) {
          // Nothing more can arrive: fail now rather than at the hang guard.
          realClearTimeout(guard);
          this.watchers.delete(check);
          const how = this.error?.message ?? 'cleanly';
          reject(new Error(`${this.name || 'a client'} was closed (${how}) before ${what}.\n${this.describe()}`));
        }
      };
      const guard = realSetTimeout(() => {
        this.watchers.delete(check);
        reject(new Error(`hang guard: ${this.name || 'a client'} waited ${HANG_GUARD_MS} ms for ${what}.\n${this.describe()}`));
      }, HANG_GUARD_MS);
      this.watchers.add(check);
      check();
    });
  }

  /** Waits for the server's FIN. */
  waitForEnd(): Promise<void> {
    return this.until(() => this.ended, 'the server to end the connection');
  }

  /** Waits until the socket is closed. */
  waitForClose(): Promise<void> {
    return this.until(() => this.closed, 'the connection to close');
  }

  /** What arrived so far, for failure messages (the last lines only, when there are many). */
  describe(): string {
    const shown = this.lines.slice(-20).map((line) => JSON.stringify(line));
    return `received ${this.lineCount} lines${this.lines.length > 20 ? ', the last 20' : ''}:\n${shown.join('\n')}`;
  }

  private receive(text: string): void {
    const pieces = (this.partial + text).split('\n');
    this.partial = pieces.pop()!;
    for (const line of pieces) {
      this.lineCount++;
      this.welcome ??= line;
      if (this.options.keepLines !== false) this.lines.push(line);
      this.options.onLine?.(line);
    }
    if (pieces.length > 0) this.notify();
  }

  private notify(): void {
    for (const check of [...this.watchers]) check();
  }
}

const WELCOME = /^\*\*\* welcome, (\S+)! /;

/**
 * Connects a raw client, destroyed when the test finishes, and waits for the server's welcome
 * line, which also means the server counts it as online. Its `name` is the guest name given.
 */
export async function join(server: ChatServer, options: PeerOptions = {}): Promise<ChatPeer> {
  const socket = net.connect({ host: '127.0.0.1', port: server.port, allowHalfOpen: options.allowHalfOpen ?? false });
  onTestFinished(() => {
    socket.destroy();
  });
  return welcomed(socket, options);
}

/** Wraps a socket connected (or connecting) to a chat server and waits for its welcome. */
export async function welcomed(socket: net.Socket, options: PeerOptions = {}): Promise<ChatPeer> {
  const peer = new ChatPeer(socket, options);
  await peer.until(() => peer.welcome !== undefined, 'the welcome line');
  peer.name = WELCOME.exec(peer.welcome!)?.[1] ?? '';
  return peer;
}

/** Joins `n` clients one after the other, so guest numbers follow the order of the array. */
export async function joinMany(server: ChatServer, n: number, options: PeerOptions = {}): Promise<ChatPeer[]> {
  const peers: ChatPeer[] = [];
  for (let i = 0; i < n; i++) peers.push(await join(server, options));
  return peers;
}

/** Renames a client with /nick and waits until it hears its own rename notice. */
export async function rename(peer: ChatPeer, name: string): Promise<void> {
  const from = peer.lines.length;
  peer.send(`/nick ${name}\n`);
  await peer.waitForLine(`*** ${peer.name} is now ${name}`, from);
  peer.name = name;
}

/**
 * The server-side socket of the client called `name`. Tests use it to wait until the server
 * has read a partial write, so that the next write is certainly a second read.
 */
export function serverSocketOf(server: ChatServer, name: string): net.Socket {
  const member = server.room.everyone.find((m) => m.name === name);
  if (!member) throw new Error(`no one called ${name} is in the room`);
  return member.socket;
}

/** Writes `data` and resolves once the server has read it (one or more 'data' events). */
export async function writeAndWaitForRead(server: ChatServer, peer: ChatPeer, data: string | Buffer): Promise<void> {
  const serverSide = serverSocketOf(server, peer.name);
  peer.send(data);
  // bytesWritten counts everything this client has written, queued bytes included.
  const expected = peer.socket.bytesWritten;
  await new Promise<void>((resolve, reject) => {
    const onData = () => {
      if (serverSide.bytesRead < expected) return;
      realClearTimeout(guard);
      serverSide.off('data', onData);
      resolve();
    };
    const guard = realSetTimeout(() => {
      serverSide.off('data', onData);
      reject(new Error(`hang guard: the server read ${serverSide.bytesRead} of ${expected} bytes from ${peer.name}`));
    }, HANG_GUARD_MS);
    serverSide.on('data', onData);
  });
}

/** Resolves with the arguments of the next `event` the server emits that satisfies `accept`. */
export function nextEvent<A extends unknown[]>(
  server: ChatServer,
  event: 'join' | 'leave' | 'rename' | 'message' | 'private' | 'refused' | 'throttled',
  accept: (...args: A) => boolean = () => true,
): Promise<A> {
  return new Promise((resolve, reject) => {
    const listener = (...args: unknown[]) => {
      if (!accept(...(args as A))) return;
      realClearTimeout(guard);
      (server as EventEmitter).off(event, listener);
      resolve(args as A);
    };
    const guard = realSetTimeout(() => {
      (server as EventEmitter).off(event, listener);
      reject(new Error(`hang guard: waited ${HANG_GUARD_MS} ms for the server's '${event}' event`));
    }, HANG_GUARD_MS);
    // The room's events are typed per name; this helper takes any of them.
    (server as EventEmitter).on(event, listener);
    // A test that failed before awaiting this must not leave a timer to fail the next one.
    onTestFinished(() => {
      realClearTimeout(guard);
      (server as EventEmitter).off(event, listener);
    });
  });
}
