/**
 * `netlab demo udp`: lesson 03 in one terminal, for a projector. A UDP echo server that
 * simulates a bad network (a fixed seed, so every run of the demo shows the same thing) and a
 * client in this process; every line is tagged with the side that printed it.
 *
 * The script: three datagrams that keep their boundaries (one of them empty, one holding two
 * lines), then a 20-datagram ping whose summary shows loss, a duplicate and reordering.
 * With --slow it waits before each datagram, and the ping goes at a readable interval.
 */
import type { Output } from '../core/output.js';
import { visible } from '../core/text-view.js';
import type { DemoPace } from '../lessons/demo-pace.js';
import { logUdpEchoServer } from './echo-log.js';
import { REORDER_MAX_HOLD_MS, startUdpEchoServer } from './echo-server.js';
import { describeImpairment, type ImpairmentSettings } from './impairment.js';
import { runPing } from './ping-session.js';
import { openUdpClient } from './udp-client.js';

const SERVER = 'server';
const CLIENT = 'client';

/** Chosen so that 20 pings show every kind of trouble; the seed makes it the same every time. */
const IMPAIRMENT: ImpairmentSettings = { dropRate: 0.15, delayMs: 0, jitterMs: 0, duplicateRate: 0.1, reorderRate: 0.15, seed: 122 };

/** Each entry is one datagram; with no impairment yet, each comes back whole. */
const DATAGRAMS = ['hello', '', 'two lines\nin one datagram'];

/** The ping at full speed: a datagram every PING_INTERVAL_MS, each given PING_TIMEOUT_MS. */
const PING_INTERVAL_MS = 50;
const PING_TIMEOUT_MS = 500;

/**
 * The ping's interval with --slow: half a step, so 20 datagrams do not take 20 steps. At most
 * 80% of REORDER_MAX_HOLD_MS: a reply held back for reordering must still be overtaken by the
 * next datagram's, not released alone, or the seed's reordering would not show.
 */
function pingIntervalMs(pace: DemoPace): number {
  return Math.min(Math.max(PING_INTERVAL_MS, Math.round(pace.stepMs / 2)), Math.floor(REORDER_MAX_HOLD_MS * 0.8));
}

export async function runUdpDemo(output: Output, pace: DemoPace): Promise<void> {
  const plain = await startUdpEchoServer({ host: '127.0.0.1', port: 0 });
  try {
    output.event(`udp-echo server listening on 127.0.0.1:${plain.port}`, SERVER);
    logUdpEchoServer(plain, output, { tag: SERVER });
    const client = await openUdpClient({ host: '127.0.0.1', port: plain.port });
    try {
      for (const text of DATAGRAMS) {
        await pace.step();
        const reply = new Promise<Buffer>((resolve) => client.once('datagram', resolve));
        output.sent(`${JSON.stringify(text)} (one datagram)`, CLIENT);
        await client.send(Buffer.from(text));
        output.received(`${visible(JSON.stringify((await reply).toString()))} (one datagram, boundaries kept)`, CLIENT);
      }
    } finally {
      client.close();
    }
  } finally {
    await plain.close();
  }

  await pace.step();
  output.event(`now a bad network: ${describeImpairment(IMPAIRMENT)} (seed ${IMPAIRMENT.seed})`, SERVER);
  const impaired = await startUdpEchoServer({ host: '127.0.0.1', port: 0, impairment: IMPAIRMENT });
  try {
    logUdpEchoServer(impaired, output, { tag: SERVER });
    const pinger = await openUdpClient({ host: '127.0.0.1', port: impaired.port });
    await pace.step();
    // A held-back reply comes one interval late: the timeout must leave room for it.
    const intervalMs = pingIntervalMs(pace);
    const timeoutMs = Math.max(PING_TIMEOUT_MS, 2 * intervalMs);
    await runPing(pinger, output, { count: 20, intervalMs, timeoutMs, sizeBytes: 16, serveCommand: 'netlab udp-echo serve', tag: CLIENT });
  } finally {
    await impaired.close();
  }
  output.note('try it in two terminals: `netlab udp-echo serve --drop 20%`, then `netlab udp-echo send --count 20` (lesson 03)');
}
