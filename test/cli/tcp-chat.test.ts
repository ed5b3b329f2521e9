/**
 * `netlab tcp-chat serve` and `netlab tcp-chat connect`, the built binary as a student runs it
 * (lesson 02): a piped client, raw sockets speaking the protocol the way nc does, the server's
 * log, Ctrl+C, usage errors and a refused connection.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { rename, welcomed, type ChatPeer } from '../tcp/chat-support.js';
import { STACK_FRAME, connectRaw, freePort, lines, runCli, startCli, type RunOptions, type Spawned } from './run-cli.js';

const LISTENING_LINE = /^tcp-chat server listening on 127\.0\.0\.1:(\d+)$/;
const PEER = String.raw`\[127\.0\.0\.1:\d+\]`;

/** A running `netlab tcp-chat serve --port 0 EXTRA…` and the port its first line announced. */
async function startChatServer(extraArgs: readonly string[] = [], options: RunOptions = {}): Promise<{ port: number; proc: Spawned }> {
  const proc = startCli(['tcp-chat', 'serve', '--port', '0', ...extraArgs], options);
  const [firstLine = ''] = await proc.waitForStdout(/^.*\n/);
  const match = LISTENING_LINE.exec(firstLine.trimEnd());
  if (!match) throw new Error(`the server's first stdout line is not the listening line.\n${proc.describe()}`);
  return { port: Number(match[1]), proc };
}

/** A raw socket in the room (destroyed when the test finishes), once it has its welcome. */
async function joinRaw(port: number): Promise<ChatPeer> {
  return welcomed(await connectRaw(port));
}

describe('tcp-chat connect with piped input', () => {
  it('joins under --name, sends each line, prints the bye, and exits 0 once the server has closed', async () => {
    const server = await startChatServer();
    const room = await joinRaw(server.port);

    const { code, stdout, stderr, drained } = await runCli(['tcp-chat', 'connect', '--port', String(server.port), '--name', 'bot'], {
      input: 'hello\n',
      reportDrain: true,
    });
    expect(code, stderr).toBe(0);
    const out = lines(stdout);
    expect(out).toContain('> hello');
    expect(out.at(-1)).toBe('< *** bye');
    expect(out).toContain('< *** guest-2 is now bot');
    expect(stderr).toMatch(new RegExp(`^connected to 127\\.0\\.0\\.1:${server.port}`, 'm'));
    expect(stderr).toMatch(/^disconnected · sent \d+ bytes, received \d+ bytes$/m);
    expect(stderr).not.toContain('error:');
    expect(drained, 'the event loop emptied by itself at the end').toBe(true);

    await room.waitForLine('*** bot left (quit) · 1 online');
    expect(room.lines[0]).toMatch(/^\*\*\* welcome, guest-1! no one else is here yet; /);
    expect(room.lines.slice(1)).toEqual([
      '*** guest-2 joined (2 online)',
      '*** guest-2 is now bot',
      'bot: hello',
      '*** bot left (quit) · 1 online',
    ]);
  });

  it('shows what other clients send, with control characters escaped', async () => {
    const server = await startChatServer();
    const room = await joinRaw(server.port);
    const client = startCli(['tcp-chat', 'connect', '--port', String(server.port), '--name', 'bot'], { holdStdin: true });
    await room.waitForLine('*** guest-2 is now bot');
    room.send('hi \x1b[2Jbot\n');
    await client.waitForStdout(/^< guest-1: hi .*bot$/m);
    client.endInput();

    const { code, stdout } = await client.waitForExit();
    expect(code).toBe(0);
    expect(lines(stdout)).toContain(String.raw`< guest-1: hi \x1b[2Jbot`);
    expect(stdout).not.toContain('\x1b');
  });
});

describe('a raw TCP client, as nc or telnet would be', () => {
  it('is welcomed, renames itself with /nick over CRLF, and its message reaches a second client', async () => {
    const server = await startChatServer();
    const first = await joinRaw(server.port);
    expect(first.welcome).toMatch(/^\*\*\* welcome, guest-1! no one else is here yet; .*\/help/);
    const second = await joinRaw(server.port);
    expect(second.welcome).toMatch(/^\*\*\* welcome, guest-2! 1 other is here; .*\/help/);
    await first.waitForLine('*** guest-2 joined (2 online)');

    first.send('/nick alice\r\n');
    await Promise.all([first.waitForLine('*** guest-1 is now alice'), second.waitForLine('*** guest-1 is now alice')]);
    first.send('hello, is anyone there?\r\n');
    await second.waitForLine('alice: hello, is anyone there?');
    second.send('/who\n');
    await second.waitForLine('*** 2 online: alice, guest-2');
    expect(first.lines.join('\n')).not.toContain('hello, is anyone there?');
  });
});

