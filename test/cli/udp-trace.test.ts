/**
 * `--trace` on the UDP commands, the built binary as a student runs it (lesson 03, "Watch the
 * datagrams with --trace"): each datagram on stderr with its source, destination, size and
 * dump, in causal order; the echo server's line saying what the simulated network did to the
 * reply; --trace-bytes and its usage errors; the chat's dropped and duplicated copies; and
 * stdout byte for byte what it is without --trace.
 *
 * Servers and peers the test needs but does not test run in the test process (their own
 * traces are tested in test/udp); each process start costs a few hundred milliseconds.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { joinDatagram, parseServerDatagram } from '../../src/udp/chat-protocol.js';
import { startUdpChatServer } from '../../src/udp/chat-server.js';
import { echoServer, freeUdpPort, peer, waitUntil, type Peer } from '../udp/udp-support.js';
import { STACK_FRAME, lines, runCli, startCli, type Spawned } from './run-cli.js';

/** The time column of a trace event. */
const TIME = String.raw`\+\d+\.\d{3}s`;
/** --timeout for runs where every datagram is answered: a hang guard, never reached. */
const HANG_GUARD = '5000';
/** A hex dump line, as opposed to a trace header or an ordinary message. */
const DUMP_LINE = /^ {2}[0-9a-f]{4} {2}/;

/** A regular expression for a literal string. */
const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The trace events in what a command printed: each header (time cut off) and its detail lines. */
function traceEvents(stderr: string): Array<{ header: string; details: string[] }> {
  const events: Array<{ header: string; details: string[] }> = [];
  for (const line of lines(stderr)) {
    const header = new RegExp(`^${TIME} (.*)$`).exec(line);
    if (header) events.push({ header: header[1]!, details: [] });
    else if (line.startsWith('  ') && events.length > 0) events.at(-1)!.details.push(line.slice(2));
  }
  return events;
}

/** The dump's text column for a short datagram: `|one|`. */
function textColumn(details: string[]): string {
  return details.map((line) => /\|(.*)\|$/.exec(line)?.[1] ?? '').join('');
}

/** `netlab udp-echo serve --port PORT EXTRA…`, once its first line is out. */
async function startServe(port: number, extraArgs: readonly string[] = []): Promise<Spawned> {
  const proc = startCli(['udp-echo', 'serve', '--port', String(port), ...extraArgs]);
  await proc.waitForStdout(/^udp-echo server listening on 127\.0\.0\.1:\d+\n/);
  return proc;
}

/** The port a `--port 0` server announced on its first line. */
function portOf(proc: Spawned): number {
  return Number(/listening on 127\.0\.0\.1:(\d+)/.exec(proc.stdout)![1]);
}

/** Sends each text from `client` to `port`, one after the other's echo. */
async function pingPong(client: Peer, port: number, texts: readonly string[]): Promise<void> {
  for (const text of texts) {
    const before = client.received.length;
    await client.send(text, port);
    await client.until(before + 1);
  }
}

