/**
 * `netlab ws-handshake` (lesson 04, "The Upgrade handshake"): the opening handshake made
 * visible. With `--key` (or a fresh key) it computes Sec-WebSocket-Accept step by step and
 * prints the request and answer a browser and a server exchange; `--accept` checks a value
 * found in some example against the key it came with. With `--url` it performs a real
 * handshake over a plain TCP socket, prints every header line exactly as sent and received,
 * then closes the WebSocket properly: a masked close frame, the server's close frame, FIN.
 *
 * The computation is handshake.ts and the frames frame.ts; this file owns the socket.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { Command, Option } from 'commander';
import { argParser, networkError, outputFor } from '../core/commands.js';
import { NetlabError, UsageError, formatAddress } from '../core/errors.js';
import { defaultPort } from '../core/options.js';
import type { Output } from '../core/output.js';
import { visible } from '../core/text-view.js';
import { describeCloseCode } from './close-codes.js';
import { DEFAULT_WS_PATH, parseOriginHeader, parseWsUrl } from './echo-commands.js';
import { OPCODES, closePayload, decodeFrame, encodeFrame, opcodeName, readClosePayload } from './frame.js';
import { acceptSteps, keyProblem, newKey, parseResponseHead, requestLines, responseLines } from './handshake.js';
import { urlAddress } from './ws-client.js';

/** How long the server has to answer, and then to answer our close frame. */
const ANSWER_TIMEOUT_MS = 5000;
/** The most of a response head we read before deciding it is not one. */
const MAX_HEAD_BYTES = 16 * 1024;

interface HandshakeOptions {
  key?: string;
  accept?: string;
  url?: string;
  origin?: string;
}

export function wsHandshakeCommand(): Command {
  return new Command('ws-handshake')
    .description('lesson 04: compute Sec-WebSocket-Accept step by step, or do a real handshake and show it')
    .addOption(new Option('--key <key>', 'the Sec-WebSocket-Key to answer (default: a fresh one)').argParser(argParser(parseKey)))
    .addOption(new Option('--accept <value>', 'check that this Sec-WebSocket-Accept answers --key'))
    .addOption(new Option('--url <url>', 'do a real handshake with this server (ws://) and print it').argParser(argParser(parseWsUrl)))
    .addOption(new Option('--origin <origin>', 'with --url: send this Origin header, as a page would').argParser(argParser(parseOriginHeader)))
    .addHelpText(
      'after',
      `
Examples:
  netlab ws-handshake --key dGhlIHNhbXBsZSBub25jZQ==   RFC 6455's own example
  netlab ws-handshake --key KEY --accept VALUE          does VALUE answer KEY?
  netlab ws-handshake --url ws://127.0.0.1:${defaultPort('ws-echo')}/ws       a real handshake, line by line`,
    )
    .action((opts: HandshakeOptions, command: Command) => (opts.url ? realHandshake(opts.url, opts, outputFor(command)) : explain(opts, outputFor(command))));
}

function parseKey(value: string): string {
  const problem = keyProblem(value);
  if (problem) throw new UsageError(`--key must be 16 bytes in base64 (24 characters ending in ==), and "${value}" is not: ${problem}.`);
  return value.trim();
}

/** The accept computation, then the two messages of the handshake. */
async function explain(opts: HandshakeOptions, output: Output): Promise<void> {
  if (opts.accept !== undefined && opts.key === undefined) throw new UsageError('--accept checks a value against --key: give the key too.');
  const steps = acceptSteps(opts.key ?? newKey());
  const host = `127.0.0.1:${defaultPort('ws-echo')}`;
  for (const line of [
    `key           ${steps.key} (Sec-WebSocket-Key: 16 bytes, base64)`,
    '+ GUID        258EAFA5-E914-47DA-95CA-C5AB0DC85B11 (RFC 6455, 1.3)',
    `= key + GUID  ${steps.concatenated}`,
    `SHA-1         ${steps.sha1Hex} (20 bytes)`,
    `base64        ${steps.accept} (Sec-WebSocket-Accept)`,
    '',
    'the browser asks:',
    ...requestLines({ host, path: DEFAULT_WS_PATH, key: steps.key, origin: `http://${host}` }).map((line) => `  ${line}`),
    'the server answers:',
    ...responseLines(steps.key).map((line) => `  ${line}`),
  ]) {
    output.data(line);
  }
  if (opts.accept === undefined) return;
  if (opts.accept.trim() === steps.accept) {
    output.data(`${opts.accept.trim()} answers this key.`);
    return;
  }
  throw new NetlabError(
    'NETLAB_ERR_ACCEPT_MISMATCH',
    `${visible(opts.accept.trim())} is not the accept value of this key.`,
    `this key's is ${steps.accept}: compute it, never copy a pair.`,
  );
}

