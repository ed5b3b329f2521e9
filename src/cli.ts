/**
 * The netlab command line: builds the commander program from each lab's command factory, runs
 * it, and turns the outcome into the exit code (the one place that does): 0 success, 1 a
 * runtime or network failure, 2 a usage error.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { benchCommand } from './bench/bench-command.js';
import { checkCommand } from './check/check-command.js';
import { AlreadyReported, NetlabError, UsageError, errnoCode } from './core/errors.js';
import { Output } from './core/output.js';
import { demoCommand } from './lessons/demo-command.js';
import { lessonCommand, lessonsCommand } from './lessons/lesson-command.js';
import { pushPullCommand } from './push-pull/commands.js';
import { tcpChatCommand } from './tcp/chat-commands.js';
import { tcpEchoCommand } from './tcp/echo-commands.js';
import { udpChatCommand } from './udp/chat-commands.js';
import { udpEchoCommand } from './udp/echo-commands.js';
import { wsChatCommand } from './ws/chat-commands.js';
import { wsEchoCommand } from './ws/echo-commands.js';
import { wsHandshakeCommand } from './ws/handshake-command.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** After the command finishes, how long stray handles may keep the process alive. */
const EXIT_GRACE_MS = 1000;

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

/** The whole program; each lab contributes one command. */
export function buildProgram(): Command {
  const program = new Command('netlab')
    .description('Network programming labs you run: TCP, UDP and WebSocket, from raw sockets to real-time web protocols.')
    .version(version, '-V, --version')
    .option('--no-color', 'plain output without colours (NO_COLOR=1 does the same)')
    .option('--verbose', 'more detail, and stack traces on errors')
    .addCommand(lessonsCommand())
    .addCommand(lessonCommand())
    .addCommand(demoCommand())
    .addCommand(tcpEchoCommand())
    .addCommand(tcpChatCommand())
    .addCommand(udpEchoCommand())
    .addCommand(udpChatCommand())
    .addCommand(wsEchoCommand())
    .addCommand(wsChatCommand())
    .addCommand(wsHandshakeCommand())
    .addCommand(pushPullCommand())
    .addCommand(checkCommand())
    .addCommand(benchCommand())
    .addHelpText(
      'after',
      `
Lessons: \`netlab lessons\` lists them; start with \`netlab lesson 0\`, then \`netlab lesson 1\`

Examples:
  netlab lesson 1 --step 3      one step of lesson 01, in this terminal
  netlab demo tcp-echo          a server and a client in one terminal
  netlab tcp-echo serve         lesson 01: start the echo server...
  netlab tcp-echo connect       ...and connect to it from a second terminal
  netlab tcp-chat serve         lesson 02: a chat for the whole room
  netlab udp-echo serve         lesson 03: datagrams, loss, and a ping
  netlab ws-echo serve          lesson 04: WebSocket, and a page for the browser
  netlab ws-chat serve          lesson 05: rooms, users, clients that reconnect
  netlab push-pull serve        lesson 06: one feed, polled and pushed
  netlab check tcp-echo         grade the echo server you wrote, in any language
  netlab bench tcp-chat         netlab against a minimal program doing the same job
  netlab tcp-echo serve --help  every option of a command, with examples`,
    );
  // Settings that commander copies only to subcommands made with .command(), not addCommand().
  forEachCommand(program, (cmd) =>
    cmd
      .exitOverride()
      .showHelpAfterError('(add --help for usage and examples)')
      .configureOutput({ outputError: (text, write) => write(text) }),
  );
  return program;
}

function forEachCommand(cmd: Command, visit: (cmd: Command) => void): void {
  visit(cmd);
  for (const sub of cmd.commands) forEachCommand(sub, visit);
}

/** Runs netlab with `argv` (process.argv form) and resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    // `netlab` or `netlab tcp-echo` alone: what can I do here? Help on stdout, success.
    const words = argv.slice(2).filter((word) => word !== '--no-color' && word !== '--verbose');
    const group = program.commands.find((cmd) => cmd.name() === words[0] && cmd.commands.length > 0);
    if (words.length === 0 || (words.length === 1 && group)) {
      (group ?? program).outputHelp();
      return EXIT_OK;
    }
    await program.parseAsync(argv);
    return EXIT_OK;
  } catch (err) {
    // Help and --version end with a CommanderError of exit code 0; its other errors are usage.
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    // What the command printed before it failed goes first, then the error.
    Output.flushAll();
    const output = new Output(process, { color: argv.includes('--no-color') ? false : undefined, verbose: argv.includes('--verbose') });
    if (err instanceof UsageError) {
      output.error(err.message);
      return EXIT_USAGE;
    }
    if (err instanceof AlreadyReported) return EXIT_FAILURE;
    if (err instanceof NetlabError) {
      output.error(err.message, err.hint);
    } else {
      output.error(err instanceof Error ? err.message : String(err), 'run again with --verbose to see where it happened.');
    }
    // --verbose: where it happened, and the system error underneath the sentence.
    for (let e: unknown = err; e instanceof Error; e = e.cause) output.debug(e.stack ?? e.message);
    return EXIT_FAILURE;
  }
}

/** The entry point bin/netlab.js calls. */
export function run(): void {
  // `netlab tcp-echo serve | head -1` closes the pipe after one line; a server whose reader has
  // gone keeps serving rather than dying of EPIPE at its next log line.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err) => {
      if (errnoCode(err) !== 'EPIPE') throw err;
    });
  }
  void main(process.argv).then((code) => {
    process.exitCode = code;
    // Normally the event loop is empty by now; if a stray handle keeps it alive, still exit.
    setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref();
  });
}
