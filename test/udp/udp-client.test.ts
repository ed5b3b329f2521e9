/**
 * Loopback tests of the UDP client (udp-client.ts): a real echo server on 127.0.0.1 and a
 * bare dgram socket where a test needs a stranger. Replies are told from stray datagrams by
 * their source address, and a datagram too big for UDP is refused before it reaches the kernel.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { NetlabError } from '../../src/core/errors.js';
import { openUdpClient, type UdpClient } from '../../src/udp/udp-client.js';
import { startUdpEchoServer } from '../../src/udp/echo-server.js';
import { MAX_DATAGRAM_BYTES } from '../../src/udp/udp-socket.js';
import { echoServer, peer, waitUntil } from './udp-support.js';

async function client(port: number): Promise<UdpClient> {
  const c = await openUdpClient({ host: '127.0.0.1', port });
  onTestFinished(() => c.close());
  return c;
}

/** Everything the client emits, in order. */
function record(c: UdpClient): { events: string[]; until: (n: number) => Promise<string[]> } {
  const events: string[] = [];
  c.on('datagram', (data) => events.push(`datagram ${data.toString('latin1')}`));
  c.on('stray', (from, size) => events.push(`stray ${from} ${size}`));
  return {
    events,
    until: async (n) => {
      const subscribe = (check: () => void) => {
        c.on('datagram', check);
        c.on('stray', check);
        return () => (c.off('datagram', check), c.off('stray', check));
      };
      await waitUntil(() => events.length >= n, subscribe, () => `${n} events; got ${JSON.stringify(events)}`);
      return events;
    },
  };
}

describe('openUdpClient', () => {
  it('binds a free port of its own and names the server it talks to', async () => {
    const server = await echoServer();
    const c = await client(server.port);
    expect(c.remote).toBe(`127.0.0.1:${server.port}`);
    expect(c.localPort).toBeGreaterThan(0);
    expect(c.localPort).not.toBe(server.port);
  });

  it('sends a datagram and emits the reply with the time it arrived, counting both', async () => {
    const server = await echoServer();
    const c = await client(server.port);
    const reply = new Promise<[Buffer, number]>((resolve) => c.once('datagram', (data, atMs) => resolve([data, atMs])));
    const before = performance.now();
    await c.send(Buffer.from('hello'));
    const [data, atMs] = await reply;
    expect(data.toString()).toBe('hello');
    expect(atMs).toBeGreaterThanOrEqual(before);
    expect(atMs).toBeLessThanOrEqual(performance.now());
    expect(c.totals).toEqual({ datagramsSent: 1, bytesSent: 5, datagramsReceived: 1, bytesReceived: 5 });
  });

  it('knows the server by its address in any spelling: 0:0:0:0:0:0:0:1 is ::1', async () => {
    const server = await startUdpEchoServer({ host: '::1', port: 0 });
    onTestFinished(() => server.close());
    const c = await openUdpClient({ host: '0:0:0:0:0:0:0:1', port: server.port });
    onTestFinished(() => c.close());
    expect(c.remote).toBe(`[::1]:${server.port}`);
    const reply = new Promise<Buffer>((resolve) => c.once('datagram', resolve));
    await c.send(Buffer.from('hi'));
    expect((await reply).toString()).toBe('hi');
  });

  it('sends and receives an empty datagram', async () => {
    const server = await echoServer();
    const c = await client(server.port);
    const { until } = record(c);
    await c.send(new Uint8Array(0));
    expect(await until(1)).toEqual(['datagram ']);
    expect(c.totals).toEqual({ datagramsSent: 1, bytesSent: 0, datagramsReceived: 1, bytesReceived: 0 });
  });

  it('reports a datagram from anyone but the server as stray, never as a reply', async () => {
    const server = await echoServer();
    const c = await client(server.port);
    const { until } = record(c);
    const stranger = await peer();
    await stranger.send('not the server', c.localPort);
    await c.send(Buffer.from('hi'));
    const events = await until(2);
    expect(events).toContain(`stray 127.0.0.1:${stranger.port} 14`);
    expect(events).toContain('datagram hi');
    expect(c.totals.datagramsReceived).toBe(1);
  });

  it('sends 65,507 bytes and refuses 65,508 with NETLAB_ERR_DATAGRAM_TOO_BIG, sending nothing', async () => {
    const server = await echoServer();
    const c = await client(server.port);
    const { until } = record(c);
    const refused = await c.send(Buffer.alloc(MAX_DATAGRAM_BYTES + 1)).then(
      () => undefined,
      (err: unknown) => err as NetlabError,
    );
    expect(refused).toBeInstanceOf(NetlabError);
    expect(refused?.code).toBe('NETLAB_ERR_DATAGRAM_TOO_BIG');
    // One sentence naming the size and the limit, and a hint.
    expect(refused?.message).toMatch(/^[^.]*65,508 bytes[^.]*65,507[^.]*\.$/);
    expect(refused?.hint).toBeTruthy();
    expect(c.totals.datagramsSent).toBe(0);
    await c.send(Buffer.alloc(MAX_DATAGRAM_BYTES, 'y'));
    await until(1);
    expect(c.totals).toMatchObject({ datagramsSent: 1, bytesSent: MAX_DATAGRAM_BYTES, bytesReceived: MAX_DATAGRAM_BYTES });
    expect(server.totals.datagrams).toBe(1);
  });

  it('close() is safe to call twice, and a send after it rejects instead of throwing', async () => {
    const server = await echoServer();
    const c = await client(server.port);
    c.close();
    c.close();
    await expect(c.send(Buffer.from('late'))).rejects.toThrow();
  });
});
