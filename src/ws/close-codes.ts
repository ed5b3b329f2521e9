/**
 * WebSocket close codes in words (RFC 6455, section 7.4, and the IANA registry it created):
 * what a student sees when a connection ends, in lesson 04, "Close codes". Every close frame may
 * carry a two-byte code and a UTF-8 reason of at most 123 bytes (a control frame's payload is
 * at most 125 bytes: "All control frames MUST have a payload length of 125 bytes or less",
 * section 5.5).
 *
 * Pure: numbers and strings in, words out.
 */

/** The longest reason a close frame can carry, in bytes: 125 minus the two bytes of the code. */
export const MAX_CLOSE_REASON_BYTES = 123;

const MEANINGS: Record<number, string> = {
  1000: 'normal closure',
  1001: 'going away',
  1002: 'protocol error',
  1003: 'unsupported data',
  1004: 'reserved',
  1005: 'no status code',
  1006: 'abnormal closure: no close frame',
  1007: 'invalid payload data',
  1008: 'policy violation',
  1009: 'message too big',
  1010: 'missing extension',
  1011: 'internal error',
  1012: 'service restart',
  1013: 'try again later',
  1014: 'bad gateway',
  1015: 'TLS handshake failed',
};

/** `1009 (message too big)`: the code and what it means. */
export function describeCloseCode(code: number): string {
  return `${code} (${closeCodeMeaning(code)})`;
}

/** What a close code means, in words. */
export function closeCodeMeaning(code: number): string {
  const known = MEANINGS[code];
  if (known) return known;
  if (code >= 3000 && code <= 3999) return 'registered for libraries and frameworks';
  if (code >= 4000 && code <= 4999) return "the application's own code";
  return 'not a code RFC 6455 defines';
}

/**
 * Why an endpoint may not send `code` in a close frame, or undefined if it may. 1005, 1006
 * and 1015 are reserved for reporting: "MUST NOT be set as a status code in a Close control
 * frame by an endpoint" (section 7.4.1).
 */
export function closeCodeProblem(code: number): string | undefined {
  if (!Number.isInteger(code)) return 'a close code is a whole number';
  if (code === 1005 || code === 1006 || code === 1015) return `${code} is only for reporting a close, never sent in one`;
  if ((code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999)) return undefined;
  return 'a close code is 1000–1003, 1007–1014, or 3000–4999';
}

/** Why a close reason cannot be sent, or undefined if it can. */
export function closeReasonProblem(reason: string): string | undefined {
  const bytes = Buffer.byteLength(reason);
  return bytes > MAX_CLOSE_REASON_BYTES ? `a close reason is at most ${MAX_CLOSE_REASON_BYTES} bytes, and this one is ${bytes}` : undefined;
}

/**
 * What a client can do about a close the server chose, by its code: a server that stopped
 * wants starting again, a limit wants smaller messages, and so on.
 */
export function closeHint(code: number, serveCommand: string): string {
  switch (code) {
    case 1001:
    case 1012:
      return `it stopped or is restarting; start it with \`${serveCommand}\`.`;
    case 1009:
      return "send smaller messages (a netlab server's limit is --max-message).";
    case 1002:
    case 1003:
    case 1007:
    case 1008:
      return 'the server refused what we sent; its log says why.';
    case 1006:
      return `the connection was cut without a close frame: the server may have crashed; start it with \`${serveCommand}\`.`;
    default:
      return `connect again, or start the server with \`${serveCommand}\`.`;
  }
}

/**
 * The close code the ws library sends when a peer's frames break the rules, by the error code
 * it emits (its receiver.js): too big 1009, bad UTF-8 1007, too many fragments 1008, and
 * everything else, unmasked frames included, 1002.
 */
export function closeCodeForWsError(errorCode: string | undefined): number {
  switch (errorCode) {
    case 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH':
    case 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH':
      return 1009;
    case 'WS_ERR_INVALID_UTF8':
      return 1007;
    case 'WS_ERR_TOO_MANY_BUFFERED_PARTS':
      return 1008;
    default:
      return 1002;
  }
}
