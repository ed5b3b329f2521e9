import { once } from 'node:events';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { connectTcp } from '../../src/tcp/tcp-client.js';
import { freePort } from '../support/free-port.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A bare server whose sockets the test drives by hand. */
async function rawServer(): Promise<{ port: number; accepted: Promise<net.Socket> }> {
  const server = net.createServer({ allowHalfOpen: true });
  const sockets: net.Socket[] = [];
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  cleanups.push(() => sockets.forEach((s) => s.destroy()));
  const accepted = new Promise<net.Socket>((resolve) =>
    server.on('connection', (s) => {
      sockets.push(s);
      resolve(s);
    }),
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as net.AddressInfo).port, accepted };
}

describe('connectTcp', () => {
  it('connects, sends, receives, and reports both addresses', async () => {
    const { port, accepted } = await rawServer();
    const client = await connectTcp({ host: '127.0.0.1', port });
    cleanups.push(() => client.destroy());
    const peer = await accepted;
    expect(client.remote).toBe(`127.0.0.1:${port}`);
    expect(client.local).toBe(`127.0.0.1:${peer.remotePort}`);

    const got = once(peer, 'data');
    await client.send('ping');
    expect(String((await got)[0])).toBe('ping');
    const back = once(client, 'data');
    peer.write('pong');
    expect(String((await back)[0])).toBe('pong');
    expect(client.bytesSent).toBe(4);
  });

  it('rejects with ECONNREFUSED when nothing listens', async () => {
    const port = await freePort();
    await expect(connectTcp({ host: '127.0.0.1', port })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('keeps reading after it half-closes, until the server closes', async () => {
    const { port, accepted } = await rawServer();
    const client = await connectTcp({ host: '127.0.0.1', port });
    const peer = await accepted;
    const received: string[] = [];
    client.on('data', (c) => received.push(c.toString()));
    client.end();
    await once(peer, 'end');
    peer.end('late reply');
    await client.whenClosed();
    expect(received.join('')).toBe('late reply');
  });

  it('reports a reset by the server on close', async () => {
    const { port, accepted } = await rawServer();
    const client = await connectTcp({ host: '127.0.0.1', port });
    const closed = new Promise<Error | undefined>((resolve) => client.on('close', resolve));
    (await accepted).resetAndDestroy();
    expect(await closed).toMatchObject({ code: 'ECONNRESET' });
  });
});
