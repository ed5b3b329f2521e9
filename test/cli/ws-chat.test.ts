/**
 * `netlab ws-chat serve` and `netlab ws-chat connect`, the built binary as a student runs it
 * (lesson 05): the first line scripts parse, two piped clients in one room, a server restart a
 * client survives with its queued line, giving up, refusals and usage errors. Timeouts given
 * to netlab only bound runs where nothing can answer.
 */
import { describe, expect, it } from 'vitest';
import { freePort, lines, runCli, startCli, type Spawned } from './run-cli.js';

const LISTENING_LINE = /^ws-chat server listening on 127\.0\.0\.1:(\d+) · ws:\/\/127\.0\.0\.1:(\d+)\/ws · http:\/\/127\.0\.0\.1:(\d+)\/$/;

/** A running `netlab ws-chat serve --port PORT EXTRA…` and the port its first line announced. */
async function startWsChatServer(port = 0, extraArgs: readonly string[] = []): Promise<{ port: number; url: string; proc: Spawned }> {
  const proc = startCli(['ws-chat', 'serve', '--port', String(port), ...extraArgs]);
  const [firstLine = ''] = await proc.waitForStdout(/^.*\n/);
  const match = LISTENING_LINE.exec(firstLine.trimEnd());
  if (!match || match[1] !== match[2] || match[1] !== match[3]) throw new Error(`the server's first stdout line is not the listening line.\n${proc.describe()}`);
  return { port: Number(match[1]), url: `ws://127.0.0.1:${match[1]}/ws`, proc };
}

describe('ws-chat serve and connect', () => {
  it('relays a piped client to another in the same room, logs both, and everyone exits 0', async () => {
    const server = await startWsChatServer();
    const bob = startCli(['ws-chat', 'connect', server.url, '--name', 'bob', '--room', 'games'], { holdStdin: true });
    await bob.waitForStdout(/you are bob in games/);
    const alice = await runCli(['ws-chat', 'connect', server.url, '--name', 'alice', '--room', 'games'], { input: 'hello bob\n/me waves\n/who\n' });
    expect(alice.code, alice.stderr).toBe(0);
    expect(lines(alice.stdout)).toEqual([
      '< *** you are alice in games · 2 here: alice, bob',
      '> hello bob',
      '> /me waves',
      '> /who',
      '< *** 2 here in games: alice, bob',
    ]);
    expect(lines(alice.stderr)).toEqual([`connected to ${server.url}; /help for commands, /quit leaves`, 'left · sent 3 messages, received 6']);
    await bob.waitForStdout(/alice left games/);
    bob.endInput();
    const bobExit = await bob.exited;
    expect(bobExit.code, bobExit.stderr).toBe(0);
    expect(lines(bobExit.stdout)).toEqual([
      '< *** you are bob in games · 1 here: bob',
      '< *** alice joined games (2 here)',
      '< alice: hello bob',
      '< * alice waves',
      '< *** alice left games (left) · 1 here',
    ]);

    const { code, stdout } = await server.proc.stop();
    expect(code).toBe(0);
    expect(stdout).toMatch(/^\[127\.0\.0\.1:\d+\] games · alice: hello bob → 2 connections$/m);
    expect(lines(stdout).at(-1)).toBe('ws-chat server stopped · 2 connections, 2 joins, 2 messages, 4 deliveries');
  });

  it('keeps a client through a server restart: it reconnects, rejoins, and sends the line typed meanwhile', async () => {
    const first = await startWsChatServer();
    const alice = startCli(['ws-chat', 'connect', first.url, '--name', 'alice', '--room', 'games'], { holdStdin: true });
    await alice.waitForStdout(/you are alice in games/);
    await first.proc.stop();
    await alice.waitForStderr(/connection lost: 1001 \(going away\) "server shutting down"\nreconnecting in \d\.\d s \(attempt 1\)/);
    alice.write('typed while the server was down\n');
    await alice.waitForStderr(/not connected: queued \(1 waiting\), sent once we are back/);

    const second = await startWsChatServer(first.port);
    await alice.waitForStderr(/reconnected \(attempt \d+\); rejoining games as alice\n(?:.*\n)*sent 1 queued message/);
    await second.proc.waitForStdout(/games · alice: typed while the server was down → 1 connection/);
    alice.endInput();
    const exit = await alice.exited;
    expect(exit.code, exit.stderr).toBe(0);
    expect(lines(exit.stderr).at(-1)).toBe('left · sent 1 message, received 7, reconnected once');
    await second.proc.stop();
  });

  it('gives up after --max-retries attempts, with a sentence and a hint, exit 1', async () => {
    const server = await startWsChatServer();
    const alice = startCli(['ws-chat', 'connect', server.url, '--max-retries', '1'], { holdStdin: true });
    await alice.waitForStdout(/you are guest-1 in lobby/);
    await server.proc.stop();
    const exit = await alice.exited;
    expect(exit.code).toBe(1);
    expect(lines(exit.stderr).slice(-2)).toEqual([
      `error: gave up reconnecting to ${server.url} after 1 attempt (the last one: connection refused).`,
      'hint: start the server again (netlab ws-chat serve), then connect again; --max-retries sets how many attempts.',
    ]);
  });

  it('says when there is no server to connect to, or the name is taken, exit 1', async () => {
    const port = await freePort();
    const refused = await runCli(['ws-chat', 'connect', `ws://127.0.0.1:${port}/ws`]);
    expect(refused.code).toBe(1);
    expect(lines(refused.stderr)).toEqual([
      `error: nothing is listening on 127.0.0.1:${port} (connection refused).`,
      `hint: is the server running? Start it with \`netlab ws-chat serve --port ${port}\`.`,
    ]);

    const server = await startWsChatServer();
    const alice = startCli(['ws-chat', 'connect', server.url, '--name', 'alice'], { holdStdin: true });
    await alice.waitForStdout(/you are alice/);
    const taken = await runCli(['ws-chat', 'connect', server.url, '--name', 'ALICE']);
    expect(taken.code).toBe(1);
    expect(lines(taken.stderr).slice(-2)).toEqual([
      'error: the server refused to let us join: "ALICE" is taken; choose another name.',
      'hint: choose another name with --name.',
    ]);
    alice.endInput();
    await alice.exited;
    await server.proc.stop();
  });

  it.each([
    [['serve', '--rate', '0'], /--rate must be a whole number from 1 to 100000/],
    [['serve', '--max-message', '10'], /--max-message must be a whole number from 256 to 1048576/],
    [['serve', '--path', 'ws'], /--path must be a path such as \/ws/],
    [['connect', '--room', 'two words'], /--room: a room name has only letters, digits/],
    [['connect', '--room', 'r'.repeat(31)], /--room: a room name has at most 30 characters/],
    [['connect', '--name', '<img>'], /--name: a name has only letters, digits/],
    [['connect', '--max-retries', '-1'], /--max-retries must be a whole number from 0 to 1000/],
    [['connect', 'http://127.0.0.1:8001/'], /the URL must start with ws:\/\/ or wss:\/\//],
  ])('refuses ws-chat %j as a usage error (exit 2)', async (args, message) => {
    const { code, stderr } = await runCli(['ws-chat', ...args]);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });
});
