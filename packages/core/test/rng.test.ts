import { describe, expect, it } from 'vitest';
import { Rng } from '../src/util/rng.js';

describe('Rng', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const a = new Rng(42), b = new Rng(42), c = new Rng(43);
    const sa = Array.from({ length: 8 }, () => a.nextUint32());
    const sb = Array.from({ length: 8 }, () => b.nextUint32());
    const sc = Array.from({ length: 8 }, () => c.nextUint32());
    expect(sa).toEqual(sb);
    expect(sa).not.toEqual(sc);
    expect(new Rng('run-a').next()).not.toBe(new Rng('run-b').next());
  });

  it('next() is uniform in [0, 1)', () => {
    const r = new Rng(1);
    let sum = 0;
    let lo = 1, hi = 0;
    const bins = new Array(10).fill(0);
    for (let i = 0; i < 20000; i++) {
      const v = r.next();
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
      sum += v;
      bins[Math.floor(v * 10)]++;
    }
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThan(1);
    expect(sum / 20000).toBeCloseTo(0.5, 1);
    for (const n of bins) expect(Math.abs(n - 2000)).toBeLessThan(200);
  });

  it('nextInt stays in range, hits every value, and rejects bad n', () => {
    const r = new Rng(7);
    const seen = new Set<number>();
    for (let i = 0; i < 500; i++) {
      const v = r.nextInt(7);
      expect(Number.isInteger(v) && v >= 0 && v < 7).toBe(true);
      seen.add(v);
    }
    expect(seen.size).toBe(7);
    expect(() => r.nextInt(0)).toThrow(/n must be an integer/);
    expect(() => r.nextInt(2.5)).toThrow(/2\.5/);
  });

  it('normal() has mean 0 and std 1', () => {
    const r = new Rng(3);
    const xs = Array.from({ length: 20000 }, () => r.normal());
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(sd - 1)).toBeLessThan(0.03);
  });

  it('shuffle is a seeded permutation', () => {
    const p = new Rng(5).shuffle(Array.from({ length: 50 }, (_, i) => i));
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(p).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(new Rng(5).shuffle(Array.from({ length: 50 }, (_, i) => i))).toEqual(p);
  });

  it('state round-trips through JSON and resumes the same stream', () => {
    const r = new Rng(9);
    r.next();
    const saved = JSON.parse(JSON.stringify(r.getState()));
    const expected = [r.next(), r.nextInt(100), r.normal()];
    const resumed = Rng.fromState(saved);
    expect([resumed.next(), resumed.nextInt(100), resumed.normal()]).toEqual(expected);
    expect(() => r.setState([1, 2, 3] as never)).toThrow(/Invalid RNG state/);
    expect(() => r.setState([1, 2, 3, -1])).toThrow(/Invalid RNG state/);
  });

  it('fork gives stable, independent streams without advancing the parent', () => {
    const r = new Rng(11);
    const before = r.getState();
    const f1 = r.fork('data').next();
    expect(r.getState()).toEqual(before);
    expect(r.fork('data').next()).toBe(f1);
    expect(r.fork('init').next()).not.toBe(f1);
    expect(new Rng(12).fork('data').next()).not.toBe(f1);
  });

  it('rejects unsafe numeric seeds', () => {
    expect(() => new Rng(1.5)).toThrow(/Invalid RNG seed 1.5/);
    expect(() => new Rng(Number.NaN)).toThrow(/Invalid RNG seed/);
  });
});
