/**
 * The udp-echo benchmark's "under load" figure (issue #10): an open-loop sender offers
 * 105,000 datagrams of 64 bytes a second for 1 s (lib/udp-offered-load.js), and each server is
 * judged by the share it answers and by the round trip of the answered ones.
 *
 * Why 105,000: the issue asks for at least 100,000, and the margin covers the load's pacing.
 * At 120,000 both servers used 81–84 % of a core and the p99 measured the queue such a busy
 * server builds in its 8 MiB buffer, which came and went from round to round: netlab ÷ floor
 * ranged from 0.19× to 4.29× over 7 rounds (BENCHMARKS.md, udp-echo).
 *
 * Loss is compared as the share answered, replies ÷ offered, because loss itself is often 0 for
 * both servers and a ratio of two zeros means nothing: the answered shares are then 100 % and
 * 100 %, a ratio of 1. A target of ≥ 0.999× lets netlab lose at most 0.1 % of what was offered
 * more than the floor did in the same round (0.999 × the floor's share, and that share is at
 * most 1), which is below what a single disturbed round costs and far below what a server
 * that cannot keep up loses.
 *
 * Leaves out: other offered rates (one above 100,000 a second is the issue's), and a figure
 * per burst size; see udp-offered-load.js for the load itself.
 */
import { withServerCpu } from './server-process.js';
import { measureOfferedLoad } from './udp-offered-load.js';

const SETTINGS = {
  full: { messageBytes: 64, ratePerS: 105_000, rampMs: 300, durationMs: 1000 },
  smoke: { messageBytes: 64, ratePerS: 5_000, rampMs: 20, durationMs: 100, verify: true },
};
/** Before the rounds: V8 compiles both sides' hot paths under this very load. */
const WARMUP_MS = { full: 1000, smoke: 20 };

/**
 * @param {{ subjects: string[], against: string }} targets which servers the targets apply to
 *   (netlab's), and the floor they are compared with; other servers are measured as context.
 */
export function underLoadFigure({ subjects, against }) {
  const targets = (metric, target) => subjects.map((subject) => ({ metric, subject, against, target }));
  return {
    name: 'under load',
    metrics: [
      { key: 'answeredPercent', label: 'under load: answered, % of offered', better: 'higher', digits: 3 },
      { key: 'p50Us', label: 'under load: round trip p50, µs', better: 'lower', digits: 0 },
      { key: 'p99Us', label: 'under load: round trip p99, µs', better: 'lower', digits: 0 },
      { key: 'p999Us', label: 'under load: round trip p99.9, µs', better: 'lower', digits: 0 },
      { key: 'serverCpuUsPerReply', label: 'under load: server CPU, µs per reply', better: 'lower', digits: 2 },
    ],
    comparisons: [...targets('answeredPercent', 0.999), ...targets('p99Us', 1.25)],
    extras: [
      { key: 'offeredPerS', label: 'under load: datagrams offered per second (a full run asks for 105,000)', scale: 1, digits: 0 },
      { key: 'lostPercent', label: 'under load: lost, % of offered, worst round', scale: 1, digits: 3, worst: true },
      { key: 'serverDrops', label: "under load: dropped in the server's socket (kernel: buffer full), worst round", scale: 1, digits: 0, worst: true },
      { key: 'loadDrops', label: "under load: dropped in the load's socket, worst round", scale: 1, digits: 0, worst: true },
      { key: 'serverCpuShare', label: 'under load: server CPU, % of one core', scale: 100, digits: 0 },
      { key: 'clientCpuShare', label: 'under load: load (bench process) CPU, % of one core', scale: 100, digits: 0 },
    ],
    async warmUp(server, mode) {
      await measureOfferedLoad({ ...SETTINGS[mode], durationMs: WARMUP_MS[mode], host: server.host, port: server.port });
    },
    async measure(server, mode) {
      const run = await withServerCpu(server, measureOfferedLoad, SETTINGS[mode]);
      const { histogram } = run;
      return {
        answeredPercent: (100 * run.replies) / run.offered,
        // No reply at all would leave no round trip to time; the share answered says so.
        p50Us: histogram.count > 0 ? histogram.percentile(50) : Infinity,
        p99Us: histogram.count > 0 ? histogram.percentile(99) : Infinity,
        p999Us: histogram.count > 0 ? histogram.percentile(99.9) : Infinity,
        serverCpuUsPerReply: (run.serverCpuMs * 1000) / Math.max(run.replies, 1),
        offeredPerS: run.offeredPerS,
        lostPercent: (100 * run.lost) / run.offered,
        serverDrops: run.drops.server,
        loadDrops: run.drops.load,
        serverCpuShare: run.serverCpuMs / (run.seconds * 1000),
        clientCpuShare: run.clientCpuMs / (run.seconds * 1000),
      };
    },
  };
}
