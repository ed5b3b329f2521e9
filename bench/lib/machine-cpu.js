/**
 * How much CPU the rest of the machine used while a figure was measured: the noise gauge.
 *
 * On a two-core machine a test suite or a browser tab in the background takes a core away from
 * the server or the load, and the figure drops without anything being wrong with either. The
 * bench cannot prevent that, but it can see it: the CPU time the whole machine spent on
 * processes (/proc/stat: user + nice + system) minus what the servers and the bench process
 * spent themselves is what others took.
 *
 * In a virtual machine the host can also take a CPU away (steal time). No process here can
 * see or stop that, so it is reported apart, as the share of a core the host took.
 *
 * Leaves out: interrupt and softirq time. Loopback TCP does much of its work in softirq
 * context, so that time belongs to the benchmark's own traffic, not to a neighbour.
 */
import { readFileSync } from 'node:fs';
import { CLOCK_TICKS_PER_S } from './server-process.js';

/**
 * From /proc/stat: CPU time all processes on the machine have used since boot (user + nice +
 * system), and the time the hypervisor ran something else while a virtual CPU wanted to run
 * (steal; 0 on bare metal). Both in ms, every core summed.
 */
export function machineCpuMs() {
  const line = readFileSync('/proc/stat', 'latin1').slice(0, 200).split('\n')[0];
  // cpu  user nice system idle iowait irq softirq steal …, in clock ticks
  const [user, nice, system, , , , , steal] = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const ms = (ticks) => (ticks * 1000) / CLOCK_TICKS_PER_S;
  return { processesMs: ms(user + nice + system), stolenMs: ms(steal ?? 0) };
}

/** This process's own CPU time (user + system), in ms. */
export function ownCpuMs() {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}
