/**
 * `netlab tcp-echo serve` and `netlab tcp-echo connect` (lesson 01): options in, modules
 * started, their events out as lines. The socket work is in echo-server.ts and tcp-client.ts.
 */
import { Command, Option } from 'commander';
import { addAddressOptions, announceReach, argParser, networkError, outputFor, untilInterrupted } from '../core/commands.js';
import { addTraceOptions, tcpTap, tracerFor, type TraceOptions } from '../core/trace.js';
import { NetlabError, formatAddress, type ErrorContext } from '../core/errors.js';
import { defaultPort, parseInteger } from '../core/options.js';
import type { Output } from '../core/output.js';
import { runClientSession } from '../core/client-session.js';
import { bytes, count } from '../core/text-view.js';
import { logEchoServer } from './echo-log.js';
import { startEchoServer } from './echo-server.js';
import { connectTcp, type TcpClient } from './tcp-client.js';

/**
 * Piped input is sent one line at a time, each after the previous echo came back, so a
 * scripted run prints `> a`, `< a`, `> b`, `< b` like a person typing. This long, at most.
 */
export const ECHO_WAIT_MS = 5000;

/** After we send FIN, how long the server gets to close its side before we stop waiting. */
const CLOSE_WAIT_MS = 2000;

/**
 * --burst: piped lines are gathered into writes of at most this many bytes, so a long input is
 * sent in big writes rather than held whole in memory.
 */
export const BURST_MAX_BYTES = 64 * 1024;

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
  netlab tcp-echo serve --host 0.0.0.0       let the whole classroom connect
  netlab tcp-echo serve --trace              every read and write, in hex`,
    )
    .action((opts: ServeOptions, command: Command) => serveEcho(opts, outputFor(command)));

  const connect = new Command('connect').description('send lines to an echo server and print what comes back');
  addTraceOptions(addAddressOptions(connect, 'tcp-echo', 'client'))
    .addOption(
      new Option('--write-size <bytes>', 'write each line in pieces this big, each after the last one came back, 1 to 65536').argParser(
        argParser((v) => parseInteger('--write-size', v, 1, 65536)),
      ),
    )
    .addOption(new Option('--burst', "piped input: send the lines together, without waiting for echoes"))
    .addOption(new Option('--no-delay', "turn Nagle's algorithm off (TCP_NODELAY): small writes leave at once"))
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
  output.event(`tcp-echo server listening on ${formatAddress(server.host, server.port)}`);
  announceReach(output, server.host, server.port, 'netlab tcp-echo connect');
  if (opts.oneAtATime) output.note('serving one client at a time: the others wait until it leaves.');
  logEchoServer(server, output, { quiet: opts.quiet });

  await untilInterrupted(output, () => server.close());
  const { connections, bytesEchoed } = server.totals;
  output.event(`tcp-echo server stopped · ${count(connections, 'connection')}, ${bytes(bytesEchoed)} echoed`);
}

async function connectEcho(opts: ConnectOptions, output: Output): Promise<void> {
  const serveHint = `netlab tcp-echo serve${opts.port === defaultPort('tcp-echo') ? '' : ` --port ${opts.port}`}`;
  const ctx: ErrorContext = { operation: 'connect', host: opts.host, port: opts.port, serveCommand: serveHint };
  const tap = tcpTap(tracerFor(opts, output));
  const client = await connectTcp({ host: opts.host, port: opts.port, noDelay: !opts.delay, tap }).catch((err: unknown) => {
    throw networkError(err, ctx);
  });
  output.note(`connected to ${client.remote} from ${client.local}; "exit" or Ctrl+D quits`);
  if (opts.burst && process.stdin.isTTY) output.note('--burst groups piped lines; lines typed here go one by one.');
  const echoed = new EchoWatch(client);
  const writer = new LineWriter(client, echoed, opts);
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

/**
 * How the lines reach socket.write() (lesson 01, "TCP is a byte stream"): one write per line by
 * default; with --write-size, in pieces, each sent once the one before has come back, so the
 * pieces cannot merge on the way; with --burst, piped lines gathered into one write (or, with
 * --write-size too, into pieces written back to back, which Nagle's algorithm may merge).
 */
class LineWriter {
  private gathered: Buffer[] = [];
  private gatheredBytes = 0;

  constructor(
    private readonly client: TcpClient,
    private readonly echoed: EchoWatch,
    private readonly opts: Pick<ConnectOptions, 'writeSize' | 'burst'>,
  ) {}

  async send(text: string, interactive: boolean): Promise<void> {
    const data = Buffer.from(text);
    if (!this.opts.burst || interactive) return this.write(data, true);
    this.gathered.push(data);
    this.gatheredBytes += data.length;
    if (this.gatheredBytes >= BURST_MAX_BYTES) await this.flush();
  }

  /** Sends what --burst has gathered. */
  async flush(): Promise<void> {
    if (this.gatheredBytes === 0) return;
    const data = Buffer.concat(this.gathered);
    this.gathered = [];
    this.gatheredBytes = 0;
    await this.write(data, false);
  }

  /** Writes `data` in --write-size pieces; a burst without it in pieces of BURST_MAX_BYTES. */
  private async write(data: Buffer, waitBetweenPieces: boolean): Promise<void> {
    const size = this.opts.writeSize ?? (waitBetweenPieces ? data.length : BURST_MAX_BYTES);
    for (let at = 0; at < data.length; at += size) {
      // (No echo in time: the piece goes anyway, and leave() reports what never came back.)
      if (at > 0 && waitBetweenPieces) await this.echoed.all(ECHO_WAIT_MS);
      await this.client.send(data.subarray(at, at + size));
    }
  }
}

/** Resolves when every byte sent so far has come back (or the connection closed). */
class EchoWatch {
  private waiters: Array<() => void> = [];

  constructor(private readonly client: TcpClient) {
    const wake = () => {
      const waiting = this.waiters;
      this.waiters = [];
      for (const check of waiting) check();
    };
    client.on('data', wake);
    client.on('close', wake);
  }

  /** True once everything sent has been echoed; false after `timeoutMs` or on close. */
  all(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(this.done()), timeoutMs);
      const check = () => {
        if (this.done() || !this.client.writable) {
          clearTimeout(timer);
          resolve(this.done());
        } else {
          this.waiters.push(check);
        }
      };
      check();
    });
  }

  private done(): boolean {
    return this.client.bytesReceived >= this.client.bytesSent;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
