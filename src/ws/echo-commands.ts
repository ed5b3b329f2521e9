/**
 * `netlab ws-echo serve` and `netlab ws-echo connect` (lesson 04): options in, modules started,
 * their events out as lines. The server is echo-server.ts on ws-listener.ts, the client
 * ws-client.ts with connect-session.ts; `netlab ws-handshake` is handshake-command.ts.
 */
import { Command, Option } from 'commander';
import { addAddressOptions, announceReach, argParser, holdClientInterrupts, networkError, outputFor, untilInterrupted } from '../core/commands.js';
import { UsageError, formatAddress } from '../core/errors.js';
import { defaultPort, parseInteger } from '../core/options.js';
import type { Output } from '../core/output.js';
import { addTraceOptions, tracerFor, type TraceOptions } from '../core/trace.js';
import { count, visible } from '../core/text-view.js';
import { runWsSession } from './connect-session.js';
import { logWsEchoServer } from './echo-log.js';
import { startWsEchoServer } from './echo-server.js';
import { HANDSHAKE_TIMEOUT_MS, openWsClient, urlAddress } from './ws-client.js';
import { HEARTBEAT_INTERVAL_MS, MAX_MESSAGE_BYTES, type WsListenerOptions } from './ws-listener.js';
import { ANY_ORIGIN } from './origin-policy.js';

/** The WebSocket path of netlab's servers unless --path says otherwise. */
export const DEFAULT_WS_PATH = '/ws';
const MAX_MESSAGE_LIMIT_BYTES = 16 * 1024 * 1024;

/** The options every WebSocket lab's `serve` takes (addAddressOptions, addWsListenerOptions). */
export interface WsServeOptions extends TraceOptions {
  host: string;
  port: number;
  path: string;
  allowOrigin: string[];
  heartbeat: number;
  maxMessage: number;
  quiet?: boolean;
}

interface ConnectOptions extends TraceOptions {
  origin?: string;
  header: string[];
  subprotocol: string[];
  timeout: number;
  binary?: boolean;
}

export function wsEchoCommand(): Command {
  const cmd = new Command('ws-echo').description('lesson 04: a WebSocket echo server, its browser page, and a client (ws)');

  const serve = new Command('serve').description('echo every WebSocket message; serve the echo page at /');
  addWsListenerOptions(addAddressOptions(serve, 'ws-echo', 'server'))
    .addOption(
      new Option('--max-message <bytes>', `largest message, 1 to ${MAX_MESSAGE_LIMIT_BYTES}; a bigger one closes 1009`)
        .default(MAX_MESSAGE_BYTES)
        .argParser(argParser((v) => parseInteger('--max-message', v, 1, MAX_MESSAGE_LIMIT_BYTES))),
    )
    .addOption(new Option('--quiet', 'log connections and closes, not every message'))
    .addHelpText(
      'after',
      `
Examples:
  netlab ws-echo serve                       ws://127.0.0.1:${defaultPort('ws-echo')}/ws, page at http://127.0.0.1:${defaultPort('ws-echo')}/
  netlab ws-echo serve --max-message 1024    close 1009 for anything bigger
  netlab ws-echo serve --allow-origin http://localhost:3000
  netlab ws-echo serve --trace               the handshake, and every frame`,
    )
    .action((opts: WsServeOptions, command: Command) => serveWsEcho(opts, outputFor(command)));

  const connect = new Command('connect')
    .description('connect to a WebSocket server: send each line, show what comes back')
    .argument('[url]', 'the server', argParser(parseWsUrl), `ws://127.0.0.1:${defaultPort('ws-echo')}${DEFAULT_WS_PATH}`)
    .addOption(new Option('--origin <origin>', 'send this Origin header, as a page from that origin would').argParser(argParser(parseOriginHeader)))
    .addOption(new Option('--header <header>', 'an extra request header, "Name: value" (repeatable)').default([]).argParser(collect(parseHeader)))
    .addOption(new Option('--subprotocol <name>', 'ask for this subprotocol (repeatable)').default([]).argParser(collect(parseToken)))
    .addOption(
      new Option('--timeout <ms>', 'how long the server has to answer the handshake, 1 to 60000')
        .default(HANDSHAKE_TIMEOUT_MS)
        .argParser(argParser((v) => parseInteger('--timeout', v, 1, 60_000))),
    )
    .addOption(new Option('--binary', 'send each line as a binary message instead of text'));
  addTraceOptions(connect)
    .addHelpText(
      'after',
      `
Each line you type is one message; "exit", Ctrl+D or Ctrl+C close the connection.
Piped input is sent line by line:  printf 'a\\nb\\n' | netlab ws-echo connect

Examples:
  netlab ws-echo connect
  netlab ws-echo connect ws://192.168.1.20:${defaultPort('ws-echo')}/ws
  netlab ws-echo connect --origin http://evil.example    see the server refuse it
  netlab ws-echo connect --trace                         the handshake, and every frame`,
    )
    .action((url: string, opts: ConnectOptions, command: Command) => connectWsEcho(url, opts, outputFor(command)));

  return cmd
    .addCommand(serve)
    .addCommand(connect)
    .addHelpText('after', '\nExamples:\n  netlab ws-echo serve\n  netlab ws-echo connect      (in a second terminal, or open the page)');
}

