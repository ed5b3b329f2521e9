/**
 * The option wiring of `netlab udp-echo` (echo-commands.ts, impairment-options.ts), in process:
 * every bad value is refused by commander before any socket exists, with the accepted range.
 * test/cli/udp-echo.test.ts runs the built binary for the exit codes and the output; here the
 * many combinations cost no process start each.
 */
import { CommanderError, type Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/core/errors.js';
import { udpEchoCommand } from '../../src/udp/echo-commands.js';
import { announceImpairment, impairmentFrom } from '../../src/udp/impairment-options.js';
import { NO_IMPAIRMENT } from '../../src/udp/impairment.js';
import { collectingOutput } from './udp-support.js';

/** `netlab udp-echo ARGS…` parsed in this process; resolves with what it threw. */
async function parseError(args: string[]): Promise<unknown> {
  const cmd = udpEchoCommand();
  const quiet = (c: Command) => c.exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
  [cmd, ...cmd.commands].forEach(quiet);
  try {
    await cmd.parseAsync(args, { from: 'user' });
  } catch (err) {
    return err;
  }
  throw new Error(`netlab udp-echo ${args.join(' ')} was accepted`);
}

describe('udp-echo option values', () => {
  it.each([
    [['serve', '--drop', '1.5'], '--drop must be a probability from 0 to 1, such as 0.2 or 20%, not "1.5".'],
    [['serve', '--duplicate', '20%%'], '--duplicate must be a probability from 0 to 1, such as 0.2 or 20%, not "20%%".'],
    [['serve', '--reorder', '-0.1'], '--reorder must be a probability from 0 to 1, such as 0.2 or 20%, not "-0.1".'],
    [['serve', '--delay', '10001'], '--delay must be a whole number from 0 to 10000, not "10001".'],
    [['serve', '--jitter', '2.5'], '--jitter must be a whole number from 0 to 10000, not "2.5".'],
    [['serve', '--seed', '4294967296'], '--seed must be a whole number from 0 to 4294967295, not "4294967296".'],
    [['serve', '--port', '70000'], '--port must be a whole number from 0 to 65535, not "70000".'],
    [['send', '--port', '0'], '--port must be a whole number from 1 to 65535, not "0".'],
    [['send', '--timeout', '0'], '--timeout must be a whole number from 1 to 60000, not "0".'],
    [['send', '--count', '100001'], '--count must be a whole number from 1 to 100000, not "100001".'],
    [['send', '--count', '3', '--interval', '0'], '--interval must be a whole number from 1 to 60000, not "0".'],
    [['send', '--count', '3', '--size', '11'], '--size must be a whole number from 12 to 65507, not "11".'],
    [['send', '--count', '3', '--size', '65508'], '--size must be a whole number from 12 to 65507, not "65508".'],
  ])('refuses udp-echo %j as a usage error naming the range', async (args, sentence) => {
    const err = await parseError(args);
    expect(err).toBeInstanceOf(CommanderError);
    expect((err as CommanderError).code).toBe('commander.invalidArgument');
    expect((err as CommanderError).message).toContain(sentence);
  });

  it.each([
    [['send', '--interval', '10'], '--interval and --size belong to ping mode: add --count N.'],
    [['send', '--size', '100'], '--interval and --size belong to ping mode: add --count N.'],
    [['send', '--count', '3', '--burst'], '--burst sends lines of input; a ping (--count) sends its own datagrams.'],
  ])('refuses the combination udp-echo %j before opening a socket', async (args, sentence) => {
    const err = await parseError(args);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toBe(sentence);
  });
});

describe('impairmentFrom and announceImpairment', () => {
  it('turns the options into settings, with a random seed when none was given', () => {
    expect(impairmentFrom({ drop: 0.2, delay: 5, jitter: 10, duplicate: 0.1, reorder: 0.3, seed: 7 })).toEqual({
      dropRate: 0.2,
      delayMs: 5,
      jitterMs: 10,
      duplicateRate: 0.1,
      reorderRate: 0.3,
      seed: 7,
    });
    const { seed } = impairmentFrom({});
    expect(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32).toBe(true);
  });

  it('says on stderr what is simulated, and how to repeat a run whose seed was picked at random', () => {
    const { output, stdout, stderr } = collectingOutput();
    announceImpairment(output, { ...NO_IMPAIRMENT, dropRate: 0.2, seed: 7 }, true);
    announceImpairment(output, { ...NO_IMPAIRMENT, duplicateRate: 0.1, seed: 12345 }, false);
    announceImpairment(output, { ...NO_IMPAIRMENT, seed: 1 }, false);
    expect(stdout()).toBe('');
    expect(stderr()).toBe(
      'simulating a bad network: drop 20% (seed 7)\n' + 'simulating a bad network: duplicate 10% (seed 12345; --seed 12345 repeats this run)\n',
    );
  });
});
