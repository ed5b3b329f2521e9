/**
 * `netlab udp-echo serve` and `netlab udp-echo send`, the built binary as a student runs it
 * (lesson 03): the first line scripts parse, the simulated network announced on stderr, piped
 * lines and their echoes, a ping whose losses, duplicates and reordering are known in advance
 * from the seed, nobody listening, an unknown host, a line too big for a datagram, and usage
 * errors. Timeouts given to netlab only bound runs where nothing can answer; they are never a
 * measure of speed.
 */
import { describe, expect, it } from 'vitest';
import { NO_IMPAIRMENT, type ImpairmentSettings } from '../../src/udp/impairment.js';
import { echoServer, expectedArrivals, fatesOf, freeUdpPort, peer } from '../udp/udp-support.js';
import { STACK_FRAME, lines, runCli, startCli, type ExitResult, type Spawned } from './run-cli.js';

const LISTENING_LINE = /^udp-echo server listening on 127\.0\.0\.1:(\d+)$/;
/** A round-trip time as formatMs prints it. */
const RTT = String.raw`\d+(?:\.\d+)? ms`;
/** --timeout for runs where every datagram is answered: a hang guard, never reached. */
const HANG_GUARD = '5000';

/** A running `netlab udp-echo serve --port 0 EXTRA…` and the port its first line announced. */
async function startUdpEchoServer(extraArgs: readonly string[] = [], reportDrain = false): Promise<{ port: number; proc: Spawned }> {
  const proc = startCli(['udp-echo', 'serve', '--port', '0', ...extraArgs], { reportDrain });
  const [firstLine = ''] = await proc.waitForStdout(/^.*\n/);
  const match = LISTENING_LINE.exec(firstLine.trimEnd());
  if (!match) throw new Error(`the server's first stdout line is not the listening line.\n${proc.describe()}`);
  return { port: Number(match[1]), proc };
}

/** Ctrl+C on the server; resolves with its exit once it has printed its totals. */
async function stopServer(proc: Spawned): Promise<ExitResult> {
  const result = await proc.stop();
  expect(result.code, proc.describe()).toBe(0);
  return result;
}

function errorLines(stderr: string): string[] {
  return lines(stderr).filter((line) => line.startsWith('error:'));
}

/** The sequence number in a ping's reply line. */
function seqOf(line: string): number {
  return Number(/ seq=(\d+) /.exec(line)?.[1]);
}

describe('udp-echo serve', () => {
  it('prints the listening line first, logs each datagram, and on Ctrl+C its totals, leaving nothing open', async () => {
    const server = await startUdpEchoServer([], true);
    expect(server.proc.stderr).toBe('');
    const client = await peer();
    await client.send('hello', server.port);
    await client.until(1);
    await server.proc.waitForStdout(/< 5 bytes "hello"\n/);

    const { stdout, drained } = await stopServer(server.proc);
    expect(lines(stdout)).toEqual([
      `udp-echo server listening on 127.0.0.1:${server.port}`,
      `[127.0.0.1:${client.port}] < 5 bytes "hello"`,
      'udp-echo server stopped · 1 datagram, 1 reply sent',
    ]);
    expect(drained, 'the event loop emptied by itself').toBe(true);
  });
});

