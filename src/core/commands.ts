/**
 * What every lab's command layer shares: the common options and their parsers, the Output
 * built from --no-color/--verbose, turning socket errors into sentences, the classroom warning
 * for --host 0.0.0.0, and Ctrl+C handling. Like every commands file (STYLE.md habit 4) this is
 * where argv, signals and exits are allowed; the labs' modules never see them.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { NetlabError, UsageError, explainNetworkError, type ErrorContext } from './errors.js';
import { isWildcard, lanAddresses, type LanAddress } from './network-info.js';
import { defaultPort, parseHost, parseInteger, parsePort } from './options.js';
import { Output } from './output.js';
import { onInterrupt, type Interrupts } from './shutdown.js';
import { DEFAULT_HOST, type LabName } from './ports.js';

/** Exit status for a forced stop (second Ctrl+C), as shells report a SIGINT death. */
const FORCED_EXIT_CODE = 130;

/** Options every command inherits from `netlab` itself. */
export interface GlobalOptions {
  color?: boolean;
  verbose?: boolean;
}

/** Adapts a netlab parser to commander: a UsageError becomes commander's usage error (exit 2). */
export function argParser<T>(parse: (value: string) => T): (value: string) => T {
  return (value) => {
    try {
      return parse(value);
    } catch (err) {
      if (err instanceof UsageError) throw new InvalidArgumentError(err.message);
      throw err;
    }
  };
}

/**
 * `--host` and `--port` with the lab's defaults. A server may ask for port 0 (any free port);
 * a client must name the port it connects to.
 */
export function addAddressOptions(cmd: Command, lab: LabName, role: 'server' | 'client'): Command {
  const hostHelp = role === 'server' ? 'address to listen on (0.0.0.0 = every interface)' : 'server address';
  const port =
    role === 'server'
      ? new Option('--port <port>', 'port to listen on, 0 to 65535 (0 = any free port)').argParser(argParser(parsePort))
      : new Option('--port <port>', 'server port, 1 to 65535').argParser(argParser((v) => parseInteger('--port', v, 1, 65535)));
  cmd
    .addOption(new Option('--host <host>', hostHelp).default(DEFAULT_HOST).argParser(argParser(parseHost)))
    .addOption(port.default(defaultPort(lab)));
  if (role === 'client') return cmd;
  return cmd.addOption(new Option('--lan', `the whole classroom: the same as --host ${LAN_HOST}`)).hook('preAction', applyLan);
}

/** What --lan listens on: every IPv4 interface. */
export const LAN_HOST = '0.0.0.0';

/**
 * --lan is --host 0.0.0.0 by a friendlier name; beside a --host that is not every interface
 * (0.0.0.0 or ::) it is a usage error.
 */
function applyLan(cmd: Command): void {
  if (cmd.getOptionValue('lan') !== true) return;
  const host = cmd.getOptionValue('host') as string;
  if (cmd.getOptionValueSource('host') === 'cli' && !isWildcard(host)) {
    throw new UsageError(`--lan listens on every interface (--host ${LAN_HOST}); it cannot be used with --host ${host}.`);
  }
  // `--lan --host ::` asks for every interface too, IPv6 included: keep it.
  if (cmd.getOptionValueSource('host') !== 'cli') cmd.setOptionValueWithSource('host', LAN_HOST, 'implied');
}

/** The Output for this invocation, honouring --no-color, NO_COLOR and --verbose. */
export function outputFor(cmd: Command): Output {
  const globals = cmd.optsWithGlobals<GlobalOptions>();
  return new Output(
    { stdout: process.stdout, stderr: process.stderr },
    { color: globals.color === false ? false : undefined, verbose: globals.verbose === true },
  );
}

/** A socket error as a NetlabError with a sentence and a hint; unknown errors pass through. */
export function networkError(err: unknown, ctx: ErrorContext): Error {
  if (err instanceof NetlabError && err.hint) return err;
  return explainNetworkError(err, ctx) ?? (err instanceof Error ? err : new Error(String(err)));
}

