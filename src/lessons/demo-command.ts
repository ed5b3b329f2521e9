/**
 * `netlab demo [lab]`: each lab's scripted demo, server and clients in one terminal, for an
 * instructor at a projector (and the README's first command). Without a lab it lists them.
 * `--slow` paces a demo for the room: it waits before each scripted step (demo-pace.ts).
 */
import { Argument, Command, Option } from 'commander';
import { argParser, outputFor } from '../core/commands.js';
import { UsageError } from '../core/errors.js';
import type { Output } from '../core/output.js';
import { runPushPullDemo } from '../push-pull/push-pull-demo.js';
import { runTcpChatDemo } from '../tcp/chat-demo.js';
import { runTcpEchoDemo } from '../tcp/echo-demo.js';
import { runUdpDemo } from '../udp/udp-demo.js';
import { runWsChatDemo } from '../ws/chat-demo.js';
import { runWsEchoDemo } from '../ws/echo-demo.js';
import { DemoPace, MAX_STEP_MS, MIN_STEP_MS, SLOW_STEP_MS, parseStepMs } from './demo-pace.js';

interface Demo {
  summary: string;
  run: (output: Output, pace: DemoPace) => Promise<void>;
}

/** Every lab's demo, in course order. */
const DEMOS: Record<string, Demo> = {
  'tcp-echo': { summary: 'lesson 01: a server and a client echo lines; a byte stream; FIN', run: runTcpEchoDemo },
  'tcp-chat': { summary: 'lesson 02: three people chat; one joins late, one renames, one leaves', run: runTcpChatDemo },
  udp: { summary: 'lesson 03: datagrams keep their boundaries; a ping through a lossy network', run: runUdpDemo },
  'ws-echo': { summary: 'lesson 04: the handshake, text and binary messages, close codes', run: runWsEchoDemo },
  'ws-chat': { summary: 'lesson 05: two rooms, a private message, a server restart the clients survive', run: runWsChatDemo },
  'push-pull': { summary: 'lesson 06: one feed, four clients: polling, long polling, SSE, WebSocket', run: runPushPullDemo },
};

interface DemoOptions {
  /** --slow: the wait before each step, in milliseconds; true for a bare --slow. */
  slow?: number | true;
}

export function demoCommand(): Command {
  return new Command('demo')
    .description('run a lab with scripted clients in one terminal')
    .addArgument(new Argument('[lab]', 'the lab to demo').choices(Object.keys(DEMOS)))
    .addOption(
      // No .preset(): commander would print it as `(preset: "1500")` after the sentence that says so.
      new Option('--slow [ms]', `wait before each step, for a projector: ${MIN_STEP_MS} to ${MAX_STEP_MS} ms (${SLOW_STEP_MS} if no value)`).argParser(
        argParser(parseSlow),
      ),
    )
    .addHelpText(
      'after',
      '\nExamples:\n  netlab demo                     list the demos\n  netlab demo tcp-echo\n  netlab demo push-pull --slow    a step every 1.5 s, for the room\n  netlab demo udp --slow 3000     a step every 3 s',
    )
    .action(async (lab: string | undefined, opts: DemoOptions, command: Command) => {
      const output = outputFor(command);
      if (lab === undefined) {
        output.data('Demos (run one with `netlab demo <lab>`):');
        for (const [name, demo] of Object.entries(DEMOS)) output.data(`  ${name.padEnd(10)} ${demo.summary}`);
        output.data(`Add --slow to pace one for a projector (a step every ${SLOW_STEP_MS / 1000} s; --slow 3000 for 3 s).`);
        return;
      }
      const pace = opts.slow === undefined ? DemoPace.FULL_SPEED : new DemoPace(opts.slow === true ? SLOW_STEP_MS : opts.slow);
      await DEMOS[lab]!.run(output, pace);
    });
}

/**
 * --slow's value. Its number is optional, so commander takes the next word for it:
 * `netlab demo --slow tcp-echo` would try "tcp-echo" as milliseconds. Say where the lab goes.
 */
function parseSlow(value: string): number {
  if (Object.hasOwn(DEMOS, value)) {
    throw new UsageError(`--slow takes a number of milliseconds, ${MIN_STEP_MS} to ${MAX_STEP_MS}, not "${value}": put the lab first, as in \`netlab demo ${value} --slow\`.`);
  }
  return parseStepMs(value);
}