describe('udp-echo usage errors', () => {
  it('refuses bad option values with exit 2, naming the range and the value, before any socket exists', async () => {
    // Every other value and combination is refused in process, in test/udp/echo-commands.test.ts.
    const cases: Array<[string[], string, string]> = [
      [['serve', '--drop', '2'], '2', 'from 0 to 1'],
      [['serve', '--delay', '-1'], '-1', 'from 0 to 10000'],
      [['serve', '--seed', 'x'], 'x', 'from 0 to 4294967295'],
      [['send', '--count', '0'], '0', 'from 1 to 100000'],
      [['send', '--count', '3', '--size', '70000'], '70000', 'from 12 to 65507'],
    ];
    const [noCount, ...results] = await Promise.all([
      runCli(['udp-echo', 'send', '--interval', '10']),
      ...cases.map(([args]) => runCli(['udp-echo', ...args])),
    ]);
    results.forEach(({ code, stdout, stderr }, i) => {
      const [args, value, range] = cases[i]!;
      const what = `udp-echo ${args.join(' ')}: ${stderr}`;
      expect(code, what).toBe(2);
      expect(stdout, what).toBe('');
      expect(errorLines(stderr), what).toHaveLength(1);
      expect(stderr, what).toContain(range);
      expect(stderr, what).toContain(`"${value}"`);
      expect(stderr, what).not.toMatch(STACK_FRAME);
    });
    // --interval without --count: a usage error that names what is missing.
    expect(noCount!.code).toBe(2);
    expect(noCount!.stdout).toBe('');
    expect(errorLines(noCount!.stderr)).toEqual(['error: --interval and --size belong to ping mode: add --count N.']);
  });
});

describe('udp-echo send with piped input', () => {
  // These clients talk to an echo server in the test process: the server's own command line is
  // tested above and with the pings below, and each process start costs a few hundred ms.
  it('sends each line as a datagram and prints it and its echo with the round trip, then exits 0', async () => {
    const server = await echoServer();
    const { code, stdout, stderr, drained } = await runCli(['udp-echo', 'send', '--port', String(server.port), '--timeout', HANG_GUARD], {
      input: 'a\nb\n',
      reportDrain: true,
    });
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(new RegExp(`^> a\\n< a · ${RTT}\\n> b\\n< b · ${RTT}\\n$`));
    expect(stderr).toMatch(new RegExp(`^sending datagrams to 127\\.0\\.0\\.1:${server.port} from port \\d+`, 'm'));
    expect(stderr).toMatch(/^done · sent 2 datagrams, received 2 replies$/m);
    expect(errorLines(stderr)).toEqual([]);
    expect(drained, 'the event loop emptied by itself').toBe(true);
    expect(server.totals).toMatchObject({ datagrams: 2, bytes: 2, replies: 2 });
  });

  it('sends an empty line as an empty datagram and 65,507 bytes whole, and refuses 70,000 with one sentence and exit 1', async () => {
    const server = await echoServer();
    const longest = 'x'.repeat(65_507);
    const send = (input: string) =>
      runCli(['udp-echo', 'send', '--port', String(server.port), '--timeout', HANG_GUARD], { input, reportDrain: true });
    const [empty, full, tooBig] = await Promise.all([send('\n'), send(`${longest}\n`), send(`${'x'.repeat(70_000)}\n`)]);

    expect(empty.code, empty.stderr).toBe(0);
    expect(empty.stdout).toMatch(new RegExp(`^> \\n< \\(empty datagram\\) · ${RTT}\\n$`));
    expect(full.code, full.stderr).toBe(0);
    // The reply matched what was sent byte for byte; on screen it is shortened like the > line.
    expect(full.stdout).toMatch(new RegExp(`\\n< x{60}… \\(65,507 bytes\\) · ${RTT}\\n$`));
    expect(full.stderr).toMatch(/^done · sent 1 datagram, received 1 reply$/m);

    expect(tooBig.code).toBe(1);
    expect(tooBig.drained, 'the event loop emptied by itself').toBe(true);
    expect(tooBig.stdout.length, 'the > line does not print 70,000 characters').toBeLessThan(200);
    const sentences = errorLines(tooBig.stderr).filter((line) => line.includes('70,000 bytes'));
    expect(sentences).toHaveLength(1);
    expect(sentences[0]).toMatch(/^error: [^.]*70,000 bytes[^.]*65,507[^.]*\.$/);
    expect(tooBig.stderr).toMatch(/^hint: /m);
    expect(tooBig.stderr).toMatch(/^done · sent 0 datagrams, received 0 replies$/m);
    expect(tooBig.stderr).not.toMatch(STACK_FRAME);
    expect(server.totals).toMatchObject({ datagrams: 2, bytes: 65_507, replies: 2 });
  });

  it('says so and exits 1 when --burst input goes past its 10,000-line limit, sending the first 10,000', async () => {
    // No server: whether the kernel keeps 10,000 datagrams sent at once is not the question here.
    const port = await freeUdpPort();
    const input = Array.from({ length: 10_001 }, (_, i) => `line ${i + 1}\n`).join('');
    const { code, stdout, stderr } = await runCli(['udp-echo', 'send', '--burst', '--port', String(port), '--timeout', '100'], { input });
    expect(code).toBe(1);
    const sent = lines(stdout).filter((line) => line.startsWith('> '));
    expect(sent).toHaveLength(10_000);
    expect(sent.at(-1)).toBe('> line 10000');
    expect(stderr).toMatch(/^error: --burst sends at most 10,000 lines; the rest of the input was not sent\.$/m);
    expect(stderr).toMatch(/^done · sent 10,000 datagrams, received 0 replies$/m);
    expect(stderr).not.toMatch(STACK_FRAME);
  });

  it('exits 1 with the ENOTFOUND sentence for a host name that does not resolve', async () => {
    const { code, stdout, stderr } = await runCli(['udp-echo', 'send', '--host', 'no-such-host.invalid', '--port', '12347'], { input: 'a\n' });
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(errorLines(stderr)).toEqual(['error: the host name "no-such-host.invalid" could not be resolved to an address.']);
    expect(stderr).toMatch(/^hint: check the spelling/m);
    expect(stderr).not.toMatch(STACK_FRAME);
  });
});

