import { DataError } from './errors.js';
import { Rng } from '../util/rng.js';
import type { RawSplit } from './types.js';

/**
 * Split `n` items over classes in proportion to `counts` (largest-remainder rounding, ties to the lower class),
 * never giving a class more than it has.
 */
export function proportionalQuota(counts: readonly number[], n: number): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  if (n >= total) return [...counts];
  const exact = counts.map((c) => (c * n) / total);
  const quota = exact.map(Math.floor);
  let left = n - quota.reduce((a, b) => a + b, 0);
  const order = exact
    .map((e, c) => ({ c, frac: e - Math.floor(e) }))
    .sort((a, b) => b.frac - a.frac || a.c - b.c);
  for (let k = 0; left > 0; k = (k + 1) % order.length) {
    const { c } = order[k];
    if (quota[c] < counts[c]) {
      quota[c]++;
      left--;
    }
  }
  return quota;
}

/** Indices of each class, in ascending order. */
export function indicesByClass(labels: Int32Array, numClasses: number): number[][] {
  const byClass: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < labels.length; i++) byClass[labels[i]].push(i);
  return byClass;
}

/**
 * Deterministic stratified sample of `limit` indices (ascending). Class proportions are preserved up to rounding;
 * which members are chosen depends only on (seed, label).
 */
export function stratifiedIndices(labels: Int32Array, numClasses: number, limit: number, rng: Rng): Int32Array {
  if (!Number.isInteger(limit) || limit < 1) {
    throw new DataError(`Subset limit must be a positive integer, got ${limit}`);
  }
  const byClass = indicesByClass(labels, numClasses);
  const quota = proportionalQuota(byClass.map((m) => m.length), limit);
  const picked: number[] = [];
  byClass.forEach((members, c) => {
    if (quota[c] === members.length) picked.push(...members);
    else picked.push(...rng.fork(`class:${c}`).shuffle(members.slice()).slice(0, quota[c]));
  });
  return Int32Array.from(picked.sort((a, b) => a - b));
}

export function takeIndices(split: RawSplit, indices: Int32Array): RawSplit {
  const plane = split.height * split.width * split.channels;
  const images = new Uint8Array(indices.length * plane);
  const labels = new Int32Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    images.set(split.images.subarray(i * plane, (i + 1) * plane), k * plane);
    labels[k] = split.labels[i];
  }
  return { ...split, images, labels, count: indices.length };
}

/** Stratified subset of at most `limit` examples; the split itself when it is no larger. */
export function stratifiedSubset(split: RawSplit, numClasses: number, limit: number | undefined, rng: Rng): RawSplit {
  if (limit === undefined || limit >= split.count) {
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
      throw new DataError(`Subset limit must be a positive integer, got ${limit}`);
    }
    return split;
  }
  return takeIndices(split, stratifiedIndices(split.labels, numClasses, limit, rng));
}
