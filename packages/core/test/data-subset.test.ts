import { describe, expect, it } from 'vitest';
import { Rng, stratifiedIndices } from '../src/data/index.js';
import { proportionalQuota } from '../src/data/subset.js';

describe('stratified subsets', () => {
  it('allocates proportionally with largest remainders', () => {
    expect(proportionalQuota([100, 10, 1], 20)).toEqual([18, 2, 0]);
    expect(proportionalQuota([5, 5, 5], 7)).toEqual([3, 2, 2]);
    expect(proportionalQuota([3, 1], 10)).toEqual([3, 1]);
    expect(proportionalQuota([1, 50, 1], 51).reduce((a, b) => a + b, 0)).toBe(51);
  });

  it('picks sorted, class-proportional, seed-deterministic, nested indices', () => {
    const labels = Int32Array.from({ length: 300 }, (_, i) => (i < 200 ? 0 : i < 280 ? 1 : 2));
    const a = stratifiedIndices(labels, 3, 30, new Rng(1));
    expect(a.length).toBe(30);
    expect([...a]).toEqual([...a].sort((x, y) => x - y));
    const per = [0, 0, 0];
    a.forEach((i) => per[labels[i]]++);
    expect(per).toEqual([20, 8, 2]);
    expect(stratifiedIndices(labels, 3, 30, new Rng(1))).toEqual(a);
    expect(stratifiedIndices(labels, 3, 30, new Rng(2))).not.toEqual(a);
    // A larger limit with the same seed keeps the smaller subset (so growing a proxy set is monotone).
    const big = new Set(stratifiedIndices(labels, 3, 150, new Rng(1)));
    expect([...a].every((i) => big.has(i))).toBe(true);
    expect(() => stratifiedIndices(labels, 3, 0, new Rng(1))).toThrow(/positive integer, got 0/);
  });
});
