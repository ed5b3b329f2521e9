/**
 * The arithmetic of a comparison: medians, and the median of pairwise ratios.
 *
 * Each round measures netlab and the reference back to back, so both see the same machine
 * state (thermal, page cache, a neighbour's cron job). The ratio of one round is therefore
 * less noisy than the ratio of two medians taken over different moments, and the median of
 * those per-round ratios ignores a round that a hiccup spoiled.
 *
 * Leaves out: confidence intervals and significance tests. Five to ten rounds do not support
 * them honestly; the min–max range of the ratios is reported instead, as a noise gauge.
 */

/** Median of a list of numbers (mean of the middle two for an even count). */
export function median(values) {
  if (values.length === 0) throw new Error('median() of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Per-round ratios subject/reference, summarised.
 *
 * @param {number[]} subject one value per round
 * @param {number[]} reference one value per round, the same rounds in the same order
 * @returns `{ median, min, max, ratios }`
 */
export function pairedRatios(subject, reference) {
  if (subject.length !== reference.length || subject.length === 0) {
    throw new Error(`pairedRatios() needs two equally long, non-empty series (${subject.length}, ${reference.length})`);
  }
  const ratios = subject.map((value, i) => value / reference[i]);
  return { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios), ratios };
}
