/**
 * What an instructor needs when a server listens beyond loopback: the addresses students can
 * reach it on. Used for `--host 0.0.0.0` (DESIGN.md: the whole room only when asked for).
 */
import os from 'node:os';

/** True for the "every interface" addresses, which expose a server to the whole network. */
export function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]';
}

/** A non-internal IPv4 address of this machine and the interface that has it. */
export interface LanAddress {
  address: string;
  interface: string;
}

/** This machine's non-internal IPv4 addresses (what students type), e.g. 192.168.1.20 on wlan0. */
export function lanAddresses(): LanAddress[] {
  const found: LanAddress[] = [];
  for (const [name, list] of Object.entries(os.networkInterfaces())) {
    for (const address of list ?? []) {
      if (address.family === 'IPv4' && !address.internal) found.push({ address: address.address, interface: name });
    }
  }
  return found;
}