describe('udp-echo serve --trace', () => {
  it('traces each datagram in and each reply out, source and destination, size and dump, in order', async () => {
    const server = await startServe(0, ['--trace']);
    const port = portOf(server);
    const client = await peer();
    await pingPong(client, port, ['hello', 'two words']);
    await server.waitForStderr(/datagram 9 bytes\n.*\n.*datagram 9 bytes\n.*\n/);

    const them = `127.0.0.1:${client.port}`;
    const us = `127.0.0.1:${port}`;
    expect(lines(server.stderr)).toEqual([
      expect.stringMatching(new RegExp(`^${TIME} ${literal(`${them} → ${us} datagram 5 bytes`)}$`)),
      '  0000  68 65 6c 6c 6f                                    |hello|',
      expect.stringMatching(new RegExp(`^${TIME} ${literal(`${us} → ${them} datagram 5 bytes`)}$`)),
      '  0000  68 65 6c 6c 6f                                    |hello|',
      expect.stringMatching(new RegExp(`^${TIME} ${literal(`${them} → ${us} datagram 9 bytes`)}$`)),
      '  0000  74 77 6f 20 77 6f 72 64  73                       |two words|',
      expect.stringMatching(new RegExp(`^${TIME} ${literal(`${us} → ${them} datagram 9 bytes`)}$`)),
      '  0000  74 77 6f 20 77 6f 72 64  73                       |two words|',
    ]);
    expect((await server.stop()).code).toBe(0);
  });

  it('prints the same stdout, byte for byte, as without --trace: only stderr gains lines', async () => {
    const port = await freeUdpPort();
    const client = await peer();
    const run = async (extra: string[]) => {
      const server = await startServe(port, ['--drop', '0.25', '--duplicate', '0.25', '--reorder', '0.25', '--seed', '32', ...extra]);
      const before = client.received.length;
      for (let seq = 1; seq <= 5; seq++) await client.send(`d${seq}`, port);
      await client.until(before + 5); // seed 32: d1, d2 twice, d5, then d3 (d4 lost)
      return server.stop();
    };
    const plain = await run([]);
    const traced = await run(['--trace', '--trace-bytes', '1']);
    expect(traced.code).toBe(0);
    expect(traced.stdout).toBe(plain.stdout);
    expect(lines(plain.stdout)).toContain(`[127.0.0.1:${client.port}] < 2 bytes "d4" · dropped (simulated loss)`);
    const untraced = (stderr: string) => lines(stderr).filter((line) => !new RegExp(`^(${TIME} |  )`).test(line));
    expect(untraced(traced.stderr)).toEqual(untraced(plain.stderr));
    expect(traceEvents(traced.stderr)).toHaveLength(10);
  });

  it('with a seeded network, says on each received datagram what happened to its reply; replies show when they leave', async () => {
    // Seed 32's first five fates (test/udp/echo-server.test.ts checks them): echoed, sent
    // twice, held back, dropped, echoed.
    const server = await startServe(0, ['--trace', '--drop', '0.25', '--duplicate', '0.25', '--reorder', '0.25', '--seed', '32']);
    const port = portOf(server);
    const client = await peer();
    for (let seq = 1; seq <= 5; seq++) await client.send(`d${seq}`, port);
    await client.until(5);
    await waitUntil(
      () => traceEvents(server.stderr).length === 10,
      (check) => (server.child.stderr!.on('data', check), () => server.child.stderr!.off('data', check)),
      () => `ten trace events; the server printed:\n${server.stderr}`,
    );

    const toServer = `127.0.0.1:${client.port} → 127.0.0.1:${port} datagram 2 bytes`;
    const toClient = `127.0.0.1:${port} → 127.0.0.1:${client.port} datagram 2 bytes`;
    expect(traceEvents(server.stderr).map((e) => `${e.header} ${textColumn(e.details)}`)).toEqual([
      `${toServer} d1`,
      `${toClient} d1`,
      `${toServer} · reply sent twice d2`,
      `${toClient} d2`,
      `${toClient} d2`,
      `${toServer} · reply held back (reordering) d3`,
      `${toServer} · dropped (simulated loss) d4`,
      `${toServer} d5`,
      `${toClient} d5`,
      `${toClient} d3`,
    ]);
  });

  it('says a reply was delayed, and traces it once it has waited', async () => {
    const server = await startServe(0, ['--trace', '--delay', '20']);
    const port = portOf(server);
    const client = await peer();
    await pingPong(client, port, ['late']);
    await server.waitForStderr(/→ 127\.0\.0\.1:\d+ datagram 4 bytes\n.*\|late\|\n$/);
    expect(traceEvents(server.stderr).map((e) => e.header)).toEqual([
      `127.0.0.1:${client.port} → 127.0.0.1:${port} datagram 4 bytes · reply delayed 20 ms`,
      `127.0.0.1:${port} → 127.0.0.1:${client.port} datagram 4 bytes`,
    ]);
  });
});

