/**
 * `netlab --help` and friends: what a student sees first. Every help text lists what can be run
 * and ends with example invocations (STYLE.md: commander's examples), `--version` matches
 * package.json, and a typo in a command name is a usage error with a suggestion.
 */
import { describe, expect, it } from 'vitest';
import { PACKAGE_VERSION, STACK_FRAME, lines, runCli } from './run-cli.js';

/**
 * The invocations in the help's final "Examples:" section; fails the test if that section is
 * missing or anything other than invocations follows it.
 */
function trailingExamples(help: string): string[] {
  const all = lines(help.trimEnd());
  const heading = all.lastIndexOf('Examples:');
  expect(heading, `no "Examples:" section in:\n${help}`).toBeGreaterThan(-1);
  const after = all.slice(heading + 1).filter((line) => line.trim() !== '');
  expect(after.length, `the Examples section is empty in:\n${help}`).toBeGreaterThan(0);
  for (const line of after) expect(line, 'every line after "Examples:" is an example invocation').toMatch(/^ {2}netlab( |$)/);
  return after;
}

describe('netlab --help', () => {
  it('exits 0, lists the labs and ends with example invocations', async () => {
    const { code, stdout, stderr } = await runCli(['--help']);
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toMatch(/^Usage: netlab /);
    expect(stdout).toMatch(/^ {2}tcp-echo +lesson 01/m);
    expect(stdout).toMatch(/^ {2}demo /m);
    expect(trailingExamples(stdout).join('\n')).toContain('netlab tcp-echo serve');
  });

  it('prints the same help and exits 0 when netlab is run without arguments', async () => {
    const [bare, help] = await Promise.all([runCli([]), runCli(['--help'])]);
    expect(bare.code).toBe(0);
    expect(bare.stdout).toBe(help.stdout);
  });
});

describe('netlab tcp-echo --help', () => {
  it('exits 0, lists the serve and connect verbs and ends with example invocations', async () => {
    const { code, stdout } = await runCli(['tcp-echo', '--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: netlab tcp-echo /);
    expect(stdout).toMatch(/^ {2}serve /m);
    expect(stdout).toMatch(/^ {2}connect /m);
    const examples = trailingExamples(stdout).join('\n');
    expect(examples).toContain('netlab tcp-echo serve');
    expect(examples).toContain('netlab tcp-echo connect');
  });
});

describe('netlab tcp-echo serve --help', () => {
  it('exits 0, lists every option and ends with example invocations', async () => {
    const { code, stdout } = await runCli(['tcp-echo', 'serve', '--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: netlab tcp-echo serve /);
    for (const option of ['--host <host>', '--port <port>', '--one-at-a-time', '--quiet']) expect(stdout).toContain(option);
    expect(stdout).toContain('0 to 65535');
    expect(trailingExamples(stdout).join('\n')).toContain('netlab tcp-echo serve --port 0');
  });
});

describe('netlab tcp-echo connect --help', () => {
  it('exits 0, lists every option, explains piped input and ends with example invocations', async () => {
    const { code, stdout } = await runCli(['tcp-echo', 'connect', '--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: netlab tcp-echo connect /);
    for (const option of ['--host <host>', '--port <port>']) expect(stdout).toContain(option);
    expect(stdout).toContain("printf 'a\\nb\\n' | netlab tcp-echo connect");
    expect(trailingExamples(stdout).join('\n')).toContain('netlab tcp-echo connect');
  });
});

describe('netlab --version', () => {
  it("prints package.json's version and exits 0", async () => {
    const { code, stdout } = await runCli(['--version']);
    expect(code).toBe(0);
    expect(stdout).toBe(`${PACKAGE_VERSION}\n`);
  });
});

describe('an unknown command', () => {
  it('exits 2 and suggests the command the student probably meant', async () => {
    const { code, stdout, stderr } = await runCli(['tcp-ecko']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^error: unknown command 'tcp-ecko'$/m);
    expect(stderr).toMatch(/Did you mean tcp-echo\?/);
    expect(stderr).not.toMatch(STACK_FRAME);
  });
});
