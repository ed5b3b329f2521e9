/**
 * A server under test, in its own process: started from a command line, found by the port in
 * its first stdout line (DESIGN.md: every server prints `<lab> server listening on host:port`
 * first), measured by the CPU time the kernel charges to it, and stopped.
 *
 * Everything the server prints after the first line is read and thrown away here. That is on
 * purpose: a logging server pays for every line it writes (on Linux, Node writes to a pipe
 * synchronously), and a reader that keeps up is what a terminal is. Sending the output to a
 * file or /dev/null would measure a different, cheaper thing.
 *
 * Leaves out: restarting a crashed server (a crash fails the benchmark, with its stderr),
 * and any host but 127.0.0.1.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** How long a server gets to print its first line. */
const START_TIMEOUT_MS = 10_000;
/** How long a server gets to exit after SIGTERM before it is killed. */
const STOP_TIMEOUT_MS = 3_000;

const LISTENING = /server listening on (\S+):(\d+)/;

/** Clock ticks per second for /proc/PID/stat (USER_HZ); 100 on every common Linux. */
export const CLOCK_TICKS_PER_S = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;

/** Servers still running, killed if the bench itself dies, so none outlives it. */
const running = new Set();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Spawns `node ...args` in `cwd` and resolves once the server has printed its listening line.
 * Rejects with the server's stderr if it exits or stays silent for START_TIMEOUT_MS.
 *
 * @returns `{ label, host, port, pid, cpuMs(), stop() }`; `stop()` is safe to call twice.
 */
export function startServer({ label, args, cwd }) {
  // NO_COLOR: the log is the same bytes on every machine; colour codes are a few per line.
  const env = { ...process.env, NO_COLOR: '1' };
  delete env.FORCE_COLOR;
  const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text) => {
    stderr = (stderr + text).slice(-4000);
  });
  const exited = new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  exited.then(() => running.delete(child));

  return new Promise((resolve, reject) => {
    let firstLine = '';
    let settled = false;
    const fail = (why) => {
      if (settled) return; // a server that exits after it listened is stop()'s business
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${label}: ${why}\n  command: node ${args.join(' ')}\n  stderr: ${stderr.trim() || '(empty)'}`));
    };
    const timer = setTimeout(() => fail(`no listening line within ${START_TIMEOUT_MS} ms`), START_TIMEOUT_MS);
    child.once('error', (err) => fail(err.message));
    exited.then(({ code, signal }) => fail(`exited (${signal ?? `code ${code}`}) before listening`));

    const onFirstData = (chunk) => {
      firstLine += chunk.toString('latin1');
      const newline = firstLine.indexOf('\n');
      if (newline === -1) return;
      child.stdout.off('data', onFirstData);
      // From here on: read every byte the server logs, and drop it.
      child.stdout.on('data', () => {});
      const match = LISTENING.exec(firstLine.slice(0, newline));
      if (!match) return fail(`first line is not a listening line: ${JSON.stringify(firstLine.slice(0, newline))}`);
      settled = true;
      clearTimeout(timer);
      resolve(serverHandle(label, child, match[1], Number(match[2]), exited));
    };
    child.stdout.on('data', onFirstData);
  });
}

function serverHandle(label, child, host, port, exited) {
  let stopping;
  return {
    label,
    host,
    port,
    pid: child.pid,
    /** CPU time (user + system, every thread) the server has used so far, in ms. */
    cpuMs: () => processCpuMs(child.pid),
    /** True while the process is alive: a server that died mid-run fails the benchmark. */
    get alive() {
      return child.exitCode === null && child.signalCode === null;
    },
    /** SIGTERM (netlab's servers shut down cleanly on it), then SIGKILL after STOP_TIMEOUT_MS. */
    stop() {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const kill = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
        child.kill('SIGTERM');
        await exited;
        clearTimeout(kill);
      })();
      return stopping;
    },
  };
}

/**
 * utime + stime of a process from /proc/PID/stat (fields 14 and 15, in clock ticks; they
 * include every thread). Resolution is one tick, 10 ms: fine over a run of a second or more.
 */
export function processCpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  // Field 2 is the command name in parentheses and may hold spaces: count from the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / CLOCK_TICKS_PER_S;
}

/** Runs `load` against `server` and returns the load's result plus the server's CPU ms in the counted window. */
export async function withServerCpu(server, load, options) {
  let cpuStart = 0;
  let cpuEnd = 0;
  const result = await load({
    ...options,
    host: server.host,
    port: server.port,
    onMeasureStart: () => (cpuStart = server.cpuMs()),
    onMeasureEnd: () => (cpuEnd = server.cpuMs()),
  });
  return { ...result, serverCpuMs: cpuEnd - cpuStart };
}
