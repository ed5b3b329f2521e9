/**
 * The ws-echo benchmark: `netlab ws-echo serve` against the floor, a stock ws WebSocketServer
 * that is only `ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }))`
 * (bench/reference/ws-echo-minimal.js), in the same run, and against the TCP floor
 * (`socket.pipe(socket)`, bench/reference/tcp-echo-pipe.js) moving the same bytes over plain
 * TCP. Both WebSocket servers use the same ws library with permessage-deflate off, and with
 * bufferutil (ws's native masking, an optional dependency) when it is installed, so the gap to
 * the ws floor is what netlab adds around ws; the gap to the TCP pipe is what WebSocket costs.
 *
 * Servers: netlab with --quiet (logs connections only), netlab as a student first runs it
 * (one log line per message, its stdout read by the bench like a terminal would), the ws
 * floor, the TCP pipe, and for context a bare frame loop after ws's handshake
 * (bench/reference/ws-echo-bare.js: no checks at all, the lowest a WebSocket echo goes). Each runs in its own process; the load runs in the bench process
 * (lib/ws-load.js for WebSocket, lib/tcp-load.js for the TCP pipe), on raw sockets with
 * pre-masked frames, counting bytes.
 *
 * Figures, per server, in this order (lib/ws-echo-idle-memory.js, lib/ws-echo-figures.js):
 *   idle memory        first, while the servers are fresh: 10,000 idle WebSockets, the
 *                      server's memory after a full GC minus before, per connection (RSS
 *                      without V8's free heap; JS heap and buffers). Not the TCP pipe, not the
 *                      logging server (it takes a connection as --quiet does). 3 rounds.
 *   round trip         one 64-byte message in flight, 20,000 round trips: p50, p99, p99.9;
 *                      server CPU per round trip (lib/round-trip-figure.js).
 *   round trip, 16 KiB the same with one 16 KiB message, 10,000 round trips.
 *   echo throughput    100 connections × 4 messages of 64 bytes in flight, messages per
 *                      second counted for 1 s; server CPU per message.
 *   bulk echo          4 connections × 4 messages of 1 MiB in flight, MB/s for 1.5 s (TCP:
 *                      1 MiB writes, 4 MiB in flight); server CPU per MB.
 * Targets (issue #10), for netlab --quiet: round trip p50 ≤ 1.10× and p99 ≤ 1.25× the ws
 * floor; 16 KiB p50 ≤ 1.15× the TCP pipe's; throughput ≥ 1.0× the ws floor and ≥ 0.8× the
 * TCP pipe; bulk ≥ 0.8× the TCP pipe; idle memory ≤ 1.25× the ws floor. The ratio columns
 * hold the other servers to the same targets against the ws floor, which says how far the
 * logging server is from them (and that the TCP pipe is the faster floor).
 *
 * The full run takes about 4 min on 2 cores; WS_NO_BUFFER_UTIL=1 in a server's environment
 * (`env` in its spec) measures ws without bufferutil.
 *
 * Leaves out: the handshake rate, binary and fragmented messages, the page (plain HTTP), the
 * heartbeat and back-pressure (tests cover their behaviour; they are not hot paths),
 * permessage-deflate, and any network but loopback.
 */
import { roundTripFigure } from './lib/round-trip-figure.js';
import { bulk, eitherProtocol, roundTrip16k, TCP_FLOOR, throughput } from './lib/ws-echo-figures.js';
import { idleMemory } from './lib/ws-echo-idle-memory.js';
import { MEMORY_PROBE_FLAGS } from './lib/ws-idle-memory.js';

const netlab = ['bin/netlab.js', 'ws-echo', 'serve', '--port', '0'];

/** The benchmark as bench/run.js and lib/compare.js expect it. */
export default {
  name: 'ws-echo',
  title:
    "WebSocket echo: netlab ws-echo serve against ws's WebSocketServer with ws.on('message', (d, b) => ws.send(d, { binary: b })), " +
    'and against net.createServer((s) => s.pipe(s)) moving the same bytes over TCP (smoke: 50 idle, tiny loads)',
  // The memory probe (MEMORY_PROBE_FLAGS) in every server the idle-memory figure reads.
  reference: { label: 'node ws (floor)', nodeFlags: MEMORY_PROBE_FLAGS, args: ['bench/reference/ws-echo-minimal.js', '--port', '0'] },
  subjects: [
    { label: 'netlab --quiet', nodeFlags: MEMORY_PROBE_FLAGS, args: [...netlab, '--quiet'] },
    { label: 'netlab, logging', idleMemory: false, args: netlab },
    { label: TCP_FLOOR, protocol: 'tcp', idleMemory: false, args: ['bench/reference/tcp-echo-pipe.js', '--port', '0'] },
    // Context, judged by nothing: the lowest a WebSocket echo goes in Node (reference/ws-echo-bare.js).
    { label: 'bare frame loop (context)', context: true, idleMemory: false, args: ['bench/reference/ws-echo-bare.js', '--port', '0'] },
  ],
  figures: [idleMemory, eitherProtocol((load) => roundTripFigure(load.measureRoundTrips)), roundTrip16k, throughput, bulk],
};
