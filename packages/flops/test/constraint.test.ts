import { describe, expect, it } from 'vitest';
import { checkConstraint, count, solveConstraint, solveForMacs } from '../src/index.js';

describe('constraint check', () => {
  it('shows both the theoretical product and the realized MACs ratio (phi 1 costs 2.57x, not 2x)', () => {
    const r = checkConstraint({ alpha: 1.2, beta: 1.1, gamma: 1.15 }, { phi: 1 });
    expect(r.product).toBeCloseTo(1.92027, 10);
    expect(r.deviation).toBeCloseTo(-0.07973, 10);
    expect(r.theoreticalRatio).toBeCloseTo(1.92027, 10);
    expect(r.resolution).toBe(258);
    expect(r.realizedMacsRatio).toBeCloseTo(2.5728, 3);
    expect(r.baseMacs).toBe(385_814_752);
  });

  it('solves for the missing coefficient exactly', () => {
    const s = solveConstraint('gamma', { alpha: 1.2, beta: 1.1 });
    expect(s.alpha * s.beta ** 2 * s.gamma ** 2).toBeCloseTo(2, 12);
    expect(solveConstraint('alpha', { beta: 1.1, gamma: 1.15 }).alpha).toBeCloseTo(2 / (1.21 * 1.3225), 12);
    expect(() => solveConstraint('gamma', { alpha: 1.9, beta: 1.2 })).toThrow(/no gamma >= 1/);
    expect(() => solveConstraint('gamma', { alpha: 1.2 })).toThrow(/needs --beta/);
  });

  it('rejects coefficients below 1 naming the value', () => {
    expect(() => checkConstraint({ alpha: 0.9, beta: 1.1, gamma: 1.15 })).toThrow(/alpha 0.9 must be >= 1/);
  });
});

describe('solving for a target MACs (Table 7)', () => {
  it('finds, along each dimension, the realized network closest to 1.8 GMACs', () => {
    for (const along of ['depth', 'width', 'resolution', 'compound'] as const) {
      const s = solveForMacs(along, 1.8e9);
      expect(Math.abs(s.relativeError)).toBeLessThan(0.03);
      const c = count({ selector: { kind: 'multipliers', depth: s.depth, width: s.width, resolution: s.resolution } });
      expect(c.macs).toBe(s.macs);
    }
  });

  it('the paper labels d=4, w=2, r=2 do not reach 1.8 GMACs under exact rounding', () => {
    const m = (depth: number, width: number, resolution: number) =>
      count({ selector: { kind: 'multipliers', depth, width, resolution } }).macs;
    // REFERENCE-COUNTS.md section 4: 1.575 / 1.450 / 1.537 GMACs; all three fall short of the 1.8 GMACs target.
    expect(m(4, 1, 224) / 1e9).toBeCloseTo(1.575, 2);
    expect(m(1, 2, 224) / 1e9).toBeCloseTo(1.45, 2);
    expect(m(1, 1, 448) / 1e9).toBeCloseTo(1.537, 2);
  });
});
