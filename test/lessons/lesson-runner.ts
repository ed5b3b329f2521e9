/**
 * Runs a lesson's terminal sessions against the real, built CLI (lessons/README.md): every
 * command, every typed line and every expected output line, block by block in document order.
 *
 * Each run gets a temporary directory as the working directory, a `netlab` on the PATH that is
 * this repository's bin/netlab.js, plain output (NO_COLOR=1, COLUMNS=80), and free ports in
 * place of the labs' default ones (port-map.ts). Whatever happens, nothing it started is left
 * running: the cleanup is in a `finally`, and each process group is known from the moment it
 * is spawned.
 */
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseLesson, type Action, type Lesson } from '../../src/lessons/lesson-format.js';
import { allocatePortMap, describePortMap, mapPorts, portMapEnv, type PortMap } from './port-map.js';
import { Terminal } from './terminal.js';

/** The repository this file belongs to, whose bin/netlab.js the lessons run. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** How long any one step may wait (for a line, for a command to exit) before the lesson fails. */
export const STEP_TIMEOUT_MS = 10_000;

/** At the end, how long a command gets between SIGINT and SIGKILL. */
export const STOP_GRACE_MS = 2_000;

export interface RunLessonOptions {
  /** How errors name the lesson, e.g. `lessons/01-tcp-echo.md`. */
  name: string;
  timeoutMs?: number;
  /**
   * LANG for every command, with LC_ALL, LC_MESSAGES and LANGUAGE unset: `C.UTF-8` unless
   * told otherwise, so a lesson runs the same whatever the language of the machine running it.
   */
  locale?: string;
  /** Told each command's process group id as it starts (tests check that none survives). */
  onSpawn?: (pid: number) => void;
}

/**
 * Plays the lesson. Resolves when every session matched; rejects with an Error whose message
 * starts with `name:line:` and says what was expected and what the terminal printed instead.
 * Every process it started has exited by the time it settles.
 */
export async function runLesson(source: string, options: RunLessonOptions): Promise<void> {
  const lesson = parseNamed(source, options.name);
  const sourceLines = source.split(/\r?\n/);
  const ports = await allocatePortMap();
  const fail = (line: number, err: unknown) => lessonError(options.name, line, sourceLines[line - 1] ?? '', err, ports);
  const dir = await mkdtemp(path.join(tmpdir(), 'netlab-lesson-'));
  const terminals = new Map<number, Terminal>();
  try {
    const { cwd, env } = await prepareDirectory(dir, ports, options.locale ?? 'C.UTF-8');
    const timeoutMs = options.timeoutMs ?? STEP_TIMEOUT_MS;
    for (const session of lesson.sessions) {
      const number = session.terminal;
      const terminal = terminals.get(number) ?? new Terminal({ number, cwd, env, timeoutMs, onSpawn: options.onSpawn });
      terminals.set(number, terminal);
      for (const action of session.actions) {
        await perform(terminal, action, ports).catch((err: unknown) => {
          throw fail(action.line, err);
        });
      }
    }
    for (const terminal of terminals.values()) {
      await terminal.settle().catch((err: unknown) => {
        throw fail(terminal.endedAt ?? 1, err);
      });
    }
  } finally {
    await Promise.all([...terminals.values()].map((terminal) => terminal.stop(STOP_GRACE_MS)));
    await rm(dir, { recursive: true, force: true });
  }
}

/** `name:line: what went wrong`, and the port map when the line or the message involves a port. */
function lessonError(name: string, line: number, lessonText: string, err: unknown, ports: PortMap): Error {
  const message = err instanceof Error ? err.message : String(err);
  const mapped = describePortMap(ports, lessonText, message);
  return new Error(`${name}:${line}: ${message}${mapped ? `\n  (ports in this run: ${mapped})` : ''}`);
}

function parseNamed(source: string, name: string): Lesson {
  try {
    return parseLesson(source);
  } catch (err) {
    throw new Error(`${name}: ${(err as Error).message}`);
  }
}

async function perform(terminal: Terminal, action: Action, ports: PortMap): Promise<void> {
  switch (action.kind) {
    case 'run':
      return terminal.run(mapPorts(action.command, ports), action.line);
    case 'type':
      terminal.type(mapPorts(action.text, ports));
      if (action.echo) await terminal.expect(mapPorts(`> ${action.text}`, ports), `> ${action.text}`);
      return;
    case 'expect':
      return terminal.expect(mapPorts(action.pattern, ports), action.pattern);
    case 'skip':
      return terminal.skip();
    case 'interrupt':
      return terminal.interrupt(action.line);
    case 'end-input':
      return terminal.endInput(action.line);
    case 'exit-status': {
      const status = await terminal.exitStatus();
      if (status !== action.status) throw new Error(`\`echo $?\` printed ${status}, not ${action.status}.`);
      return;
    }
  }
}

/**
 * The run's directory: `work/`, the commands' empty working directory, and `bin/netlab`, this
 * repository's CLI, first on the PATH. The environment is the caller's, with plain 80-column
 * output, the port map and the locale.
 */
async function prepareDirectory(dir: string, ports: PortMap, locale: string): Promise<{ cwd: string; env: NodeJS.ProcessEnv }> {
  const bin = path.join(dir, 'bin');
  const cwd = path.join(dir, 'work');
  await Promise.all([mkdir(bin), mkdir(cwd)]);
  await symlink(path.join(REPO_ROOT, 'bin', 'netlab.js'), path.join(bin, 'netlab'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}`,
    NO_COLOR: '1',
    COLUMNS: '80',
    NETLAB_PORT_MAP: portMapEnv(ports),
    LANG: locale,
  };
  delete env.FORCE_COLOR; // set by some test reporters; NO_COLOR wins in netlab, not in every tool
  // These override LANG, and `netlab lesson` reads them (src/lessons/language.ts).
  delete env.LC_ALL;
  delete env.LC_MESSAGES;
  delete env.LANGUAGE;
  return { cwd, env };
}
