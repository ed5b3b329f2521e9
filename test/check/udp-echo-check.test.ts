/**
 * The udp-echo checklist (src/check/udp-echo-check.ts) against netlab's own UDP echo server,
 * which must pass every check, against nothing at all (a closed port, a silent socket), and
 * against broken servers written the way students write them (test/check/fixtures/udp-echo-*).
 */
import dgram from 'node:dgram';
import { once } from 'node:events';
import { describe, expect, it, onTestFinished } from 'vitest';
import { udpEchoChecklist } from '../../src/check/udp-echo-check.js';
import { startUdpEchoServer } from '../../src/udp/echo-server.js';
import { runCli } from '../cli/run-cli.js';
import { checkPort, failure, onlyFailing, startFixture } from './fixture-server.js';

const TITLES = {
  answers: 'answers a datagram',
  boundaries: 'sends each datagram back whole, as one datagram',
  addresses: 'replies to each client, from the address it sent to',
};

/** Every check passes except the ones named, which fail. */
const expectOnlyFailures = onlyFailing(TITLES);

/** netlab's UDP echo server as `netlab udp-echo serve` starts it: no impairment. */
async function netlabServer(): Promise<number> {
  const server = await startUdpEchoServer({ host: '127.0.0.1', port: 0 });
  onTestFinished(() => server.close());
  return server.port;
}

/** A UDP socket bound on loopback that reads and never answers. */
async function silentSocket(): Promise<number> {
  const socket = dgram.createSocket('udp4');
  onTestFinished(() => {
    socket.close();
  });
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  return socket.address().port;
}

/** A loopback UDP port nothing is bound to (it was, a moment ago). */
async function closedPort(): Promise<number> {
  const socket = dgram.createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  const { port } = socket.address();
  await new Promise<void>((done) => socket.close(() => done()));
  return port;
}

describe('netlab check udp-echo', () => {
  it("passes every check against netlab's own UDP echo server, the empty datagram included", async () => {
    const results = await checkPort(udpEchoChecklist, await netlabServer());
    expectOnlyFailures(results, []);
  });

  it('tells "port unreachable" from silence when nothing is bound to the port, and skips the rest', async () => {
    const results = await checkPort(udpEchoChecklist, await closedPort());
    const { problem, hint } = failure(results, TITLES.answers);
    expect(problem).toMatch(/^nothing is listening on UDP 127\.0\.0\.1:\d+: the datagram was answered with an ICMP "port unreachable" \(ECONNREFUSED\)\.$/);
    expect(hint).toContain('`netlab udp-echo serve`');
    expect(hint).toContain('lesson 03, "Nobody answers"');
    expect(results.slice(1).map((r) => r.status)).toEqual(['skipped', 'skipped']);
  });

  it('says a socket that is bound but never answers sent back nothing at all', async () => {
    const results = await checkPort(udpEchoChecklist, await silentSocket());
    const { problem, hint } = failure(results, TITLES.answers);
    expect(problem).toContain('nothing came back in 1 s, not even an ICMP "port unreachable"');
    expect(hint).toContain('lesson 03, "The datagram model"');
  });

  it("shows the course's recvfrom(1024) server that it cut the 8 KiB datagram short", async () => {
    const fixture = await startFixture('udp-echo-1024.py');
    const results = await checkPort(udpEchoChecklist, fixture.port);
    expectOnlyFailures(results, [TITLES.boundaries]);
    const { problem, hint } = failure(results, TITLES.boundaries);
    expect(problem).toBe('sent 4 datagrams back to back (1, 1,000, 0 and 8,192 bytes): the 8,192-byte one came back cut short, as 1,024 bytes.');
    expect(hint).toContain('recvfrom(1024)');
    expect(hint).toContain('lesson 03, "Datagrams keep their boundaries"');
  });

  it('counts the pieces of a server that splits its replies, and the empty datagram it never answered', async () => {
    const fixture = await startFixture('udp-echo-split.mjs');
    const results = await checkPort(udpEchoChecklist, fixture.port);
    expectOnlyFailures(results, [TITLES.boundaries]);
    const { problem, hint } = failure(results, TITLES.boundaries);
    expect(problem).toBe(
      'sent 4 datagrams back to back (1, 1,000, 0 and 8,192 bytes): the 1,000-byte one came back in 2 datagrams (512, 488 bytes); the empty one got no reply; the 8,192-byte one came back in 16 datagrams of 512 bytes.',
    );
    expect(hint).toContain('never split one or join several');
  });

  it('keeps the first 1,000 datagrams of a server that answers each with a stream, and says how many came', async () => {
    // Every datagram was kept, and each one re-matched every reply received so far.
    const socket = dgram.createSocket('udp4');
    let open = true;
    onTestFinished(() => {
      open = false;
      socket.close();
    });
    const blasted = new Set<string>();
    socket.on('message', (_, from) => {
      const key = `${from.address}:${from.port}`;
      if (blasted.has(key)) return;
      blasted.add(key);
      let sent = 0;
      const blast = () => {
        for (let i = 0; i < 50 && sent < 20_000 && open; i++, sent++) socket.send(Buffer.alloc(100, 'z'), from.port, from.address);
        if (sent < 20_000 && open) setImmediate(blast);
      };
      blast();
    });
    socket.bind(0, '127.0.0.1');
    await once(socket, 'listening');
    const results = await checkPort(udpEchoChecklist, socket.address().port);
    const { problem } = failure(results, TITLES.boundaries);
    expect(problem).toMatch(/ \(the server sent [\d,]+ datagrams to one client; the check kept the first 1,000\)\.$/);
  });

  it('catches a server that answers from a socket of its own', async () => {
    const fixture = await startFixture('udp-echo-other-socket.py');
    const results = await checkPort(udpEchoChecklist, fixture.port);
    expectOnlyFailures(results, [TITLES.addresses]);
    const { problem, hint } = failure(results, TITLES.addresses);
    expect(problem).toMatch(/^client 1 sent to 127\.0\.0\.1:(\d+), and the reply came from 127\.0\.0\.1:(?!\1\b)\d+: /);
    expect(hint).toContain('the socket the datagram arrived on');
    expect(hint).toContain('lesson 03, "The datagram model"');
  });
});

describe('netlab check udp-echo, the command', () => {
  it("exits 0 and says all checks passed for netlab's own server", async () => {
    const port = await netlabServer();
    const run = await runCli(['check', 'udp-echo', '--port', String(port), '--wait', '1000']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain(`✓ ${TITLES.boundaries}`);
    expect(run.stdout + run.stderr).toContain('all 3 checks passed');
  });

  it('exits 1 with ✗, what was seen and a hint for the recvfrom(1024) server', async () => {
    const fixture = await startFixture('udp-echo-1024.py');
    const run = await runCli(['check', 'udp-echo', '--port', String(fixture.port), '--wait', '1000']);
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.stdout).toContain(`✗ ${TITLES.boundaries}`);
    expect(run.stdout).toMatch(/^ {4}hint: /m);
    // The command wraps problems and hints to 80 columns: read them as one line.
    expect(run.stdout.replace(/\s+/g, ' ')).toContain('lesson 03, "Datagrams keep their boundaries"');
    expect(run.stdout + run.stderr).toContain('2 of 3 checks passed; 1 failed');
  });
});
