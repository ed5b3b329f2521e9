import { describe, expect, it } from 'vitest';
import { NetlabError, errnoCode, explainNetworkError, formatAddress, type ErrorContext } from '../../src/core/errors.js';

const listen: ErrorContext = { operation: 'listen', host: '127.0.0.1', port: 12345 };
const connect: ErrorContext = { operation: 'connect', host: '127.0.0.1', port: 12345, serveCommand: 'netlab tcp-echo serve' };

function systemError(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code} something`), { code });
}

describe('explainNetworkError', () => {
  it.each([
    ['EADDRINUSE', listen, 'port 12345 on 127.0.0.1 is already in use', '--port'],
    ['EACCES', listen, 'ports below 1024 need administrator rights', '--port'],
    ['EADDRNOTAVAIL', listen, '127.0.0.1 is not an address of this machine', '0.0.0.0'],
    ['ECONNREFUSED', connect, 'nothing is listening on 127.0.0.1:12345', '`netlab tcp-echo serve`'],
    ['ECONNRESET', connect, 'was reset by the other side', '`netlab tcp-echo serve`'],
    ['ENOTFOUND', connect, 'could not be resolved', 'IP address'],
    ['ETIMEDOUT', connect, 'connection timed out', 'firewall'],
  ])('turns %s into one sentence and a hint', (code, ctx, sentence, hint) => {
    const err = explainNetworkError(systemError(code), ctx);
    expect(err).toBeInstanceOf(NetlabError);
    expect(err!.code).toBe(code);
    expect(err!.message).toContain(sentence);
    expect(err!.message.trim().split(/[.!?] /)).toHaveLength(1);
    expect(err!.hint).toContain(hint);
  });

  it('leaves codes it does not know to the caller', () => {
    expect(explainNetworkError(systemError('EWHATEVER'), listen)).toBeUndefined();
    expect(explainNetworkError(new Error('plain'), listen)).toBeUndefined();
  });
});

describe('formatAddress and errnoCode', () => {
  it('brackets IPv6 addresses', () => {
    expect(formatAddress('127.0.0.1', 80)).toBe('127.0.0.1:80');
    expect(formatAddress('::1', 80)).toBe('[::1]:80');
  });

  it('reads the code of system errors only', () => {
    expect(errnoCode(systemError('EPIPE'))).toBe('EPIPE');
    expect(errnoCode({ code: 5 })).toBeUndefined();
    expect(errnoCode(null)).toBeUndefined();
  });
});
