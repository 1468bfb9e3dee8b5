import { describe, expect, it } from 'vitest';
import { countTotals } from '@effscale/flops';
import { buildPointSet } from '@effscale/search';
import { BUDGETS, EXPERIMENTS, PAPER_MULTIPLIERS, type ExperimentOptions } from '../src/index.js';

const base = { selector: { kind: 'multipliers' as const, depth: 0.5, width: 0.5, resolution: 32 }, inputChannels: 1, classes: 10 };
const opts = (o: Partial<ExperimentOptions> = {}): ExperimentOptions => ({
  base, sweepLength: null, coefficients: { alpha: 1.2, beta: 1.1, gamma: 1.15 }, phi: 2, familyPhis: [0, 1, 2], ...o,
});
const points = (name: string, o?: Partial<ExperimentOptions>) => {
  const plan = EXPERIMENTS[name].plan(opts(o));
  return { plan, grid: buildPointSet({ members: plan.members.map((m) => ({ id: m.id, depth: m.depthMult, width: m.widthMult, resolution: m.resolutionMult })), base, describe: plan.describe }) };
};

describe('the paper\'s experiments as sets of networks', () => {
  it('single-dim: the base plus Figure 3\'s multipliers of each dimension, one at a time', () => {
    const { plan, grid } = points('single-dim');
    expect(plan.members).toHaveLength(1 + 5 + 5 + 6);
    expect(plan.members.filter((m) => m.series === 'width').map((m) => m.widthMult)).toEqual(PAPER_MULTIPLIERS.width.slice(1));
    const w5 = grid.points.find((p) => p.id === 'width-5')!;
    // Width 5 on a width-0.5 base is width 2.5 of B0 at the base's depth and resolution.
    expect(w5.network.selector).toEqual({ kind: 'multipliers', depth: 0.5, width: 2.5, resolution: 32 });
    const r25 = grid.points.find((p) => p.id === 'resolution-2.5')!;
    expect(r25.network.selector).toMatchObject({ resolution: 80 });
    // Depth 8 of a depth-0.5 base: more blocks, more MACs than the base, same width and resolution.
    expect(grid.points.find((p) => p.id === 'depth-8')!.costs.macsRatio).toBeGreaterThan(4);
  });

  it('smoke keeps the first multipliers of each sweep', () => {
    const { plan } = points('single-dim', { sweepLength: BUDGETS.smoke.sweepLength });
    expect(plan.members.map((m) => m.id)).toEqual(['base', 'width-1.4', 'width-1.8', 'depth-2', 'depth-3', 'resolution-1.3', 'resolution-1.5']);
  });

  it('width-by-dr: every width of the sweep from each of Figure 4\'s (d, r) baselines', () => {
    const { plan } = points('width-by-dr');
    expect(new Set(plan.members.map((m) => m.series))).toEqual(new Set(['d=1.0, r=1.0', 'd=1.0, r=1.3', 'd=2.0, r=1.0', 'd=2.0, r=1.3']));
    expect(plan.members).toHaveLength(4 * 6);
  });

  it('compound-vs-single: each single dimension solved to the compound point\'s exact MACs', () => {
    const { plan, grid } = points('compound-vs-single');
    const macs = Object.fromEntries(grid.points.map((p) => [p.id, p.costs.macs]));
    const target = plan.describe.targetMacs as number;
    expect(macs['equal-cost:compound']).toBe(target);
    for (const dim of ['depth', 'width']) expect(Math.abs(macs[`equal-cost:${dim}`] / target - 1)).toBeLessThan(0.05);
    // Resolution moves MACs in steps of whole feature-map rows at 32 px: the closest step, one pixel either side is farther.
    const r = (grid.points.find((p) => p.id === 'equal-cost:resolution')!.network.selector as { resolution: number }).resolution;
    const at = (px: number) => countTotals({ ...base, selector: { kind: 'multipliers', depth: 0.5, width: 0.5, resolution: px } }).macs;
    expect(Math.abs(at(r) - target)).toBeLessThanOrEqual(Math.min(Math.abs(at(r - 1) - target), Math.abs(at(r + 1) - target)));
    // The compound point is base x alpha^2, beta^2, round(32 * gamma^2) px.
    expect(grid.points.find((p) => p.id === 'equal-cost:compound')!.network.selector).toMatchObject({ resolution: Math.round(32 * 1.15 ** 2) });
  });

  it('compound-vs-single: a given target MACs is what every member is solved to', () => {
    const t = 4 * countTotals({ ...base }).macs;
    const { grid } = points('compound-vs-single', { targetMacs: t });
    for (const dim of ['depth', 'width', 'resolution']) expect(Math.abs(grid.points.find((p) => p.id === `equal-cost:${dim}`)!.costs.macs / t - 1)).toBeLessThan(0.12);
  });

  it('family: the trained members and the exact costs of B0..B7 and of phi 0..7', () => {
    const { plan } = points('family');
    expect(plan.members.map((m) => m.id)).toEqual(['phi-0', 'phi-1', 'phi-2']);
    expect(plan.members[2].compound).toEqual({ alpha: 1.2, beta: 1.1, gamma: 1.15, phi: 2 });
    const presets = plan.costs.filter((c) => c.phi === null);
    expect(presets.map((c) => c.name)).toEqual(['B0', 'B1', 'B2', 'B3', 'B4', 'B5', 'B6', 'B7']);
    expect(presets[0]).toMatchObject({ params: 5_288_548, macs: 385_814_752 });
    expect(plan.costs.filter((c) => c.phi !== null)).toHaveLength(8);
  });

  it('a changed definition changes the study fingerprint (refused on resume); the same one keeps it', () => {
    expect(points('single-dim').grid.fingerprint).toBe(points('single-dim').grid.fingerprint);
    expect(points('compound-vs-single', { phi: 1 }).grid.fingerprint).not.toBe(points('compound-vs-single').grid.fingerprint);
  });
});
