/**
 * `--trace` on the TCP labs, the built binary as a student runs it (lesson 01, "TCP is a byte
 * stream"; lesson 02): the echo client's writes (one per line, --burst, --write-size) next to
 * the server's reads, on stderr only; --trace-bytes; the options' usage errors; and the chat
 * server tracing a line read from one client and written to another.
 */
import { describe, expect, it } from 'vitest';
import { welcomed } from '../tcp/chat-support.js';
import { connectRaw, freePort, runCli, startCli, startEchoServer, type Spawned } from './run-cli.js';
import { traceEvents, type TraceEvent } from './trace-events.js';


/** The client's own address, from its `connected to … from 127.0.0.1:PORT` note. */
function clientEnd(stderr: string): string {
  const match = /^connected to \S+ from (127\.0\.0\.1:\d+)/m.exec(stderr);
  if (!match) throw new Error(`no "connected to" line on the client's stderr:\n${stderr}`);
  return match[1]!;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The server's trace events for one client, once the server has traced its own FIN to it (the
 * last event of a connection the client closed first).
 */
async function serverEventsFor(server: Spawned, client: string): Promise<TraceEvent[]> {
  await server.waitForStderr(new RegExp(` → ${escape(client)} FIN: we will send nothing more$`, 'm'));
  return traceEvents(server.stderr).filter((e) => e.from === client || e.to === client);
}

