/**
 * Free loopback ports for tests that must name a port before anything listens on it (a lesson's
 * mapped default ports, a port that refuses connections).
 *
 * Port 0 is no use there: the kernel picks it from the ephemeral range, the same range it hands
 * out to every client socket, so in a busy test run a port that was free a moment ago can be
 * taken by some other test's connection before the server binds it ("already in use"; seen in
 * CI on lesson 01). These ports come from below the ephemeral range instead, where only an
 * explicit bind can take them, and each one is checked by binding it.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';

/** The lowest port the kernel hands out on its own (Linux's default floor when unknown). */
function ephemeralFloor(): number {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    const floor = Number(low);
    return Number.isInteger(floor) && floor > 20_000 ? floor : 32_768;
  } catch {
    return 32_768;
  }
}

const LOWEST = 20_000;
const HIGHEST = ephemeralFloor() - 1;
const ATTEMPTS = 50;

/** Listens on a free port below the ephemeral range; the caller closes the server. */
export async function listenOnFreePort(host = '127.0.0.1'): Promise<net.Server> {
  for (let attempt = 1; ; attempt++) {
    const port = LOWEST + Math.floor(Math.random() * (HIGHEST - LOWEST + 1));
    try {
      return await listen(port, host);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt === ATTEMPTS) throw err;
    }
  }
}

/** A port that was free a moment ago, from below the ephemeral range. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = await listenOnFreePort(host);
  const { port } = server.address() as net.AddressInfo;
  await new Promise((done) => server.close(done));
  return port;
}

function listen(port: number, host: string): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
