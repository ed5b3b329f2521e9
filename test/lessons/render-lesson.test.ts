/**
 * src/lessons/render-lesson.ts and render-table.ts: literal Markdown in, terminal lines out,
 * at 80 and 40 columns, plain and with a painter. The painter here writes tags instead of
 * escape codes, so a test can see what would be bold or coloured.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseLesson } from '../../src/lessons/lesson-format.js';
import { lessonSteps, renderMarkdown, type Painter } from '../../src/lessons/render-lesson.js';
import { displayWidth, layoutTable, wrapSpans } from '../../src/lessons/render-table.js';
import { REPO_ROOT } from '../cli/run-cli.js';

const tags: Painter = {
  heading: (text, level) => `<h${level}>${text}</h${level}>`,
  code: (text) => `<code>${text}</code>`,
  command: (text) => `<cmd>${text}</cmd>`,
  bold: (text) => `<b>${text}</b>`,
  emphasis: (text) => `<i>${text}</i>`,
  dim: (text) => `<dim>${text}</dim>`,
};

const plain = (markdown: string, width = 80) => renderMarkdown(markdown, { width });
const painted = (markdown: string, width = 80) => renderMarkdown(markdown, { width, painter: tags });
const md = (...lines: string[]) => lines.join('\n');

const PARAGRAPH = md(
  'A socket is one end of a conversation between two processes, on one machine',
  'or two. The kernel does the networking; a program asks it for a socket and',
  'calls a handful of functions on it.',
);

describe('headings', () => {
  it('are followed by a rule when plain: ═ under the title, ─ under a step', () => {
    expect(plain(md('# 01 · TCP echo', '', '## Start the server'))).toEqual([
      '01 · TCP echo',
      '═════════════',
      '',
      'Start the server',
      '────────────────',
    ]);
  });

  it('are painted by level and have no rule in colour', () => {
    expect(painted(md('# Title', '## Step', '### Detail'))).toEqual(['<h1>Title</h1>', '', '<h2>Step</h2>', '', '<h3>Detail</h3>']);
  });

  it('wrap to the width, the rule as wide as the widest line', () => {
    expect(plain('## Send and receive, and what the kernel does in between', 40)).toEqual([
      'Send and receive, and what the kernel',
      'does in between',
      '─────────────────────────────────────',
    ]);
  });

  it('include setext headings', () => {
    expect(plain(md('Title', '=====', '', 'Step', '----'))).toEqual(['Title', '═════', '', 'Step', '────']);
  });
});

describe('paragraphs', () => {
  it('are re-wrapped to 80 columns', () => {
    expect(plain(PARAGRAPH)).toEqual([
      'A socket is one end of a conversation between two processes, on one machine or',
      'two. The kernel does the networking; a program asks it for a socket and calls a',
      'handful of functions on it.',
    ]);
  });

  it('are re-wrapped to 40 columns, no word cut', () => {
    const lines = plain(PARAGRAPH, 40);
    expect(lines.every((line) => displayWidth(line) <= 40)).toBe(true);
    expect(lines.join(' ')).toBe(PARAGRAPH.replace(/\n/g, ' '));
    expect(lines[0]).toBe('A socket is one end of a conversation');
  });

  it('keep a hard line break (two trailing spaces or a backslash)', () => {
    expect(plain(md('first line  ', 'second line\\', 'third line'))).toEqual(['first line', 'second line', 'third line']);
  });

  it('measure wide characters as two columns and Cyrillic as one', () => {
    expect(displayWidth('привіт')).toBe(6);
    expect(displayWidth('日本')).toBe(4);
    expect(displayWidth('e\u0301')).toBe(1);
    expect(plain('привіт привіт привіт', 13)).toEqual(['привіт привіт', 'привіт']);
  });
});

describe('inline code, bold, emphasis and links', () => {
  it('keep their backticks and ** when plain', () => {
    expect(plain('Run `netlab tcp-echo serve` in **two** terminals, *not* one.')).toEqual([
      'Run `netlab tcp-echo serve` in **two** terminals, *not* one.',
    ]);
  });

  it('drop their markers and are painted in colour', () => {
    expect(painted('Run `netlab tcp-echo serve` in **two** terminals, *not* one.')).toEqual([
      'Run <code>netlab tcp-echo serve</code> in <b>two</b> terminals, <i>not</i> one.',
    ]);
  });

  it('paint a bold phrase as one run, spaces included', () => {
    expect(painted('**"SSE does not work."** It does.')).toEqual(['<b>"SSE does not work."</b> It does.']);
  });

  it('never split a code span that fits on a line', () => {
    const lines = plain('The command to start the lab is `netlab tcp-echo serve --port 0` here.', 40);
    expect(lines).toEqual(['The command to start the lab is', '`netlab tcp-echo serve --port 0` here.']);
  });

  it('leave snake_case, a lone * and an unclosed backtick alone', () => {
    expect(painted('a snake_case_name, 2 * 3 * 4, and a ` alone')).toEqual(['a snake_case_name, 2 * 3 * 4, and a ` alone']);
  });

  it('show code inside bold as code, and drop backslash escapes', () => {
    expect(painted('**use `ws`** and \\*literal\\*')).toEqual(['<b>use</b> <code>ws</code> and *literal*']);
  });

  it('show an external link as text (url), a relative one with its path from the package', () => {
    expect(plain('See [RFC 6455](https://www.rfc-editor.org/rfc/rfc6455) and [lesson 01](01-tcp-echo.md).')).toEqual([
      'See RFC 6455 (https://www.rfc-editor.org/rfc/rfc6455) and lesson 01',
      '(lessons/01-tcp-echo.md).',
    ]);
    expect(plain('[the server](../src/tcp/echo-server.ts), [below](#try-it), <https://no-color.org>')).toEqual([
      'the server (src/tcp/echo-server.ts), below, https://no-color.org',
    ]);
    expect(painted('[`src/tcp/listener.ts`](../src/tcp/listener.ts)')).toEqual(['<code>src/tcp/listener.ts</code>']);
    expect(painted('[RFC](https://example.org/rfc)')).toEqual(['RFC <dim>(https://example.org/rfc)</dim>']);
  });
});

describe('lists', () => {
  it('keep their indentation when re-wrapped', () => {
    const source = md(
      '- **Signalling.** Two peers must first find each other and agree on how to',
      '  talk (codecs, keys, addresses).',
      '- **Relays.** When no direct path works, a TURN server relays every packet.',
    );
    expect(plain(source, 40)).toEqual([
      '• **Signalling.** Two peers must first',
      '  find each other and agree on how to',
      '  talk (codecs, keys, addresses).',
      '• **Relays.** When no direct path works,',
      '  a TURN server relays every packet.',
    ]);
  });

  it('number ordered items and align them past 9, with lazy continuation lines', () => {
    const items = Array.from({ length: 10 }, (_, i) => `${i + 1}. item ${i + 1}`);
    items[0] = '1. a first item whose text goes on\nwithout indentation';
    const lines = plain(md(...items), 80);
    expect(lines[0]).toBe('1.  a first item whose text goes on without indentation');
    expect(lines[9]).toBe('10. item 10');
  });

  it('separate loose items by a blank line, and render blocks inside an item', () => {
    const source = md('1. Start it:', '', '   ```console terminal=1', '   $ netlab tcp-echo serve', '   ```', '', '2. Connect.');
    expect(plain(source)).toEqual(['1. Start it:', '', '       ── terminal 1 ──', '       $ netlab tcp-echo serve', '', '2. Connect.']);
  });

  it('nest', () => {
    expect(plain(md('- outer', '  - inner one', '  - inner two', '- next'))).toEqual(['• outer', '  • inner one', '  • inner two', '• next']);
  });

  it('are not started by a number in the middle of a paragraph', () => {
    expect(plain(md('Polling every second makes 59 empty requests out of', '60. That is the cost.'))).toEqual([
      'Polling every second makes 59 empty requests out of 60. That is the cost.',
    ]);
  });
});

describe('fenced code', () => {
  it('is indented by 4 and never re-wrapped, even past the width', () => {
    const long = `$ printf 'one\\ntwo\\n' | netlab tcp-echo connect --burst --write-size 3`;
    expect(plain(md('```text', 'short line', long, '```'), 40)).toEqual(['short line', long]);
    expect(plain(md('```text', 'short   spaced   line', '', 'after a blank', '```'))).toEqual([
      '    short   spaced   line',
      '',
      '    after a blank',
    ]);
  });

  it('is indented less when its widest line would pass the width, the whole block alike', () => {
    const wide = 'x'.repeat(78);
    expect(plain(md('```text', wide, 'short', '```'))).toEqual([`  ${wide}`, '  short']);
  });

  it('gets a terminal label in a console block, its $ lines painted as commands', () => {
    const session = md(
      '```console terminal=2',
      '$ nc 127.0.0.1 12345',
      'hello from nc ⏎',
      'hello from nc',
      '…',
      '^C',
      '```',
    );
    expect(plain(session)).toEqual([
      '    ── terminal 2 ──',
      '    $ nc 127.0.0.1 12345',
      '    hello from nc ⏎',
      '    hello from nc',
      '    …',
      '    ^C',
    ]);
    expect(painted(session).slice(0, 3)).toEqual(['    <dim>── terminal 2 ──</dim>', '    <cmd>$ nc 127.0.0.1 12345</cmd>', '    hello from nc ⏎']);
  });

  it('keeps Markdown inside it as it is, and a longer fence holds a shorter one', () => {
    expect(plain(md('````markdown', '# not a heading', '```console terminal=1', '$ x', '```', '````'))).toEqual([
      '    # not a heading',
      '    ```console terminal=1',
      '    $ x',
      '    ```',
    ]);
  });
});

describe('tables', () => {
  const TABLE = md(
    '| code | meaning | when |',
    '|---|---|---:|',
    '| 1000 | normal closure | Ctrl+D or `exit` in the client |',
    '| 1001 | going away | Ctrl+C on the server; a browser tab closed |',
  );

  it('are laid out in columns sized to their content, with a rule under the header', () => {
    expect(plain(TABLE)).toEqual([
      'code  meaning                                               when',
      '────  ──────────────  ──────────────────────────────────────────',
      '1000  normal closure              Ctrl+D or `exit` in the client',
      '1001  going away      Ctrl+C on the server; a browser tab closed',
    ]);
  });

  it('wrap cells within their column when wider than the width, rows apart', () => {
    const lines = plain(TABLE, 40);
    expect(lines.every((line) => displayWidth(line) <= 40)).toBe(true);
    expect(lines).toEqual([
      'code  meaning                       when',
      '────  ──────────────  ──────────────────',
      '1000  normal closure    Ctrl+D or `exit`',
      '                           in the client',
      '',
      '1001  going away           Ctrl+C on the',
      '                       server; a browser',
      '                              tab closed',
    ]);
  });

  it('paint the header bold and the rule dim in colour, dropping backticks', () => {
    const lines = painted(TABLE);
    // The same columns as plain, without the backticks: `when` is right-aligned, 2 narrower.
    expect(lines[0]).toBe(`<b>code</b>  <b>meaning</b>${' '.repeat(47)}<b>when</b>`);
    expect(lines[1]).toMatch(/^<dim>─+  ─+  ─+<\/dim>$/);
    expect(lines[2]).toContain('Ctrl+D or <code>exit</code> in the client');
  });

  it('keep an empty header cell and fill missing cells', () => {
    expect(plain(md('| | TCP | UDP |', '|---|---|---|', '| order | kept |'))).toEqual(['       TCP   UDP', '─────  ────  ───', 'order  kept']);
  });

  it('cut words only when no column can shrink any more', () => {
    const lines = layoutTable([[[{ text: 'abcdefghij' }], [{ text: 'klmnopqrst' }]]], { width: 12 });
    expect(lines).toEqual(['abcde  klmno', 'fghij  pqrst']);
  });
});

describe('other blocks', () => {
  it('show a blockquote with a bar, re-wrapped inside it', () => {
    expect(plain(md('> Keep lines within 80 columns,', '> sessions included.', '>', '> Really.'), 20)).toEqual([
      '│ Keep lines within',
      '│ 80 columns,',
      '│ sessions included.',
      '│',
      '│ Really.',
    ]);
  });

  it('show a horizontal rule across the width', () => {
    expect(plain(md('above', '', '---', '', 'below'), 10)).toEqual(['above', '', '──────────', '', 'below']);
  });

  it('hide HTML comments, on their own lines or inline', () => {
    expect(plain(md('<!-- a note', 'for authors -->', 'visible <!-- hidden --> text'))).toEqual(['visible text']);
  });
});

describe('plain output', () => {
  it('has no escape codes, and coloured output has no Markdown markers', () => {
    const source = md('# T', '', '**b** `c` *e*', '', '| a | b |', '|---|---|', '| 1 | 2 |', '', '```console terminal=1', '$ x', '```');
    expect(plain(source).join('\n')).not.toMatch(/\x1b/);
    expect(painted(source).join('\n')).not.toMatch(/\*\*|`/);
  });
});

describe('wrapSpans', () => {
  it('gives one empty line for no text, and overflows a word wider than the line', () => {
    expect(wrapSpans([], 10)).toEqual([[]]);
    expect(wrapSpans([{ text: 'a verylongword b' }], 5).map((line) => line.map((s) => s.text).join(''))).toEqual(['a', 'verylongword', 'b']);
  });
});

describe('lessonSteps', () => {
  const LESSON = md('# 99 · Example', '', 'Intro.', '', '## First', '', 'One.', '```text', '## not a step', '```', '## Second', 'Two.');

  it('gives the title and intro to step 1 and ignores ## inside code', () => {
    const steps = lessonSteps(LESSON);
    expect(steps.map((step) => step.title)).toEqual(['First', 'Second']);
    expect(steps[0]!.markdown).toBe(md('# 99 · Example', '', 'Intro.', '', '## First', '', 'One.', '```text', '## not a step', '```'));
    expect(steps[1]!.markdown).toBe(md('## Second', 'Two.'));
  });

  it('makes a lesson without ## one step', () => {
    expect(lessonSteps(md('# Only', 'text'))).toEqual([{ title: 'Only', markdown: md('# Only', 'text') }]);
  });
});

describe('every lesson in lessons/', () => {
  const dir = path.join(REPO_ROOT, 'lessons');
  const files = readdirSync(dir).filter((name) => name.endsWith('.md'));

  it.each(files)('%s renders within 80 columns, except code lines already longer, with every command', (file) => {
    const source = readFileSync(path.join(dir, file), 'utf8');
    const sourceLines = source.split('\n');
    const lines = plain(source);
    const long = lines.filter((line) => displayWidth(line) > 80 && !sourceLines.some((s) => s.trim() === line.trim() && displayWidth(s) >= displayWidth(line)));
    expect(long).toEqual([]);
    expect(lines.join('\n')).not.toMatch(/\x1b/);
    if (file === 'README.md') return;
    const commands = parseLesson(source).sessions.flatMap((session) => session.actions.filter((action) => action.kind === 'run' || action.kind === 'exit-status'));
    expect(commands.length).toBeGreaterThan(0);
    const shown = new Set(lines.map((line) => line.trim()));
    for (const action of commands) expect(shown.has(sourceLines[action.line - 1]!.trim()), sourceLines[action.line - 1]).toBe(true);
  });

  it.each(files)('%s renders its steps and prose within 40 columns, except unbreakable words and code', (file) => {
    const source = readFileSync(path.join(dir, file), 'utf8');
    const sourceLines = new Set(source.split('\n').map((line) => line.trim()));
    const long = plain(source, 40).filter((line) => displayWidth(line) > 40 && !sourceLines.has(line.trim()) && /\s/.test(line.trim()));
    expect(long).toEqual([]);
  });
});
