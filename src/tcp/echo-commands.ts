/**
 * `netlab tcp-echo serve` and `netlab tcp-echo connect` (lesson 01): options in, modules
 * started, their events out as lines. The socket work is in echo-server.ts and tcp-client.ts.
 */
import { Command, Option } from 'commander';
import { addAddressOptions, announceReach, argParser, holdClientInterrupts, networkError, outputFor, untilInterrupted } from '../core/commands.js';
import { addTraceOptions, tracerFor, type TraceOptions } from '../core/trace.js';
import { tcpTap } from './tcp-trace.js';
import { NetlabError, UsageError, formatAddress, type ErrorContext } from '../core/errors.js';
import { defaultPort, parseInteger } from '../core/options.js';
import type { Output } from '../core/output.js';
import { runClientSession } from '../core/client-session.js';
import { bytes, count } from '../core/text-view.js';
import { logEchoServer } from './echo-log.js';
import { startEchoServer } from './echo-server.js';
import { EchoWatch, LineWriter, MAX_WRITE_SIZE } from './echo-pacing.js';
import { connectTcp } from './tcp-client.js';

/**
 * Piped input is sent one line at a time, each after the previous echo came back, so a
 * scripted run prints `> a`, `< a`, `> b`, `< b` like a person typing. This long, at most.
 */
export const ECHO_WAIT_MS = 5000;

/** After we send FIN, how long the server gets to close its side before we stop waiting. */
const CLOSE_WAIT_MS = 2000;

interface ServeOptions extends TraceOptions {
  host: string;
  port: number;
  oneAtATime?: boolean;
  quiet?: boolean;
}

interface ConnectOptions extends TraceOptions {
  host: string;
  port: number;
  writeSize?: number;
  burst?: boolean;
  /** false with --no-delay: TCP_NODELAY on, Nagle's algorithm off. */
  delay: boolean;
}

/** The `tcp-echo` command and its verbs. */
export function tcpEchoCommand(): Command {
  const cmd = new Command('tcp-echo').description('lesson 01: a TCP echo server and client (node:net)');

  const serve = new Command('serve').description('echo every byte each client sends back to it');
  addTraceOptions(addAddressOptions(serve, 'tcp-echo', 'server'))
    .addOption(new Option('--one-at-a-time', 'serve one client at a time, like a sequential accept loop'))
    .addOption(new Option('--quiet', 'log connections only, not every read'))
    .addHelpText(
      'after',
      `
Examples:
  netlab tcp-echo serve                      listen on 127.0.0.1:${defaultPort('tcp-echo')}
  netlab tcp-echo serve --port 0             any free port (printed on the first line)
  netlab tcp-echo serve --one-at-a-time      see why a sequential server stalls everyone
  netlab tcp-echo serve --lan                let the whole classroom connect
  netlab tcp-echo serve --trace              every read and write, in hex`,
    )
    .action((opts: ServeOptions, command: Command) => serveEcho(opts, outputFor(command)));

  const connect = new Command('connect').description('send lines to an echo server and print what comes back');
  addTraceOptions(addAddressOptions(connect, 'tcp-echo', 'client'))
    .addOption(
      new Option('--write-size <bytes>', `write each line in pieces this big, each after the last one came back, 1 to ${MAX_WRITE_SIZE}`).argParser(
        argParser((v) => parseInteger('--write-size', v, 1, MAX_WRITE_SIZE)),
      ),
    )
    .addOption(new Option('--burst', "piped input: send the lines together, without waiting for echoes"))
    .addOption(new Option('--no-delay', "turn Nagle's algorithm off (TCP_NODELAY): small writes leave at once (it is on by default, as in any new socket)"))
    .addHelpText(
      'after',
      `
Type a line and press Enter to send it; "exit", Ctrl+D or Ctrl+C quit.
Piped input is sent line by line:  printf 'a\\nb\\n' | netlab tcp-echo connect
See the stream at work (lesson 01): 2 lines in 1 write, then 1 line in 3 writes:
  printf 'a\\nb\\n' | netlab tcp-echo connect --burst --trace
  printf 'hello\\n' | netlab tcp-echo connect --write-size 2 --trace

Examples:
  netlab tcp-echo connect
  netlab tcp-echo connect --host 192.168.1.20 --port 12345
  netlab tcp-echo connect --trace --no-delay    every write and read, Nagle off`,
    )
    .action((opts: ConnectOptions, command: Command) => connectEcho(opts, outputFor(command)));

  return cmd
    .addCommand(serve)
    .addCommand(connect)
    .addHelpText('after', `\nExamples:\n  netlab tcp-echo serve\n  netlab tcp-echo connect      (in a second terminal)`);
}

