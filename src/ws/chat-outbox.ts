/**
 * What a ws-chat client has said that the server has not confirmed yet (lesson 05, "Reconnect
 * and backoff"): the bookkeeping behind "nothing typed is lost". Pure: no sockets or timers.
 *
 *   queued        not sent: typed while disconnected, at most MAX_QUEUED_MESSAGES of them
 *   unconfirmed   sent on this connection; the server's answer with the same id confirms it
 *
 * When a connection drops, what was unconfirmed goes back to the front of the queue, to be
 * sent again after the rejoin: at least once (a receipt lost with the connection means a
 * repeat). chat-client.ts decides when to send; this keeps the order and the counts.
 */
import type { ChatRequest } from './chat-client.js';

/** Messages waiting for the connection to come back; more are refused until it does. */
export const MAX_QUEUED_MESSAGES = 100;

/** One request as it goes on the wire, with the id its answer will carry. */
export interface Outgoing {
  wire: string;
  id: string;
}

export class Outbox {
  private nextId = 1;
  private queue: Outgoing[] = [];
  private readonly unconfirmed = new Map<string, Outgoing>();
  private waiters: (() => void)[] = [];
  private ended = false;

  /** Messages queued for the connection. */
  get waiting(): number {
    return this.queue.length;
  }

  /** Messages not confirmed by the server: queued, or sent without an answer yet. */
  get unconfirmedCount(): number {
    return this.queue.length + this.unconfirmed.size;
  }

  /** The request as it will be sent, with a new id. */
  prepare(request: ChatRequest): Outgoing {
    const id = String(this.nextId++);
    return { wire: JSON.stringify({ ...request, id }), id };
  }

  /** Queues a request for later; false when MAX_QUEUED_MESSAGES wait already. */
  hold(outgoing: Outgoing): boolean {
    if (this.queue.length >= MAX_QUEUED_MESSAGES) return false;
    this.queue.push(outgoing);
    return true;
  }

  /** Notes that `outgoing` was sent: it waits for its answer. */
  sent(outgoing: Outgoing): void {
    this.unconfirmed.set(outgoing.id, outgoing);
  }

  /** The server answered the request with this id. */
  confirm(id: string): void {
    this.unconfirmed.delete(id);
    this.check();
  }

  /** The connection dropped: what had no answer goes first, before what was queued. */
  requeue(): void {
    this.queue = [...this.unconfirmed.values(), ...this.queue];
    this.unconfirmed.clear();
  }

  /** Empties the queue, in order, for sending. */
  takeQueued(): Outgoing[] {
    const queued = this.queue;
    this.queue = [];
    return queued;
  }

  /** Resolves once nothing is queued or unconfirmed, or the outbox has ended. */
  settled(): Promise<void> {
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.check();
    });
  }

  /** Nothing more will be sent or confirmed: every wait for settled() ends now. */
  end(): void {
    this.ended = true;
    this.check();
  }

  private check(): void {
    if (!this.ended && this.unconfirmedCount > 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}
