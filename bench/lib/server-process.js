/**
 * A server under test, in its own process: started from a command line, found by the port in
 * its first stdout line (DESIGN.md: every server prints `<lab> server listening on host:port`
 * first), measured by the CPU time the kernel charges to it, and stopped.
 *
 * By default everything the server prints after the first line is read and thrown away here.
 * That is on purpose: a logging server pays for every line it writes (on Linux, Node writes to
 * a pipe synchronously), and a reader that keeps up is what a terminal is. `stdout: 'file'`
 * sends it to a file instead, as `netlab … > log.txt` would: the other way a class keeps a log.
 *
 * A program that prints no listening line (socat, redis-server) is given a free port in its
 * arguments (`{port}`: the kernel's pick, or the spec's `port`) and counts as started once that
 * port takes a connection.
 *
 * Leaves out: restarting a crashed server (a crash fails the benchmark, with its stderr),
 * and any host but 127.0.0.1.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** How long a server gets to print its first line. */
const START_TIMEOUT_MS = 10_000;
/** How long a server gets to exit after SIGTERM before it is killed. */
const STOP_TIMEOUT_MS = 3_000;
/** How often a file's first line, or a port that prints nothing, is looked at while starting. */
const POLL_MS = 20;

const LISTENING = /server listening on (\S+):(\d+)/;

/** Clock ticks per second for /proc/PID/stat (USER_HZ); 100 on every common Linux. */
export const CLOCK_TICKS_PER_S = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;

/**
 * Servers still running, killed if the bench itself dies, so none outlives it. Each runs in a
 * process group of its own, and the whole group is signalled: a socat's forked children hold
 * its stdout and stderr, and would outlive it otherwise.
 */
const running = new Set();
process.on('exit', () => {
  for (const child of running) signalGroup(child, 'SIGKILL');
});

/**
 * Stops every server still running, as stop() does each (SIGTERM to its group, SIGKILL after
 * STOP_TIMEOUT_MS), and resolves once they have exited: for a bench interrupted by a signal,
 * which then exits having reaped them all, none left behind, not even as a zombie.
 */
export async function stopAllServers() {
  await Promise.all(
    [...running].map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      const kill = setTimeout(() => signalGroup(child, 'SIGKILL'), STOP_TIMEOUT_MS);
      signalGroup(child, 'SIGTERM');
      await exited;
      clearTimeout(kill);
      signalGroup(child, 'SIGKILL'); // what it left behind (socat's children)
    }),
  );
}

function signalGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // the group is gone already
  }
}

/** Whether `program` is on PATH: for a spec's `available()`. */
export function onPath(program) {
  return spawnSync('sh', ['-c', `command -v ${program}`], { stdio: 'ignore' }).status === 0;
}

/**
 * Spawns the spec's program in `cwd` and resolves once the server listens. Rejects with the
 * server's stderr if it exits or is not listening within START_TIMEOUT_MS.
 *
 * @param spec `{ label, args, cwd, command?, nodeFlags?, stdout?: 'pipe' | 'file', port?, ... }`:
 *   `node ...nodeFlags ...args` unless `command` names another program; `port` is the one put
 *   in `{port}` when it must come from a range (a Redis, redis-process.js); every other field is
 *   kept as `server.spec`.
 * @returns `{ label, spec, host, port, pid, cpuMs(), stop() }`; `stop()` is safe to call twice.
 */
