/**
 * The push-pull server's log: its feed and its events as lines, for `netlab push-pull serve`
 * and the demo (lesson 06).
 *
 *   #3 tick: tick 3
 *   #4 instructor: quiz at 10:15
 *   [127.0.0.1:48434] SSE stream open, resuming after #2
 *   [127.0.0.1:48438] WebSocket closed: it left
 *   [127.0.0.1:48440] refused 400: a request pipelined behind a held one
 *
 * --quiet leaves out the events, which a fast ticker turns into most of the log.
 */
import type { Output } from '../core/output.js';
import { count, visible } from '../core/text-view.js';
import type { EventFeed } from './event-feed.js';
import type { PushPullServer } from './push-pull-server.js';

export interface PushPullLogOptions {
  quiet?: boolean;
  tag?: string;
}

export function logPushPullServer(server: PushPullServer, feed: EventFeed, output: Output, options: PushPullLogOptions = {}): void {
  const { tag } = options;
  if (!options.quiet) feed.subscribe((event) => output.event(`#${event.id} ${event.source}: ${visible(event.text)}`, tag));
  server.on('subscribed', (transport, remote, after) =>
    output.peer(remote, `${transportName(transport)} open${after > 0 ? `, resuming after #${after}` : ''}`, tag),
  );
  server.on('unsubscribed', (transport, remote, reason) => output.peer(remote, `${transportName(transport)} closed: ${reason}`, tag));
  server.on('refused', (remote, status, reason) => output.peer(remote, `refused ${status}: ${reason}`, tag));
  server.on('error', (err) => output.warn(`server error: ${err.message}`));
}

/** `3 events, 8 polls, 4 long polls, 1 SSE stream, 1 WebSocket`: the server's totals on exit. */
export function pushPullTotals(server: PushPullServer, feed: EventFeed): string {
  const { polls, longPolls, sse, ws } = server.totals;
  return `${count(feed.latestId, 'event')}, ${count(polls, 'poll')}, ${count(longPolls, 'long poll')}, ${count(sse, 'SSE stream')}, ${count(ws, 'WebSocket')}`;
}

function transportName(transport: 'sse' | 'ws'): string {
  return transport === 'sse' ? 'SSE stream' : 'WebSocket';
}
