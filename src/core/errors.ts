/**
 * Two kinds of error (STYLE.md habit 5):
 *   - UsageError: the command line is wrong (exit 2), thrown by option parsers;
 *   - NetlabError: the network or the peer failed (exit 1), with a stable `code` tests assert on.
 *
 * `explainNetworkError` turns the errno codes a socket program meets into one sentence a
 * student can act on, plus a hint. The sentence names the address; the hint names the command.
 */

/** A bad option value or an unknown command: exit 2, with the accepted range in the message. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A runtime or network failure that ends the command: exit 1, one sentence and a hint. */
export class NetlabError extends Error {
  override readonly name = 'NetlabError';
  constructor(
    /** Stable identifier, e.g. NETLAB_ERR_CONNECTION_LOST, or the errno code it came from. */
    readonly code: string,
    message: string,
    readonly hint?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * A failure the command has already shown the user, line by line as it happened (a datagram too
 * big to send, say): exit 1 without a second error line.
 */
export class AlreadyReported extends NetlabError {
  constructor(summary: string) {
    super('NETLAB_ERR_REPORTED', summary);
  }
}

/** What the failing operation was trying to do, so the sentence can name it. */
export interface ErrorContext {
  /** 'listen' for servers, 'connect' for clients. */
  operation: 'listen' | 'connect';
  host: string;
  port: number;
  /** The command that starts the peer, for "is the server running?" hints. */
  serveCommand?: string;
}

/** Node's system errors carry `code` (and often `syscall`, `address`, `port`). */
export function errnoCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

/** `127.0.0.1:12345`, or `[::1]:12345` for IPv6. */
export function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * One sentence and a hint for a socket error, or undefined when the code is not one we know
 * (the caller then shows err.message). The sentences are the lesson's vocabulary: a refused
 * connection means nothing listens there, a reset means the peer aborted, and so on.
 */
export function explainNetworkError(err: unknown, ctx: ErrorContext): NetlabError | undefined {
  const code = errnoCode(err);
  const where = formatAddress(ctx.host, ctx.port);
  const start = ctx.serveCommand ? `start it with \`${ctx.serveCommand}\`` : 'start it first';
  const sentence = (message: string, hint: string) => new NetlabError(code!, message, hint, { cause: err });
  switch (code) {
    case 'EADDRINUSE':
      return sentence(
        `port ${ctx.port} on ${ctx.host} is already in use by another program.`,
        `stop that program (another server still running?) or pick another port with --port (--port 0 picks a free one).`,
      );
    case 'EACCES':
      return sentence(
        `not allowed to listen on port ${ctx.port}: ports below 1024 need administrator rights.`,
        `use a port from 1024 up, e.g. --port ${ctx.port < 1024 ? ctx.port + 12000 : 12345}.`,
      );
    case 'EADDRNOTAVAIL':
      return sentence(
        `${ctx.host} is not an address of this machine, so nothing can ${ctx.operation === 'listen' ? 'listen' : 'bind'} there.`,
        `use 127.0.0.1 for this machine only, or --lan (--host 0.0.0.0) to accept connections from the network.`,
      );
    case 'ECONNREFUSED':
      return sentence(`nothing is listening on ${where} (connection refused).`, `is the server running? ${capitalize(start)}.`);
    case 'ECONNRESET':
      return sentence(`the connection to ${where} was reset by the other side.`, `the server may have crashed or been stopped; ${start} and try again.`);
    case 'EPIPE':
      return sentence(`the connection to ${where} was closed while we were still sending.`, `the server may have been stopped; ${start} and try again.`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return sentence(`the host name "${ctx.host}" could not be resolved to an address.`, `check the spelling, or use an IP address such as 127.0.0.1.`);
    case 'ETIMEDOUT':
      return sentence(
        `no answer from ${where} in time (connection timed out).`,
        `check the address and that no firewall drops the packets; on one machine use 127.0.0.1.`,
      );
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return sentence(`${where} cannot be reached from this machine (no route).`, `check the address and your network connection.`);
    default:
      return undefined;
  }
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