describe('udp-echo send when nothing listens', () => {
  it('says no reply came within --timeout and exits 1 with the NETLAB_ERR_NO_REPLY sentence, for lines and for a ping', async () => {
    // Nothing can answer, so --timeout 200 decides only how long the run lasts.
    const port = await freeUdpPort();
    const [lineRun, pingRun] = await Promise.all([
      runCli(['udp-echo', 'send', '--port', String(port), '--timeout', '200'], { input: 'a\n', reportDrain: true }),
      runCli(['udp-echo', 'send', '--port', String(port), '--count', '2', '--interval', '1', '--timeout', '200'], { reportDrain: true }),
    ]);

    expect(lineRun.code).toBe(1);
    expect(lineRun.drained, 'the event loop emptied by itself').toBe(true);
    expect(lineRun.stdout).toBe('> a\n');
    expect(lineRun.stderr).toMatch(/^no reply (?:to "a" )?within 200 ms\b.*UDP cannot tell/m);
    expect(errorLines(lineRun.stderr)).toEqual([`error: nothing came back from 127.0.0.1:${port}: the datagram got no reply.`]);
    expect(lineRun.stderr).toMatch(new RegExp(`^hint: .*\`netlab udp-echo serve --port ${port}\``, 'm'));
    expect(lineRun.stderr).not.toMatch(STACK_FRAME);

    expect(pingRun.code).toBe(1);
    expect(pingRun.drained, 'the event loop emptied by itself').toBe(true);
    expect(lines(pingRun.stdout)).toEqual([
      `PING 127.0.0.1:${port} over UDP: 2 datagrams of 32 bytes, one every 1 ms`,
      'seq=1: no reply within 200 ms',
      'seq=2: no reply within 200 ms',
      `--- 127.0.0.1:${port} udp ping ---`,
      '2 sent, 0 received, 100% loss',
    ]);
    expect(errorLines(pingRun.stderr)).toEqual([`error: nothing came back from 127.0.0.1:${port}: none of the 2 pings got a reply.`]);
    expect(pingRun.stderr).not.toMatch(STACK_FRAME);
  });
});