async function serveWsEcho(opts: WsServeOptions, output: Output): Promise<void> {
  const server = await startWsEchoServer({ ...wsListenerSettings(opts, output), maxMessageBytes: opts.maxMessage }).catch((err: unknown) => {
    throw networkError(err, { operation: 'listen', host: opts.host, port: opts.port });
  });
  // Before the listening line: see untilInterrupted.
  const stopped = untilInterrupted(output, () => server.close());
  announceWsServer(output, 'ws-echo', server, opts);
  logWsEchoServer(server, output, { quiet: opts.quiet });

  await stopped;
  const { connections, messages } = server.totals;
  output.event(`ws-echo server stopped · ${count(connections, 'connection')}, ${count(messages, 'message')} echoed`);
}

async function connectWsEcho(url: string, opts: ConnectOptions, output: Output): Promise<void> {
  const { host, port } = urlAddress(url);
  const serveCommand = `netlab ws-echo serve${port === defaultPort('ws-echo') ? '' : ` --port ${port}`}`;
  const headers = Object.fromEntries(opts.header.map((header) => splitHeader(header)));
  const tracer = tracerFor(opts, output);
  const client = await openWsClient({ url, origin: opts.origin, headers, protocols: opts.subprotocol, handshakeTimeoutMs: opts.timeout, tracer }).catch(
    (err: unknown) => {
      throw networkError(err, { operation: 'connect', host, port, serveCommand });
    },
  );
  const protocol = client.protocol ? `, subprotocol ${client.protocol}` : '';
  holdClientInterrupts();
  output.note(`connected to ${url} (101 Switching Protocols${protocol}); Ctrl+D quits`);
  await runWsSession(client, output, { binary: opts.binary, serveCommand });
}

/** --path, --allow-origin, --heartbeat and --trace: what the server of every WebSocket lab takes. */
export function addWsListenerOptions(cmd: Command): Command {
  return addTraceOptions(cmd)
    .addOption(new Option('--path <path>', 'the path that takes WebSockets').default(DEFAULT_WS_PATH).argParser(argParser(parseWsPath)))
    .addOption(
      new Option('--allow-origin <origin>', 'also accept WebSockets from pages of this origin (repeatable; * for any)')
        .default([])
        .argParser(collect(parseOrigin)),
    )
    .addOption(
      new Option('--heartbeat <seconds>', 'ping every client this often; end those that do not answer, 1 to 3600')
        .default(HEARTBEAT_INTERVAL_MS / 1000)
        .argParser(argParser((v) => parseInteger('--heartbeat', v, 1, 3600))),
    );
}

