/**
 * Random numbers that a seed makes repeatable: the same `--seed` gives the same simulated losses
 * in lesson 03 (src/udp/impairment.ts) and the same tick intervals in lesson 06
 * (src/push-pull/ticker.ts), so a whole class can watch one run happen the same way.
 */

/**
 * mulberry32: a tiny, fast 32-bit generator with good statistical quality for simulations
 * (Tommy Ettinger's public-domain design). Returns numbers in [0, 1).
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