/**
 * `--host 0.0.0.0` (or --lan) exposes the server to the network: say so, and print what
 * students type: `connectCommand --host ADDRESS --port PORT`, or what `connectCommand(ADDRESS)`
 * returns for a lab whose client takes a URL; one line per LAN address, naming its interface
 * when there are several (Wi-Fi and a cable, or a virtual machine's bridge). Goes to stderr so
 * the first stdout line stays the parseable "listening on" line.
 */
export function announceReach(
  output: Output,
  host: string,
  port: number,
  connectCommand: string | ((address: string) => string),
  addresses: readonly LanAddress[] = lanAddresses(),
): void {
  if (!isWildcard(host)) return;
  output.warn(`listening on every network interface: anyone on this network can connect.`);
  if (addresses.length === 0) output.note('this machine has no network address besides loopback right now.');
  for (const { address, interface: name } of addresses) {
    const command = typeof connectCommand === 'string' ? `${connectCommand} --host ${address} --port ${port}` : connectCommand(address);
    output.note(`students connect with${addresses.length > 1 ? ` (${name})` : ''}: ${command}`);
  }
}

/**
 * A chat server's live count for the instructor (status-line.ts): `render()` redrawn whenever
 * the server emits one of `events`, on terminals only. Returns what ends it, called before the
 * server's last line.
 */
export function showLiveCount(
  output: Output,
  server: { on(event: never, listener: () => void): unknown },
  events: readonly string[],
  render: () => string,
): () => void {
  const status = output.showStatus(() => `${render()} · Ctrl+C stops`);
  if (!status) return () => {};
  for (const event of events) server.on(event as never, () => status.update());
  return () => status.close();
}

/**
 * Resolves on the first Ctrl+C (or SIGTERM) after `stop()` has finished; a second Ctrl+C while
 * stopping exits at once. A server calls it before it prints its listening line: until a
 * handler is installed a SIGINT takes the default action, and one sent the moment the line
 * appears (by a script, a test, a quick hand) would kill the server without its clean stop.
 */
export function untilInterrupted(output: Output, stop: () => Promise<void>): Promise<void> {
  return new Promise((resolve, reject) => {
    const { dispose } = onInterrupt({
      graceful: () => {
        // On a terminal the ^C the user typed is echoed in front of our line: write over it.
        output.note(`${process.stderr.isTTY ? '\r' : ''}stopping… (Ctrl+C again to force)`);
        stop().then(
          () => {
            dispose();
            resolve();
          },
          (err: unknown) => {
            dispose();
            reject(err);
          },
        );
      },
      force: () => exitForced(output),
    });
  });
}

/** Ctrl+Cs that came after a client said it is connected and before its session started. */
let held: { count: number; listener: () => void } | undefined;

/**
 * A client calls this just before it says it is connected. Until then a Ctrl+C takes the
 * default action (nothing is pending); from then on it is kept for the session, which acts on
 * it as soon as it starts, so a Ctrl+C the moment the line appears still leaves cleanly.
 */
export function holdClientInterrupts(): void {
  if (held) return;
  const waiting = { count: 0, listener: () => void waiting.count++ };
  process.on('SIGINT', waiting.listener);
  process.on('SIGTERM', waiting.listener);
  held = waiting;
}

/**
 * A client's Ctrl+C: the first one leaves cleanly (`leave` flushes and closes), a second one
 * exits at once. The prompt reports a Ctrl+C typed at a terminal through `trigger`.
 */
export function onClientInterrupt(leave: () => void): Interrupts {
  const interrupts = onInterrupt({ graceful: leave, force: () => exitForced() });
  if (held) {
    const { count, listener } = held;
    held = undefined;
    process.off('SIGINT', listener);
    process.off('SIGTERM', listener);
    // After the session has finished starting: it calls this before its prompt exists.
    for (let i = 0; i < count; i++) setImmediate(interrupts.trigger);
  }
  return interrupts;
}

/**
 * A second Ctrl+C: what is written goes out, then exit at once, with the status a shell reports
 * for a death by SIGINT (or `code`, for another signal).
 */
export function exitForced(output?: Output, code = FORCED_EXIT_CODE): never {
  output?.flush();
  process.exit(code);
}
