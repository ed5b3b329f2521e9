/**
 * The guard every UDP server of lesson 03 keeps (lesson 03, "Echo servers on the open
 * internet"): which datagrams must get no answer at all, because answering could start a loop
 * that never ends.
 *
 *   - from a well-known service port (below 1024): an echo (7) or chargen (19) server there
 *     would answer the answer, and so on forever, and a forged source address is all it takes;
 *   - from this very socket (its own port on one of this machine's addresses): a server that
 *     answered itself would be an echo loop of one.
 *
 * Pure apart from reading this machine's interface addresses once, when the guard is made.
 * Leaves out: rate limits per source, and checking that a source address is real (QUIC and
 * DTLS do that with a cookie round trip); a server for the open internet needs both.
 */
import os from 'node:os';

/** Ports below this are well-known services (RFC 6335, section 6: "System Ports"). */
export const FIRST_UNPRIVILEGED_PORT = 1024;

/** Why a datagram is not answered. */
export type StormRisk = 'well-known port' | 'own address';

export class EchoStormGuard {
  private readonly ownAddresses: Set<string>;

  /** `host` and `port`: where the server's socket is bound (0.0.0.0 and :: included). */
  constructor(
    host: string,
    private readonly port: number,
  ) {
    this.ownAddresses = new Set([host, '127.0.0.1', '::1']);
    for (const list of Object.values(os.networkInterfaces())) for (const entry of list ?? []) this.ownAddresses.add(entry.address);
  }

  /** The risk in answering a datagram from `address`:`port`; undefined when it is safe. */
  check(address: string, port: number): StormRisk | undefined {
    if (port < FIRST_UNPRIVILEGED_PORT) return 'well-known port';
    if (port === this.port && this.isOwnAddress(address)) return 'own address';
    return undefined;
  }

  /** An address of this machine: its interfaces and all of 127.0.0.0/8, plain or IPv4-mapped. */
  private isOwnAddress(address: string): boolean {
    const plain = address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
    return plain.startsWith('127.') || this.ownAddresses.has(plain);
  }
}
