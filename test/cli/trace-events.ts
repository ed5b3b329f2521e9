/**
 * Reading `--trace` output in the CLI tests: each event is a header line
 * `+S.SSSs FROM → TO WHAT` (src/core/trace.ts), then its detail lines, indented two spaces.
 */
import { lines } from './run-cli.js';

/** One --trace event: `+S.SSSs FROM → TO WHAT`, then its indented detail lines. */
export interface TraceEvent {
  from: string;
  to: string;
  what: string;
  details: string[];
}

/** A trace event's header line. */
export const TRACE_HEADER = /^\+\d+\.\d{3}s (\S+) → (\S+) (.+)$/;

/** The trace events in what a process printed on stderr; other stderr lines are skipped. */
export function traceEvents(stderr: string): TraceEvent[] {
  const events: TraceEvent[] = [];
  let current: TraceEvent | undefined;
  for (const line of lines(stderr)) {
    const header = TRACE_HEADER.exec(line);
    if (header) {
      current = { from: header[1]!, to: header[2]!, what: header[3]!, details: [] };
      events.push(current);
    } else if (current && line.startsWith('  ')) {
      current.details.push(line.slice(2));
    } else {
      current = undefined;
    }
  }
  return events;
}
