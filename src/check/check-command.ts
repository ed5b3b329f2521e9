/**
 * `netlab check <lab> [--host H] [--port P]`: grades a server the student wrote, in any
 * language, with the scripted clients of the lab's checklist (one file per lab in this folder),
 * and prints each check as it finishes: ✓ or ✗, and for a failure what was seen and a hint
 * naming the lesson section that teaches the fix. Exit 0 only when every check passes.
 *
 * The port defaults to the lab's own, so `netlab check tcp-echo` grades whatever listens where
 * `netlab tcp-echo serve` would.
 */
import { Argument, Command, Option } from 'commander';
import { argParser, outputFor } from '../core/commands.js';
import { AlreadyReported, UsageError, formatAddress } from '../core/errors.js';
import { defaultPort, parseHost, parseInteger } from '../core/options.js';
import type { Output } from '../core/output.js';
import { wrapWords } from '../core/text-view.js';
import { DEFAULT_HOST } from '../core/ports.js';
import { runChecklist, seconds, type CheckResult, type CheckedLab, type LabChecklist } from './checklist.js';
import { tcpChatChecklist } from './tcp-chat-check.js';
import { tcpEchoChecklist } from './tcp-echo-check.js';
import { udpEchoChecklist } from './udp-echo-check.js';
import { wsChatChecklist } from './ws-chat-check.js';
import { wsEchoChecklist } from './ws-echo-check.js';

/** Every lab's checklist, in course order. */
export const CHECKLISTS: Record<CheckedLab, LabChecklist> = {
  'tcp-echo': tcpEchoChecklist,
  'tcp-chat': tcpChatChecklist,
  'udp-echo': udpEchoChecklist,
  'ws-echo': wsEchoChecklist,
  'ws-chat': wsChatChecklist,
};

/** How long a check waits for what a correct server does at once, unless --wait says. */
export const DEFAULT_WAIT_MS = 2000;

interface CheckOptions {
  host: string;
  port?: number;
  path: string;
  wait: number;
}

/** The `netlab check [lab]` command: the list of checklists, or one run against a server. */
export function checkCommand(): Command {
  return new Command('check')
    .description("grade a server you wrote (in any language) with the lab's scripted clients")
    .addArgument(new Argument('[lab]', 'the lab whose server to check').choices(Object.keys(CHECKLISTS)))
    .addOption(new Option('--host <host>', 'where your server runs').default(DEFAULT_HOST).argParser(argParser(parseHost)))
    .addOption(new Option('--port <port>', "your server's port, 1 to 65535 (default: the lab's own)").argParser(argParser((v) => parseInteger('--port', v, 1, 65535))))
    .addOption(new Option('--path <path>', 'the WebSocket labs: the endpoint path').default('/ws').argParser(argParser(parsePath)))
    .addOption(
      new Option('--wait <ms>', 'how long to wait for each answer, 100 to 60000 ms')
        .default(DEFAULT_WAIT_MS)
        .argParser(argParser((v) => parseInteger('--wait', v, 100, 60_000))),
    )
    .addHelpText(
      'after',
      `
Examples:
  netlab check                          list the labs and what each checks
  netlab check tcp-echo                 your echo server on 127.0.0.1:${defaultPort('tcp-echo')}
  netlab check tcp-chat --port 5000     your chat server on another port
  netlab check ws-echo --path /echo     a WebSocket endpoint that is not /ws
  netlab check udp-echo --host 192.168.1.20 --wait 5000
Exit status: 0 when every check passes, 1 when one fails.`,
    )
    .action(async (lab: CheckedLab | undefined, opts: CheckOptions, command: Command) => {
      const output = outputFor(command);
      if (lab === undefined) return listChecklists(output);
      const checklist = CHECKLISTS[lab];
      const target = { host: opts.host, port: opts.port ?? defaultPort(lab), path: opts.path };
      const where = lab.startsWith('ws-') ? `ws://${formatAddress(target.host, target.port)}${target.path}` : formatAddress(target.host, target.port);
      const waiting = opts.wait === DEFAULT_WAIT_MS ? '' : `, waiting up to ${seconds(opts.wait)} for each answer`;
      output.event(`checking the ${lab} server at ${where}: ${checklist.checks.length} checks${waiting}`);
      const results = await runChecklist(checklist.checks, { target, waitMs: opts.wait, onResult: (result) => printResult(output, result) });
      const passed = results.filter((r) => r.status === 'pass').length;
      if (passed === results.length) {
        output.event(`all ${results.length} checks passed`);
        return;
      }
      const failed = results.filter((r) => r.status === 'fail').length;
      const skipped = results.length - passed - failed;
      const notRun = skipped ? `, ${skipped} not run` : '';
      output.event(`${passed} of ${results.length} checks passed; ${failed} failed${notRun}`);
      throw new AlreadyReported(`${failed} checks failed`);
    });
}

function listChecklists(output: Output): void {
  output.data('Checks (run one with `netlab check <lab> [--host H] [--port P]`):');
  for (const checklist of Object.values(CHECKLISTS)) output.data(`  ${checklist.lab.padEnd(9)} ${checklist.summary}`);
}

/**
 * The checklist is laid out for 80 columns when piped (so lessons can quote it), and for the
 * terminal's width when that is narrower (a pane beside the server).
 */
const MAX_COLUMNS = 80;
/** Below this, wrapping would make the hints harder to read than letting the terminal do it. */
const MIN_COLUMNS = 40;

function checklistColumns(): number {
  const columns = process.stdout.isTTY ? process.stdout.columns : undefined;
  return columns === undefined ? MAX_COLUMNS : Math.min(MAX_COLUMNS, Math.max(MIN_COLUMNS, columns));
}
/** Problems and hints are indented under their check. */
const INDENT = '    ';

/** A line of the checklist: a check's own (with its mark), or one under it. */
export interface ChecklistLine {
  mark?: CheckResult['status'];
  text: string;
}

/**
 * How one result is printed in `columns`: the check with its mark, then for a pass its detail
 * (after the title when it fits, else on a line of its own), for a fail the problem and the hint,
 * wrapped and indented under it.
 */
export function resultLines(result: CheckResult, columns: number): ChecklistLine[] {
  const under = (label: string, text: string): ChecklistLine[] =>
    wrapWords(text, columns - INDENT.length - label.length).map((line, i) => ({ text: `${INDENT}${i === 0 ? label : ' '.repeat(label.length)}${line}` }));
  switch (result.status) {
    case 'pass': {
      const line = result.detail ? `${result.title} (${result.detail})` : result.title;
      if (!result.detail || line.length + 2 <= columns) return [{ mark: 'pass', text: line }];
      return [{ mark: 'pass', text: result.title }, ...under('', result.detail)];
    }
    case 'fail':
      return [{ mark: 'fail', text: result.title }, ...under('', result.problem), ...under('hint: ', result.hint)];
    case 'skipped':
      return [{ mark: 'skipped', text: `${result.title} (not run)` }];
  }
}

function printResult(output: Output, result: CheckResult): void {
  for (const line of resultLines(result, checklistColumns())) {
    if (line.mark) output.verdict(line.mark, line.text);
    else output.data(line.text);
  }
}

/** --path: an absolute path such as /ws, without spaces. */
function parsePath(value: string): string {
  if (!/^\/[^\s?#]*$/.test(value)) {
    throw new UsageError(`--path must start with "/" and hold no spaces, such as /ws, not "${value}".`);
  }
  return value;
}
