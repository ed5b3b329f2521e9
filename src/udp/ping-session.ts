/**
 * `netlab udp-echo send --count N`: a ping over UDP (lesson 03, "Measuring loss"). Numbered
 * datagrams go out at a fixed interval; each reply is printed with its round-trip time as it
 * arrives, each datagram unanswered after the timeout is reported, and the run ends with ping's
 * summary. The bookkeeping is pure, in ping.ts; this file owns the timers and the socket.
 *
 * Ctrl+C stops sending and prints the summary of what was sent so far, as ping does.
 */
import { NetlabError } from '../core/errors.js';
import { onClientInterrupt } from '../core/commands.js';
import type { Output } from '../core/output.js';
import { count as plural } from '../core/text-view.js';
import { PingStats, pingPayload, pingSequence, replyLine, summaryLines } from './ping.js';
import type { UdpClient } from './udp-client.js';
import { sendError } from './udp-socket.js';

export interface PingOptions {
  count: number;
  intervalMs: number;
  timeoutMs: number;
  sizeBytes: number;
  serveCommand: string;
  /** Role tag, for the demo. */
  tag?: string;
}

/** Runs the ping; resolves with its statistics once every datagram is answered or timed out. */
export async function runPing(client: UdpClient, output: Output, options: PingOptions): Promise<void> {
  const { count, intervalMs, timeoutMs, sizeBytes, tag } = options;
  const stats = new PingStats();
  const unresolved = new Map<number, NodeJS.Timeout>();
  let stopped = false;
  // Two kinds of waiting: between sends (cut short only by Ctrl+C), and for the last replies.
  let interruptPause: () => void = () => {};
  let wake: () => void = () => {};

  client.on('datagram', (data, atMs) => {
    const seq = pingSequence(data);
    const reply = seq === undefined ? undefined : stats.reply(seq, atMs);
    if (!reply) return output.data(`${data.length} bytes from ${client.remote}: not one of our pings`, tag);
    output.data(replyLine(reply, data.length, client.remote), tag);
    const timer = unresolved.get(reply.seq);
    if (timer) {
      clearTimeout(timer);
      unresolved.delete(reply.seq);
      wake();
    }
  });
  client.on('stray', (from, size) => output.note(`ignored ${size} bytes from ${from}: not the server`, tag));
  client.on('error', (err) => output.error(`the socket failed: ${err.message}`));

  const interrupts = onClientInterrupt(() => {
    stopped = true;
    interruptPause();
    wake();
  });
  output.data(`PING ${client.remote} over UDP: ${plural(count, 'datagram')} of ${sizeBytes} bytes, one every ${intervalMs} ms`, tag);
  try {
    for (let seq = 1; seq <= count && !stopped; seq++) {
      if (seq > 1) await pause(intervalMs, (stop) => (interruptPause = stop));
      if (stopped) break;
      stats.sent(seq, performance.now());
      unresolved.set(
        seq,
        setTimeout(() => {
          unresolved.delete(seq);
          stats.expire(seq);
          output.data(`seq=${seq}: no reply within ${timeoutMs} ms`, tag);
          wake();
        }, timeoutMs),
      );
      await client.send(pingPayload(seq, sizeBytes));
    }
    // Wait for the last replies (or their timeouts), unless Ctrl+C said stop.
    while (unresolved.size > 0 && !stopped) await new Promise<void>((resolve) => (wake = resolve));
  } catch (err) {
    throw sendError('a ping', err);
  } finally {
    interrupts.dispose();
    for (const timer of unresolved.values()) clearTimeout(timer);
    client.close();
  }

  const summary = stats.summary();
  // After a Ctrl+C at a terminal, write over the ^C it echoed, as ping does.
  const overwrite = stopped && process.stdout.isTTY ? '\r' : '';
  output.data(`${overwrite}--- ${client.remote} udp ping ---`, tag);
  for (const line of summaryLines(summary)) output.data(line, tag);
  if (summary.sent > 0 && summary.received === 0) {
    throw new NetlabError(
      'NETLAB_ERR_NO_REPLY',
      `nothing came back from ${client.remote}: ${summary.sent === 1 ? 'the ping got no reply' : `none of the ${summary.sent} pings got a reply`}.`,
      `is the server running? Start it with \`${options.serveCommand}\`.`,
    );
  }
}

/** Waits `ms`, or less if the function handed to `onWake` is called (Ctrl+C). */
function pause(ms: number, onWake: (stop: () => void) => void): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    onWake(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
