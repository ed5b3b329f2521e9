/**
 * `netlab demo`: the projector version of a lab, server and client tagged in one terminal.
 */
import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

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
});