export async function startServer(spec) {
  const { label, cwd, command, nodeFlags = [], stdout = 'pipe' } = spec;
  const freePort = spec.args.some((arg) => arg.includes('{port}')) ? (spec.port ?? (await pickFreePort())) : undefined;
  const args = spec.args.map((arg) => (freePort === undefined ? arg : arg.replaceAll('{port}', String(freePort))));
  const argv = command === undefined ? [process.execPath, [...nodeFlags, ...args]] : [command, args];
  // NO_COLOR: the log is the same bytes on every machine; colour codes are a few per line.
  const env = { ...process.env, NO_COLOR: '1', ...spec.env };
  delete env.FORCE_COLOR;
  const logDir = stdout === 'file' ? mkdtempSync(join(tmpdir(), 'netlab-bench-')) : undefined;
  const logPath = logDir && join(logDir, 'stdout.log');
  const logFd = logPath && openSync(logPath, 'w');
  const child = spawn(argv[0], argv[1], { cwd, env, stdio: ['ignore', logFd ?? 'pipe', 'pipe'], detached: true });
  if (logFd !== undefined) closeSync(logFd); // the child has its own copy
  running.add(child);
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text) => {
    stderr = (stderr + text).slice(-4000);
  });
  // 'exit', not 'close': the server is gone once it has exited, whoever still holds its pipes.
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  exited.then(() => {
    running.delete(child);
    if (logDir) rmSync(logDir, { recursive: true, force: true });
  });

  return new Promise((resolve, reject) => {
    let settled = false;
    const cleanups = [];
    const settle = () => {
      settled = true;
      clearTimeout(timer);
      for (const cleanup of cleanups) cleanup();
    };
    const fail = (why) => {
      if (settled) return; // a server that exits after it listened is stop()'s business
      settle();
      signalGroup(child, 'SIGKILL');
      const shown = command === undefined ? `node ${[...nodeFlags, ...args].join(' ')}` : `${command} ${args.join(' ')}`;
      reject(new Error(`${label}: ${why}\n  command: ${shown}\n  stderr: ${stderr.trim() || '(empty)'}`));
    };
    const listening = (host, port) => {
      if (settled) return;
      settle();
      resolve(serverHandle(spec, child, host, port, exited));
    };
    const firstLine = (line) => {
      const match = LISTENING.exec(line);
      if (!match) return fail(`first line is not a listening line: ${JSON.stringify(line)}`);
      listening(match[1], Number(match[2]));
    };
    const timer = setTimeout(() => fail(`not listening within ${START_TIMEOUT_MS} ms`), START_TIMEOUT_MS);
    child.once('error', (err) => fail(err.message));
    exited.then(({ code, signal }) => fail(`exited (${signal ?? `code ${code}`}) before listening`));

    if (freePort !== undefined) {
      const poll = setInterval(() => {
        const probe = net.connect(freePort, '127.0.0.1');
        probe.once('connect', () => (probe.destroy(), listening('127.0.0.1', freePort)));
        probe.once('error', () => probe.destroy());
      }, POLL_MS);
      cleanups.push(() => clearInterval(poll));
      if (child.stdout) child.stdout.on('data', () => {});
    } else if (logPath !== undefined) {
      const poll = setInterval(() => {
        const text = readFileSync(logPath, 'latin1');
        const newline = text.indexOf('\n');
        if (newline !== -1) firstLine(text.slice(0, newline));
      }, POLL_MS);
      cleanups.push(() => clearInterval(poll));
    } else {
      let text = '';
      const onFirstData = (chunk) => {
        text += chunk.toString('latin1');
        const newline = text.indexOf('\n');
        if (newline === -1) return;
        child.stdout.off('data', onFirstData);
        // From here on: read every byte the server logs, and drop it.
        child.stdout.on('data', () => {});
        firstLine(text.slice(0, newline));
      };
      child.stdout.on('data', onFirstData);
    }
  });
}

/** A port nothing listens on now: the kernel's pick for a socket closed at once. */
function pickFreePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function serverHandle(spec, child, host, port, exited) {
  let stopping;
  return {
    label: spec.label,
    spec,
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
        const kill = setTimeout(() => signalGroup(child, 'SIGKILL'), STOP_TIMEOUT_MS);
        signalGroup(child, 'SIGTERM');
        await exited;
        clearTimeout(kill);
        signalGroup(child, 'SIGKILL'); // what it left behind (socat's children)
      })();
      return stopping;
    },
  };
}

/**
 * CPU time of a process and everything it started (a socat forks one child per connection):
 * utime + stime of each live process in the tree, plus cutime + cstime, what its children that
 * have ended used (fields 14–17 of /proc/PID/stat, in clock ticks, every thread included).
 * Resolution is one tick, 10 ms: fine over a run of a second or more.
 */
export function processCpuMs(pid) {
  let ticks = 0;
  const pending = [pid];
  while (pending.length > 0) {
    const next = pending.pop();
    let stat;
    try {
      stat = readFileSync(`/proc/${next}/stat`, 'latin1');
    } catch {
      continue; // it ended between the listing and the reading
    }
    // Field 2 is the command name in parentheses and may hold spaces: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    pending.push(...childrenOf(next));
  }
  return (ticks * 1000) / CLOCK_TICKS_PER_S;
}

/** The live children of `pid`, from every thread's /proc/PID/task/TID/children. */
function childrenOf(pid) {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
      readFileSync(`/proc/${pid}/task/${tid}/children`, 'latin1').split(' ').filter(Boolean).map(Number),
    );
  } catch {
    return [];
  }
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
