import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { EchoStormGuard, FIRST_UNPRIVILEGED_PORT } from '../../src/udp/echo-storm.js';

describe('EchoStormGuard', () => {
  const guard = new EchoStormGuard('127.0.0.1', 12347);

  it('refuses every well-known service port, echo 7, chargen 19 and DNS 53 among them', () => {
    for (const port of [0, 7, 19, 53, 123, FIRST_UNPRIVILEGED_PORT - 1]) expect(guard.check('192.0.2.7', port)).toBe('well-known port');
    expect(guard.check('192.0.2.7', FIRST_UNPRIVILEGED_PORT)).toBeUndefined();
  });

  it('refuses its own port on any loopback address, plain or IPv4-mapped', () => {
    for (const address of ['127.0.0.1', '127.0.0.53', '::1', '::ffff:127.0.0.1']) expect(guard.check(address, 12347)).toBe('own address');
  });

  it('answers its own port on another machine, and another port on this one', () => {
    expect(guard.check('192.0.2.7', 12347)).toBeUndefined();
    expect(guard.check('127.0.0.1', 12348)).toBeUndefined();
  });

  it('knows every address of this machine when bound to 0.0.0.0', () => {
    const wildcard = new EchoStormGuard('0.0.0.0', 12347);
    const addresses = Object.values(os.networkInterfaces()).flatMap((list) => (list ?? []).map((entry) => entry.address));
    for (const address of addresses) expect(wildcard.check(address, 12347), address).toBe('own address');
  });
});
