/**
 * `netlab demo`: the projector version of a lab, server and client tagged in one terminal.
 */
import { describe, expect, it } from 'vitest';
import { STACK_FRAME, lines, runCli, startCli } from './run-cli.js';

/** The push-pull demo's script lasts about 7.5 s: more than runCli's hang guard leaves. */
const PUSH_PULL_GUARD_MS = 20_000;

/** A demo's stdout without what differs from run to run here: the ports. */
function portless(stdout: string): string[] {
  return lines(stdout.replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:PORT'));
}

describe('netlab demo', () => {
  it('lists tcp-echo among the demos and exits 0', async () => {
    const { code, stdout } = await runCli(['demo']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^ {2}tcp-echo +lesson 01/m);
  });

  it('runs the tcp-echo demo to the end, with server │ and client │ lines, and exits 0', async () => {
    const { code, stdout, stderr } = await runCli(['demo', 'tcp-echo']);
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/^server +│ tcp-echo server listening on 127\.0\.0\.1:\d+$/m);
    expect(stdout).toMatch(/^client +│ > hello$/m);
    expect(stdout).toMatch(/^client +│ < hello$/m);
    expect(stdout).toMatch(/^server +│ \[127\.0\.0\.1:\d+\] closed · /m);
    expect(stdout).toMatch(/^server +│ tcp-echo server stopped/m);
  });

  it('runs the udp demo to the end: boundaries kept, then a ping through a lossy network', async () => {
    const { code, stdout, stderr } = await runCli(['demo', 'udp']);
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/^client +│ < "two lines\\nin one datagram" \(one datagram, boundaries kept\)$/m);
    expect(stdout).toMatch(/^server +│ \[127\.0\.0\.1:\d+\] < 16 bytes "ping \d+ [a-z]+" · dropped \(simulated loss\)$/m);
    expect(stdout).toMatch(/\(out of order, late\)$|\(out of order\)$/m);
    expect(stdout).toMatch(/\(duplicate\)$/m);
    expect(stdout).toMatch(/^client +│ 20 sent, 17 received, 15% loss, 1 duplicate, 2 out of order/m);
  });

  it('runs the ws-echo demo to the end: the accept checked, text, binary, empty, 1009, a clean close', async () => {
    const { code, stdout, stderr } = await runCli(['demo', 'ws-echo']);
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/^client +│ Sec-WebSocket-Key \S+ → Accept \S+ \(it answers the key\)$/m);
    expect(stdout).toMatch(/^client +│ < binary 4 bytes: 00 01 fe ff$/m);
    expect(stdout).toMatch(/^client +│ < \(empty message\)$/m);
    expect(stdout).toMatch(/^server +│ \[127\.0\.0\.1:\d+\] closed by the server with 1009 \(message too big\): a message over 1,024 bytes$/m);
    expect(stdout).toMatch(/^client +│ closed · 1000 \(normal closure\)$/m);
    expect(stdout).toMatch(/^server +│ ws-echo server stopped · 2 connections, 4 messages echoed$/m);
  });

  it('runs the ws-chat demo to the end: two rooms, a private message, a restart both clients survive', async () => {
    const { code, stdout, stderr } = await runCli(['demo', 'ws-chat']);
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/^bob +│ < +alice: anyone in the lobby\?$/m);
    expect(stdout).not.toMatch(/^alice +│ < bob: games is quiet too$/m);
    expect(stdout).toMatch(/^alice +│ < bob \(private\): the server restarts now$/m);
    expect(stderr).toMatch(/^alice +│ connection lost: 1001 \(going away\) "server shutting down"$/m);
    expect(stderr).toMatch(/^alice +│ reconnected \(attempt \d+\); rejoining lobby as alice$/m);
    expect(stderr).toMatch(/^bob +│ reconnected \(attempt \d+\); rejoining lobby as bob$/m);
    expect(stdout).toMatch(/^bob +│ < +alice: typed while the server was down$/m);
    expect(stdout).toMatch(/^alice +│ < bob: got it, we are both back$/m);
  });

  it('lists all six demos, in course order, and says that --slow exists', async () => {
    const { code, stdout } = await runCli(['demo']);
    expect(code).toBe(0);
    const names = [...stdout.matchAll(/^ {2}(\S+) +lesson (\d\d): /gm)].map((m) => `${m[2]} ${m[1]}`);
    expect(names).toEqual(['01 tcp-echo', '02 tcp-chat', '03 udp', '04 ws-echo', '05 ws-chat', '06 push-pull']);
    expect(stdout).toMatch(/^Add --slow to pace one for a projector/m);
  });

  it('runs the push-pull demo to the end: each transport gets each event, then what each paid', { timeout: PUSH_PULL_GUARD_MS + 5000 }, async () => {
    const { code, stdout, stderr, drained } = await startCli(['demo', 'push-pull'], { reportDrain: true }).waitForExit(PUSH_PULL_GUARD_MS);
    expect(code, stderr).toBe(0);
    expect(drained, 'the event loop emptied by itself at the end').toBe(true);
    expect(stdout).toMatch(/^server +│ push-pull server listening on 127\.0\.0\.1:\d+ · http:\/\/127\.0\.0\.1:\d+\/$/m);
    expect(stdout).toMatch(/^sse +│ < 200 · text\/event-stream; charset=utf-8 · the response stays open$/m);
    expect(stdout).toMatch(/^sse +│ < retry: 2000$/m);
    expect(stdout).toMatch(/^ws +│ < 101 Switching Protocols$/m);
    for (const id of [1, 2, 3]) {
      const event = `\\{"id":${id},"time":\\d+,"source":"tick","text":"tick ${id}"\\}`;
      expect(stdout).toMatch(new RegExp(`^server +│ #${id} tick: tick ${id}$`, 'm'));
      expect(stdout).toMatch(new RegExp(`^poll +│ < 200 · #${id} "tick ${id}", \\d+ ms after it was published$`, 'm'));
      expect(stdout).toMatch(new RegExp(`^lpoll +│ < 200, held \\d+\\.\\d s · #${id} "tick ${id}", \\d+ ms after it was published$`, 'm'));
      expect(stdout).toMatch(new RegExp(`^lpoll +│ > GET /long-poll\\?after=${id}$`, 'm'));
      expect(stdout).toMatch(new RegExp(`^sse +│ < id: ${id}$`, 'm'));
      expect(stdout).toMatch(new RegExp(`^sse +│ < data: ${event}$`, 'm'));
      expect(stdout).toMatch(new RegExp(`^ws +│ < ${event}$`, 'm'));
    }
    // The script decides when polls and ticks happen, so these counts are the same every run.
    expect(stdout.match(/^poll +│ > GET \/poll\?after=\d$/gm)).toHaveLength(8);
    expect(stdout.match(/^poll +│ < 200 · no events: nothing new$/gm)).toHaveLength(5);
    expect(stdout.match(/^sse +│ < event: tick$/gm)).toHaveLength(3);
    expect(stdout).toMatch(/^server +│ \[127\.0\.0\.1:\d+\] SSE stream closed: it left$/m);
    expect(stdout).toMatch(/^server +│ \[127\.0\.0\.1:\d+\] WebSocket closed: it left$/m);
    const cost = '[\\d,]+ bytes · delay mean \\d+ ms, max \\d+ ms';
    expect(stdout).toMatch(new RegExp(`^poll +│ in all: 3 of 3 events · 8 requests \\(5 empty\\) · ${cost}$`, 'm'));
    expect(stdout).toMatch(new RegExp(`^lpoll +│ in all: 3 of 3 events · 4 requests · ${cost}$`, 'm'));
    expect(stdout).toMatch(new RegExp(`^sse +│ in all: 3 of 3 events · 1 request · ${cost}$`, 'm'));
    expect(stdout).toMatch(new RegExp(`^ws +│ in all: 3 of 3 events · 1 request · ${cost}$`, 'm'));
    expect(stdout).toMatch(/^server +│ push-pull server stopped · 3 events, 8 polls, 4 long polls, 1 SSE stream, 1 WebSocket$/m);
    expect(stderr).toMatch(/`netlab push-pull serve`/);
    expect(stderr).toMatch(/\(lesson 06\)$/m);
  });

  it('accepts --slow 100 and still runs tcp-echo to the end, printing the same lines as without it', async () => {
    const [plain, slow] = await Promise.all([runCli(['demo', 'tcp-echo']), runCli(['demo', 'tcp-echo', '--slow', '100'])]);
    expect(plain.code, plain.stderr).toBe(0);
    expect(slow.code, slow.stderr).toBe(0);
    // The same lines; sorted, so that the test does not depend on which side logs a connection first.
    expect(portless(slow.stdout).sort()).toEqual(portless(plain.stdout).sort());
    expect(slow.stderr).toBe(plain.stderr);
  });

  it.each(['50', '10001', 'fast', '1.5'])('refuses --slow %s with exit 2, naming the range', async (value) => {
    const { code, stdout, stderr } = await runCli(['demo', 'tcp-echo', '--slow', value]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(`--slow must be a whole number from 100 to 10000, not "${value}".`);
    expect(stderr).not.toMatch(STACK_FRAME);
  });

  it('refuses --slow before the lab with exit 2, and says to put the lab first', async () => {
    const { code, stdout, stderr } = await runCli(['demo', '--slow', 'tcp-echo']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('100 to 10000');
    expect(stderr).toContain('`netlab demo tcp-echo --slow`');
  });
});