async function serveEcho(opts: ServeOptions, output: Output): Promise<void> {
  const tap = tcpTap(tracerFor(opts, output));
  const server = await startEchoServer({ host: opts.host, port: opts.port, oneAtATime: opts.oneAtATime, tap }).catch(
    (err: unknown) => {
      throw networkError(err, { operation: 'listen', host: opts.host, port: opts.port });
    },
  );
  // Before the listening line: see untilInterrupted.
  const stopped = untilInterrupted(output, () => server.close());
  output.event(`tcp-echo server listening on ${formatAddress(server.host, server.port)}`);
  announceReach(output, server.host, server.port, 'netlab tcp-echo connect');
  if (opts.oneAtATime) output.note('serving one client at a time: the others wait until it leaves.');
  logEchoServer(server, output, { quiet: opts.quiet });

  await stopped;
  const { connections, bytesEchoed } = server.totals;
  output.event(`tcp-echo server stopped · ${count(connections, 'connection')}, ${bytes(bytesEchoed)} echoed`);
}

async function connectEcho(opts: ConnectOptions, output: Output): Promise<void> {
  const serveHint = `netlab tcp-echo serve${opts.port === defaultPort('tcp-echo') ? '' : ` --port ${opts.port}`}`;
  const ctx: ErrorContext = { operation: 'connect', host: opts.host, port: opts.port, serveCommand: serveHint };
  if (opts.burst && process.stdin.isTTY) {
    throw new UsageError("--burst sends piped input, as in: printf 'a\\nb\\n' | netlab tcp-echo connect --burst");
  }
  const tap = tcpTap(tracerFor(opts, output));
  const client = await connectTcp({ host: opts.host, port: opts.port, noDelay: !opts.delay, tap }).catch((err: unknown) => {
    throw networkError(err, ctx);
  });
  holdClientInterrupts();
  output.note(`connected to ${client.remote} from ${client.local}; "exit" or Ctrl+D quits`);
  const echoed = new EchoWatch(client);
  const writer = new LineWriter(client, echoed, {
    writeSize: opts.writeSize,
    burst: opts.burst,
    echoWaitMs: ECHO_WAIT_MS,
    onNoEcho: () => output.note(`no echo within ${ECHO_WAIT_MS / 1000} s; sending the other pieces without waiting`),
  });
  await runClientSession(client, output, ctx, {
    isExit: (line) => line.trim() === 'exit',
    send: (text, interactive) => writer.send(text, interactive),
    // Piped input goes one line per echo, so a scripted run reads like a person typing.
    afterSend: async (interactive) => {
      if (opts.burst && !interactive) return;
      // (A closed connection is reported by the session itself, not as a missing echo.)
      if (!interactive && !(await echoed.all(ECHO_WAIT_MS)) && client.writable) {
        output.note(`no echo within ${ECHO_WAIT_MS / 1000} s; sending the next line anyway`);
      }
    },
    // Wait for the outstanding echo, send FIN, and wait for the server's.
    leave: async () => {
      await writer.flush();
      const complete = await echoed.all(ECHO_WAIT_MS);
      client.end();
      await Promise.race([client.whenClosed(), delay(CLOSE_WAIT_MS)]);
      if (!complete) {
        throw new NetlabError(
          'NETLAB_ERR_NO_ECHO',
          `${bytes(client.bytesSent - client.bytesReceived)} of what we sent never came back.`,
          'is the server an echo server? `netlab tcp-echo serve` is one.',
        );
      }
    },
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
