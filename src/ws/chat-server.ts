/**
 * The WebSocket chat server of lesson 05: ws-listener.ts (the page, the handshake, origins,
 * heartbeats) with a connection manager (chat-manager.ts) behind it. This file is each
 * connection's life: read a message, validate it (chat-protocol.ts), hold it to the rate limit,
 * hand it to the manager, and cut off a client that does not read.
 *
 * The limits are tcp-chat's, with WebSocket close codes:
 *   too fast        over RATE_LIMIT, its messages are delayed (the socket is not read), not lost
 *   not reading     over MAX_QUEUE_BYTES waiting for it → close 1008 and the socket destroyed,
 *                   so the server's memory stays bounded and the room keeps its stream
 *   too big         a message over MAX_MESSAGE_BYTES → close 1009 (ws does it)
 *   wrong content   invalid JSON, a binary message, an unknown type, a missing or oversized
 *                   field → an error message naming the problem; the connection stays open
 *
 * A broadcast is framed once for the whole room (frameOf(), with ws's own framer: ws-internals.ts)
 * and each recipient's frames are batched per event-loop turn (TurnBatch, src/core/turn-batch.ts,
 * as tcp-chat's are), adaptively: under load a
 * room's messages cost each recipient one system call per turn, not one per message, while a
 * lone message in a quiet room leaves at once, as ws.send() would send it.
 *
 * Never prints: it emits events (WsChatServerEvents) that chat-log.ts turns into lines.
 */
import type net from 'node:net';
import type { WebSocket } from 'ws';
import { Throttle } from '../core/throttle.js';
import type { RateLimit } from '../core/token-bucket.js';
import { bytes } from '../core/text-view.js';
import { TurnBatch } from '../core/turn-batch.js';
import { ClusterChatManager, type ClusterEvents, type ClusterOptions } from './chat-cluster.js';
import { ChatManager, type ChatConnection, type WsChatEvents } from './chat-manager.js';
import { encode, parseClientMessage } from './chat-protocol.js';
import { watchConnectionEnd, type WsCloseInfo } from './connection-end.js';
import { CLOSE_GRACE_MS, startWsListener, type WsListener, type WsListenerOptions, type WsPeer } from './ws-listener.js';
import { canWriteFrames, textFrame, writeFrame } from './ws-internals.js';
import { WsLabServer, type WsLabServerEvents } from './ws-lab-server.js';

/** The largest WebSocket message a client may send; bigger closes with 1009. */
export const MAX_MESSAGE_BYTES = 16 * 1024;
/** Bytes waiting to be sent to one client before it counts as not reading. */
export const MAX_QUEUE_BYTES = 256 * 1024;
/** Messages per second a client may send, with a burst of two seconds' worth. */
export const RATE_LIMIT: RateLimit = { perSecond: 10, burst: 20 };
/** A flooding client is told to slow down at most once in this long. */
export const THROTTLE_NOTICE_INTERVAL_MS = 10_000;

export interface WsChatServerOptions extends Omit<WsListenerOptions, 'lab' | 'maxMessageBytes'> {
  maxMessageBytes?: number;
  maxQueueBytes?: number;
  rate?: RateLimit;
  /** Share the chat with other servers through this Redis (lesson 07); without it, one process. */
  redis?: ClusterOptions;
}

/** One connection: what the manager needs, and what the server keeps beside it. */
export interface WsChatConnection extends ChatConnection {
  readonly peer: WsPeer;
}

export interface WsChatServerEvents extends WsChatEvents, ClusterEvents, WsLabServerEvents {
  connection: [peer: WsPeer];
  close: [conn: WsChatConnection, info: WsCloseInfo];
  /** The client sends faster than the rate limit; its messages are delayed. */
  throttled: [conn: WsChatConnection];
  protocolError: [peer: WsPeer, err: Error, closeCode: number];
}

export class WsChatServer extends WsLabServer<WsChatServerEvents> {
  /** Who is where: this process's own (chat-manager.ts), or a group's through Redis (chat-cluster.ts). */
  readonly manager: ChatManager | ClusterChatManager;
  readonly totals = { connections: 0 };
  private readonly maxMessageBytes: number;
  private readonly maxQueueBytes: number;
  private readonly rate: RateLimit;
  /** Each turn's frames, corked together when the room is busy. */
  private readonly batch = new TurnBatch();
  /** The last payload sent and its frame: the next recipients of a broadcast get the same frame. */
  private lastPayload: Buffer | undefined;
  private lastFrame: Buffer = Buffer.alloc(0);
  private closing: Promise<void> | undefined;

  private constructor(
    listener: WsListener,
    options: WsChatServerOptions,
    cluster: ClusterChatManager | undefined,
  ) {
    super(listener);
    this.maxMessageBytes = options.maxMessageBytes ?? MAX_MESSAGE_BYTES;
    this.maxQueueBytes = options.maxQueueBytes ?? MAX_QUEUE_BYTES;
    this.rate = options.rate ?? RATE_LIMIT;
    this.manager = cluster ?? new ChatManager(this);
    listener.on('connection', (ws, peer, socket) => this.serve(ws, peer, socket));
  }