describe('the tcp-chat server log', () => {
  /** alice joins, renames, says hi to bob and quits; resolves once the log shows the leave. */
  async function script(server: { port: number; proc: Spawned }): Promise<string[]> {
    const alice = await joinRaw(server.port);
    await rename(alice, 'alice');
    const bob = await joinRaw(server.port);
    alice.send('hi\x1b[2J\x00!\n/msg guest-2 psst\n/nick guest-9\n/quit\n');
    await bob.waitForLine('*** alice left (quit) · 1 online');
    await server.proc.waitForStdout(/alice left \(quit\) · 1 online\n/);
    return lines(server.proc.stdout);
  }

  it('shows joins, renames, messages (control bytes escaped), private messages without their text, refusals and leaves', async () => {
    const log = await script(await startChatServer());
    const expected = [
      String.raw`guest-1 joined \(1 online\)`,
      'guest-1 is now alice',
      String.raw`guest-2 joined \(2 online\)`,
      String.raw`alice: hi\\x1b\[2J\\x00! → 1 client`,
      'alice → guest-2: a private message',
      'alice: refused: .*guest-N.*',
      String.raw`alice left \(quit\) · 1 online`,
    ];
    expect(log.slice(1), log.join('\n')).toHaveLength(expected.length);
    log.slice(1).forEach((line, i) => expect(line).toMatch(new RegExp(`^${PEER} ${expected[i]}$`)));
    expect(log.join('\n')).not.toContain('psst');
    expect(log.join('\n')).not.toMatch(/[\x00\x1b]/);
  });

  it('keeps joins, renames and leaves but drops message lines with --quiet', async () => {
    const log = await script(await startChatServer(['--quiet']));
    expect(log.slice(1).map((line) => line.replace(new RegExp(`^${PEER} `), ''))).toEqual([
      'guest-1 joined (1 online)',
      'guest-1 is now alice',
      'guest-2 joined (2 online)',
      'alice left (quit) · 1 online',
    ]);
  });
});

describe('Ctrl+C on the tcp-chat server', () => {
  it('tells every client it is shutting down, prints a summary, exits 0 and leaves the port reusable at once', async () => {
    const server = await startChatServer([], { reportDrain: true });
    const alice = await joinRaw(server.port);
    const bob = await joinRaw(server.port);
    // A netlab client too, still typing (stdin open) when the server goes.
    const client = startCli(['tcp-chat', 'connect', '--port', String(server.port), '--name', 'carol'], { holdStdin: true });
    await bob.waitForLine('*** guest-3 is now carol');
    alice.send('hi\n');
    await bob.waitForLine('guest-1: hi');
    await client.waitForStdout(/^< guest-1: hi$/m);

    const { code, stdout, stderr, drained } = await server.proc.stop();
    expect(code, stderr).toBe(0);
    expect(drained, 'the event loop emptied by itself after the shutdown').toBe(true);
    for (const peer of [alice, bob]) {
      await peer.waitForEnd();
      expect(peer.lines.at(-1)).toBe('*** server shutting down');
    }
    expect(lines(stdout).at(-1)).toBe('tcp-chat server stopped · 3 joined, 1 message, 2 deliveries');
    expect(stderr).not.toMatch(STACK_FRAME);

    // The netlab client shows the notice, then says in one sentence that the server closed.
    const carol = await client.waitForExit();
    expect(lines(carol.stdout).at(-1)).toBe('< *** server shutting down');
    expect(carol.code).toBe(1);
    expect(lines(carol.stderr).filter((line) => line.startsWith('error:'))).toEqual([
      `error: the server at 127.0.0.1:${server.port} closed the connection.`,
    ]);
    expect(carol.stderr).toMatch(/^hint: .*netlab tcp-chat serve/m);

    const again = net.createServer();
    await new Promise<void>((resolve, reject) => {
      again.once('error', reject);
      again.listen(server.port, '127.0.0.1', resolve);
    });
    await new Promise((resolve) => again.close(resolve));
  });
});

describe('tcp-chat with a bad option value', () => {
  it('exits 2 for --max-line, --max-queue, --rate and --idle-timeout out of range, and a --name the server would refuse', async () => {
    const cases: Array<[args: string[], expected: string]> = [
      [['serve', '--port', '0', '--max-line', '15'], '--max-line must be a whole number from 16 to 65536, not "15"'],
      [['serve', '--port', '0', '--max-queue', '65537'], '--max-queue must be a whole number from 1 to 65536, not "65537"'],
      [['serve', '--port', '0', '--rate', '2.5'], '--rate must be a whole number from 1 to 1000, not "2.5"'],
      [['serve', '--port', '0', '--idle-timeout', '-1'], '--idle-timeout must be a whole number from 0 to 86400, not "-1"'],
      [['connect', '--port', '1', '--name', 'two words'], '--name'],
    ];
    const results = await Promise.all(cases.map(([args]) => runCli(['tcp-chat', ...args])));
    results.forEach((result, i) => {
      const [args, expected] = cases[i]!;
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(/^error: /);
      expect(result.stderr).toContain(expected);
      expect(result.stderr).not.toMatch(STACK_FRAME);
    });
  });
});

describe('tcp-chat connect to a port where nothing listens', () => {
  it('exits 1 saying nothing is listening, with a hint to start netlab tcp-chat serve', async () => {
    const port = await freePort();
    const { code, stdout, stderr } = await runCli(['tcp-chat', 'connect', '--port', String(port)]);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(new RegExp(`^error: nothing is listening on 127\\.0\\.0\\.1:${port}`, 'm'));
    expect(stderr).toMatch(new RegExp(`^hint: .*netlab tcp-chat serve --port ${port}`, 'm'));
    expect(lines(stderr).filter((line) => line.startsWith('error:'))).toHaveLength(1);
    expect(stderr).not.toMatch(STACK_FRAME);
  });
});
