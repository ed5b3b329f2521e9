/**
 * The tcp-echo server's log: its events as lines, for `netlab tcp-echo serve` and the demo.
 *
 *   [127.0.0.1:53422] connected
 *   [127.0.0.1:53422] < 6 bytes "hello\n"        one line per read, exactly what it held
 *   [127.0.0.1:53422] sent FIN (it will send nothing more)
 *   [127.0.0.1:53422] closed · 6 bytes echoed
 *
 * --quiet keeps the connection lines and drops the per-read ones; with nothing listening to
 * 'data', the server's hot path does no logging work at all.
 */
import type { Output } from '../core/output.js';
import { bytes, preview } from '../core/text-view.js';
import type { EchoCloseInfo, EchoServer } from './echo-server.js';

export interface EchoLogOptions {
  quiet?: boolean;
  /** Role tag for a demo, where server and client share one terminal. */
  tag?: string;
}

export function logEchoServer(server: EchoServer, output: Output, options: EchoLogOptions = {}): void {
  const { tag } = options;
  server.on('connection', (conn, waitingBehind) => {
    const wait = waitingBehind > 0 ? ` · queued, not served until ${clients(waitingBehind)} ahead ${waitingBehind === 1 ? 'leaves' : 'leave'}` : '';
    output.peer(conn.remote, `connected${wait}`, tag);
  });
  server.on('serving', (conn) => output.peer(conn.remote, 'its turn: now reading what it sent while queued', tag));
  if (!options.quiet) {
    server.on('data', (conn, chunk) => output.peer(conn.remote, `< ${bytes(chunk.length)} ${preview(chunk)}`, tag));
    server.on('end', (conn) => output.peer(conn.remote, 'sent FIN (it will send nothing more)', tag));
  }
  server.on('close', (conn, info) => output.peer(conn.remote, closeLine(info), tag));
  server.on('error', (err) => output.warn(`server error: ${err.message}`));
}

function closeLine(info: EchoCloseInfo): string {
  const echoed = `${bytes(info.bytesEchoed)} echoed`;
  switch (info.reason) {
    case 'closed':
      return `closed · ${echoed}`;
    case 'server closing':
      return `closed by the server (shutting down) · ${echoed}`;
    case 'reset':
      return `reset by the client (${errorCode(info)}) · ${echoed}`;
    case 'error':
      return `ended by an error: ${info.error?.message ?? 'unknown'} · ${echoed}`;
  }
}

function errorCode(info: EchoCloseInfo): string {
  return (info.error as NodeJS.ErrnoException | undefined)?.code ?? 'reset';
}

function clients(n: number): string {
  return n === 1 ? '1 client' : `${n} clients`;
}