/** A handshake over a plain socket, every line shown; then a proper close. */
async function realHandshake(url: string, opts: HandshakeOptions, output: Output): Promise<void> {
  const parsed = new URL(url);
  if (parsed.protocol !== 'ws:') throw new UsageError('--url takes a ws:// URL: the handshake is shown over plain TCP (wss:// would be encrypted).');
  const { host, port } = urlAddress(url);
  const key = newKey();
  const serveCommand = `netlab ws-echo serve${port === defaultPort('ws-echo') ? '' : ` --port ${port}`}`;
  const socket = await connect(host, port).catch((err: unknown) => {
    throw networkError(err, { operation: 'connect', host, port, serveCommand });
  });
  const reader = new SocketReader(socket);
  try {
    const request = requestLines({ host: parsed.host, path: `${parsed.pathname}${parsed.search}`, key, ...(opts.origin ? { origin: opts.origin } : {}) });
    for (const line of request) output.sent(line);
    socket.write(`${request.join('\r\n')}\r\n\r\n`);

    const head = await reader.head('the answer to the handshake');
    const response = parseResponseHead(head.toString('latin1'));
    if (!response) throw new NetlabError('NETLAB_ERR_NOT_HTTP', `${formatAddress(host, port)} answered with something that is not HTTP.`, 'is it a WebSocket server?');
    for (const line of response.lines) output.received(visible(line));
    if (response.status !== 101) {
      throw new NetlabError(
        'NETLAB_ERR_HANDSHAKE_REFUSED',
        `the server answered ${response.status} ${visible(response.statusText)} instead of 101 Switching Protocols.`,
        'check the path and the Origin; a netlab server says why in its log.',
      );
    }
    const expected = acceptSteps(key).accept;
    const accept = response.headers.get('sec-websocket-accept');
    if (accept !== expected) {
      throw new NetlabError('NETLAB_ERR_ACCEPT_MISMATCH', `Sec-WebSocket-Accept is ${accept ?? 'missing'}, and the key we sent needs ${expected}.`);
    }
    output.note(`Sec-WebSocket-Accept answers our key: this is a WebSocket now`);

    // The close handshake (RFC 6455, section 7): our close frame, masked as every client frame must be.
    const mask = randomBytes(4);
    socket.write(encodeFrame({ fin: true, opcode: OPCODES.close, mask, payload: closePayload(1000) }));
    output.sent(`close frame, masked with ${mask.toString('hex')}: ${describeCloseCode(1000)}`);
    const frame = await reader.frame('the close frame that answers ours');
    if (frame.opcode === OPCODES.close) {
      const { code, reason } = readClosePayload(frame.payload);
      output.received(`close frame, unmasked: ${describeCloseCode(code)}${reason ? ` "${visible(reason)}"` : ''}`);
    } else {
      output.received(`${opcodeName(frame.opcode)} frame of ${frame.payload.length} bytes (expected a close frame)`);
    }
    await reader.closed();
    output.note('the server closed the TCP connection: the handshake and the close are done');
  } finally {
    socket.destroy();
  }
}

/** A TCP connection, or ETIMEDOUT after ANSWER_TIMEOUT_MS (a filtered port never answers). */
function connect(host: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const fail = (err: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    const timer = setTimeout(() => fail(Object.assign(new Error('connect timed out'), { code: 'ETIMEDOUT' })), ANSWER_TIMEOUT_MS);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', fail);
      resolve(socket);
    });
    socket.once('error', fail);
  });
}

/** Bytes from a socket, read until a condition holds, with a timeout for each wait. */
class SocketReader {
  private buffered = Buffer.alloc(0);
  private ended = false;
  private wake: (() => void) | undefined;

  constructor(socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      this.wake?.();
    });
    socket.on('error', () => this.stop());
    socket.on('close', () => this.stop());
  }

  /** An HTTP head: the bytes before the first empty line, which are then used up. */
  async head(what: string): Promise<Buffer> {
    return this.wait(what, () => {
      const end = this.buffered.indexOf('\r\n\r\n');
      if (end < 0) {
        if (this.buffered.length > MAX_HEAD_BYTES) throw new NetlabError('NETLAB_ERR_NOT_HTTP', `no end to ${what} after ${MAX_HEAD_BYTES} bytes.`);
        return undefined;
      }
      const head = this.buffered.subarray(0, end);
      this.buffered = this.buffered.subarray(end + 4);
      return head;
    });
  }

  /** The next whole WebSocket frame. */
  frame(what: string) {
    return this.wait(what, () => {
      const decoded = decodeFrame(this.buffered);
      if (!decoded) return undefined;
      this.buffered = this.buffered.subarray(decoded.size);
      return decoded.frame;
    });
  }

  /** Resolves when the peer has closed the connection. */
  closed(): Promise<void> {
    return this.wait('the server to close the connection', () => (this.ended ? true : undefined)).then(() => undefined);
  }

  private stop(): void {
    this.ended = true;
    this.wake?.();
  }

  private wait<T>(what: string, attempt: () => T | undefined): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => finish(new NetlabError('NETLAB_ERR_NO_ANSWER', `no ${what} within ${ANSWER_TIMEOUT_MS / 1000} s.`)), ANSWER_TIMEOUT_MS);
      const finish = (err?: Error, value?: T) => {
        clearTimeout(timer);
        this.wake = undefined;
        if (err) reject(err);
        else resolve(value as T);
      };
      const check = () => {
        try {
          const value = attempt();
          if (value !== undefined) return finish(undefined, value);
          if (this.ended) return finish(new NetlabError('NETLAB_ERR_SERVER_CLOSED', `the server closed the connection before ${what}.`));
        } catch (err) {
          finish(err as Error);
        }
      };
      this.wake = check;
      check();
    });
  }
}