describe('udp-echo send --count (a ping)', () => {
  it('reports exactly the losses the seeded server announces and logs: a line per lost datagram, the summary, exit 0', async () => {
    const settings: ImpairmentSettings = { ...NO_IMPAIRMENT, dropRate: 0.3, seed: 2024 };
    const fates = fatesOf(settings, 10);
    const lost = fates.flatMap((fate, i) => (fate.drop ? [i + 1] : []));
    const answered = fates.flatMap((fate, i) => (fate.drop ? [] : [i + 1]));
    expect(lost.length, 'seed 2024 loses some of 10 but not all').toBeGreaterThan(0);
    expect(answered.length).toBeGreaterThan(0);

    const server = await startUdpEchoServer(['--drop', '30%', '--seed', '2024']);
    await server.proc.waitForStderr(/\n/);
    expect(server.proc.stderr).toBe('simulating a bad network: drop 30% (seed 2024)\n');
    // --timeout decides how long the lost ones are waited for; the others come back over loopback.
    const ping = ['udp-echo', 'send', '--port', String(server.port), '--count', '10', '--interval', '2', '--timeout', '1000'];
    const { code, stdout, stderr } = await runCli(ping);
    expect(code, stderr).toBe(0);
    const out = lines(stdout);
    expect(out[0]).toBe(`PING 127.0.0.1:${server.port} over UDP: 10 datagrams of 32 bytes, one every 2 ms`);
    expect(out.filter((line) => line.includes('no reply'))).toEqual(lost.map((seq) => `seq=${seq}: no reply within 1000 ms`));
    expect(out.filter((line) => line.startsWith('32 bytes from')).map(seqOf)).toEqual(answered);
    expect(out.slice(-3)).toEqual([
      `--- 127.0.0.1:${server.port} udp ping ---`,
      `10 sent, ${answered.length} received, ${lost.length * 10}% loss`,
      expect.stringMatching(/^rtt min\/avg\/max\/mdev = \d+\.\d{3}\/\d+\.\d{3}\/\d+\.\d{3}\/\d+\.\d{3} ms$/),
    ]);

    const stopped = await stopServer(server.proc);
    const logged = lines(stopped.stdout).filter((line) => / < 32 bytes "ping /.test(line));
    expect(logged.map((line) => line.endsWith(' · dropped (simulated loss)'))).toEqual(fates.map((fate) => fate.drop));
    expect(lines(stopped.stdout).at(-1)).toBe(`udp-echo server stopped · 10 datagrams, ${answered.length} replies sent, ${lost.length} dropped`);
  });

  it('reports the duplicates and the replies out of order that the seeded server causes', async () => {
    const settings: ImpairmentSettings = { ...NO_IMPAIRMENT, duplicateRate: 0.25, reorderRate: 0.25, seed: 7 };
    const fates = fatesOf(settings, 20);
    expect(fates.at(-1)!.reorder, 'the last reply is not held back (it would wait REORDER_MAX_HOLD_MS)').toBe(false);
    const arrivals = expectedArrivals(fates);
    const firsts = arrivals.filter((seq, i) => arrivals.indexOf(seq) === i);
    const outOfOrder = firsts.filter((seq, i) => firsts.slice(0, i).some((earlier) => earlier > seq)).length;
    const duplicates = arrivals.length - firsts.length;
    expect(duplicates).toBeGreaterThan(1);
    expect(outOfOrder).toBeGreaterThan(0);

    const server = await startUdpEchoServer(['--duplicate', '0.25', '--reorder', '0.25', '--seed', '7']);
    const ping = ['udp-echo', 'send', '--port', String(server.port), '--count', '20', '--interval', '2', '--timeout', HANG_GUARD];
    const { code, stdout, stderr } = await runCli(ping);
    expect(code, stderr).toBe(0);
    const out = lines(stdout);
    expect(out.filter((line) => line.startsWith('32 bytes from')).map(seqOf)).toEqual(arrivals);
    expect(out.filter((line) => line.endsWith('(duplicate)'))).toHaveLength(duplicates);
    expect(out.filter((line) => line.endsWith('(out of order)'))).toHaveLength(outOfOrder);
    expect(out.slice(-2)).toEqual([
      `20 sent, 20 received, 0% loss, ${duplicates} duplicates, ${outOfOrder} out of order`,
      expect.stringMatching(/^rtt min\/avg\/max\/mdev = /),
    ]);
  });
});