describe('udp-echo send --trace', () => {
  it('--burst: both datagrams leave before any reply arrives, each traced whole, and stdout is what it is without --trace', async () => {
    const server = await echoServer();
    const send = (extra: string[]) =>
      runCli(['udp-echo', 'send', '--burst', '--port', String(server.port), '--timeout', HANG_GUARD, ...extra], { input: 'one\ntwo\n' });
    const [plain, traced] = await Promise.all([send([]), send(['--trace'])]);
    expect(traced.code, traced.stderr).toBe(0);

    const rtt = (stdout: string) => stdout.replace(/ · \d+(?:\.\d+)? ms$/gm, ' · RTT');
    expect(rtt(traced.stdout)).toBe(rtt(plain.stdout));
    expect(rtt(traced.stdout)).toBe('> one\n> two\n< one · RTT\n< two · RTT\n');

    const local = /from port (\d+)/.exec(traced.stderr)![1];
    const us = `0.0.0.0:${local}`; // the client's socket is bound to any address
    const them = `127.0.0.1:${server.port}`;
    expect(traceEvents(traced.stderr)).toEqual([
      { header: `${us} → ${them} datagram 3 bytes`, details: ['0000  6f 6e 65                                          |one|'] },
      { header: `${us} → ${them} datagram 3 bytes`, details: ['0000  74 77 6f                                          |two|'] },
      { header: `${them} → ${us} datagram 3 bytes`, details: ['0000  6f 6e 65                                          |one|'] },
      { header: `${them} → ${us} datagram 3 bytes`, details: ['0000  74 77 6f                                          |two|'] },
    ]);
    expect(lines(traced.stderr).at(-1)).toBe('done · sent 2 datagrams, received 2 replies');
  });

  it('--count: traces each ping before its reply, and the ping lines on stdout are unchanged', async () => {
    const server = await echoServer();
    const ping = (extra: string[]) =>
      runCli(['udp-echo', 'send', '--port', String(server.port), '--count', '3', '--interval', '1', '--size', '16', '--timeout', HANG_GUARD, ...extra]);
    const [plain, traced] = await Promise.all([ping([]), ping(['--trace'])]);
    expect(traced.code, traced.stderr).toBe(0);
    const times = (stdout: string) => stdout.replace(/time=[\d.]+ ms/g, 'time=T').replace(/^rtt .*$/m, 'rtt');
    expect(times(traced.stdout)).toBe(times(plain.stdout));

    const events = traceEvents(traced.stderr);
    const out = events.filter((e) => e.header.startsWith('0.0.0.0:'));
    const back = events.filter((e) => e.header.startsWith('127.0.0.1:'));
    expect(out.map((e) => textColumn(e.details))).toEqual(['ping 1 abcdefghi', 'ping 2 abcdefghi', 'ping 3 abcdefghi']);
    expect(back.map((e) => textColumn(e.details)).sort()).toEqual(['ping 1 abcdefghi', 'ping 2 abcdefghi', 'ping 3 abcdefghi']);
    for (const e of events) expect(e.header).toMatch(/ datagram 16 bytes$/);
    // Each reply comes after its ping (the first event with the same bytes).
    for (const reply of back) {
      const ping = events.findIndex((e) => textColumn(e.details) === textColumn(reply.details));
      expect(events.indexOf(reply)).toBeGreaterThan(ping);
    }
  });

  it('--trace-bytes 20 cuts each dump after 20 bytes and says how many more there were', async () => {
    const server = await echoServer();
    const line = 'abcdefghijklmnopqrstuvwxyz0123456789ABCD'; // 40 bytes
    const { code, stderr } = await runCli(['udp-echo', 'send', '--port', String(server.port), '--trace', '--trace-bytes', '20', '--timeout', HANG_GUARD], {
      input: `${line}\n`,
    });
    expect(code, stderr).toBe(0);
    const events = traceEvents(stderr);
    expect(events).toHaveLength(2);
    for (const { header, details } of events) {
      expect(header).toMatch(/ datagram 40 bytes$/);
      expect(details).toEqual([
        '0000  61 62 63 64 65 66 67 68  69 6a 6b 6c 6d 6e 6f 70  |abcdefghijklmnop|',
        '0010  71 72 73 74                                       |qrst|',
        '… 20 more bytes',
      ]);
    }
  });

  it('--trace-bytes 0 shows the headers and not one byte of any datagram', async () => {
    const server = await echoServer();
    const { code, stderr } = await runCli(['udp-echo', 'send', '--port', String(server.port), '--trace', '--trace-bytes', '0', '--timeout', HANG_GUARD], {
      input: 'hello\n',
    });
    expect(code, stderr).toBe(0);
    expect(traceEvents(stderr).map((e) => e.header)).toEqual([
      expect.stringMatching(new RegExp(`^0\\.0\\.0\\.0:\\d+ → 127\\.0\\.0\\.1:${server.port} datagram 5 bytes$`)),
      expect.stringMatching(new RegExp(`^127\\.0\\.0\\.1:${server.port} → 0\\.0\\.0\\.0:\\d+ datagram 5 bytes$`)),
    ]);
    expect(lines(stderr).filter((l) => DUMP_LINE.test(l))).toEqual([]);
    expect(stderr).not.toContain('hello');
  });

  it('warns that --trace-bytes does nothing without --trace, and traces nothing', async () => {
    const server = await echoServer();
    const { code, stdout, stderr } = await runCli(['udp-echo', 'send', '--port', String(server.port), '--trace-bytes', '4', '--timeout', HANG_GUARD], {
      input: 'hi\n',
    });
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/^> hi\n< hi · /);
    expect(stderr).toMatch(/^warning: --trace-bytes does nothing without --trace\.$/m);
    expect(traceEvents(stderr)).toEqual([]);
  });
});

