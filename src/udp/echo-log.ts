/**
 * The udp-echo server's log: one line per datagram, with what happened to its reply.
 *
 *   [127.0.0.1:53422] < 5 bytes "hello"
 *   [127.0.0.1:53422] < 5 bytes "hello" · dropped (simulated loss)
 *   [127.0.0.1:53422] < 16 bytes "ping 3 abcdefghi" · reply delayed 42 ms, sent twice
 *   [127.0.0.1:53422] < 16 bytes "ping 4 abcdefghi" · reply held back (reordering)
 *   [127.0.0.1:7] < 5 bytes "hello" · not answered: port 7 is a well-known service …
 *
 * --quiet logs nothing per datagram: with no 'datagram' listener the server's hot path does no
 * logging work at all.
 */
import type { Output } from '../core/output.js';
import { bytes, preview } from '../core/text-view.js';
import type { DatagramInfo, UdpEchoServer } from './echo-server.js';

export interface UdpEchoLogOptions {
  quiet?: boolean;
  /** Role tag for a demo, where server and client share one terminal. */
  tag?: string;
}

export function logUdpEchoServer(server: UdpEchoServer, output: Output, options: UdpEchoLogOptions = {}): void {
  const { tag } = options;
  if (!options.quiet) {
    server.on('datagram', (info) => {
      const what = whatHappened(info);
      output.peer(info.from, `< ${bytes(info.data.length)} ${preview(info.data)}${what ? ` · ${what}` : ''}`, tag);
    });
  }
  server.on('error', (err) => output.warn(`a reply could not be sent: ${err.message}`));
}

/** The end of a datagram's log line (and of its --trace line); empty when it was simply echoed. */
export function whatHappened(info: Pick<DatagramInfo, 'port' | 'fate' | 'refusal'>): string {
  switch (info.refusal) {
    case 'well-known port':
      return `not answered: port ${info.port} is a well-known service (no echo storms)`;
    case 'own address':
      return 'not answered: it came from this server itself (no echo loops)';
    case 'too many waiting':
      return 'not answered: too many delayed replies waiting already';
    case undefined:
      break;
  }
  const { fate } = info;
  if (fate.drop) return 'dropped (simulated loss)';
  const parts: string[] = [];
  if (fate.delayMs > 0) parts.push(`reply delayed ${fate.delayMs} ms`);
  if (fate.duplicate) parts.push('sent twice');
  if (fate.reorder) parts.push('held back (reordering)');
  return parts.length > 0 && fate.delayMs === 0 ? `reply ${parts.join(', ')}` : parts.join(', ');
}
