/**
 * `netlab tcp-echo serve` and `netlab tcp-echo connect` (lesson 01): options in, modules
 * started, their events out as lines. The socket work is in echo-server.ts and tcp-client.ts.
 */
import { Command, Option } from 'commander';
import { addAddressOptions, announceReach, networkError, outputFor, untilInterrupted } from '../core/commands.js';
import { NetlabError, formatAddress, type ErrorContext } from '../core/errors.js';
import { defaultPort } from '../core/options.js';
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

interface ServeOptions {
  host: string;
  port: number;
  oneAtATime?: boolean;
  quiet?: boolean;
}

interface ConnectOptions {
  host: string;
  port: number;
}

/** The `tcp-echo` command and its verbs. */
export function tcpEchoCommand(): Command {
  const cmd = new Command('tcp-echo').description('lesson 01: a TCP echo server and client (node:net)');

  const serve = new Command('serve').description('echo every byte each client sends back to it');
  addAddressOptions(serve, 'tcp-echo', 'server')
    .addOption(new Option('--one-at-a-time', 'serve one client at a time, like a sequential accept loop'))
    .addOption(new Option('--quiet', 'log connections only, not every read'))
    .addHelpText(
      'after',
      `
Examples:
  netlab tcp-echo serve                      listen on 127.0.0.1:${defaultPort('tcp-echo')}
  netlab tcp-echo serve --port 0             any free port (printed on the first line)
  netlab tcp-echo serve --one-at-a-time      see why a sequential server stalls everyone
  netlab tcp-echo serve --host 0.0.0.0       let the whole classroom connect`,
    )
    .action((opts: ServeOptions, command: Command) => serveEcho(opts, outputFor(command)));

  const connect = new Command('connect').description('send lines to an echo server and print what comes back');
  addAddressOptions(connect, 'tcp-echo', 'client')
    .addHelpText(
      'after',
      `
Type a line and press Enter to send it; "exit", Ctrl+D or Ctrl+C quit.
Piped input is sent line by line:  printf 'a\\nb\\n' | netlab tcp-echo connect

Examples:
  netlab tcp-echo connect
  netlab tcp-echo connect --host 192.168.1.20 --port 12345`,
    )
    .action((opts: ConnectOptions, command: Command) => connectEcho(opts, outputFor(command)));

  return cmd
    .addCommand(serve)
    .addCommand(connect)
    .addHelpText('after', `\nExamples:\n  netlab tcp-echo serve\n  netlab tcp-echo connect      (in a second terminal)`);
}

async function serveEcho(opts: ServeOptions, output: Output): Promise<void> {
  const server = await startEchoServer({ host: opts.host, port: opts.port, oneAtATime: opts.oneAtATime }).catch(
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
  const client = await connectTcp({ host: opts.host, port: opts.port }).catch((err: unknown) => {
    throw networkError(err, ctx);
  });
  output.note(`connected to ${client.remote} from ${client.local}; "exit" or Ctrl+D quits`);
  const echoed = new EchoWatch(client);
  await runClientSession(client, output, ctx, {
    isExit: (line) => line.trim() === 'exit',
    // Piped input goes one line per echo, so a scripted run reads like a person typing.
    afterSend: async (interactive) => {
      // (A closed connection is reported by the session itself, not as a missing echo.)
      if (!interactive && !(await echoed.all(ECHO_WAIT_MS)) && client.writable) {
        output.note(`no echo within ${ECHO_WAIT_MS / 1000} s; sending the next line anyway`);
      }
    },
    // Wait for the outstanding echo, send FIN, and wait for the server's.
    leave: async () => {
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
