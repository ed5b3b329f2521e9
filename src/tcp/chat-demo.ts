/**
 * `netlab demo tcp-chat`: lesson 02 in one terminal. A chat server and three scripted
 * participants: alice and bob talk, carol joins late and renames herself, bob whispers to her,
 * alice leaves, and the server shuts down. Each line is tagged with who printed it.
 *
 * Each step waits for what it caused to arrive before the next, so the output reads the same
 * on every run. With --slow each join and each typed line waits for the pace first (demo-pace.ts).
 */
import { LineFramer } from '../core/line-framer.js';
import type { Output } from '../core/output.js';
import type { DemoPace } from '../lessons/demo-pace.js';
import { chatTotals, logChatServer } from './chat-log.js';
import { startChatServer } from './chat-server.js';
import { connectTcp, type TcpClient } from './tcp-client.js';

/** A scripted chat client that can wait for a line to arrive. */
class Participant {
  private readonly framer = new LineFramer();
  private readonly lines: string[] = [];
  private waiting: { text: string; resolve: () => void } | undefined;

  private constructor(
    readonly tag: string,
    private readonly client: TcpClient,
    private readonly output: Output,
    private readonly pace: DemoPace,
  ) {
    client.on('data', (chunk) => {
      for (const item of this.framer.push(chunk)) {
        if (item.kind !== 'line') continue;
        this.output.received(item.text, this.tag);
        this.lines.push(item.text);
        if (this.waiting && item.text.includes(this.waiting.text)) this.waiting.resolve();
      }
    });
  }

  /** Waits for the pace, connects, and resolves once the server's welcome has arrived. */
  static async join(tag: string, port: number, output: Output, pace: DemoPace): Promise<Participant> {
    await pace.step();
    const participant = new Participant(tag, await connectTcp({ host: '127.0.0.1', port }), output, pace);
    await participant.expect('welcome');
    return participant;
  }

  /** After the pace, types a line, then waits until `until` arrives at `at` (by default, this participant). */
  async say(line: string, until?: { at?: Participant; text: string }): Promise<void> {
    await this.pace.step();
    this.output.sent(line, this.tag);
    await this.client.send(`${line}\n`);
    if (until) await (until.at ?? this).expect(until.text);
  }

  /** Resolves once a line containing `text` has arrived (also if it already has). */
  expect(text: string): Promise<void> {
    if (this.lines.some((line) => line.includes(text))) return Promise.resolve();
    return new Promise((resolve) => (this.waiting = { text, resolve }));
  }

  closed(): Promise<void> {
    return this.client.whenClosed();
  }
}

export async function runTcpChatDemo(output: Output, pace: DemoPace): Promise<void> {
  const server = await startChatServer({ host: '127.0.0.1', port: 0 });
  try {
    output.event(`tcp-chat server listening on 127.0.0.1:${server.port}`, 'server');
    logChatServer(server, output, { tag: 'server' });

    const alice = await Participant.join('alice', server.port, output, pace);
    await alice.say('/nick alice', { text: 'is now alice' });
    const bob = await Participant.join('bob', server.port, output, pace);
    await bob.say('/nick bob', { at: alice, text: 'is now bob' });
    await alice.say('hi bob!', { at: bob, text: 'alice: hi bob!' });
    await bob.say('hi alice. anyone else here?', { at: alice, text: 'anyone else' });

    const carol = await Participant.join('carol', server.port, output, pace);
    await carol.say('/nick carol', { at: bob, text: 'is now carol' });
    await carol.say('/me waves', { at: bob, text: '* carol waves' });
    await bob.say('/msg carol welcome! (only you see this)', { at: carol, text: 'bob (private)' });
    await carol.say('/who', { text: 'online:' });

    await alice.say('/quit', { at: carol, text: 'alice left' });
    await alice.closed();
    await bob.expect('alice left');
    await pace.step(); // before the server shuts down
  } finally {
    await server.close();
  }
  output.event(`tcp-chat server stopped · ${chatTotals(server.room.totals)}`, 'server');
  output.note('try it in three terminals: `netlab tcp-chat serve`, then twice');
  output.note('`netlab tcp-chat connect --name NAME` (lesson 02)');
}
