/**
 * What the server of every WebSocket lab (ws-echo, ws-chat) is besides its own job: a handle
 * on a WsListener (ws-listener.ts) with its address, its URLs and an idempotent close(), and
 * the listener's plain-HTTP, refusal and error events passed on for the lab's log.
 */
import { EventEmitter } from 'node:events';
import type { HttpAnswer } from './pages.js';
import type { WsListener, WsRefusal } from './ws-listener.js';

/** The events every lab's server passes on from its listener. */
export interface WsLabServerEvents {
  http: [remote: string, answer: HttpAnswer];
  refused: [refusal: WsRefusal];
  error: [err: Error];
}

export abstract class WsLabServer<Events extends WsLabServerEvents & Record<keyof Events, unknown[]>> extends EventEmitter<Events> {
  protected constructor(protected readonly listener: WsListener) {
    super();
    // The lab's event map includes these three; TypeScript cannot see it through the generic.
    const events = this as unknown as EventEmitter<WsLabServerEvents>;
    listener.on('http', (remote, answer) => events.emit('http', remote, answer));
    listener.on('refused', (refusal) => events.emit('refused', refusal));
    listener.on('error', (err) => events.emit('error', err));
  }

  get host(): string {
    return this.listener.host;
  }
  get port(): number {
    return this.listener.port;
  }
  /** `ws://127.0.0.1:8000/ws` */
  get url(): string {
    return this.listener.url;
  }
  /** `http://127.0.0.1:8000/`: the lab's page. */
  get pageUrl(): string {
    return this.listener.pageUrl;
  }

  /** Closes every client with 1001 "server shutting down" and stops. Safe to call twice. */
  close(): Promise<void> {
    return this.listener.close();
  }
}
