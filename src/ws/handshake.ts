/**
 * The WebSocket opening handshake (RFC 6455, section 4), as pure functions: lesson 04, "The
 * Upgrade handshake". A WebSocket starts as an HTTP/1.1 request that asks to switch protocols;
 * the server proves it read the request, and speaks WebSocket, by hashing the client's key:
 *
 *   "the server has to take the value (as present in the header field, e.g., the
 *   base64-encoded [RFC4648] version minus any leading and trailing whitespace) and
 *   concatenate this with the Globally Unique Identifier (GUID, [RFC4122]) ... A SHA-1 hash
 *   (160 bits) [FIPS.180-3], base64-encoded (see Section 4 of [RFC4648]), of this
 *   concatenation is then returned in the server's handshake."  (RFC 6455, section 1.3)
 *
 * The accept value is not security: it only shows the answer came from a WebSocket server that
 * read this request, not from a cache or a server that ignored the Upgrade header.
 *
 * Leaves out: sockets (handshake-command.ts does a real one), extensions such as
 * permessage-deflate (netlab keeps it off), and the server side of subprotocol choice (ws does it).
 */
import { createHash, randomBytes } from 'node:crypto';

/** The GUID every WebSocket server appends to the key (RFC 6455, section 1.3). */
export const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** The only version RFC 6455 defines: "The value of this header field MUST be 13." */
export const WEBSOCKET_VERSION = '13';

/** RFC 6455's own example (section 1.3): this key must give s3pPLMBiTxaQ9kYGzzhZRbK+xOo=. */
export const RFC_EXAMPLE_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

/** Each step of the accept computation, to print in a lesson. */
export interface AcceptSteps {
  key: string;
  /** key + GUID, the text that is hashed. */
  concatenated: string;
  /** The 20 bytes of SHA-1, as hex. */
  sha1Hex: string;
  /** Those 20 bytes in base64: the Sec-WebSocket-Accept value. */
  accept: string;
}

/** Sec-WebSocket-Accept for a Sec-WebSocket-Key, with every step shown. */
export function acceptSteps(key: string): AcceptSteps {
  const trimmed = key.trim();
  const concatenated = trimmed + WEBSOCKET_GUID;
  const digest = createHash('sha1').update(concatenated, 'latin1').digest();
  return { key: trimmed, concatenated, sha1Hex: digest.toString('hex'), accept: digest.toString('base64') };
}

/** Sec-WebSocket-Accept for a Sec-WebSocket-Key. */
export function acceptFor(key: string): string {
  return acceptSteps(key).accept;
}

/**
 * Why a Sec-WebSocket-Key is not valid, or undefined when it is. RFC 6455, section 4.1: "a
 * nonce consisting of a randomly selected 16-byte value that has been base64-encoded", which
 * is always 24 characters ending in "==".
 */
export function keyProblem(key: string): string | undefined {
  const text = key.trim();
  if (text === '') return 'it is empty';
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return 'it is not base64 (A–Z, a–z, 0–9, + and /, padded with = to a multiple of 4)';
  const bytes = Buffer.from(text, 'base64').length;
  if (bytes !== 16) return `it decodes to ${bytes} bytes, and a key is 16 bytes (24 base64 characters ending in ==)`;
  return undefined;
}

/** A fresh key: 16 random bytes in base64, as a browser makes one for every connection. */
export function newKey(): string {
  return randomBytes(16).toString('base64');
}

export interface HandshakeRequest {
  /** The Host header: `127.0.0.1:8000`. */
  host: string;
  /** The request target: `/ws`. */
  path: string;
  key: string;
  origin?: string;
  protocols?: string[];
  /** More header lines, as `Name: value`. */
  headers?: string[];
}

/** The request a client sends, line by line, without the empty line that ends it. */
export function requestLines(request: HandshakeRequest): string[] {
  return [
    `GET ${request.path} HTTP/1.1`,
    `Host: ${request.host}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${request.key}`,
    `Sec-WebSocket-Version: ${WEBSOCKET_VERSION}`,
    ...(request.origin ? [`Origin: ${request.origin}`] : []),
    ...(request.protocols?.length ? [`Sec-WebSocket-Protocol: ${request.protocols.join(', ')}`] : []),
    ...(request.headers ?? []),
  ];
}

/** The answer of a server that accepts, line by line, without the empty line that ends it. */
export function responseLines(key: string, protocol?: string): string[] {
  return [
    'HTTP/1.1 101 Switching Protocols',
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Accept: ${acceptFor(key)}`,
    ...(protocol ? [`Sec-WebSocket-Protocol: ${protocol}`] : []),
  ];
}

/** An HTTP response head as it arrived: the status line and each header line. */
export interface ResponseHead {
  status: number;
  statusText: string;
  /** Header lines exactly as received, and the same as [name in lower case, value]. */
  lines: string[];
  headers: Map<string, string>;
}

/**
 * The head of an HTTP response (everything before the empty line), or undefined if the status
 * line is not HTTP's. Header names are compared in lower case, as HTTP says they must be.
 */
export function parseResponseHead(head: string): ResponseHead | undefined {
  const [statusLine = '', ...lines] = head.split('\r\n');
  const match = /^HTTP\/1\.[01] (\d{3}) ?(.*)$/.exec(statusLine);
  if (!match) return undefined;
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { status: Number(match[1]), statusText: match[2] ?? '', lines: [statusLine, ...lines], headers };
}