describe('--trace-bytes usage errors', () => {
  it('refuses a value outside 0 to 65536 on every UDP serve and connect, with exit 2, naming the range', async () => {
    const commands = [
      ['udp-echo', 'serve', '--port', '0'],
      ['udp-echo', 'send'],
      ['udp-chat', 'serve', '--port', '0'],
      ['udp-chat', 'connect'],
    ];
    const cases = [
      ...commands.map((command) => [...command, '--trace', '--trace-bytes', '65537']),
      ['udp-echo', 'send', '--trace', '--trace-bytes=-1'],
      ['udp-chat', 'serve', '--trace', '--trace-bytes', 'lots'],
    ];
    const runs = cases.map((args) => runCli(args).then((result) => ({ args, result })));
    for (const { args, result } of await Promise.all(runs)) {
      const what = `netlab ${args.join(' ')}: ${result.stderr}`;
      expect(result.code, what).toBe(2);
      expect(result.stdout, what).toBe('');
      expect(result.stderr, what).toMatch(/--trace-bytes must be a whole number from 0 to 65536, not "(65537|-1|lots)"/);
      expect(result.stderr, what).not.toMatch(STACK_FRAME);
    }
  });
});

describe('udp-chat --trace', () => {
  it('serve: names the member whose relayed copy the simulated network dropped, or sent twice', async () => {
    // Seed 9: the first delivery is dropped, the second sent twice (test/udp/chat-server.test.ts).
    const server = startCli(['udp-chat', 'serve', '--port', '0', '--trace', '--drop', '0.4', '--duplicate', '0.4', '--seed', '9']);
    await server.waitForStdout(/listening on 127\.0\.0\.1:(\d+)\n/);
    const port = Number(/:(\d+)\n/.exec(server.stdout)![1]);
    const [alice, bob, carol] = [await peer(), await peer(), await peer()];
    for (const [member, name] of [[alice, 'alice'], [bob, 'bob'], [carol, 'carol']] as const) {
      const before = member.received.length;
      await member.send(joinDatagram(name), port);
      await member.until(before + 1);
    }
    await alice.send('SAY hi', port);
    // Carol's two copies, after WELCOME: the first and the duplicate.
    const got = await carol.until(3);
    expect(got.slice(1).map(String)).toEqual(['2 MSG alice hi\n', '2 MSG alice hi\n']);
    await server.waitForStderr(/sent twice \(simulated duplicate\)\n.*\n$/);

    const us = `127.0.0.1:${port}`;
    const events = traceEvents(server.stderr);
    const say = events.findIndex((e) => e.header === `127.0.0.1:${alice.port} → ${us} datagram 6 bytes`);
    expect(events.slice(say).map((e) => `${e.header} ${textColumn(e.details)}`)).toEqual([
      `127.0.0.1:${alice.port} → ${us} datagram 6 bytes SAY hi`,
      `${us} → 127.0.0.1:${bob.port} datagram 15 bytes · bob's copy dropped (simulated loss) 3 MSG alice hi.`,
      `${us} → 127.0.0.1:${carol.port} datagram 15 bytes 2 MSG alice hi.`,
      `${us} → 127.0.0.1:${carol.port} datagram 15 bytes · carol's copy sent twice (simulated duplicate) 2 MSG alice hi.`,
    ]);
    expect(bob.received.map((b) => parseServerDatagram(b.toString())?.message.kind)).toEqual(['WELCOME', 'JOINED']);
  });

  it('connect: traces the padded JOIN, the WELCOME, each message and the goodbye; stdout is unchanged', async () => {
    const server = await startUdpChatServer({ host: '127.0.0.1', port: 0 });
    onTestFinished(() => server.close());
    const connect = (extra: string[]) => runCli(['udp-chat', 'connect', '--port', String(server.port), '--name', 'bot', ...extra], { input: 'hello\n' });
    const plain = await connect([]);
    const traced = await connect(['--trace']);
    expect(traced.code, traced.stderr).toBe(0);
    expect(traced.stdout).toBe(plain.stdout);

    const us = `0.0.0.0:${/from port (\d+)/.exec(traced.stderr)![1]}`;
    const them = `127.0.0.1:${server.port}`;
    const events = traceEvents(traced.stderr);
    expect(events.map((e) => e.header)).toEqual([
      `${us} → ${them} datagram 512 bytes`,
      expect.stringMatching(new RegExp(`^${literal(`${them} → ${us}`)} datagram \\d+ bytes$`)),
      `${us} → ${them} datagram 9 bytes`,
      `${us} → ${them} datagram 4 bytes`,
      `${them} → ${us} datagram 6 bytes`,
    ]);
    // The JOIN is padded with spaces to 512 bytes (no amplification): 64 shown, the rest counted.
    expect(textColumn(events[0]!.details)).toBe('JOIN bot'.padEnd(64));
    expect(events[0]!.details.at(-1)).toBe('… 448 more bytes');
    expect(events.slice(1).map((e) => textColumn(e.details))).toEqual([expect.stringMatching(/^1 WELCOME bot /), 'SAY hello', 'QUIT', '2 BYE.']);
  });
});
