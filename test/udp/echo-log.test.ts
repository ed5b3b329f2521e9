/**
 * echo-log.ts: the end of the server's log line says what happened to a datagram's reply, and
 * --quiet leaves the server's hot path without a 'datagram' listener.
 */
import { describe, expect, it } from 'vitest';
import { whatHappened, logUdpEchoServer } from '../../src/udp/echo-log.js';
import type { DatagramInfo } from '../../src/udp/echo-server.js';
import { collectingOutput, echoServer } from './udp-support.js';

const unharmed = { drop: false, delayMs: 0, duplicate: false, reorder: false };

function info(overrides: Partial<DatagramInfo>): DatagramInfo {
  return { from: '127.0.0.1:53422', port: 53422, data: Buffer.from('hello'), fate: unharmed, ...overrides };
}

describe('whatHappened', () => {
  it.each([
    ['an echo', {}, ''],
    ['a loss', { fate: { ...unharmed, drop: true } }, 'dropped (simulated loss)'],
    ['a delay and a copy', { fate: { ...unharmed, delayMs: 42, duplicate: true } }, 'reply delayed 42 ms, sent twice'],
    ['a copy', { fate: { ...unharmed, duplicate: true } }, 'reply sent twice'],
    ['a hold', { fate: { ...unharmed, reorder: true } }, 'reply held back (reordering)'],
    ['a well-known port', { port: 7, refusal: 'well-known port' as const }, 'not answered: port 7 is a well-known service (no echo storms)'],
    ['its own address', { refusal: 'own address' as const }, 'not answered: it came from this server itself (no echo loops)'],
    ['a full queue', { refusal: 'too many waiting' as const }, 'not answered: too many delayed replies waiting already'],
  ])('describes %s', (_what, overrides, text) => {
    expect(whatHappened(info(overrides))).toBe(text);
  });
});

describe('logUdpEchoServer', () => {
  it('listens for datagrams only when not quiet, and always for errors', async () => {
    const loud = await echoServer();
    const quiet = await echoServer();
    const { output } = collectingOutput();
    logUdpEchoServer(loud, output);
    logUdpEchoServer(quiet, output, { quiet: true });
    expect(loud.listenerCount('datagram')).toBe(1);
    expect(quiet.listenerCount('datagram')).toBe(0);
    expect(quiet.listenerCount('error')).toBe(1);
  });

  it('prints one line per datagram: source, size, preview and what happened', async () => {
    const server = await echoServer();
    const { output, stdout } = collectingOutput();
    logUdpEchoServer(server, output, { tag: 'server' });
    server.emit('datagram', info({ fate: { ...unharmed, drop: true }, data: Buffer.from('hi\n\x1b') }));
    expect(stdout()).toBe('server │ [127.0.0.1:53422] < 4 bytes "hi\\n\\x1b" · dropped (simulated loss)\n');
  });
});
