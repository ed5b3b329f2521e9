/**
 * What the robustness tests share: a forced garbage collection, so that heap figures measure
 * what is kept rather than what is not yet collected, and the seed and size of a fuzzer's run.
 */
import v8 from 'node:v8';
import vm from 'node:vm';

// Turning the flag on at run time and fetching gc() from a fresh context is the known way to
// get it without starting the worker with --expose-gc.
v8.setFlagsFromString('--expose-gc');
/** A full garbage collection, now. */
export const gc = vm.runInNewContext('gc') as () => void;

/**
 * The seed and input count of a fuzzer's run: its defaults, or NETLAB_FUZZ_SEED and
 * NETLAB_FUZZ_INPUTS to rerun a failure or to run longer than CI does.
 */
export function fuzzRun(defaults: { seed: number; inputs: number }): { seed: number; inputs: number } {
  return {
    seed: Number(process.env.NETLAB_FUZZ_SEED ?? defaults.seed),
    inputs: Number(process.env.NETLAB_FUZZ_INPUTS ?? defaults.inputs),
  };
}
