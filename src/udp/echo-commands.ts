/**
 * `netlab udp-echo serve` and `netlab udp-echo send` (lesson 03): options in, modules started,
 * their events out as lines. The socket work is in echo-server.ts and udp-client.ts; a line
 * session in send-session.ts, a ping in ping-session.ts.
 */
import { Command, Option } from 'commander';
import { addAddressOptions, announceReach, argParser, holdClientInterrupts, networkError, outputFor, untilInterrupted } from '../core/commands.js';
import { UsageError, formatAddress } from '../core/errors.js';
import { defaultPort, parseInteger } from '../core/options.js';
import type { Output } from '../core/output.js';
import { count } from '../core/text-view.js';
import { addTraceOptions, tracerFor, type TraceOptions } from '../core/trace.js';
import { logUdpEchoServer } from './echo-log.js';
import { startUdpEchoServer } from './echo-server.js';
import { addImpairmentOptions, announceImpairment, impairmentFrom, type ImpairmentOptions } from './impairment-options.js';
import { MIN_PING_BYTES } from './ping.js';
import { runPing } from './ping-session.js';
import { runSendSession } from './send-session.js';
import { openUdpClient } from './udp-client.js';
import { MAX_DATAGRAM_BYTES } from './udp-socket.js';

interface ServeOptions extends ImpairmentOptions, TraceOptions {
  host: string;
  port: number;
  quiet?: boolean;
}

interface SendOptions extends TraceOptions {
  host: string;
  port: number;
  timeout: number;
  count?: number;
  interval?: number;
  size?: number;
  burst?: boolean;
}

export function udpEchoCommand(): Command {
  const cmd = new Command('udp-echo').description('lesson 03: a UDP echo server and client (node:dgram)');
  const serve = new Command('serve').description('send every datagram back to where it came from');
  addTraceOptions(addAddressOptions(serve, 'udp-echo', 'server')).addOption(new Option('--quiet', 'do not log every datagram'));
  addImpairmentOptions(serve, ['drop', 'delay', 'jitter', 'duplicate', 'reorder'])
    .addHelpText(
      'after',
      `
Examples:
  netlab udp-echo serve                          listen on 127.0.0.1:${defaultPort('udp-echo')}
  netlab udp-echo serve --drop 20%               lose one reply in five
  netlab udp-echo serve --delay 50 --jitter 100  replies 50 to 150 ms late
  netlab udp-echo serve --drop 0.1 --seed 7      the same losses on every run
  netlab udp-echo serve --trace --drop 20%       each datagram, and its fate`,
    )
    .action((opts: ServeOptions, command: Command) => serveUdpEcho(opts, outputFor(command)));

  const send = new Command('send').description('send datagrams to an echo server: a line each, or a ping with --count');
  addTraceOptions(addAddressOptions(send, 'udp-echo', 'client'))
    .addOption(
      new Option('--timeout <ms>', 'how long to wait for each reply, 1 to 60000')
        .default(1000)
        .argParser(argParser((v) => parseInteger('--timeout', v, 1, 60_000))),
    )
    .addOption(new Option('--burst', 'piped input: send every line at once, then wait for the replies'))
    .addOption(new Option('--count <n>', 'ping mode: send N numbered datagrams, 1 to 100000').argParser(argParser((v) => parseInteger('--count', v, 1, 100_000))))
    .addOption(
      new Option('--interval <ms>', 'ping mode: milliseconds between datagrams, 1 to 60000 (default 1000)').argParser(
        argParser((v) => parseInteger('--interval', v, 1, 60_000)),
      ),
    )
    .addOption(
      new Option('--size <bytes>', `ping mode: bytes per datagram, ${MIN_PING_BYTES} to ${MAX_DATAGRAM_BYTES} (default 32)`).argParser(
        argParser((v) => parseInteger('--size', v, MIN_PING_BYTES, MAX_DATAGRAM_BYTES)),
      ),
    )
    .addHelpText(
      'after',
      `
Each line you type is sent as one datagram; "exit", Ctrl+D or Ctrl+C quit.
Piped input is sent line by line:  printf 'a\\nb\\n' | netlab udp-echo send

Examples:
  netlab udp-echo send
  printf 'a\\nb\\n' | netlab udp-echo send --burst   two datagrams at once
  printf 'a\\nb\\n' | netlab udp-echo send --burst --trace  both, in hex
  netlab udp-echo send --count 20 --interval 100   a ping: loss, round trips
  netlab udp-echo send --host 192.168.1.20 --port ${defaultPort('udp-echo')}`,
    )
    .action((opts: SendOptions, command: Command) => sendUdpEcho(opts, outputFor(command)));

  return cmd
    .addCommand(serve)
    .addCommand(send)
    .addHelpText('after', `\nExamples:\n  netlab udp-echo serve\n  netlab udp-echo send      (in a second terminal)`);
}

async function serveUdpEcho(opts: ServeOptions, output: Output): Promise<void> {
  const settings = impairmentFrom(opts);
  const trace = tracerFor(opts, output);
  const server = await startUdpEchoServer({ host: opts.host, port: opts.port, impairment: settings, trace }).catch((err: unknown) => {
    throw networkError(err, { operation: 'listen', host: opts.host, port: opts.port });
  });
  // Before the listening line: see untilInterrupted.
  const stopped = untilInterrupted(output, () => server.close());
  output.event(`udp-echo server listening on ${formatAddress(server.host, server.port)}`);
  announceReach(output, server.host, server.port, 'netlab udp-echo send');
  announceImpairment(output, settings, opts.seed !== undefined);
  logUdpEchoServer(server, output, { quiet: opts.quiet });

  await stopped;
  const { datagrams, replies, dropped, refused } = server.totals;
  const extra = [dropped > 0 && `${dropped} dropped`, refused > 0 && `${refused} not answered`].filter(Boolean).join(', ');
  output.event(`udp-echo server stopped · ${count(datagrams, 'datagram')}, ${count(replies, 'reply', 'replies')} sent${extra ? `, ${extra}` : ''}`);
}

async function sendUdpEcho(opts: SendOptions, output: Output): Promise<void> {
  if (opts.count === undefined && (opts.interval !== undefined || opts.size !== undefined)) {
    throw new UsageError('--interval and --size belong to ping mode: add --count N.');
  }
  if (opts.count !== undefined && opts.burst) throw new UsageError('--burst sends lines of input; a ping (--count) sends its own datagrams.');
  const serveCommand = `netlab udp-echo serve${opts.port === defaultPort('udp-echo') ? '' : ` --port ${opts.port}`}`;
  const trace = tracerFor(opts, output);
  const client = await openUdpClient({ host: opts.host, port: opts.port, trace }).catch((err: unknown) => {
    throw networkError(err, { operation: 'connect', host: opts.host, port: opts.port, serveCommand });
  });
  if (opts.count !== undefined) {
    return runPing(client, output, {
      count: opts.count,
      intervalMs: opts.interval ?? 1000,
      timeoutMs: opts.timeout,
      sizeBytes: opts.size ?? 32,
      serveCommand,
    });
  }
  holdClientInterrupts();
  output.note(`sending datagrams to ${client.remote} from port ${client.localPort}; "exit" or Ctrl+D quits`);
  await runSendSession(client, output, { timeoutMs: opts.timeout, burst: opts.burst, serveCommand });
}
