/**
 * The tcp-chat server's log: its events as lines, for `netlab tcp-chat serve` and the demo.
 *
 *   [127.0.0.1:53422] guest-1 joined (1 online)
 *   [127.0.0.1:53422] guest-1 is now alice
 *   [127.0.0.1:53422] alice: hello → 2 clients
 *   [127.0.0.1:53422] alice → bob: a private message
 *   [127.0.0.1:53422] alice left (quit) · 2 online
 *
 * --quiet keeps joins, leaves and renames. Private messages are logged without their text: the
 * server could read them, and lesson 02 says so, but the log on a projector should not.
 */
import type { Output } from '../core/output.js';
import { count } from '../core/text-view.js';
import type { ChatServer } from './chat-server.js';

export interface ChatLogOptions {
  quiet?: boolean;
  tag?: string;
}

export function logChatServer(server: ChatServer, output: Output, options: ChatLogOptions = {}): void {
  const { tag } = options;
  server.on('join', (m, online) => output.peer(m.remote, `${m.name} joined (${online} online)`, tag));
  server.on('leave', (m, reason, online) => output.peer(m.remote, `${m.name} left (${reason}) · ${online} online`, tag));
  server.on('rename', (m, oldName) => output.peer(m.remote, `${oldName} is now ${m.name}`, tag));
  server.on('throttled', (m) => output.peer(m.remote, `${m.name} is sending too fast: throttled`, tag));
  server.on('error', (err) => output.warn(`server error: ${err.message}`));
  if (options.quiet) return;
  server.on('message', (m, kind, text, deliveries) => {
    const line = kind === 'say' ? `${m.name}: ${text}` : `* ${m.name} ${text}`;
    output.peer(m.remote, `${line} → ${deliveries === 1 ? '1 client' : `${deliveries} clients`}`, tag);
  });
  server.on('private', (from, to) => output.peer(from.remote, `${from.name} → ${to.name}: a private message`, tag));
  server.on('refused', (m, reason) => output.peer(m.remote, `${m.name}: refused: ${reason}`, tag));
}

/** `4 joined, 2 messages, 1 delivery`: the server's totals on exit. */
export function chatTotals(totals: { joined: number; messages: number; deliveries: number }): string {
  return `${totals.joined} joined, ${count(totals.messages, 'message')}, ${count(totals.deliveries, 'delivery')}`;
}