  /**
   * Listens; with `redis`, joins the group first, so that no client comes before the chat can
   * reach the others. Rejects with RedisUnreachableError when Redis does not answer.
   */
  static async start(options: WsChatServerOptions): Promise<WsChatServer> {
    let server: WsChatServer | undefined;
    // The cluster's events reach the server once it exists; it emits none before a client comes.
    const events = { emit: (event: string, ...args: unknown[]) => server?.emit(event as 'relayed', ...(args as WsChatServerEvents['relayed'])) };
    const cluster = options.redis === undefined ? undefined : await ClusterChatManager.start(options.redis, events);
    try {
      const listener = await startWsListener({ ...options, lab: 'ws-chat', maxMessageBytes: options.maxMessageBytes ?? MAX_MESSAGE_BYTES });
      server = new WsChatServer(listener, options, cluster);
      return server;
    } catch (err) {
      await cluster?.close();
      throw err;
    }
  }

  /** Closes every client with 1001, then (with Redis) leaves the group. Safe to call twice. */
  override close(): Promise<void> {
    this.closing ??= super.close().then(() => (this.manager instanceof ClusterChatManager ? this.manager.close() : undefined));
    return this.closing;
  }

  private serve(ws: WebSocket, peer: WsPeer, socket: net.Socket): void {
    this.totals.connections++;
    let cutOff = false;
    const direct = canWriteFrames(ws);
    const conn: WsChatConnection = {
      id: peer.id,
      remote: peer.remote,
      peer,
      send: (data) => {
        if (cutOff || ws.readyState !== ws.OPEN) return false;
        // What this turn queued is not the client's fault yet: count only what it left unread.
        if (ws.bufferedAmount - this.batch.queued(socket) > this.maxQueueBytes) {
          cutOff = true;
          this.cutOff(ws, peer, endedByServer);
          return false;
        }
        const frame = this.frameOf(data);
        this.batch.add(socket, frame.length);
        if (!direct || !writeFrame(ws, socket, frame)) ws.send(data, { binary: false });
        return true;
      },
    };
    // Every message counts against the rate, a bad one too, and is answered in order.
    const throttle = new Throttle<{ data: Buffer; isBinary: boolean }>(
      this.rate,
      {
        handle: ({ data, isBinary }) => this.take(conn, data, isBinary),
        pause: () => ws.pause(),
        resume: () => ws.resume(),
        throttled: () => {
          this.emit('throttled', conn);
          const text = `slow down: more than ${this.rate.perSecond} messages a second; yours are delayed, not lost`;
          conn.send(encode({ type: 'notice', text }));
        },
        gone: () => ws.readyState !== ws.OPEN,
      },
      THROTTLE_NOTICE_INTERVAL_MS,
    );
    ws.on('message', (data: Buffer, isBinary) => throttle.push({ data, isBinary }));
    const endedByServer = watchConnectionEnd(this.listener, ws, peer, this.maxMessageBytes, {
      protocolError: (err, code) => this.emit('protocolError', peer, err, code),
      close: (info) => {
        throttle.dispose();
        this.manager.disconnect(conn, leaveReason(info));
        this.emit('close', conn, info);
      },
    });
    this.emit('connection', peer);
  }

  /**
   * The frame of `data`, made once for all the recipients of a broadcast: the manager sends the
   * same Buffer to every connection of a room, one after the other, and never changes a Buffer
   * it has sent. ws.send() would frame it again for every recipient.
   */
  private frameOf(data: Buffer): Buffer {
    if (data !== this.lastPayload) {
      this.lastPayload = data;
      this.lastFrame = textFrame(data);
    }
    return this.lastFrame;
  }

  /** One message from a client, validated, then acted on by the manager. */
  private take(conn: WsChatConnection, data: Buffer, isBinary: boolean): void {
    if (isBinary) {
      this.manager.refuse(conn, { code: 'binary', text: 'a binary message; this chat speaks JSON in text messages' });
      return;
    }
    // ws has checked the UTF-8 already: invalid bytes in a text message close with 1007.
    const parsed = parseClientMessage(data.toString('utf8'));
    if (!parsed.ok) {
      const { ok: _ok, ...error } = parsed;
      this.manager.refuse(conn, error);
      return;
    }
    this.manager.handle(conn, parsed.message);
  }

  /**
   * A client with more than maxQueueBytes waiting is not reading. It gets close 1008, but it
   * will not read that either, so its socket is destroyed after CLOSE_GRACE_MS.
   */
  private cutOff(ws: WebSocket, peer: WsPeer, endedByServer: (code: number, why: string) => void): void {
    const why = `not reading: more than ${bytes(this.maxQueueBytes)} waited for it`;
    endedByServer(1008, why);
    peer.notReading = true;
    ws.close(1008, 'you are not reading what the chat sends');
    setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref();
  }
}

/** The words of a leave notice, from how the connection ended. */
export function leaveReason(info: WsCloseInfo): string {
  if (info.byServer) {
    if (info.byServer.code === 1001) return 'server shutting down';
    if (info.byServer.code === 1008 && info.byServer.why.startsWith('not reading')) return 'disconnected for not reading';
    if (info.byServer.code === 1006) return 'timed out';
    return `protocol error ${info.byServer.code}`;
  }
  return info.code === 1006 ? 'connection lost' : 'left';
}

/** Starts a chat server (DESIGN.md's `start…Server`); resolves once it listens. */
export function startWsChatServer(options: WsChatServerOptions): Promise<WsChatServer> {
  return WsChatServer.start(options);
}
