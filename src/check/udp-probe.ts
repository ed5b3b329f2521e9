/**
 * The scripted client every UDP check drives (lesson 03), the counterpart of tcp-probe.ts: a
 * node:dgram socket bound to a free port, which keeps the datagrams it receives together with
 * the address each came from, so a check can ask "did each datagram come back, whole, from the
 * address it was sent to?" It keeps the first MAX_KEPT_DATAGRAMS and counts the rest, so a
 * server that answers one datagram with a stream of them costs a check its time, not memory.
 *
 * Unconnected by default, so it sees datagrams from anyone, a reply from the wrong port
 * included. Connected (`connect: true`), the kernel passes on only datagrams from the target,
 * and reports an ICMP "port unreachable" as ECONNREFUSED on the socket: the one way UDP can
 * tell "nothing is bound there" from silence, and only where ICMP is not filtered away
 * (lesson 03, "Nobody answers").
 *
 * Like TcpProbe, it fails a check on its own only when it cannot even start (a host name that
 * does not resolve); waits resolve true or false and the check words what a false means.
 * Every probe is closed when its check ends (CheckContext.defer).
 */
import type dgram from 'node:dgram';
import { explainNetworkError, formatAddress } from '../core/errors.js';
import { isWildcard } from '../core/network-info.js';
import { bindUdp, resolveHost, sendDatagram, type ResolvedHost } from '../udp/udp-socket.js';
import { fail, type CheckContext } from './checklist.js';
import { Waiters } from './probe-waiters.js';

/**
 * At most this many datagrams are kept per probe; the rest are only counted. A check sends a
 * handful and expects as many back: a thousand is a server answering one datagram with many.
 */
export const MAX_KEPT_DATAGRAMS = 1000;

/** One datagram as recvfrom() returns it: the bytes and where they came from. */
export interface ReceivedDatagram {
  data: Buffer;
  address: string;
  port: number;
}

/** How UdpProbe.open() sets up its socket. */
export interface UdpProbeOptions {
  /** connect() the socket to the target: only its datagrams arrive, and ICMP errors are reported. */
  connect?: boolean;
}

/**
 * A UDP socket of a check's own, bound to a free port: the datagrams that came to it and from
 * where, and waits for them.
 */
export class UdpProbe {
  /** The datagrams received, in order of arrival: the first MAX_KEPT_DATAGRAMS of them. */
  readonly datagrams: ReceivedDatagram[] = [];
  /** Every datagram received, counted even past MAX_KEPT_DATAGRAMS. */
  datagramsReceived = 0;
  /** The first socket error: ECONNREFUSED on a connected probe means "port unreachable". */
  error: Error | undefined;
  private readonly waiters = new Waiters();

  private constructor(
    readonly socket: dgram.Socket,
    private readonly target: ResolvedHost,
    private readonly port: number,
    private readonly connected: boolean,
  ) {
    socket.on('message', (data, rinfo) => {
      this.datagramsReceived++;
      if (this.datagrams.length < MAX_KEPT_DATAGRAMS) this.datagrams.push({ data, address: rinfo.address, port: rinfo.port });
      this.waiters.notify();
    });
    socket.on('error', (err) => {
      this.error ??= err;
      this.waiters.notify();
    });
  }

  /**
   * Binds a socket to a free port (and connects it, with `connect`), or fails the check when
   * the target's host name does not resolve. Closed when the check ends.
   */
  static async open(ctx: CheckContext, serveCommand: string, options: UdpProbeOptions = {}): Promise<UdpProbe> {
    const { host, port } = ctx.target;
    let target: ResolvedHost;
    try {
      target = await resolveHost(host);
    } catch (err) {
      const explained = explainNetworkError(err, { operation: 'connect', host, port, serveCommand });
      fail(explained?.message ?? `could not look up ${host}: ${(err as Error).message}`, explained?.hint ?? 'check the host name, or use an IP address such as 127.0.0.1.');
    }
    const socket = await bindUdp(undefined, 0, target.family);
    ctx.defer(() => {
      try {
        socket.close();
      } catch {
        // Already closed.
      }
    });
    const probe = new UdpProbe(socket, target, port, options.connect ?? false);
    if (options.connect) {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.connect(port, target.address, () => {
          socket.off('error', reject);
          resolve();
        });
      });
    }
    return probe;
  }

  /**
   * Resolves true as soon as `condition` holds (checked on every datagram and error of any of
   * `probes`), false after `ms` without it.
   */
  static waitFor(probes: readonly UdpProbe[], condition: () => boolean, ms: number): Promise<boolean> {
    return Waiters.any(probes.map((probe) => probe.waiters), condition, ms);
  }

  /** The port the kernel gave this probe. */
  get localPort(): number {
    return this.socket.address().port;
  }

  /** Where the probe sends, as `host:port` (the resolved address). */
  get where(): string {
    return formatAddress(this.target.address, this.port);
  }

  /**
   * Whether a datagram came from where the probe sends: the target's port, and its address
   * (any address for a wildcard target such as 0.0.0.0, which answers from a real one).
   */
  fromTarget(datagram: ReceivedDatagram): boolean {
    return datagram.port === this.port && (isWildcard(this.target.address) || datagram.address === this.target.address);
  }

  /** sendto() (send() when connected); resolves once the kernel took it. Never rejects: see `error`. */
  async send(data: Uint8Array): Promise<void> {
    try {
      if (this.connected) await new Promise<void>((resolve, reject) => this.socket.send(data, (err) => (err ? reject(err) : resolve())));
      else await sendDatagram(this.socket, data, this.port, this.target.address);
    } catch (err) {
      this.error ??= err as Error;
      this.waiters.notify();
    }
  }

  /** Resolves true once `condition` holds, false after `ms` (see UdpProbe.waitFor). */
  waitFor(condition: (probe: UdpProbe) => boolean, ms: number): Promise<boolean> {
    return UdpProbe.waitFor([this], () => condition(this), ms);
  }
}
