/**
 * `netlab push-pull serve` and `netlab push-pull compare` (lesson 06): options in, the feed, its
 * ticker, the server and the measuring clients started, their results out as lines. Lines typed
 * at the server's terminal are published as the instructor's events, so the class sees one
 * arrive in every panel at once.
 */
import readline from 'node:readline';
import { Command, Option } from 'commander';
import { addAddressOptions, announceReach, argParser, networkError, outputFor, untilInterrupted } from '../core/commands.js';
import { UsageError, formatAddress } from '../core/errors.js';
import { defaultPort, parseInteger } from '../core/options.js';
import type { Output } from '../core/output.js';
import { thousands } from '../core/text-view.js';
import { seededRandom } from '../core/seeded-random.js';
import { EventFeed } from './event-feed.js';
import { compareTransports, summarize, type TransportResult } from './compare.js';
import { logPushPullServer, pushPullTotals } from './push-pull-log.js';
import { startPushPullServer, type PushPullServer } from './push-pull-server.js';
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
  netlab push-pull serve --lan               the whole classroom on one feed`,
    )
    .action((opts: ServeOptions, command: Command) => servePushPull(opts, outputFor(command)));

  const compare = new Command('compare').description('measure the four transports side by side on one feed: requests, bytes, delays')
    .addOption(new Option('--url <url>', 'a running push-pull server (default: start one on a free port)').argParser(argParser(parseServerUrl)))
    .addOption(new Option('--duration <time>', 'how long to measure, 1s to 10m').default(20_000, '20s').argParser(argParser((v) => parseDuration('--duration', v, 1000, 600_000))))
    .addOption(
      new Option('--poll-interval <time>', 'how often short polling asks, 100ms to 1m').default(1000, '1s').argParser(argParser((v) => parseDuration('--poll-interval', v, 100, 60_000))),
    )
    .addOption(new Option('--rate <per-second>', `events a second on average, ${MIN_RATE} to ${MAX_RATE} (own server only)`).default(2).argParser(argParser(parseRate)))
    .addOption(new Option('--seed <n>', 'the same seed gives the same intervals (own server only)').argParser(argParser((v) => parseInteger('--seed', v, 0, 2 ** 32 - 1))))
    .addOption(new Option('--json', 'print the results as JSON'))
    .addHelpText(
      'after',
      `
Examples:
  netlab push-pull compare                        20 s on a server of its own
  netlab push-pull compare --duration 5s --poll-interval 250ms
  netlab push-pull compare --url http://127.0.0.1:${defaultPort('push-pull')}  against a running server`,
    )
    .action((opts: CompareCommandOptions, command: Command) => comparePushPull(opts, outputFor(command)));

  return cmd
    .addCommand(serve)
    .addCommand(compare)
    .addHelpText('after', '\nExamples:\n  netlab push-pull serve\n  netlab push-pull compare --duration 10s');
}

interface CompareCommandOptions {
  url?: string;
  duration: number;
  pollInterval: number;
  rate: number;
  seed?: number;
  json?: boolean;
}

/** `20s`, `500ms`, `2m`, or a number of seconds. */
export function parseDuration(name: string, value: string, minMs: number, maxMs: number): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(value.trim());
  const ms = match ? Number(match[1]) * (match[2] === 'ms' ? 1 : match[2] === 'm' ? 60_000 : 1000) : NaN;
  if (!(ms >= minMs && ms <= maxMs)) throw new UsageError(`${name} must be a time from ${showMs(minMs)} to ${showMs(maxMs)} (such as 20s or 500ms), not "${value}".`);
  return Math.round(ms);
}

function showMs(ms: number): string {
  return ms % 60_000 === 0 ? `${ms / 60_000}m` : ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** --url: an http:// address of a push-pull server. */
function parseServerUrl(value: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url?.protocol !== 'http:') throw new UsageError(`--url must be an http:// address such as http://127.0.0.1:${defaultPort('push-pull')}, not "${value}".`);
  return url.origin;
}

const NAMES: Record<TransportResult['transport'], string> = { poll: 'short polling', 'long-poll': 'long polling', sse: 'SSE', ws: 'WebSocket' };

async function comparePushPull(opts: CompareCommandOptions, output: Output): Promise<void> {
  let own: { server: PushPullServer; ticker: Ticker } | undefined;
  let url = opts.url;
  if (url === undefined) {
    const feed = new EventFeed();
    const server = await startPushPullServer({ host: '127.0.0.1', port: 0, feed });
    const ticker = feedTicker(feed, opts.rate, opts.seed);
    ticker.start();
    own = { server, ticker };
    url = server.url;
  }
  const where = own ? `a server of its own, about ${opts.rate} events a second` : url;
  output.note(`measuring for ${showMs(opts.duration)} against ${where}; short polling every ${showMs(opts.pollInterval)}…`);
  try {
    const results = await compareTransports({ url, durationMs: opts.duration, pollIntervalMs: opts.pollInterval }).catch((err: unknown) => {
      throw networkError(err, { operation: 'connect', host: new URL(url).hostname, port: Number(new URL(url).port), serveCommand: 'netlab push-pull serve' });
    });
    if (opts.json) {
      output.data(JSON.stringify(results.map(({ delays, ...rest }) => ({ ...rest, delayMs: summarize(delays) }))));
      return;
    }
    output.data(`${'transport'.padEnd(14)} ${'events'.padStart(6)} ${'missed'.padStart(6)} ${'requests'.padStart(8)} ${'bytes'.padStart(9)} ${'delay mean'.padStart(10)} ${'p95'.padStart(6)} ${'max'.padStart(6)}`);
    for (const r of results) {
      const d = summarize(r.delays);
      const ms = (n: number) => `${Math.round(n)} ms`;
      output.data(
        `${NAMES[r.transport].padEnd(14)} ${String(r.delivered).padStart(6)} ${String(r.missed).padStart(6)} ${String(r.requests).padStart(8)} ${thousands(r.bytes).padStart(9)} ${ms(d.mean).padStart(10)} ${ms(d.p95).padStart(6)} ${ms(d.max).padStart(6)}`,
      );
    }
  } finally {
    own?.ticker.stop();
    await own?.server.close();
  }
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
  const ticker = feedTicker(feed, opts.rate, opts.seed);
  // The instructor's lines. stdin may end (a pipe, Ctrl+D) while the server goes on.
  const typed = readline.createInterface({ input: process.stdin, terminal: false });
  // Before the listening line: see untilInterrupted.
  const stopped = untilInterrupted(output, async () => {
    ticker.stop();
    typed.close();
    await server.close();
  });
  output.event(`push-pull server listening on ${formatAddress(server.host, server.port)} · ${server.url}/`);
  announceReach(output, server.host, server.port, (address) => `open http://${formatAddress(address, server.port)}/`);
  output.note(`ticking about ${opts.rate} a second; type a line and press Enter to publish it`);

  logPushPullServer(server, feed, output, { quiet: opts.quiet });

  ticker.start();
  typed.on('line', (line) => {
    if (line.trim() !== '') feed.publish(line, 'instructor');
  });

  await stopped;
  output.event(`push-pull server stopped · ${pushPullTotals(server, feed)}`);
}

/** The ticker that publishes `tick N` into `feed`, repeatable with a --seed. */
function feedTicker(feed: EventFeed, ratePerSecond: number, seed: number | undefined): Ticker {
  return new Ticker({ ratePerSecond, random: seed === undefined ? undefined : seededRandom(seed), onTick: (n) => feed.publish(`tick ${n}`, 'tick') });
}
