/**
 * The command-line side of impairment.ts, shared by `udp-echo serve` and `udp-chat serve`:
 * the options (--drop, --delay, --jitter, --duplicate, --reorder, --seed), the settings they
 * make, and the line that tells the user what is being simulated and how to repeat the run.
 */
import { randomInt } from 'node:crypto';
import { Option, type Command } from 'commander';
import { argParser } from '../core/commands.js';
import { parseInteger } from '../core/options.js';
import type { Output } from '../core/output.js';
import { describeImpairment, isImpaired, parseProbability, type ImpairmentSettings } from './impairment.js';

/** The longest delay or jitter that can be asked for: long enough to see, short enough to wait for. */
const MAX_DELAY_MS = 10_000;
const MAX_SEED = 2 ** 32 - 1;

export type ImpairmentKnob = 'drop' | 'delay' | 'jitter' | 'duplicate' | 'reorder';

export interface ImpairmentOptions {
  drop?: number;
  delay?: number;
  jitter?: number;
  duplicate?: number;
  reorder?: number;
  seed?: number;
}

const HELP: Record<ImpairmentKnob, string> = {
  drop: 'chance that a reply is lost',
  delay: 'milliseconds every reply waits',
  jitter: 'up to this many extra milliseconds per reply, at random',
  duplicate: 'chance that a reply is sent twice',
  reorder: 'chance that a reply is held back so the next one overtakes it',
};

/** Adds the chosen knobs and --seed; `what` replaces "a reply" in the help (e.g. "a message"). */
export function addImpairmentOptions(cmd: Command, knobs: ImpairmentKnob[], what = 'a reply'): Command {
  for (const knob of knobs) {
    const name = `--${knob}`;
    const help = HELP[knob].replace('a reply', what).replace('every reply', `every ${what.replace(/^an? /, '')}`);
    const option =
      knob === 'delay' || knob === 'jitter'
        ? new Option(`${name} <ms>`, `${help}, 0 to ${MAX_DELAY_MS}`).argParser(argParser((v) => parseInteger(name, v, 0, MAX_DELAY_MS)))
        : new Option(`${name} <p>`, `${help}, 0 to 1 or a percentage (0.2 = 20%)`).argParser(argParser((v) => parseProbability(name, v)));
    cmd.addOption(option.default(0));
  }
  return cmd.addOption(
    new Option('--seed <n>', `seed for the random choices, 0 to ${MAX_SEED}: the same seed repeats a run`).argParser(
      argParser((v) => parseInteger('--seed', v, 0, MAX_SEED)),
    ),
  );
}

/** The settings the options ask for; a random seed when --seed was not given. */
export function impairmentFrom(opts: ImpairmentOptions): ImpairmentSettings {
  return {
    dropRate: opts.drop ?? 0,
    delayMs: opts.delay ?? 0,
    jitterMs: opts.jitter ?? 0,
    duplicateRate: opts.duplicate ?? 0,
    reorderRate: opts.reorder ?? 0,
    seed: opts.seed ?? randomInt(0, 2 ** 31),
  };
}

/** `simulating a bad network: drop 20% (seed 7)`, on stderr, when anything is simulated. */
export function announceImpairment(output: Output, settings: ImpairmentSettings, seedGiven: boolean, scope = ''): void {
  if (!isImpaired(settings)) return;
  const repeat = seedGiven ? '' : `; --seed ${settings.seed} repeats this run`;
  output.note(`simulating a bad network${scope}: ${describeImpairment(settings)} (seed ${settings.seed}${repeat})`);
}
