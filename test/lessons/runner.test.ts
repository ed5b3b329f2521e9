import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { runLesson } from './lesson-runner.js';

const FIXTURE = 'test/lessons/fixtures/runner-fixture.md';

/** Short hang guards: these lessons fail on purpose, and need not wait 10 s to do it. */
const FAST = { timeoutMs: 500 };

/** A lesson from its session blocks, each `[terminal, lines]`. */
function lesson(...blocks: Array<[number, string[]]>): string {
  const sessions = blocks.map(([terminal, lines]) => ['```console terminal=' + terminal, ...lines, '```'].join('\n'));
  return ['# A test lesson', ...sessions].join('\n\n');
}

/**
 * The process groups among `pgids` that still have a live (not zombie) process. A process
 * whose shell died first is reaped by init, a moment later: as a zombie it is already gone.
 */
function stillRunning(pgids: number[]): number[] {
  const live = execFileSync('ps', ['-eo', 'pgid=,stat='], { encoding: 'utf8' })
    .split('\n')
    .map((row) => row.trim().split(/\s+/))
    .filter(([, stat]) => stat !== undefined && !stat.startsWith('Z'))
    .map(([pgid]) => Number(pgid));
  return pgids.filter((pgid) => live.includes(pgid));
}

describe('runLesson', () => {
  it('plays the fixture lesson up to its wrong expectation, then names the file, line, expected line and actual output', async () => {
    const pids: number[] = [];
    const run = runLesson(await readFile(FIXTURE, 'utf8'), { name: FIXTURE, onSpawn: (pid) => pids.push(pid) });

    await expect(run).rejects.toThrow(
      [
        `${FIXTURE}:107: terminal 1 printed a different line.`,
        '  expected: what the lesson claims',
        '  printed since its last match:',
        '    what the program prints',
        "  (terminal 1 runs `echo 'what the program prints'`, started on line 106)",
      ].join('\n'),
    );
    expect(pids).toHaveLength(11); // every `$` line but `echo $?` ran
    expect(stillRunning(pids)).toEqual([]);
  });

  it('leaves no process behind when a lesson fails', async () => {
    const pids: number[] = [];
    // Terminal 2's command ignores SIGINT (and so does its cat): only SIGKILL ends it.
    const source = lesson([1, ['$ cat']], [2, ["$ trap '' INT; cat"]], [3, ['$ echo here', 'not here']]);

    await expect(runLesson(source, { name: 'x.md', ...FAST, onSpawn: (pid) => pids.push(pid) })).rejects.toThrow(
      'printed a different line',
    );
    expect(pids).toHaveLength(3);
    expect(stillRunning(pids)).toEqual([]);
  });

  it('gives up on a line that never comes after the hang guard, showing what was printed', async () => {
    const source = lesson([1, ['$ echo started; cat', 'started', 'never printed']]);

    await expect(runLesson(source, { name: 'x.md', ...FAST })).rejects.toThrow(
      'x.md:6: terminal 1 did not print the expected line within 0.5 s.\n' +
        '  expected: never printed\n' +
        '  printed since its last match: nothing',
    );
  });

  it('reports a command that exits without printing the expected line', async () => {
    const source = lesson([1, ['$ echo bye; exit 3', 'bye', 'more']]);

    await expect(runLesson(source, { name: 'x.md', ...FAST })).rejects.toThrow(
      'terminal 1 ended (exit status 3) without printing the expected line',
    );
  });

  it('waits for the previous command before the next one, and reports one that does not end', async () => {
    const source = lesson([1, ['$ cat', '$ echo next']]);

    await expect(runLesson(source, { name: 'x.md', ...FAST })).rejects.toThrow(
      'x.md:5: terminal 1 still runs `cat` (line 4) after 0.5 s before starting the next command',
    );
  });

  it('fails a command that printed lines the lesson does not show', async () => {
    const source = lesson([1, ['$ echo a; echo b', 'a', '$ echo $?', '0']]);

    await expect(runLesson(source, { name: 'x.md', ...FAST })).rejects.toThrow(
      "x.md:6: terminal 1's `echo a; echo b` (line 4) printed lines the lesson does not show:\n    b",
    );
  });

  it('checks the output of a command the lesson ended with ^D at the end of the lesson', async () => {
    const source = lesson([1, ['$ cat; echo done', 'typed ⏎', 'typed', '^D']]);

    await expect(runLesson(source, { name: 'x.md', ...FAST })).rejects.toThrow(
      "x.md:7: terminal 1's `cat; echo done` (line 4) printed lines the lesson does not show:\n    done",
    );
  });

  it('compares `echo $?` with the exit status of the previous command', async () => {
    const source = lesson([1, ['$ false', '$ echo $?', '0']]);

    await expect(runLesson(source, { name: 'x.md', ...FAST })).rejects.toThrow('x.md:5: `echo $?` printed 1, not 0.');
  });

  it('treats blank lines as absent on both sides', async () => {
    const source = lesson([1, ['$ echo a; echo; echo b', '', 'a', 'b', '', '$ echo $?', '', '0']]);

    await expect(runLesson(source, { name: 'x.md', ...FAST })).resolves.toBeUndefined();
  });

  it('shows the port map when the failing line or the output involves a default port', async () => {
    const source = lesson([1, ['$ echo 12345', '12346']]);

    await expect(runLesson(source, { name: 'x.md', ...FAST })).rejects.toThrow(
      /^x\.md:5: terminal 1 printed a different line\.\n(.*\n)*  \(ports in this run: 12345→\d+, 12346→\d+\)$/,
    );
  });

  it('names the lesson file in a format error', async () => {
    const source = '# Broken\n\n```console\n$ echo hi\n```\n';

    await expect(runLesson(source, { name: 'broken.md' })).rejects.toThrow(
      'broken.md: line 3: a ```console block is a terminal session and needs `terminal=N`',
    );
  });
});
