import { describe, expect, it } from 'vitest';
import { LessonFormatError, parseLesson } from '../../src/lessons/lesson-format.js';
import { LineSplitter, findLine, lineMatches } from './output-matcher.js';
import { DEFAULT_PORTS } from '../../src/core/ports.js';
import { OTHER_LESSON_PORTS, allocatePortMap, describePortMap, mapPorts, portMapEnv } from './port-map.js';

const FENCE = '```';

/** Lines joined into a lesson source. */
function md(...lines: string[]): string {
  return lines.join('\n');
}

function actionsOf(source: string) {
  return parseLesson(source).sessions.map((session) => session.actions);
}

describe('parseLesson', () => {
  it('finds the title, the steps with their line ranges, and which step each session is in', () => {
    const lesson = parseLesson(
      md(
        '# 01 · TCP echo', //                    1
        '', //                                   2
        'Intro.', //                             3
        '## Start the server', //                4
        `${FENCE}console terminal=1`, //         5
        '$ netlab tcp-echo serve', //            6
        FENCE, //                                7
        '## Connect', //                         8
        `${FENCE}console terminal=2`, //         9
        '$ netlab tcp-echo connect', //         10
        FENCE, //                               11
      ),
    );

    expect(lesson.title).toBe('01 · TCP echo');
    expect(lesson.steps).toEqual([
      { title: 'Start the server', line: 4, endLine: 7 },
      { title: 'Connect', line: 8, endLine: 11 },
    ]);
    expect(lesson.sessions.map(({ terminal, line, endLine, step }) => ({ terminal, line, endLine, step }))).toEqual([
      { terminal: 1, line: 5, endLine: 7, step: 0 },
      { terminal: 2, line: 9, endLine: 11, step: 1 },
    ]);
  });

  it('turns each kind of session line into its action, with its line number', () => {
    const [actions] = actionsOf(
      md(
        '# T', //                                    1
        `${FENCE}console terminal=1`, //             2
        '$ netlab tcp-echo connect', //              3
        'connected to 127.0.0.1:12345 from …', //    4
        '', //                                       5
        '> hello', //                                6
        '< hello', //                                7
        'raw ⏎', //                                  8
        '…', //                                      9
        '^C', //                                    10
        '^D', //                                    11
        '$ echo $?', //                             12
        '0', //                                     13
        FENCE,
      ),
    );

    expect(actions).toEqual([
      { kind: 'run', line: 3, command: 'netlab tcp-echo connect' },
      { kind: 'expect', line: 4, pattern: 'connected to 127.0.0.1:12345 from …' },
      { kind: 'type', line: 6, text: 'hello', echo: true },
      { kind: 'expect', line: 7, pattern: '< hello' },
      { kind: 'type', line: 8, text: 'raw', echo: false },
      { kind: 'skip', line: 9 },
      { kind: 'interrupt', line: 10 },
      { kind: 'end-input', line: 11 },
      { kind: 'exit-status', line: 12, status: 0 },
    ]);
  });

  it('reads `> TEXT` as output only when the command takes its input from the shell', () => {
    const [piped, redirected] = actionsOf(
      md(
        '# T',
        `${FENCE}console terminal=1`,
        "$ printf 'hi\\n' | netlab tcp-echo connect",
        '> hi',
        FENCE,
        `${FENCE}console terminal=2`,
        '$ netlab tcp-echo connect < lines.txt',
        '> hi',
        FENCE,
      ),
    );

    expect(piped![1]).toEqual({ kind: 'expect', line: 4, pattern: '> hi' });
    expect(redirected![1]).toEqual({ kind: 'expect', line: 8, pattern: '> hi' });
  });

  it('lets a block without a `$` line continue the command its terminal is running', () => {
    const [, , continued] = actionsOf(
      md(
        '# T',
        `${FENCE}console terminal=1`,
        '$ netlab tcp-echo connect',
        FENCE,
        `${FENCE}console terminal=2`,
        '$ cat',
        FENCE,
        `${FENCE}console terminal=1`,
        '> typed into terminal 1',
        FENCE,
      ),
    );

    expect(continued).toEqual([{ kind: 'type', line: 9, text: 'typed into terminal 1', echo: true }]);
  });

  it('keeps the leading spaces of output but drops the indentation of an indented fence', () => {
    const [actions] = actionsOf(md('# T', '1. Run it:', `   ${FENCE}console terminal=1`, '   $ cat', '     two spaces', `   ${FENCE}`));

    expect(actions).toEqual([
      { kind: 'run', line: 4, command: 'cat' },
      { kind: 'expect', line: 5, pattern: '  two spaces' },
    ]);
  });

  it('ignores other code blocks, and headings and sessions shown inside them', () => {
    const lesson = parseLesson(
      md('# T', '````markdown', '## Not a step', `${FENCE}console terminal=1`, '$ not run', FENCE, '````', `${FENCE}text`, '$ not run', FENCE),
    );

    expect(lesson.steps).toEqual([]);
    expect(lesson.sessions).toEqual([]);
  });

  it.each([
    [md('# T', `${FENCE}console`, '$ cat', FENCE), 2, 'needs `terminal=N`; use ```text for output that is not run.'],
    [md('# T', `${FENCE}console terminal=0`, '$ cat', FENCE), 2, 'takes one attribute, `terminal=N` (N = 1, 2…), not `terminal=0`'],
    [md('# T', `${FENCE}console terminal=1 title=x`, '$ cat', FENCE), 2, 'not `terminal=1 title=x`'],
    [md('# T', `${FENCE}console terminal=1`, '$ cat'), 2, 'this ``` block is never closed.'],
    [md('# T', `${FENCE}text`, 'x'), 2, 'this ``` block is never closed.'],
    [md('# T', `${FENCE}console terminal=1`, '$ cat', '$ echo $?', FENCE), 4, '`$ echo $?` must be followed by the exit status'],
    [md('# T', `${FENCE}console terminal=1`, '$', FENCE), 3, 'a `$` line needs a command'],
    [md('# T', `${FENCE}console terminal=2`, 'output', FENCE), 3, 'terminal 2 has no command yet'],
    [md('No title', `${FENCE}console terminal=1`, '$ cat', FENCE), 1, 'a lesson needs a `# Title` line.'],
  ])('rejects a malformed lesson with the line and the rule it breaks (%#)', (source, line, message) => {
    let error: unknown;
    try {
      parseLesson(source);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(LessonFormatError);
    expect(error).toMatchObject({ line });
    expect((error as Error).message).toContain(`line ${line}: `);
    expect((error as Error).message).toContain(message);
  });
});

describe('lineMatches', () => {
  it('matches literal text exactly, ignoring trailing whitespace', () => {
    expect(lineMatches('< hello', '< hello  ')).toBe(true);
    expect(lineMatches('< hello', '< hello!')).toBe(false);
    expect(lineMatches('< hello', ' < hello')).toBe(false);
  });

  it('lets … stand for any text, including none', () => {
    expect(lineMatches('[127.0.0.1:…] connected', '[127.0.0.1:53422] connected')).toBe(true);
    expect(lineMatches('…connected', 'connected')).toBe(true);
    expect(lineMatches('a … b … c', 'a 1 b 2 c')).toBe(true);
    expect(lineMatches('[127.0.0.1:…] connected', '[::1:53422] connected')).toBe(false);
  });

  it('treats regular-expression characters as literal text', () => {
    expect(lineMatches('< 6 bytes "hi\\n" (.*)', '< 6 bytes "hi\\n" (.*)')).toBe(true);
    expect(lineMatches('a.c', 'abc')).toBe(false);
  });
});

describe('findLine', () => {
  const printed = ['one', 'two', 'three'];

  it('accepts only the very next line when not skipping', () => {
    expect(findLine('two', printed, 1, false)).toEqual({ kind: 'found', index: 1 });
    expect(findLine('three', printed, 1, false)).toEqual({ kind: 'different', index: 1 });
    expect(findLine('four', printed, 3, false)).toEqual({ kind: 'not-yet' });
  });

  it('after a … line, skips to the first matching line, or waits for it', () => {
    expect(findLine('three', printed, 0, true)).toEqual({ kind: 'found', index: 2 });
    expect(findLine('one', printed, 0, true)).toEqual({ kind: 'found', index: 0 });
    expect(findLine('four', printed, 0, true)).toEqual({ kind: 'not-yet' });
  });
});

describe('LineSplitter', () => {
  it('joins lines split across chunks and drops blank ones and carriage returns', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((line) => lines.push(line));
    for (const chunk of ['he', 'llo\r\n\n  \nwor', 'ld\nno newline']) splitter.push(chunk);
    splitter.end();

    expect(lines).toEqual(['hello', 'world', 'no newline']);
  });
});

