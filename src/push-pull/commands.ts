/**
 * `netlab push-pull serve` (lesson 06): options in, the feed, its ticker and the server
 * started, their events out as lines. Lines typed at the server's terminal are published as
 * the instructor's events, so the class sees one arrive in every panel at once.
 */
import readline from 'node:readline';
import { Command, Option } from 'commander';
import { addAddressOptions, announceReach, argParser, networkError, outputFor, untilInterrupted } from '../core/commands.js';
import { UsageError, formatAddress } from '../core/errors.js';
import { defaultPort, parseInteger } from '../core/options.js';
import type { Output } from '../core/output.js';
import { count, visible } from '../core/text-view.js';
import { seededRandom } from '../udp/impairment.js';
import { EventFeed } from './event-feed.js';
import { startPushPullServer } from './push-pull-server.js';
import { Ticker } from './ticker.js';

/** Ticks a second, on average, unless --rate says. */
export const DEFAULT_RATE = 1;
const MIN_RATE = 0.1;
const MAX_RATE = 1000;

interface ServeOptions {
  host: string;
  port: number;
  rate: number;
  seed?: number;
  quiet?: boolean;
}

export function pushPullCommand(): Command {
  const cmd = new Command('push-pull').description('lesson 06: one event feed over polling, long polling, Server-Sent Events and WebSocket');

  const serve = new Command('serve').description('publish a ticking feed, and the lines you type, four ways at once; the page is at /');
  addAddressOptions(serve, 'push-pull', 'server')
    .addOption(
      new Option('--rate <per-second>', `ticks a second on average, at irregular intervals, ${MIN_RATE} to ${MAX_RATE}`)
        .default(DEFAULT_RATE)
        .argParser(argParser(parseRate)),
    )
    .addOption(new Option('--seed <n>', 'the same seed gives the same intervals, 0 to 4294967295').argParser(argParser((v) => parseInteger('--seed', v, 0, 2 ** 32 - 1))))
    .addOption(new Option('--quiet', 'log streams opening and closing, not every event'))
    .addHelpText(
      'after',
      `
Type a line and press Enter to publish it as the instructor's event.

Examples:
  netlab push-pull serve                     http://127.0.0.1:${defaultPort('push-pull')}/, four panels side by side
  netlab push-pull serve --rate 5            five ticks a second, on average
  netlab push-pull serve --host 0.0.0.0      the whole classroom on one feed`,
    )
    .action((opts: ServeOptions, command: Command) => servePushPull(opts, outputFor(command)));

  return cmd.addCommand(serve).addHelpText('after', '\nExamples:\n  netlab push-pull serve');
}

/** --rate: a decimal number of ticks a second, such as 0.5 or 20. */
export function parseRate(value: string): number {
  const rate = /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : NaN;
  if (!(rate >= MIN_RATE && rate <= MAX_RATE)) throw new UsageError(`--rate must be a number from ${MIN_RATE} to ${MAX_RATE} (ticks a second), not "${value}".`);
  return rate;
}

async function servePushPull(opts: ServeOptions, output: Output): Promise<void> {
  const feed = new EventFeed();
  const server = await startPushPullServer({ host: opts.host, port: opts.port, feed }).catch((err: unknown) => {
    throw networkError(err, { operation: 'listen', host: opts.host, port: opts.port });
  });
  output.event(`push-pull server listening on ${formatAddress(server.host, server.port)} · ${server.url}/`);
  announceReach(output, server.host, server.port, (address) => `open http://${formatAddress(address, server.port)}/`);
  output.note(`ticking about ${opts.rate} a second; type a line and press Enter to publish it`);

  if (!opts.quiet) feed.subscribe((event) => output.event(`#${event.id} ${event.source}: ${visible(event.text)}`));
  server.on('subscribed', (transport, remote, after) =>
    output.peer(remote, `${transportName(transport)} open${after > 0 ? `, resuming after #${after}` : ''}`),
  );
  server.on('unsubscribed', (transport, remote, reason) => output.peer(remote, `${transportName(transport)} closed: ${reason}`));
  server.on('refused', (remote, status, reason) => output.peer(remote, `refused ${status}: ${reason}`));
  server.on('error', (err) => output.warn(`server error: ${err.message}`));

  const ticker = new Ticker({
    ratePerSecond: opts.rate,
    random: opts.seed === undefined ? undefined : seededRandom(opts.seed),
    onTick: (n) => feed.publish(`tick ${n}`, 'tick'),
  });
  ticker.start();
  // The instructor's lines. stdin may end (a pipe, Ctrl+D) while the server goes on.
  const typed = readline.createInterface({ input: process.stdin, terminal: false });
  typed.on('line', (line) => {
    if (line.trim() !== '') feed.publish(line, 'instructor');
  });

  await untilInterrupted(output, async () => {
    ticker.stop();
    typed.close();
    await server.close();
  });
  const { polls, longPolls, sse, ws } = server.totals;
  output.event(
    `push-pull server stopped · ${count(feed.latestId, 'event')}, ${count(polls, 'poll')}, ${count(longPolls, 'long poll')}, ${count(sse, 'SSE stream')}, ${count(ws, 'WebSocket')}`,
  );
}

function transportName(transport: 'sse' | 'ws'): string {
  return transport === 'sse' ? 'SSE stream' : 'WebSocket';
}
