/**
 * The round-trip figure that every echo benchmark measures the same way (tcp-echo, udp-echo,
 * ws-echo): one 64-byte message in flight, 20,000 round trips timed after a warm-up; p50, p99
 * and p99.9 of the round trip, and the server's CPU time per round trip. Only the load differs,
 * TCP, UDP or WebSocket, and what else a round reports (a UDP load also counts the datagrams it
 * lost). Targets (issue #10): p50 ≤ 1.10× the minimal peer's, p99 ≤ 1.25×.
 *
 * p99.9 of 20,000 round trips is the 20th slowest: reported, not targeted, since one stray
 * timer interrupt moves it.
 */
import { withServerCpu } from './server-process.js';

const SETTINGS = {
  full: { messageBytes: 64, warmup: 1000, count: 20_000 },
  smoke: { messageBytes: 64, warmup: 100, count: 500, verify: true },
};
/** Round trips on every server before the rounds, so V8 has compiled both sides' hot paths. */
const WARMUP_COUNT = { full: 5000, smoke: 100 };

/**
 * @param measureRoundTrips the load's function: `(options) => { samples, seconds, ... }`
 * @param more `{ extras, results(run) }`: further lines for the report, and their values
 */
export function roundTripFigure(measureRoundTrips, more = {}) {
  const { extras = [], results = () => ({}) } = more;
  return {
    name: 'round trip',
    metrics: [
      { key: 'p50Us', label: 'round trip p50, µs', better: 'lower', target: 1.1, digits: 1 },
      { key: 'p99Us', label: 'round trip p99, µs', better: 'lower', target: 1.25, digits: 1 },
      { key: 'p999Us', label: 'round trip p99.9, µs', better: 'lower', digits: 1 },
      { key: 'serverCpuUsPerRoundTrip', label: 'server CPU, µs per round trip', better: 'lower', digits: 1 },
    ],
    extras: [{ key: 'roundTripsPerS', label: 'round trips per second (one in flight)', scale: 1, digits: 0 }, ...extras],
    async warmUp(server, mode) {
      const { messageBytes } = SETTINGS[mode];
      await measureRoundTrips({ messageBytes, warmup: 0, count: WARMUP_COUNT[mode], host: server.host, port: server.port });
    },
    async measure(server, mode) {
      const run = await withServerCpu(server, measureRoundTrips, SETTINGS[mode]);
      return {
        p50Us: run.samples.percentile(50),
        p99Us: run.samples.percentile(99),
        p999Us: run.samples.percentile(99.9),
        serverCpuUsPerRoundTrip: (run.serverCpuMs * 1000) / run.samples.count,
        roundTripsPerS: run.samples.count / run.seconds,
        ...results(run),
      };
    },
  };
}
