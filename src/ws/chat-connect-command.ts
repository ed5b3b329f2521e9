/**
 * `netlab ws-chat connect [URL]` (lesson 05): the options, the first connection (which must
 * succeed: a server that is not there is an error, exit 1), then the session. Reconnecting is
 * for a server that was there and went away.
 */
import { Command, Option } from 'commander';
import { argParser, holdClientInterrupts, networkError, outputFor } from '../core/commands.js';
import { UsageError } from '../core/errors.js';
import { defaultPort, parseInteger } from '../core/options.js';
import type { Output } from '../core/output.js';
import { addTraceOptions, tracerFor, type TraceOptions } from '../core/trace.js';
import { parseName } from '../tcp/chat-commands.js';
import { openChatClient } from './chat-client.js';
import { DEFAULT_ROOM, MAX_NAME_CHARS, MAX_ROOM_CHARS, roomProblem } from './chat-protocol.js';
import { runChatSession } from './chat-session.js';
import { DEFAULT_WS_PATH, parseWsUrl } from './echo-commands.js';
import { HANDSHAKE_TIMEOUT_MS, urlAddress } from './ws-client.js';

/** --max-retries when stdin is not a terminal: about two minutes of backoff, then exit 1. */
export const PIPED_MAX_RETRIES = 8;

interface ConnectOptions extends TraceOptions {
  name?: string;
  room: string;
  maxRetries?: number;
  timeout: number;
}

export function connectCommand(): Command {
  const connect = new Command('connect')
    .description('join a ws-chat room: type to talk, /help for commands; reconnects on its own')
    .argument('[url]', 'the server', argParser(parseWsUrl), `ws://127.0.0.1:${defaultPort('ws-chat')}${DEFAULT_WS_PATH}`)
    .addOption(new Option('--name <name>', `your name (up to ${MAX_NAME_CHARS} letters, digits, - _ .); a guest name without it`).argParser(argParser(parseName)))
    .addOption(new Option('--room <room>', `the room to join (up to ${MAX_ROOM_CHARS} letters, digits, - _ .)`).default(DEFAULT_ROOM).argParser(argParser(parseRoom)))
    .addOption(
      new Option(
        '--max-retries <n>',
        `reconnect attempts in a row before giving up, 0 to 1000 (default: keep trying; ${PIPED_MAX_RETRIES} when input is piped)`,
      ).argParser(
        argParser((v) => parseInteger('--max-retries', v, 0, 1000)),
      ),
    )
    .addOption(
      new Option('--timeout <ms>', 'how long the server has to answer each handshake, 1 to 60000')
        .default(HANDSHAKE_TIMEOUT_MS)
        .argParser(argParser((v) => parseInteger('--timeout', v, 1, 60_000))),
    );
  return addTraceOptions(connect)
    .addHelpText(
      'after',
      `
Type a line to send it to your room; /help lists the commands (/join ROOM
changes room). If the server goes away, the client reconnects with backoff and
sends what you typed meanwhile. /quit, Ctrl+D or Ctrl+C leave.

Examples:
  netlab ws-chat connect --name alice
  netlab ws-chat connect --name bob --room games
  netlab ws-chat connect ws://192.168.1.20:${defaultPort('ws-chat')}/ws --name carol --max-retries 5
  printf 'hello from a script\\n' | netlab ws-chat connect --name bot
  netlab ws-chat connect --name dave --trace   every frame, field by field`,
    )
    .action((url: string, opts: ConnectOptions, command: Command) => connectWsChat(url, opts, outputFor(command)));
}

async function connectWsChat(url: string, opts: ConnectOptions, output: Output): Promise<void> {
  const { host, port } = urlAddress(url);
  const serveCommand = `netlab ws-chat serve${port === defaultPort('ws-chat') ? '' : ` --port ${port}`}`;
  const client = await openChatClient({
    url,
    name: opts.name,
    room: opts.room,
    // A person can see the attempts and press Ctrl+C; a script must not wait for ever.
    maxRetries: opts.maxRetries ?? (process.stdin.isTTY ? Infinity : PIPED_MAX_RETRIES),
    handshakeTimeoutMs: opts.timeout,
    tracer: tracerFor(opts, output),
  }).catch((err: unknown) => {
    throw networkError(err, { operation: 'connect', host, port, serveCommand });
  });
  holdClientInterrupts();
  output.note(`connected to ${url}; /help for commands, /quit leaves`);
  await runChatSession(client, output);
}

/** --room is checked before connecting, by the server's own rules. */
function parseRoom(value: string): string {
  const problem = [...value].length > MAX_ROOM_CHARS ? `a room name has at most ${MAX_ROOM_CHARS} characters` : roomProblem(value);
  if (problem) throw new UsageError(`--room: ${problem}.`);
  return value;
}