/** What every WebSocket lab's server takes from its options (addWsListenerOptions). */
export function wsListenerSettings(opts: WsServeOptions, output: Output): Omit<WsListenerOptions, 'lab'> {
  return {
    host: opts.host,
    port: opts.port,
    path: opts.path,
    allowOrigins: opts.allowOrigin,
    heartbeatIntervalMs: opts.heartbeat * 1000,
    tracer: tracerFor(opts, output),
  };
}

/**
 * The first lines of every WebSocket lab's server: where it listens (the line scripts parse),
 * what students type to reach it with --host 0.0.0.0, and the origins it accepts besides its own.
 */
export function announceWsServer(
  output: Output,
  lab: 'ws-echo' | 'ws-chat',
  server: { host: string; port: number; url: string; pageUrl: string },
  opts: { path: string; allowOrigin: readonly string[] },
): void {
  output.event(`${lab} server listening on ${formatAddress(server.host, server.port)} · ${server.url} · ${server.pageUrl}`);
  announceReach(output, server.host, server.port, (address) => {
    const where = formatAddress(address, server.port);
    return `netlab ${lab} connect ws://${where}${opts.path}, or open http://${where}/`;
  });
  if (opts.allowOrigin.length > 0) output.note(`also accepting pages from: ${opts.allowOrigin.join(', ')}`);
}

/** A ws:// or wss:// URL; anything else is a usage error that shows the form. */
export function parseWsUrl(value: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'ws:' && url.protocol !== 'wss:')) {
    throw new UsageError(`the URL must start with ws:// or wss://, such as ws://127.0.0.1:${defaultPort('ws-echo')}/ws, not "${value}".`);
  }
  return url.href;
}

/** --path: an absolute path of plain characters, not one of the page's own files. */
export function parseWsPath(value: string): string {
  if (!/^\/[A-Za-z0-9._~\/-]{1,100}$/.test(value) || /\.(html|js|css)$/.test(value)) {
    throw new UsageError(`--path must be a path such as /ws: a "/" and up to 100 letters, digits, . _ ~ - or /, not "${value}".`);
  }
  return value;
}

/** --allow-origin: `*`, or an origin as a browser sends it (scheme://host[:port], no path). */
export function parseOrigin(value: string): string {
  if (value === ANY_ORIGIN) return value;
  try {
    const url = new URL(value);
    if ((url.protocol === 'http:' || url.protocol === 'https:') && url.origin === value) return value;
  } catch {
    // fall through to the usage error
  }
  throw new UsageError(`--allow-origin must be an origin such as http://localhost:3000 (no path, no trailing /) or *, not "${value}".`);
}

/** An HTTP header value as netlab sends one: visible ASCII and spaces (RFC 9110, section 5.5). */
const HEADER_VALUE = /^[\x20-\x7e]*$/;

function parseHeader(value: string): string {
  const [name, headerValue] = splitHeader(value);
  if (!value.includes(':') || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) || !HEADER_VALUE.test(headerValue)) {
    throw new UsageError(`--header must be "Name: value" in plain ASCII, such as "X-Student: 42", not "${visible(value)}".`);
  }
  return value;
}

/**
 * --origin: any value a page could send, for experiments (`null` is what a file:// page sends),
 * but one header line of plain ASCII: no line break may smuggle in a second header.
 */
export function parseOriginHeader(value: string): string {
  if (value === '' || !HEADER_VALUE.test(value)) {
    throw new UsageError(`--origin must be one line of plain ASCII, such as http://evil.example, not "${visible(value)}".`);
  }
  return value;
}

function splitHeader(header: string): [string, string] {
  const colon = header.indexOf(':');
  return colon < 0 ? [header, ''] : [header.slice(0, colon).trim(), header.slice(colon + 1).trim()];
}

function parseToken(value: string): string {
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(value)) throw new UsageError(`--subprotocol must be a single word such as chat, not "${value}".`);
  return value;
}

/** A repeatable option: each value parsed (a bad one is a usage error), then added to the list. */
export function collect<T>(parse: (value: string) => T): (value: string, previous: T[]) => T[] {
  const parseOne = argParser(parse);
  return (value, previous) => [...previous, parseOne(value)];
}