describe('port mapping', () => {
  const ports = new Map([
    [12345, 41234],
    [8000, 41235],
  ]);

  it('replaces whole default port numbers only', () => {
    expect(mapPorts('netlab tcp-echo serve --port 12345', ports)).toBe('netlab tcp-echo serve --port 41234');
    expect(mapPorts('listening on 127.0.0.1:12345, ws://127.0.0.1:8000/ws', ports)).toBe(
      'listening on 127.0.0.1:41234, ws://127.0.0.1:41235/ws',
    );
    expect(mapPorts('123456 112345 12345.5 1.8000 80000 8000.', ports)).toBe('123456 112345 12345.5 1.8000 80000 41235.');
  });

  it('encodes the map for NETLAB_PORT_MAP as a JSON object keyed by default port', () => {
    expect(JSON.parse(portMapEnv(ports))).toEqual({ '12345': 41234, '8000': 41235 });
  });

  it('maps every default port and every other port a lesson shows (Redis 6379…) to its own free port', async () => {
    const map = await allocatePortMap();

    expect([...map.keys()].sort()).toEqual([...Object.values(DEFAULT_PORTS), ...OTHER_LESSON_PORTS].sort());
    expect(new Set(map.values()).size).toBe(map.size);
  });

  it('describes only the ports a message is about', () => {
    expect(describePortMap(ports, '$ netlab tcp-echo serve --port 12345', 'nothing')).toBe('12345→41234');
    expect(describePortMap(ports, 'no port', 'printed ws://127.0.0.1:41235/ws')).toBe('8000→41235');
    expect(describePortMap(ports, 'no port', 'none')).toBe('');
  });
});
