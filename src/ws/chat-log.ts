/**
 * The ws-chat server's log: its events as lines (lesson 05), for `netlab ws-chat serve` and
 * the demo. What an instructor watches on the projector while the room chats:
 *
 *   [127.0.0.1:40114] connected · no Origin · netlab
 *   [127.0.0.1:40114] alice joined lobby (1 here)
 *   [127.0.0.1:40114] lobby · alice: hello → 3 connections
 *   [127.0.0.1:40116] bob → alice: a private message → 2 connections
 *   [127.0.0.1:40116] refused: bad-json: not JSON: …
 *   [127.0.0.1:40118] alice joined lobby on another connection (2 here)
 *   [127.0.0.1:40114] alice left lobby (went to games), still there on 1 connection · 2 here
 *   [127.0.0.1:40114] closed by the client: 1000 (normal closure)
 *
 * --quiet keeps connections, joins, leaves and renames. Private messages are logged without
 * their text, as in tcp-chat: the server could read them, but the projector should not.
 */
import type { Output } from '../core/output.js';
import { count, visible } from '../core/text-view.js';
import type { WsChatServer } from './chat-server.js';
import { showLine } from './chat-view.js';
import { describeClose, describePeer } from './echo-log.js';

export interface WsChatLogOptions {
  quiet?: boolean;
  /** Role tag for a demo, where server and clients share one terminal. */
  tag?: string;
}

export function logWsChatServer(server: WsChatServer, output: Output, options: WsChatLogOptions = {}): void {
  const { tag } = options;
  const nameOf = (conn: { user?: { name: string } }) => conn.user?.name ?? 'a connection that had not joined';
  server.on('connection', (peer) => output.peer(peer.remote, `connected · ${describePeer(peer)}`, tag));
  // Presence is per user, the log per connection: another tab of someone already in the room
  // is said as such, since nobody else is told of it.
  server.on('join', (conn, room, online, connections) => {
    const how = connections > 1 ? ' on another connection' : '';
    output.peer(conn.remote, `${nameOf(conn)} joined ${room}${how} (${online} here)`, tag);
  });
  server.on('leave', (conn, room, online, why, connections) => {
    const still = connections > 0 ? `, still there on ${count(connections, 'connection')}` : '';
    output.peer(conn.remote, `${nameOf(conn)} left ${room} (${why})${still} · ${online} here`, tag);
  });
  server.on('rename', (conn, oldName) => output.peer(conn.remote, `${oldName} is now ${nameOf(conn)}`, tag));
  server.on('throttled', (conn) => output.peer(conn.remote, `${nameOf(conn)} is sending too fast: throttled`, tag));
  server.on('close', (conn, info) => output.peer(conn.remote, describeClose(info), tag));
  server.on('refused', (refusal) => output.peer(refusal.remote, `${refusal.what ?? 'handshake'} refused → ${refusal.status}: ${visible(refusal.reason)}`, tag));
  server.on('error', (err) => output.warn(`server error: ${err.message}`));
  server.on('failure', (err) => output.warn(`server error: ${err.message}`));
  // lesson 07: the Redis a group of servers shares.
  server.on('redis', (state) => {
    if (state.state === 'lost') output.warn(`lost Redis at ${state.url} (${state.reason}); reconnecting, and refusing messages until it is back`);
    if (state.state === 'back') {
      const lost = state.namesLost > 0 ? `; ${count(state.namesLost, 'name')} taken meanwhile by users of other servers` : '';
      output.event(`Redis at ${state.url} is back; this server's users and rooms are in it again${lost}`, tag);
    }
    if (state.state === 'cleared') output.event(`${count(state.servers, 'server')} of the group stopped answering: ${state.servers === 1 ? 'its' : 'their'} users have left`, tag);
  });
  if (options.quiet) return;
  server.on('relayed', (what, deliveries) => output.peer('redis', `${what} → ${count(deliveries, 'connection')}`, tag));
  server.on('http', (remote, answer) => output.peer(remote, `${visible(answer.method)} ${visible(answer.target.slice(0, 60))} → ${answer.status}`, tag));
  server.on('message', (conn, line, deliveries) => {
    output.peer(conn.remote, `${line.room} · ${showLine(line)} → ${count(deliveries, 'connection')}`, tag);
  });
  server.on('private', (conn, to, deliveries) => output.peer(conn.remote, `${nameOf(conn)} → ${to}: a private message → ${count(deliveries, 'connection')}`, tag));
  server.on('rejected', (conn, error) => output.peer(conn.remote, `refused: ${error.code}: ${visible(error.text)}`, tag));
}

/** `3 connections, 4 joins, 12 messages, 30 deliveries`: the server's totals on exit. */
export function wsChatTotals(server: WsChatServer): string {
  const { joined, messages, deliveries } = server.manager.totals;
  return `${count(server.totals.connections, 'connection')}, ${count(joined, 'join')}, ${count(messages, 'message')}, ${count(deliveries, 'delivery')}`;
}
