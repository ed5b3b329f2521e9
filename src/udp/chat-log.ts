/**
 * The udp-chat server's log: its events as lines, for `netlab udp-chat serve` and the demo.
 *
 *   [127.0.0.1:53422] guest-1 joined (1 online)
 *   [127.0.0.1:53422] alice: hello → 2 members
 *   [127.0.0.1:53422] alice left (timed-out: no heartbeat for 15 s) · 1 online
 *   [127.0.0.1:40000] refused: SAY from an address that has not joined
 *
 * --quiet keeps joins, leaves and renames.
 */
import type { Output } from '../core/output.js';
import { count, visible } from '../core/text-view.js';
import type { UdpChatServer } from './chat-server.js';

export interface UdpChatLogOptions {
  quiet?: boolean;
  tag?: string;
  /** For the leave line of an expired member: how long the server waited. */
  memberTimeoutMs: number;
}

export function logUdpChatServer(server: UdpChatServer, output: Output, options: UdpChatLogOptions): void {
  const { tag } = options;
  const timedOut = `timed out: no heartbeat for ${options.memberTimeoutMs / 1000} s`;
  server.on('join', (m, online) => output.peer(m.remote, `${m.name} joined (${online} online)`, tag));
  server.on('leave', (m, reason, online) => {
    const why = reason === 'timed-out' ? timedOut : reason === 'server-stopped' ? 'server stopping' : reason;
    output.peer(m.remote, `${m.name} left (${why})${reason === 'server-stopped' ? '' : ` · ${online} online`}`, tag);
  });
  server.on('rename', (m, oldName) => output.peer(m.remote, `${oldName} is now ${m.name}`, tag));
  server.on('error', (err) => output.warn(`server error: ${err.message}`));
  if (options.quiet) return;
  server.on('message', (m, text, deliveries, lost) => {
    const dropped = lost > 0 ? ` (${lost} dropped: simulated loss)` : '';
    output.peer(m.remote, `${m.name}: ${visible(text)} → ${count(deliveries, 'member')}${dropped}`, tag);
  });
  server.on('refused', (from, m, reason) => output.peer(from, `${m ? `${m.name}: ` : ''}refused: ${reason}`, tag));
}

/** `4 joined, 2 messages, 3 deliveries`: the server's totals on exit. */
export function udpChatTotals(totals: { joined: number; messages: number; deliveries: number }): string {
  return `${totals.joined} joined, ${count(totals.messages, 'message')}, ${count(totals.deliveries, 'delivery')}`;
}
