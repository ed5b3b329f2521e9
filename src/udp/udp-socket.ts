/**
 * What every UDP program of lesson 03 does the same way: pick the address family, bind, and
 * send one datagram. UDP has no listen() and no accept(): a "server" is a socket bound to a
 * known port, and every datagram arrives with the address it came from (recvfrom).
 *
 *   socket()          →  dgram.createSocket('udp4' | 'udp6')
 *   bind()            →  socket.bind({ address, port })
 *   sendto()          →  socket.send(data, port, address)
 *   recvfrom()        →  the 'message' event: (datagram, { address, port, size })
 */
import dgram from 'node:dgram';
import dns from 'node:dns/promises';
import net from 'node:net';
import { NetlabError, errnoCode } from '../core/errors.js';

/**
 * The largest payload one UDP datagram can carry over IPv4: a datagram's length field is 16
 * bits (65,535), minus 8 bytes of UDP header and 20 of IP header. IPv6 allows 20 bytes more
 * (65,527); netlab keeps the IPv4 limit for both, so a lesson's numbers hold for either.
 */
export const MAX_DATAGRAM_BYTES = 65_507;

/**
 * Socket buffer size asked of the kernel (it may grant less: Linux caps it at net.core.rmem_max).
 * A bigger receive buffer lets a burst of datagrams wait instead of being dropped by the kernel.
 */
const SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;

export interface ResolvedHost {
  address: string;
  family: 4 | 6;
}

/**
 * An IP address in the form the kernel reports a datagram's source in, or a host name looked
 * up (rejects with ENOTFOUND and friends). A reply is recognised by comparing its source with
 * this, so `0:0:0:0:0:0:0:1` must become `::1`.
 */
export async function resolveHost(host: string): Promise<ResolvedHost> {
  const family = net.isIP(host);
  if (family === 4) return { address: host, family };
  if (family === 6) return { address: canonicalIPv6(host), family };
  const found = await dns.lookup(host);
  return { address: found.address, family: found.family === 6 ? 6 : 4 };
}

/** RFC 5952's form of an IPv6 address (lower case, longest zero run as `::`), as URLs write it. */
function canonicalIPv6(address: string): string {
  if (address.includes('%')) return address; // a zone (fe80::1%eth0) has no URL form; keep it
  return new URL(`http://[${address}]/`).hostname.slice(1, -1);
}

/**
 * socket() + bind(). Resolves with the bound socket once the kernel has given it its address
 * (port 0: any free port); rejects with the system error (EADDRINUSE, EACCES, EADDRNOTAVAIL…).
 * The caller adds the 'error' listener for later errors, in the same turn.
 */
export async function bindUdp(host: string | undefined, port: number, family?: 4 | 6): Promise<dgram.Socket> {
  const resolved = host === undefined ? { address: undefined, family: family ?? 4 } : await resolveHost(host);
  const socket = dgram.createSocket({ type: resolved.family === 6 ? 'udp6' : 'udp4' });
  await new Promise<void>((resolve, reject) => {
    const fail = (err: Error) => {
      socket.close();
      reject(err);
    };
    socket.once('error', fail);
    socket.bind({ address: resolved.address, port, exclusive: true }, () => {
      socket.off('error', fail);
      resolve();
    });
  });
  // Best effort: the kernel's own cap may be lower, and that is fine for a lesson.
  try {
    socket.setRecvBufferSize(SOCKET_BUFFER_BYTES);
    socket.setSendBufferSize(SOCKET_BUFFER_BYTES);
  } catch {
    // Not every system lets a process change them.
  }
  return socket;
}

/**
 * sendto(): resolves once the kernel has taken the datagram (not once it arrived: UDP never
 * says). Rejects with a sentence for a datagram too big for UDP, or with the system error.
 */
export function sendDatagram(socket: dgram.Socket, data: Uint8Array, port: number, address: string): Promise<void> {
  if (data.length > MAX_DATAGRAM_BYTES) return Promise.reject(tooBig(data.length));
  return new Promise((resolve, reject) => {
    socket.send(data, port, address, (err) => (err ? reject(err) : resolve()));
  });
}

/**
 * A send that failed, as one sentence: `the ping could not be sent: send EMSGSIZE …`. Errors
 * netlab made itself (a datagram too big) are already sentences and pass unchanged.
 */
export function sendError(what: string, err: unknown): NetlabError {
  if (err instanceof NetlabError) return err;
  const reason = err instanceof Error ? err.message : String(err);
  const hint = errnoCode(err) === 'EMSGSIZE' ? 'this system takes smaller datagrams than that; send fewer bytes at a time.' : undefined;
  return new NetlabError('NETLAB_ERR_SEND', `${what} could not be sent: ${reason}.`, hint, { cause: err });
}

/** The error for a payload over MAX_DATAGRAM_BYTES. */
export function tooBig(size: number): NetlabError {
  return new NetlabError(
    'NETLAB_ERR_DATAGRAM_TOO_BIG',
    `${size.toLocaleString('en-US')} bytes do not fit in one datagram: at most 65,507 (IPv4).`,
    'send less at a time; over UDP a program splits big messages itself.',
  );
}
