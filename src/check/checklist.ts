/**
 * `netlab check`'s engine: a checklist of scripted clients run one after another against a
 * server somebody wrote (in any language), each ending in pass or fail, and every failure
 * carrying a hint that names the lesson section teaching the fix.
 *
 * A check is a function that drives sockets and either returns (pass) or throws a CheckFailure
 * (fail: what was seen, and the hint). Anything else it throws is a failure too, worded as such.
 * Every check runs under a deadline, and the sockets it opened are closed after it whatever
 * happened (CheckContext.defer), even those a check opens after its deadline, so one stuck check
 * cannot hang the list or leak into the next.
 *
 * Leaves out: printing (check-command.ts) and the labs' scripts (one file per lab).
 */

import { errnoCode, explainNetworkError, formatAddress } from '../core/errors.js';

/** The server under test. `path` is the WebSocket labs' endpoint, e.g. "/ws". */
export interface CheckTarget {
  host: string;
  port: number;
  path: string;
}

/** What a check is given: where the server is, how long to wait, and where to leave its cleanups. */
export interface CheckContext {
  readonly target: CheckTarget;
  /**
   * How long to wait for something a correct server does at once (an echo, a broadcast). A
   * generous bound, not a speed requirement: a check never fails for being slow within it.
   */
  readonly waitMs: number;
  /**
   * Registers a cleanup (close a socket) to run when this check ends, pass or fail; once it has
   * ended (a check still running past its deadline), the cleanup runs at once.
   */
  defer(cleanup: () => void | Promise<void>): void;
  /** True once the check has ended: a check still running past its deadline should stop. */
  readonly ended: boolean;
}

/** One line of a checklist: a scripted client and what it expects of the server. */
export interface Check {
  /** What a correct server does, as the checklist line says it: "echoes the exact bytes". */
  title: string;
  /** When this check fails, the checks after it are skipped (the first connection). */
  essential?: boolean;
  /** Resolves on pass, optionally with a short detail; throws a CheckFailure on fail. */
  run(ctx: CheckContext): Promise<string | void>;
}

/** A failed check: what the scripted client saw, and what to do about it. */
export class CheckFailure extends Error {
  constructor(
    readonly problem: string,
    readonly hint: string,
  ) {
    super(problem);
    this.name = 'CheckFailure';
  }
}

/**
 * Fails the check because the server cannot be reached: the reason in one sentence (refused,
 * unknown host, timed out) and a hint. A refused connection usually means the student's server
 * is not running yet, or listens on another port; `serveCommand` starts netlab's own there.
 */
export function failToReach(err: unknown, target: CheckTarget, serveCommand: string): never {
  const { host, port } = target;
  const explained = explainNetworkError(err, { operation: 'connect', host, port, serveCommand });
  const where = formatAddress(host, port);
  if (errnoCode(err) === 'ECONNREFUSED') {
    fail(explained!.message, `is your server running, and listening on ${where}? --port and --host say where it is. To see every check pass first, start netlab's own: \`${serveCommand}\`.`);
  }
  fail(explained?.message ?? `could not reach ${where}: ${err instanceof Error ? err.message : String(err)}`, explained?.hint ?? `is your server running, and listening on ${where}?`);
}

/** Throws the CheckFailure that fails the current check. */
export function fail(problem: string, hint: string): never {
  throw new CheckFailure(problem, hint);
}

/** How a check ended: passed (with an optional detail), failed (what was seen, and a hint), or not run. */
export type CheckResult =
  | { title: string; status: 'pass'; detail?: string }
  | { title: string; status: 'fail'; problem: string; hint: string }
  | { title: string; status: 'skipped'; reason: string };

/** Where and how runChecklist() runs, and who hears of each result. */
export interface RunChecklistOptions {
  target: CheckTarget;
  waitMs: number;
  /** Hang guard for a whole check; a check still running then fails. */
  deadlineMs?: number;
  /** Called with each result as soon as it is known, so the list prints as it runs. */
  onResult?: (result: CheckResult, index: number) => void;
}

/** A check's deadline when the caller gives none: many waits' worth. */
export const DEFAULT_DEADLINE_WAITS = 8;

/** Runs the checks in order and resolves with every result; never rejects for a check's sake. */
export async function runChecklist(checks: readonly Check[], options: RunChecklistOptions): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  let skipReason: string | undefined;
  for (const [index, check] of checks.entries()) {
    const result: CheckResult = skipReason
      ? { title: check.title, status: 'skipped', reason: skipReason }
      : await runOne(check, options);
    if (result.status === 'fail' && check.essential) skipReason = `skipped: "${check.title}" failed`;
    results.push(result);
    options.onResult?.(result, index);
  }
  return results;
}

async function runOne(check: Check, options: RunChecklistOptions): Promise<CheckResult> {
  const cleanups: (() => void | Promise<void>)[] = [];
  let ended = false;
  const ctx: CheckContext = {
    target: options.target,
    waitMs: options.waitMs,
    // A check that ran past its deadline may still open sockets: they are closed at once.
    defer: (cleanup) => (ended ? void runCleanups([cleanup]) : void cleanups.push(cleanup)),
    get ended() {
      return ended;
    },
  };
  const deadlineMs = options.deadlineMs ?? options.waitMs * DEFAULT_DEADLINE_WAITS;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new CheckFailure(
            `the check did not finish within ${seconds(deadlineMs)}.`,
            'the server stopped answering part-way; run it in a terminal you can see, and watch what it prints while this check runs.',
          ),
        ),
      deadlineMs,
    );
  });
  try {
    const detail = await Promise.race([check.run(ctx), deadline]);
    return detail ? { title: check.title, status: 'pass', detail } : { title: check.title, status: 'pass' };
  } catch (err) {
    if (err instanceof CheckFailure) return { title: check.title, status: 'fail', problem: err.problem, hint: err.hint };
    const message = err instanceof Error ? err.message : String(err);
    return { title: check.title, status: 'fail', problem: `the check itself failed: ${message}`, hint: 'this is a bug in netlab check; please report it with the command you ran.' };
  } finally {
    clearTimeout(timer);
    ended = true;
    await runCleanups(cleanups);
  }
}

/** Runs cleanups side by side (a slow close must not wait for another); none can fail the check. */
async function runCleanups(cleanups: readonly (() => void | Promise<void>)[]): Promise<void> {
  await Promise.allSettled(cleanups.map((cleanup) => Promise.resolve().then(cleanup)));
}

/** `2 s`, `1.5 s`, `300 ms`: a wait as the checklist words it. */
export function seconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Number((ms / 1000).toFixed(1))} s`;
}

/** The labs `netlab check` can grade. */
export type CheckedLab = 'tcp-echo' | 'tcp-chat' | 'udp-echo' | 'ws-echo' | 'ws-chat';

/** One lab's checklist, as `netlab check <lab>` runs it. */
export interface LabChecklist {
  lab: CheckedLab;
  /** One line for `netlab check` without a lab: what a server must do to pass. */
  summary: string;
  /** How to start netlab's own server for this lab, for "nothing is listening" hints. */
  serveCommand: string;
  checks: readonly Check[];
}
