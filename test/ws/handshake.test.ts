/**
 * The opening handshake as pure functions (src/ws/handshake.ts), checked against RFC 6455's
 * own example, and the close codes in words (src/ws/close-codes.ts).
 */
import { describe, expect, it } from 'vitest';
import { closeCodeForWsError, closeCodeMeaning, closeCodeProblem, closeReasonProblem, describeCloseCode } from '../../src/ws/close-codes.js';
import {
  RFC_EXAMPLE_KEY,
  WEBSOCKET_GUID,
  acceptFor,
  acceptSteps,
  keyProblem,
  newKey,
  parseResponseHead,
  requestLines,
  responseLines,
} from '../../src/ws/handshake.js';

describe('acceptFor', () => {
  it('answers RFC 6455’s example key with the RFC’s accept value (section 1.3)', () => {
    expect(acceptFor(RFC_EXAMPLE_KEY)).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });

  it('shows every step: key + GUID, its SHA-1 in hex, and that in base64', () => {
    expect(acceptSteps(` ${RFC_EXAMPLE_KEY} `)).toEqual({
      key: RFC_EXAMPLE_KEY,
      concatenated: `${RFC_EXAMPLE_KEY}${WEBSOCKET_GUID}`,
      sha1Hex: 'b37a4f2cc0624f1690f64606cf385945b2bec4ea',
      accept: 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=',
    });
  });

  it('gives another accept value for another key: an accept belongs to its key only', () => {
    expect(acceptFor('x3JJHMbDL1EzLkh9GBhXDw==')).toBe('HSmrc0sMlYUkAGmm5OPpG2HaGWk=');
    expect(acceptFor('x3JJHMbDL1EzLkh9GBhXDw==')).not.toBe(acceptFor(RFC_EXAMPLE_KEY));
  });
});

describe('keyProblem', () => {
  it('accepts 16 bytes in base64, such as a fresh key', () => {
    expect(keyProblem(RFC_EXAMPLE_KEY)).toBeUndefined();
    for (let i = 0; i < 20; i++) expect(keyProblem(newKey())).toBeUndefined();
  });

  it('names what is wrong with anything else', () => {
    expect(keyProblem('')).toBe('it is empty');
    expect(keyProblem('not base64!')).toMatch(/not base64/);
    expect(keyProblem('abc')).toMatch(/not base64/);
    expect(keyProblem('aGVsbG8=')).toBe('it decodes to 5 bytes, and a key is 16 bytes (24 base64 characters ending in ==)');
    expect(keyProblem('AAAAAAAAAAAAAAAAAAAAAAAAAAAA')).toMatch(/decodes to 21 bytes/);
  });
});

describe('the handshake messages', () => {
  it('are the request a browser sends and the answer of a server that accepts', () => {
    expect(requestLines({ host: '127.0.0.1:8000', path: '/ws', key: RFC_EXAMPLE_KEY, origin: 'http://127.0.0.1:8000', protocols: ['chat', 'superchat'] })).toEqual([
      'GET /ws HTTP/1.1',
      'Host: 127.0.0.1:8000',
      'Upgrade: websocket',
      'Connection: Upgrade',
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
      'Sec-WebSocket-Version: 13',
      'Origin: http://127.0.0.1:8000',
      'Sec-WebSocket-Protocol: chat, superchat',
    ]);
    expect(responseLines(RFC_EXAMPLE_KEY, 'chat')).toEqual([
      'HTTP/1.1 101 Switching Protocols',
      'Upgrade: websocket',
      'Connection: Upgrade',
      'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=',
      'Sec-WebSocket-Protocol: chat',
    ]);
  });

  it('are read back from the wire: status, lines as they came, headers by lower-case name', () => {
    const head = parseResponseHead(`${responseLines(RFC_EXAMPLE_KEY).join('\r\n')}`);
    expect(head?.status).toBe(101);
    expect(head?.statusText).toBe('Switching Protocols');
    expect(head?.headers.get('sec-websocket-accept')).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
    expect(head?.lines[0]).toBe('HTTP/1.1 101 Switching Protocols');
    expect(parseResponseHead('GET /ws HTTP/1.1\r\nHost: x')).toBeUndefined();
  });
});

describe('close codes', () => {
  it('are told in words, the RFC’s and the ranges left to libraries and applications', () => {
    expect(describeCloseCode(1000)).toBe('1000 (normal closure)');
    expect(describeCloseCode(1009)).toBe('1009 (message too big)');
    expect(closeCodeMeaning(1006)).toBe('abnormal closure: no close frame');
    expect(closeCodeMeaning(3001)).toBe('registered for libraries and frameworks');
    expect(closeCodeMeaning(4321)).toBe("the application's own code");
    expect(closeCodeMeaning(999)).toBe('not a code RFC 6455 defines');
  });

  it('that are only for reporting, or undefined, may not be sent; a reason is at most 123 bytes', () => {
    for (const code of [1000, 1001, 1002, 1003, 1007, 1011, 1014, 3000, 4999]) expect(closeCodeProblem(code), String(code)).toBeUndefined();
    for (const code of [1005, 1006, 1015]) expect(closeCodeProblem(code)).toMatch(/only for reporting/);
    for (const code of [0, 999, 1004, 1016, 2999, 5000, 1000.5]) expect(closeCodeProblem(code), String(code)).toBeDefined();
    expect(closeReasonProblem('x'.repeat(123))).toBeUndefined();
    expect(closeReasonProblem('é'.repeat(62))).toBe('a close reason is at most 123 bytes, and this one is 124');
  });

  it('follow what ws sends for each kind of broken frame', () => {
    expect(closeCodeForWsError('WS_ERR_UNSUPPORTED_MESSAGE_LENGTH')).toBe(1009);
    expect(closeCodeForWsError('WS_ERR_INVALID_UTF8')).toBe(1007);
    expect(closeCodeForWsError('WS_ERR_TOO_MANY_BUFFERED_PARTS')).toBe(1008);
    expect(closeCodeForWsError('WS_ERR_EXPECTED_MASK')).toBe(1002);
    expect(closeCodeForWsError(undefined)).toBe(1002);
  });
});
