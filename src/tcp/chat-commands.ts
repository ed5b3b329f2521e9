/**
 * `netlab tcp-chat serve` and `netlab tcp-chat connect` (lesson 02): options in, modules
 * started, their events out as lines. The sockets are in chat-server.ts, the rules in
 * chat-room.ts and chat-protocol.ts.
 */
import { Command, Option } from 'commander';
import { runClientSession } from '../core/client-session.js';
import { addAddressOptions, announceReach, argParser, holdClientInterrupts, networkError, outputFor, showLiveCount, untilInterrupted } from '../core/commands.js';
import { count } from '../core/text-view.js';
import { addTraceOptions, tracerFor, type TraceOptions } from '../core/trace.js';
import { tcpTap } from './tcp-trace.js';
import { UsageError, formatAddress, type ErrorContext } from '../core/errors.js';
import { defaultPort, parseInteger } from '../core/options.js';
import type { Output } from '../core/output.js';
import { chatTotals, logChatServer } from './chat-log.js';
import { MAX_NAME_CHARS, nameProblem } from './chat-protocol.js';
import { BURST_SECONDS, MAX_LINE_BYTES, MAX_QUEUE_BYTES, RATE_LIMIT, startChatServer } from './chat-server.js';
import { connectTcp, type TcpClient } from './tcp-client.js';

/**
 * After /quit, how long the server gets to say bye and close. The server answers /quit only
 * after every line sent before it, and a flood is delayed by its rate limit, so be patient.
 */
const QUIT_WAIT_MS = 30_000;

interface ServeOptions extends TraceOptions {
  host: string;
  port: number;
  quiet?: boolean;
  maxLine: number;
  maxQueue: number;
  rate: number;
  idleTimeout: number;
}

interface ConnectOptions extends TraceOptions {
  host: string;
  port: number;
  name?: string;
}

export function tcpChatCommand(): Command {
  const cmd = new Command('tcp-chat').description('lesson 02: a multi-client TCP chat (one event loop, many sockets)');

  const serve = new Command('serve').description('relay each line to every other client, with names and commands');
  addTraceOptions(addAddressOptions(serve, 'tcp-chat', 'server'))
    .addOption(new Option('--quiet', 'log joins, leaves and renames, not every message'))
    .addOption(
      new Option('--max-line <bytes>', 'longest line a client may send, 16 to 65536')
        .default(MAX_LINE_BYTES)
        .argParser(argParser((v) => parseInteger('--max-line', v, 16, 65536))),
    )
    .addOption(
      new Option('--max-queue <kib>', "KiB waiting for a client before it counts as not reading, 1 to 65536")
        .default(MAX_QUEUE_BYTES / 1024)
        .argParser(argParser((v) => parseInteger('--max-queue', v, 1, 65536))),
    )
    .addOption(
      new Option('--rate <messages>', 'messages per second a client may send before it is slowed down, 1 to 1000')
        .default(RATE_LIMIT.perSecond)
        .argParser(argParser((v) => parseInteger('--rate', v, 1, 1000))),
    )
    .addOption(
      new Option('--idle-timeout <seconds>', 'disconnect clients silent this long, 0 (off) to 86400')
        .default(0)
        .argParser(argParser((v) => parseInteger('--idle-timeout', v, 0, 86400))),
    )
    .addHelpText(
      'after',
      `
Join with netlab tcp-chat connect, nc or telnet: the protocol is lines of text.

Examples:
  netlab tcp-chat serve                        listen on 127.0.0.1:${defaultPort('tcp-chat')}
  netlab tcp-chat serve --lan --quiet          the whole classroom in one chat
  netlab tcp-chat serve --idle-timeout 300     drop clients silent for 5 minutes
  netlab tcp-chat serve --trace                every read and write, in hex`,
    )
    .action((opts: ServeOptions, command: Command) => serveChat(opts, outputFor(command)));

  const connect = new Command('connect').description('join a chat: type to talk, /help for commands');
  addTraceOptions(addAddressOptions(connect, 'tcp-chat', 'client'))
    .addOption(
      new Option('--name <name>', `your name in the chat (up to ${MAX_NAME_CHARS} letters, digits, - _ .)`).argParser(
        argParser(parseName),
      ),
    )
    .addHelpText(
      'after',
      `
Type a line to send it to everyone; /help lists the commands.
/quit, Ctrl+D or Ctrl+C leave.

Examples:
  netlab tcp-chat connect --name alice
  netlab tcp-chat connect --host 192.168.1.20 --name bob
  printf 'hello from a script\\n' | netlab tcp-chat connect --name bot
  netlab tcp-chat connect --trace              see the bytes of every line`,
    )
    .action((opts: ConnectOptions, command: Command) => connectChat(opts, outputFor(command)));

  return cmd
    .addCommand(serve)
    .addCommand(connect)
    .addHelpText('after', '\nExamples:\n  netlab tcp-chat serve\n  netlab tcp-chat connect --name alice      (in a second terminal)');
}

