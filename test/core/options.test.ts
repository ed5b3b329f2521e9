import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/core/errors.js';
import { defaultPort, parseHost, parseInteger, parsePort } from '../../src/core/options.js';

describe('parsePort', () => {
  it.each([
    ['0', 0],
    ['1', 1],
    ['12345', 12345],
    ['65535', 65535],
    [' 8080 ', 8080],
  ])('accepts %j as port %i', (text, port) => {
    expect(parsePort(text)).toBe(port);
  });

  it.each(['70000', '65536', '-1', '3.5', '', ' ', 'abc', '8080x', '0x10', '1e3', '+5', '٣'])(
    'refuses %j, naming the accepted range',
    (text) => {
      expect(() => parsePort(text)).toThrow(UsageError);
      expect(() => parsePort(text)).toThrow('from 0 to 65535');
    },
  );
});

describe('parseInteger', () => {
  it('accepts negative numbers only when the range allows them', () => {
    expect(parseInteger('--offset', '-3', -10, 10)).toBe(-3);
    expect(() => parseInteger('--count', '-3', 0, 10)).toThrow('--count must be a whole number from 0 to 10, not "-3".');
  });

  it('refuses numbers too large to be exact', () => {
    expect(() => parseInteger('--n', '99999999999999999999', 0, Number.MAX_SAFE_INTEGER)).toThrow(UsageError);
  });
});

describe('parseHost', () => {
  it('accepts addresses and names, and unwraps [::1]', () => {
    expect(parseHost('127.0.0.1')).toBe('127.0.0.1');
    expect(parseHost('localhost')).toBe('localhost');
    expect(parseHost('[::1]')).toBe('::1');
  });

  it.each(['', '  ', 'a b', 'http://x/'])('refuses %j', (text) => {
    expect(() => parseHost(text)).toThrow(UsageError);
  });
});

describe('defaultPort', () => {
  it('is the lab default without a port map', () => {
    expect(defaultPort('tcp-echo', {})).toBe(12345);
  });

  it('follows NETLAB_PORT_MAP, which the lesson runner sets', () => {
    expect(defaultPort('tcp-echo', { NETLAB_PORT_MAP: '{"12345": 40001}' })).toBe(40001);
    expect(defaultPort('tcp-chat', { NETLAB_PORT_MAP: '{"12345": 40001}' })).toBe(12346);
  });

  it('ignores a map that is not JSON', () => {
    expect(defaultPort('tcp-echo', { NETLAB_PORT_MAP: 'nonsense' })).toBe(12345);
  });
});
