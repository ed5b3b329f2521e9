/**
 * The tcp-echo client's pacing (src/tcp/echo-pacing.ts) against real loopback servers: pieces
 * sent one echo at a time arrive as separate reads, a burst is one write (at most 64 KiB), and a
 * server that never echoes is waited for once, then not again.
 */
import { once } from 'node:events';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { BURST_MAX_BYTES, EchoWatch, LineWriter } from '../../src/tcp/echo-pacing.js';
import { connectTcp, type TcpClient } from '../../src/tcp/tcp-client.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A server that records each read's size, and echoes them if asked to. */
async function recordingServer(echo: boolean): Promise<{ port: number; reads: number[] }> {
  const reads: number[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('data', (chunk) => {
      reads.push(chunk.length);
      if (echo) socket.write(chunk);
    });
    socket.on('error', () => {});
  });
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  cleanups.push(() => sockets.forEach((s) => s.destroy()));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as net.AddressInfo).port, reads };
}

async function client(port: number): Promise<TcpClient> {
  const c = await connectTcp({ host: '127.0.0.1', port });
  cleanups.push(() => c.destroy());
  return c;
}

/** Resolves once `reads` add up to `total` bytes (the hang guard is vitest's test timeout). */
async function received(reads: number[], total: number): Promise<void> {
  while (reads.reduce((a, b) => a + b, 0) < total) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('LineWriter', () => {
  it('--write-size sends each piece after the last one came back, so the server reads each on its own', async () => {
    const server = await recordingServer(true);
    const c = await client(server.port);
    const writer = new LineWriter(c, new EchoWatch(c), { writeSize: 2, echoWaitMs: 5000 });
    await writer.send('hello\n', false);
    await received(server.reads, 6);
    expect(server.reads).toEqual([2, 2, 2]);
  });

  it('--burst gathers piped lines into one write, sent by flush()', async () => {
    const server = await recordingServer(true);
    const c = await client(server.port);
    const writer = new LineWriter(c, new EchoWatch(c), { burst: true, echoWaitMs: 5000 });
    await writer.send('one\n', false);
    await writer.send('two\n', false);
    expect(c.bytesSent).toBe(0);
    await writer.flush();
    await received(server.reads, 8);
    expect(c.bytesSent).toBe(8);
  });

  it('--burst writes at most BURST_MAX_BYTES at a time', async () => {
    const server = await recordingServer(false);
    const c = await client(server.port);
    const sizes: number[] = [];
    const send = c.send.bind(c);
    c.send = (data) => {
      sizes.push(data.length);
      return send(data);
    };
    const writer = new LineWriter(c, new EchoWatch(c), { burst: true, echoWaitMs: 5000 });
    const line = `${'x'.repeat(39_999)}\n`;
    await writer.send(line, false);
    await writer.send(line, false);
    await writer.flush();
    expect(sizes).toEqual([BURST_MAX_BYTES, 80_000 - BURST_MAX_BYTES]);
  });

  it('typed lines never wait for a burst', async () => {
    const server = await recordingServer(true);
    const c = await client(server.port);
    const writer = new LineWriter(c, new EchoWatch(c), { burst: true, echoWaitMs: 5000 });
    await writer.send('typed\n', true);
    expect(c.bytesSent).toBe(6);
  });

  it('waits for a server that never echoes only once, says so once, and still sends every piece', async () => {
    const server = await recordingServer(false);
    const c = await client(server.port);
    let notes = 0;
    const writer = new LineWriter(c, new EchoWatch(c), { writeSize: 1, echoWaitMs: 20, onNoEcho: () => notes++ });
    await writer.send('abcd\n', false);
    await received(server.reads, 5);
    expect(notes).toBe(1);
    expect(c.bytesSent).toBe(5);
  });
});
