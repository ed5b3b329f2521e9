/**
 * What every TCP server of the course does the same way: bind and listen, and close with a
 * grace period. Node's `server.close()` only stops accepting; connections already open stay
 * open until they end, so closing a server means ending each connection too (STYLE.md habit 3).
 */
import net from 'node:net';

/** How long a closing connection gets to finish before its socket is destroyed. */
export const CLOSE_GRACE_MS = 1000;

/**
 * Idle time before the kernel starts probing whether a quiet client is still there, so a client
 * whose link died (a laptop lid closed) is freed instead of held forever.
 */
export const KEEPALIVE_MS = 60_000;

/**
 * socket + bind + listen. Resolves with the bound address (the real port when 0 was asked
 * for); rejects with the system error (EADDRINUSE, EACCES, EADDRNOTAVAIL, ENOTFOUND…).
 */
export function listen(server: net.Server, host: string, port: number): Promise<net.AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve(server.address() as net.AddressInfo);
    });
  });
}

/**
 * Stops accepting, asks every open connection to finish with `end(socket)`, and resolves once
 * the listener and every socket have closed. A socket still open after `graceMs` is destroyed.
 */
export function closeServer(
  server: net.Server,
  sockets: Iterable<net.Socket>,
  graceMs: number,
  end: (socket: net.Socket) => void,
): Promise<void> {
  const open = [...sockets].filter((socket) => !socket.destroyed);
  const force = setTimeout(() => open.forEach((socket) => socket.destroy()), graceMs);
  const closed = [
    new Promise((done) => server.close(done)),
    ...open.map((socket) => new Promise((done) => socket.once('close', done))),
  ];
  for (const socket of open) end(socket);
  return Promise.all(closed).then(() => clearTimeout(force));
}
