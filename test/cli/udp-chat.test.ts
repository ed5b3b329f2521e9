/**
 * `netlab udp-chat serve` and `netlab udp-chat connect`, the built binary as a student runs it
 * (lesson 03): a piped client, a server that stops or crashes and comes back, a server that is
 * not there, and usage errors.
 */
import { describe, expect, it } from 'vitest';
import { STACK_FRAME, freePort, lines, runCli, startCli, type Spawned } from './run-cli.js';

const LISTENING_LINE = /^udp-chat server listening on 127\.0\.0\.1:(\d+)$/;

/** A running `netlab udp-chat serve --port PORT EXTRA…` and the port its first line announced. */
async function startChatServer(extraArgs: readonly string[] = [], port = 0): Promise<{ port: number; proc: Spawned }> {
  const proc = startCli(['udp-chat', 'serve', '--port', String(port), ...extraArgs]);
  const [firstLine = ''] = await proc.waitForStdout(/^.*\n/);
  const match = LISTENING_LINE.exec(firstLine.trimEnd());
  if (!match) throw new Error(`the server's first stdout line is not the listening line.\n${proc.describe()}`);
  return { port: Number(match[1]), proc };
}

describe('udp-chat connect', () => {
  it('joins under --name, sends each piped line, leaves with QUIT and exits 0 after the BYE', async () => {
    const server = await startChatServer();
    const listener = startCli(['udp-chat', 'connect', '--port', String(server.port), '--name', 'alice'], { holdStdin: true });
    await listener.waitForStdout(/welcome, alice/);

    const { code, stdout, stderr } = await runCli(['udp-chat', 'connect', '--port', String(server.port), '--name', 'bot'], {
      input: 'hello from a script\n/who\n',
    });
    expect(code, stderr).toBe(0);
    expect(lines(stdout)).toEqual([
      '< *** welcome, bot (2 online)',
      '> hello from a script',
      '> /who',
      '< *** online: alice, bot',
      '< *** bye',
    ]);
    expect(stderr).toMatch(/^chatting with 127\.0\.0\.1:\d+ from port \d+; \/quit or Ctrl\+D leaves$/m);
    expect(stderr).toMatch(/^left · sent \d+ datagrams, received \d+$/m);

    await listener.waitForStdout(/< \*\*\* bot left \(quit\)/);
    expect(listener.stdout).toContain('< bot: hello from a script\n');
    await server.proc.waitForStdout(/bot left \(quit\) · 1 online/);
    expect(server.proc.stdout).toMatch(/^\[127\.0\.0\.1:\d+\] bot: hello from a script → 1 member$/m);

    listener.endInput();
    expect((await listener.waitForExit()).code).toBe(0);
    server.proc.kill('SIGINT');
    const stopped = await server.proc.waitForExit();
    expect(stopped.code).toBe(0);
    expect(lines(stopped.stdout).at(-1)).toBe('udp-chat server stopped · 2 joined, 1 message, 1 delivery');
  });

  it('tells its clients BYE on Ctrl+C; they say the server stopped and exit 1', async () => {
    const server = await startChatServer();
    const client = startCli(['udp-chat', 'connect', '--port', String(server.port), '--name', 'alice'], { holdStdin: true });
    await client.waitForStdout(/welcome, alice/);
    server.proc.kill('SIGINT');
    expect((await server.proc.waitForExit()).code).toBe(0);
    const done = await client.waitForExit();
    expect(done.code).toBe(1);
    expect(done.stdout).toContain('< *** bye');
    expect(done.stderr).toMatch(/^error: the server at 127\.0\.0\.1:\d+ stopped \(it said BYE\)\.$/m);
    expect(done.stderr).not.toMatch(STACK_FRAME);
  });

  it('notices a server that crashed, and joins the new one on the same port by itself', async () => {
    const first = await startChatServer(['--member-timeout', '1']);
    const client = startCli(['udp-chat', 'connect', '--port', String(first.port), '--name', 'alice'], { holdStdin: true });
    await client.waitForStdout(/welcome, alice/);
    first.proc.kill('SIGKILL'); // no BYE: as far as the client can tell, nothing happened
    await first.proc.waitForExit();

    const second = await startChatServer(['--member-timeout', '1'], first.port);
    await client.waitForStderr(/nothing from the server for \d+ s: it stopped, or forgot us; sending JOIN with each heartbeat/);
    await second.proc.waitForStdout(/alice joined \(1 online\)/);
    await client.waitForStdout(/welcome, alice \(1 online\)[\s\S]*welcome, alice \(1 online\)/);
    client.write('back again\n');
    client.endInput();
    expect((await client.waitForExit()).code).toBe(0);
    await second.proc.stop();
  });

  it('gives up after three JOINs nobody answers: one sentence, a hint, exit 1', async () => {
    const port = await freePort();
    const { code, stderr } = await runCli(['udp-chat', 'connect', '--port', String(port)]);
    expect(code).toBe(1);
    expect(stderr.match(/sending JOIN again \(UDP may have lost one of them\)/g)).toHaveLength(2);
    expect(stderr).toContain(`error: no answer from 127.0.0.1:${port} to 3 JOINs.`);
    expect(stderr).toContain(`hint: is the server running? Start it with \`netlab udp-chat serve --port ${port}\`.`);
    expect(stderr).not.toMatch(STACK_FRAME);
  });
});

describe('udp-chat usage errors', () => {
  it.each([
    [['serve', '--member-timeout', '0'], '--member-timeout must be a whole number from 1 to 3600'],
    [['serve', '--drop', '2'], '--drop must be a probability from 0 to 1'],
    [['serve', '--reorder', '0.1'], "unknown option '--reorder'"],
    [['connect', '--name', 'two words'], '--name: a name has only letters'],
    [['connect', '--port', '0'], '--port must be a whole number from 1 to 65535'],
  ])('netlab udp-chat %j exits 2 and names what is accepted', async (args, message) => {
    const { code, stderr } = await runCli(['udp-chat', ...args]);
    expect(code).toBe(2);
    expect(stderr).toContain(message);
  });
});
