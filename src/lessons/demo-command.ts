/**
 * `netlab demo [lab]`: each lab's scripted demo, server and clients in one terminal, for an
 * instructor at a projector (and the README's first command). Without a lab it lists them.
 */
import { Argument, Command } from 'commander';
import { outputFor } from '../core/commands.js';
import type { Output } from '../core/output.js';
import { runTcpChatDemo } from '../tcp/chat-demo.js';
import { runTcpEchoDemo } from '../tcp/echo-demo.js';
import { runUdpDemo } from '../udp/udp-demo.js';
import { runWsChatDemo } from '../ws/chat-demo.js';
import { runWsEchoDemo } from '../ws/echo-demo.js';

interface Demo {
  summary: string;
  run: (output: Output) => Promise<void>;
}

/** Every lab's demo, in course order. */
const DEMOS: Record<string, Demo> = {
  'tcp-echo': { summary: 'lesson 01: a server and a client echo lines; a byte stream; FIN', run: runTcpEchoDemo },
  'tcp-chat': { summary: 'lesson 02: three people chat; one joins late, one renames, one leaves', run: runTcpChatDemo },
  udp: { summary: 'lesson 03: datagrams keep their boundaries; a ping through a lossy network', run: runUdpDemo },
  'ws-echo': { summary: 'lesson 04: the handshake, text and binary messages, close codes', run: runWsEchoDemo },
  'ws-chat': { summary: 'lesson 05: two rooms, a private message, a server restart the clients survive', run: runWsChatDemo },
};

export function demoCommand(): Command {
  return new Command('demo')
    .description('run a lab with scripted clients in one terminal')
    .addArgument(new Argument('[lab]', 'the lab to demo').choices(Object.keys(DEMOS)))
    .addHelpText('after', '\nExamples:\n  netlab demo              list the demos\n  netlab demo tcp-echo')
    .action(async (lab: string | undefined, _opts: unknown, command: Command) => {
      const output = outputFor(command);
      if (lab === undefined) {
        output.data('Demos (run one with `netlab demo <lab>`):');
        for (const [name, demo] of Object.entries(DEMOS)) output.data(`  ${name.padEnd(10)} ${demo.summary}`);
        return;
      }
      await DEMOS[lab]!.run(output);
    });
}
