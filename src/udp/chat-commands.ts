/**
 * `netlab udp-chat serve` and `netlab udp-chat connect` (lesson 03): options in, modules
 * started, their events out as lines. The server is chat-server.ts, the client chat-session.ts,
 * the datagrams chat-protocol.ts.
 */
import { Command, Option } from 'commander';
import { addAddressOptions, announceReach, argParser, holdClientInterrupts, networkError, outputFor, showLiveCount, untilInterrupted } from '../core/commands.js';
import { count } from '../core/text-view.js';
import { formatAddress } from '../core/errors.js';
import { defaultPort, parseInteger } from '../core/options.js';
import type { Output } from '../core/output.js';
import { addTraceOptions, tracerFor, type TraceOptions } from '../core/trace.js';
import { parseName } from '../tcp/chat-commands.js';
import { MAX_NAME_CHARS } from '../tcp/chat-protocol.js';
import { logUdpChatServer, udpChatTotals } from './chat-log.js';
import { MEMBER_TIMEOUT_MS, startUdpChatServer } from './chat-server.js';
import { runUdpChatSession } from './chat-session.js';
import { addImpairmentOptions, announceImpairment, impairmentFrom, type ImpairmentOptions } from './impairment-options.js';
import { openUdpClient } from './udp-client.js';

interface ServeOptions extends ImpairmentOptions, TraceOptions {
  host: string;
  port: number;
  quiet?: boolean;
  memberTimeout: number;
}

interface ConnectOptions extends TraceOptions {
  host: string;
  port: number;
  name?: string;
}

export function udpChatCommand(): Command {
  const cmd = new Command('udp-chat').description('lesson 03: a chat over UDP (members, heartbeats, numbered datagrams)');

  const serve = new Command('serve').description('relay each member\'s messages to the others; expire the silent');
  addTraceOptions(addAddressOptions(serve, 'udp-chat', 'server'))
    .addOption(new Option('--quiet', 'log joins, leaves and renames, not every message'))
    .addOption(
      new Option('--member-timeout <seconds>', 'forget a member not heard from this long, 1 to 3600')
        .default(MEMBER_TIMEOUT_MS / 1000)
        .argParser(argParser((v) => parseInteger('--member-timeout', v, 1, 3600))),
    );
  addImpairmentOptions(serve, ['drop', 'duplicate'], 'a relayed message')
    .addHelpText(
      'after',
      `
Join with netlab udp-chat connect, or by hand with nc:
  printf '%-64s' 'JOIN bob' | nc -u -w1 127.0.0.1 ${defaultPort('udp-chat')}
(padded with spaces: a new address gets back no more bytes than it sent)

Examples:
  netlab udp-chat serve                          listen on 127.0.0.1:${defaultPort('udp-chat')}
  netlab udp-chat serve --member-timeout 3       expire silent members after 3 s
  netlab udp-chat serve --drop 30%               lose messages, see the gaps
  netlab udp-chat serve --drop 30% --trace       whose copy was lost, in hex`,
    )
    .action((opts: ServeOptions, command: Command) => serveUdpChat(opts, outputFor(command)));

  const connect = new Command('connect').description('join a UDP chat: type to talk, /help for commands');
  addTraceOptions(addAddressOptions(connect, 'udp-chat', 'client'))
    .addOption(
      new Option('--name <name>', `your name in the chat (up to ${MAX_NAME_CHARS} letters, digits, - _ .)`).argParser(argParser(parseName)),
    )
    .addHelpText(
      'after',
      `
Type a line to send it to everyone; /help lists the commands.
/quit, Ctrl+D or Ctrl+C leave.

Examples:
  netlab udp-chat connect --name alice
  netlab udp-chat connect --name alice --trace   JOIN, BEAT, replies in hex
  printf 'hello\\n' | netlab udp-chat connect --name bot`,
    )
    .action((opts: ConnectOptions, command: Command) => connectUdpChat(opts, outputFor(command)));

  return cmd
    .addCommand(serve)
    .addCommand(connect)
    .addHelpText('after', '\nExamples:\n  netlab udp-chat serve\n  netlab udp-chat connect --name alice      (in a second terminal)');
}

async function serveUdpChat(opts: ServeOptions, output: Output): Promise<void> {
  const memberTimeoutMs = opts.memberTimeout * 1000;
  const impairment = impairmentFrom(opts);
  const trace = tracerFor(opts, output);
  const server = await startUdpChatServer({ host: opts.host, port: opts.port, memberTimeoutMs, impairment, trace }).catch((err: unknown) => {
    throw networkError(err, { operation: 'listen', host: opts.host, port: opts.port });
  });
  // Before the listening line: see untilInterrupted.
  const stopped = untilInterrupted(output, () => server.close());
  output.event(`udp-chat server listening on ${formatAddress(server.host, server.port)}`);
  announceReach(output, server.host, server.port, 'netlab udp-chat connect');
  announceImpairment(output, impairment, opts.seed !== undefined, ' for messages');
  logUdpChatServer(server, output, { quiet: opts.quiet, memberTimeoutMs });
  const endCount = showLiveCount(output, server, ['join', 'leave', 'message'], () => `${server.online} online · ${count(server.totals.messages, 'message')}`);

  await stopped;
  endCount();
  output.event(`udp-chat server stopped · ${udpChatTotals(server.totals)}`);
}

async function connectUdpChat(opts: ConnectOptions, output: Output): Promise<void> {
  const serveCommand = `netlab udp-chat serve${opts.port === defaultPort('udp-chat') ? '' : ` --port ${opts.port}`}`;
  const trace = tracerFor(opts, output);
  const client = await openUdpClient({ host: opts.host, port: opts.port, trace }).catch((err: unknown) => {
    throw networkError(err, { operation: 'connect', host: opts.host, port: opts.port, serveCommand });
  });
  holdClientInterrupts();
  output.note(`chatting with ${client.remote} from port ${client.localPort}; /quit or Ctrl+D leaves`);
  await runUdpChatSession(client, output, { name: opts.name, serveCommand });
}
