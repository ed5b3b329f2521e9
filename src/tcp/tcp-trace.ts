/**
 * `--trace` for the TCP labs (lesson 01, "Watch the bytes with --trace"): a connected socket's
 * bytes at the two places a program meets the kernel, in the shape src/core/trace.ts gives
 * every lab:
 *
 *   +0.012s 127.0.0.1:53422 → 127.0.0.1:12345 read 6 bytes
 *     0000  68 65 6c 6c 6f 0a                                 |hello.|
 *
 * Each read is one 'data' event, as the kernel delivered it; each write is one socket.write()
 * the program made. Side by side they show coalescing (four writes, one read) and splitting
 * (one write, three reads): TCP keeps the bytes and their order, not where writes began.
 *
 * A corked socket (tcp-chat batches a busy turn's lines: src/core/turn-batch.ts) holds its
 * writes until uncork(), which hands them to the kernel in one writev: such writes are marked
 * `(corked)`.
 */
import type net from 'node:net';
import { socketEnds, tapWrites, type Tracer } from '../core/trace.js';
import { bytes } from '../core/text-view.js';

/**
 * Traces a connected TCP socket: every read (before anyone else sees it), every socket.write()
 * call, the peer's FIN and ours. Call it before the program adds its own 'data' listener, or
 * in the same turn. Reads are traced only while someone reads: the trace never starts a
 * paused socket flowing.
 */
export function traceTcpSocket(socket: net.Socket, tracer: Tracer): void {
  const { local, remote } = socketEnds(socket);
  socket.prependListener('data', (chunk: Buffer | string) => {
    const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    tracer.bytes(remote, local, `read ${bytes(data.length)}`, data);
  });
  socket.on('end', () => tracer.event(remote, local, 'FIN: the peer will send nothing more'));
  // 'finish': end() was called and every queued byte was handed to the kernel, which sends FIN.
  socket.on('finish', () => tracer.event(local, remote, 'FIN: we will send nothing more'));
  tapWrites(socket, (data) => {
    const corked = socket.writableCorked > 0 ? ' (corked)' : '';
    tracer.bytes(local, remote, `write ${bytes(data.length)}${corked}`, data);
  });
}

/** The `tap` option of the TCP labs' servers and client for --trace: undefined without a Tracer. */
export function tcpTap(tracer: Tracer | undefined): ((socket: net.Socket) => void) | undefined {
  return tracer && ((socket) => traceTcpSocket(socket, tracer));
}