describe('tcp-echo --trace', () => {
  it('--burst sends three piped lines as one write, and the server reads them in one read', async () => {
    const server = await startEchoServer(['--trace']);
    const serverEnd = `127.0.0.1:${server.port}`;
    const { code, stdout, stderr } = await runCli(['tcp-echo', 'connect', '--port', String(server.port), '--burst', '--trace'], {
      input: 'one\ntwo\nthree\n',
    });
    expect(code, stderr).toBe(0);
    expect(stdout).toBe('> one\n> two\n> three\n< one\n< two\n< three\n');

    const client = clientEnd(stderr);
    const dump = ['0000  6f 6e 65 0a 74 77 6f 0a  74 68 72 65 65 0a        |one.two.three.|'];
    const writes = traceEvents(stderr).filter((e) => e.what.startsWith('write'));
    expect(writes).toEqual([{ from: client, to: serverEnd, what: 'write 14 bytes', details: dump }]);

    const reads = (await serverEventsFor(server.proc, client)).filter((e) => e.what.startsWith('read'));
    expect(reads).toEqual([{ from: client, to: serverEnd, what: 'read 14 bytes', details: dump }]);
  });

  // Caught a bug: a burst went out as one write however much was gathered (80,002 bytes here).
  it('--burst gathers piped lines into writes of at most 64 KiB', async () => {
    const server = await startEchoServer([]);
    const line = 'x'.repeat(40_000);
    const { code, stderr } = await runCli(['tcp-echo', 'connect', '--port', String(server.port), '--burst', '--trace', '--trace-bytes', '0'], {
      input: `${line}\n${line}\n`,
    });
    expect(code, stderr).toBe(0);
    const writes = traceEvents(stderr).filter((e) => e.what.startsWith('write'));
    expect(writes.map((e) => e.what)).toEqual(['write 65,536 bytes', 'write 14,466 bytes']);
  });

  it('--write-size 2 writes "hello\\n" in three pieces, the server reads three, and stdout shows the line once', async () => {
    const server = await startEchoServer(['--trace']);
    const serverEnd = `127.0.0.1:${server.port}`;
    const { code, stdout, stderr } = await runCli(['tcp-echo', 'connect', '--port', String(server.port), '--write-size', '2', '--trace'], {
      input: 'hello\n',
    });
    expect(code, stderr).toBe(0);
    expect(stdout).toBe('> hello\n< hello\n');

    const client = clientEnd(stderr);
    const pieces = [
      '0000  68 65                                             |he|',
      '0000  6c 6c                                             |ll|',
      '0000  6f 0a                                             |o.|',
    ];
    const writes = traceEvents(stderr).filter((e) => e.what.startsWith('write'));
    expect(writes).toEqual(pieces.map((line) => ({ from: client, to: serverEnd, what: 'write 2 bytes', details: [line] })));

    // Each piece is sent only after the one before came back, so the server reads them apart.
    const onServer = await serverEventsFor(server.proc, client);
    const reads = onServer.filter((e) => e.what.startsWith('read'));
    expect(reads).toEqual(pieces.map((line) => ({ from: client, to: serverEnd, what: 'read 2 bytes', details: [line] })));
    const echoes = onServer.filter((e) => e.what.startsWith('write'));
    expect(echoes).toEqual(pieces.map((line) => ({ from: serverEnd, to: client, what: 'write 2 bytes', details: [line] })));
  });

  it("prints the trace on stderr only: the client's stdout is the same with and without --trace", async () => {
    const server = await startEchoServer();
    const args = ['tcp-echo', 'connect', '--port', String(server.port)];
    const plain = await runCli(args, { input: 'a\nb\n' });
    const traced = await runCli([...args, '--trace'], { input: 'a\nb\n' });
    expect([plain.code, traced.code]).toEqual([0, 0]);
    expect(traced.stdout).toBe(plain.stdout);
    expect(plain.stdout).toBe('> a\n< a\n> b\n< b\n');
    expect(traceEvents(plain.stderr)).toEqual([]);
    expect(traceEvents(traced.stderr).map((e) => e.what)).toEqual([
      'write 2 bytes',
      'read 2 bytes',
      'write 2 bytes',
      'read 2 bytes',
      'FIN: we will send nothing more',
      'FIN: the peer will send nothing more',
    ]);
  });

  it('--trace-bytes 4 cuts each dump after four bytes and says how many more there were', async () => {
    const server = await startEchoServer();
    const { code, stderr } = await runCli(['tcp-echo', 'connect', '--port', String(server.port), '--trace', '--trace-bytes', '4'], {
      input: 'hello world\n',
    });
    expect(code, stderr).toBe(0);
    const cut = ['0000  68 65 6c 6c                                       |hell|', '… 8 more bytes'];
    const bytesEvents = traceEvents(stderr).filter((e) => !e.what.startsWith('FIN'));
    expect(bytesEvents.map((e) => [e.what, e.details])).toEqual([
      ['write 12 bytes', cut],
      ['read 12 bytes', cut],
    ]);
  });

  it('warns that --trace-bytes does nothing without --trace, and still echoes', async () => {
    const server = await startEchoServer();
    const { code, stdout, stderr } = await runCli(['tcp-echo', 'connect', '--port', String(server.port), '--trace-bytes', '4'], {
      input: 'x\n',
    });
    expect(code).toBe(0);
    expect(stdout).toBe('> x\n< x\n');
    expect(stderr).toMatch(/^warning: --trace-bytes does nothing without --trace\.$/m);
    expect(traceEvents(stderr)).toEqual([]);
  });

  it.each([
    [['--trace', '--trace-bytes', '70000'], '--trace-bytes must be a whole number from 0 to 65536'],
    [['--write-size', '0'], '--write-size must be a whole number from 1 to 65536'],
    [['--write-size', 'abc'], '--write-size must be a whole number from 1 to 65536'],
  ])('refuses connect %j as a usage error (exit 2) naming the range', async (extra, message) => {
    const port = await freePort();
    const { code, stdout, stderr } = await runCli(['tcp-echo', 'connect', '--port', String(port), ...extra], { input: 'x\n' });
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(message);
    expect(stderr).not.toContain('nothing is listening');
  });

  it('refuses serve --trace-bytes 70000 as a usage error (exit 2) naming the range', async () => {
    const { code, stdout, stderr } = await runCli(['tcp-echo', 'serve', '--port', '0', '--trace', '--trace-bytes', '70000']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('--trace-bytes must be a whole number from 0 to 65536');
  });

  it('accepts --no-delay, and the echo still works, traced', async () => {
    const server = await startEchoServer();
    const { code, stdout, stderr } = await runCli(['tcp-echo', 'connect', '--port', String(server.port), '--no-delay', '--trace'], {
      input: 'x\ny\n',
    });
    expect(code, stderr).toBe(0);
    expect(stdout).toBe('> x\n< x\n> y\n< y\n');
    expect(traceEvents(stderr).filter((e) => e.what.startsWith('write')).map((e) => e.details)).toEqual([
      ['0000  78 0a                                             |x.|'],
      ['0000  79 0a                                             |y.|'],
    ]);
  });
});

describe('tcp-chat serve --trace', () => {
  it("shows a client's line read from it and its broadcast written to the other client", async () => {
    const proc = startCli(['tcp-chat', 'serve', '--port', '0', '--trace']);
    const [, port] = await proc.waitForStdout(/^tcp-chat server listening on 127\.0\.0\.1:(\d+)$/m);
    const serverEnd = `127.0.0.1:${port}`;
    const first = await welcomed(await connectRaw(Number(port)));
    const second = await welcomed(await connectRaw(Number(port)));
    await first.waitForLine(`*** ${second.name} joined (2 online)`);
    const firstEnd = `127.0.0.1:${first.socket.localPort}`;
    const secondEnd = `127.0.0.1:${second.socket.localPort}`;

    first.send('hi\n');
    const broadcast = `${first.name}: hi`;
    await second.waitForLine(broadcast);
    // A lone message in a quiet chat is written at once, not corked (src/core/turn-batch.ts).
    const expectedWrite = `write ${broadcast.length + 1} bytes`;
    // Waits for the event's dump line too: the header alone could be the first half of a read.
    await proc.waitForStderr(new RegExp(`^\\+\\S+ ${escape(serverEnd)} → ${escape(secondEnd)} ${escape(expectedWrite)}\\n  0000 .*\\|\\n`, 'm'));

    const events = traceEvents(proc.stderr);
    expect(events).toContainEqual({
      from: firstEnd,
      to: serverEnd,
      what: 'read 3 bytes',
      details: ['0000  68 69 0a                                          |hi.|'],
    });
    // The broadcast is one line of text, so its dump is one line: its text column is the line.
    const carrying = (e: TraceEvent) => e.what === expectedWrite && e.details[0]?.slice(56) === `|${broadcast}.|`;
    expect(events.filter(carrying).map((e) => [e.from, e.to])).toEqual([[serverEnd, secondEnd]]);
  });
});