async function serveChat(opts: ServeOptions, output: Output): Promise<void> {
  const server = await startChatServer({
    tap: tcpTap(tracerFor(opts, output)),
    host: opts.host,
    port: opts.port,
    maxLineBytes: opts.maxLine,
    maxQueueBytes: opts.maxQueue * 1024,
    rate: { perSecond: opts.rate, burst: opts.rate * BURST_SECONDS },
    idleTimeoutMs: opts.idleTimeout * 1000,
  }).catch((err: unknown) => {
    throw networkError(err, { operation: 'listen', host: opts.host, port: opts.port });
  });
  // Before the listening line: see untilInterrupted.
  const stopped = untilInterrupted(output, () => server.close());
  output.event(`tcp-chat server listening on ${formatAddress(server.host, server.port)}`);
  announceReach(output, server.host, server.port, 'netlab tcp-chat connect');
  logChatServer(server, output, { quiet: opts.quiet });
  const { room } = server;
  const endCount = showLiveCount(output, server, ['join', 'leave', 'message'], () => `${room.online} online · ${count(room.totals.messages, 'message')}`);

  await stopped;
  endCount();
  output.event(`tcp-chat server stopped · ${chatTotals(server.room.totals)}`);
}

async function connectChat(opts: ConnectOptions, output: Output): Promise<void> {
  const serveHint = `netlab tcp-chat serve${opts.port === defaultPort('tcp-chat') ? '' : ` --port ${opts.port}`}`;
  const ctx: ErrorContext = { operation: 'connect', host: opts.host, port: opts.port, serveCommand: serveHint };
  const client = await connectTcp({ host: opts.host, port: opts.port, tap: tcpTap(tracerFor(opts, output)) }).catch((err: unknown) => {
    throw networkError(err, ctx);
  });
  holdClientInterrupts();
  output.note(`connected to ${client.remote} from ${client.local}; /quit or Ctrl+D leaves`);
  if (opts.name) await client.send(`/nick ${opts.name}\n`);
  await runClientSession(client, output, ctx, {
    show: (line) => colorNames(line, output),
    isQuit: (line) => line.trim().toLowerCase() === '/quit',
    leave: (quitSent) => leaveChat(client, quitSent),
  });
}

/** --name is checked before connecting; only the server knows whether it is taken. */
export function parseName(value: string): string {
  const problem = nameProblem(value, () => false);
  if (problem) throw new UsageError(`--name: ${problem}.`);
  return value;
}

/** Says /quit (unless the user did) and FIN, then waits for the server's "bye" and its FIN. */
async function leaveChat(client: TcpClient, quitSent: boolean): Promise<void> {
  if (!quitSent) await client.send('/quit\n');
  client.end();
  const timer = new Promise<void>((resolve) => setTimeout(resolve, QUIT_WAIT_MS).unref());
  await Promise.race([client.whenClosed(), timer]);
}

/**
 * The sender's name in its own colour: `alice: hi`, `* alice waves`, `alice (private): psst`
 * (and the indented lines of a room's history in ws-chat).
 */
export function colorNames(line: string, output: Output): string {
  if (!output.color) return line;
  const action = /^(\s*)\* (\S+)( .*)$/.exec(line);
  if (action) return `${action[1]}* ${output.name(action[2]!)}${action[3]}`;
  const message = /^(\s*)([^\s*:(][^\s:]*)((?: \(private\))?: .*)$/.exec(line);
  if (message) return `${message[1]}${output.name(message[2]!)}${message[3]}`;
  return line;
}
