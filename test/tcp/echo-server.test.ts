import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { EchoServer, startEchoServer, type EchoCloseInfo } from '../../src/tcp/echo-server.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function server(oneAtATime = false): Promise<EchoServer> {
  const s = await startEchoServer({ host: '127.0.0.1', port: 0, oneAtATime });
  cleanups.push(() => s.close());
  return s;
}

async function connect(port: number): Promise<net.Socket> {
  const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
  cleanups.push(() => socket.destroy());
  await once(socket, 'connect');
  return socket;
}

/** Collects everything the socket receives until `n` bytes have arrived. */
function receive(socket: net.Socket, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      total += chunk.length;
      if (total >= n) {
        socket.off('data', onData);
        resolve(Buffer.concat(chunks));
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
}

function closeInfo(s: EchoServer): Promise<EchoCloseInfo> {
  return new Promise((resolve) => s.once('close', (_conn, info) => resolve(info)));
}

describe('startEchoServer', () => {
  it('listens on the port the system picked and reports it', async () => {
    const s = await server();
    expect(s.host).toBe('127.0.0.1');
    expect(s.port).toBeGreaterThan(0);
  });

  it('rejects with EADDRINUSE when the port is taken', async () => {
    const s = await server();
    await expect(startEchoServer({ host: '127.0.0.1', port: s.port })).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });

  it('echoes every byte value exactly', async () => {
    const s = await server();
    const socket = await connect(s.port);
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const echoed = receive(socket, all.length);
    socket.write(all);
    expect((await echoed).equals(all)).toBe(true);
  });

  it('echoes 1 MiB intact, reading again as the client drains its replies', async () => {
    const s = await server();
    const socket = await connect(s.port);
    const payload = randomBytes(1024 * 1024);
    const echoed = receive(socket, payload.length);
    socket.end(payload);
    expect((await echoed).equals(payload)).toBe(true);
  });

  it('still echoes to a client that half-closed, then closes cleanly', async () => {
    const s = await server();
    const socket = await connect(s.port);
    const ended = new Promise<void>((resolve) => s.once('end', () => resolve()));
    const closed = closeInfo(s);
    const echoed = receive(socket, 5);
    socket.end('bye\r\n'); // write, then FIN: we send nothing more but still read
    await ended;
    expect((await echoed).toString()).toBe('bye\r\n');
    await once(socket, 'end'); // the server's FIN follows the echo
    expect(await closed).toMatchObject({ reason: 'closed', bytesReceived: 5, bytesEchoed: 5 });
  });

  it('survives a client that resets mid-conversation and keeps serving others', async () => {
    const s = await server();
    const victim = await connect(s.port);
    const closed = closeInfo(s);
    victim.write('x'.repeat(1000));
    await new Promise((resolve) => s.once('data', resolve));
    victim.resetAndDestroy();
    expect((await closed).reason).toBe('reset');

    const other = await connect(s.port);
    const echoed = receive(other, 2);
    other.write('ok');
    expect((await echoed).toString()).toBe('ok');
  });

  it('emits connection, data, end and close for one client, in that order', async () => {
    const s = await server();
    const events: string[] = [];
    s.on('connection', (c) => events.push(`connection ${c.id}`));
    s.on('data', (c, chunk) => events.push(`data ${c.id} ${chunk.toString()}`));
    s.on('end', (c) => events.push(`end ${c.id}`));
    const closed = closeInfo(s);
    const socket = await connect(s.port);
    socket.end('hi');
    await closed;
    expect(events).toEqual(['connection 1', 'data 1 hi', 'end 1']);
    expect(s.totals).toEqual({ connections: 1, bytesEchoed: 2 });
  });

  it('close() ends open connections, is safe to call twice, and frees the port at once', async () => {
    const s = await server();
    const socket = await connect(s.port);
    const clientSawEnd = once(socket, 'end').then(() => socket.end());
    const closed = closeInfo(s);
    await Promise.all([s.close(), s.close()]);
    await clientSawEnd;
    expect((await closed).reason).toBe('server closing');
    expect(s.connectionCount).toBe(0);
    const again = await startEchoServer({ host: '127.0.0.1', port: s.port });
    await again.close();
  });

  it('close() destroys a client that never finishes closing', async () => {
    const s = await server();
    const socket = await connect(s.port);
    socket.pause(); // never reads the FIN, never ends its own side
    socket.on('end', () => undefined);
    await s.close();
    expect(s.connectionCount).toBe(0);
  });
});

describe('--one-at-a-time', () => {
  it('makes the second client wait, unread, until the first leaves', async () => {
    const s = await server(true);
    const order: string[] = [];
    s.on('connection', (c, ahead) => order.push(`connect ${c.id} ahead=${ahead}`));
    s.on('serving', (c) => order.push(`serving ${c.id}`));
    s.on('data', (c) => order.push(`data ${c.id}`));

    const first = await connect(s.port);
    const firstEcho = receive(first, 1);
    first.write('1');
    await firstEcho;

    const second = await connect(s.port);
    let secondEchoed = false;
    const secondEcho = receive(second, 1).then((b) => ((secondEchoed = true), b));
    second.write('2');
    // The first client is still served while the second waits.
    const again = receive(first, 1);
    first.write('1');
    await again;
    expect(secondEchoed).toBe(false);

    first.end();
    expect((await secondEcho).toString()).toBe('2');
    expect(order).toEqual(['connect 1 ahead=0', 'data 1', 'connect 2 ahead=1', 'data 1', 'serving 2', 'data 2']);
  });

  it('closes a queued client that already sent bytes with a FIN, not a reset', async () => {
    const s = await server(true);
    await connect(s.port);
    const queued = await connect(s.port);
    const errors: Error[] = [];
    queued.on('error', (err) => errors.push(err));
    queued.write('typed while waiting\n');
    const closed = closeInfo(s);
    const sawFin = once(queued, 'end').then(() => queued.end());
    await s.close();
    await sawFin;
    expect(errors).toEqual([]);
    expect((await closed).reason).not.toBe('error');
  });

  it('skips a waiting client that left and serves the next one', async () => {
    const s = await server(true);
    const first = await connect(s.port);
    const quitter = await connect(s.port);
    const third = await connect(s.port);
    quitter.destroy();
    first.end();
    const echo = receive(third, 3);
    third.write('abc');
    expect((await echo).toString()).toBe('abc');
  });
});
