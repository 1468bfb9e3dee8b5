import { describe, expect, it } from 'vitest';
import { compoundFindings, costFindings, saturationFindings, searchFindings, widthByDrFindings } from '../src/findings.js';
import type { NetworkRow } from '../src/rows.js';
import { costRow, row } from './fixture-rows.js';

/** A network measured on several seeds: accuracy mean +- half the spread. */
function net(id: string, o: Partial<NetworkRow>, mean: number, spread: number, seeds = 2): NetworkRow[] {
  return Array.from({ length: seeds }, (_, s) => row({
    id, seed: s, status: 'done', testTop1: null, valTop1: seeds === 1 ? mean : mean + (s === 0 ? -spread / 2 : spread / 2), ...o,
  }));
}

const base = (acc: number, spread = 0.002, seeds = 2) => net('base', { series: 'base', dimension: 'base', macs: 1e6 }, acc, spread, seeds);
const width = (w: number, macs: number, acc: number, spread = 0.002, seeds = 2) =>
  net(`width-${w}`, { series: 'width', dimension: 'width', widthMult: w, macs }, acc, spread, seeds);

describe('saturation (Figure 3)', () => {
  it('says a dimension saturates when the last step gains less per doubling of MACs than the first, beyond the seed spread', () => {
    const rows = [...base(0.70), ...width(1.4, 2e6, 0.78), ...width(1.8, 3.2e6, 0.82), ...width(3.8, 14.4e6, 0.845), ...width(5.0, 25e6, 0.846)];
    const [f] = saturationFindings(rows);
    expect(f.verdict).toBe('held');
    expect(f.text).toContain('gain from w 3.8 to 5 was +0.10 pt');
    expect(f.text).toContain('from w 1 to 1.4 was +8.00 pt (+8.00 pt per doubling)');
    expect(f.text).toContain('saturates');
  });

  it('says it does not saturate when the gain grows', () => {
    const rows = [...base(0.70), ...width(1.4, 2e6, 0.71), ...width(1.8, 3.2e6, 0.75), ...width(2.6, 6.8e6, 0.85)];
    expect(saturationFindings(rows)[0].verdict).toBe('not held');
  });

  it('does not call a sweep whose accuracy fell saturating', () => {
    const rows = [...base(0.70), ...width(1.4, 2e6, 0.65), ...width(1.8, 3.2e6, 0.50)];
    const [f] = saturationFindings(rows);
    expect(f.verdict).toBe('not held');
    expect(f.text).toContain('accuracy fell from 70.00% at w 1 to 50.00% at w 1.8 (-20.00 pt');
  });

  it('calls a difference inside the seed spread not distinguishable', () => {
    const rows = [...base(0.70, 0.2), ...width(1.4, 2e6, 0.72, 0.2), ...width(1.8, 3.2e6, 0.73), ...width(2.6, 6.8e6, 0.735)];
    const [f] = saturationFindings(rows);
    expect(f.verdict).toBe('not distinguishable');
    expect(f.text).toContain('inside the seed spread');
  });

  it('gives no verdict on one seed, and says not enough data with fewer than three networks', () => {
    const one = [...base(0.70, 0, 1), ...width(1.4, 2e6, 0.78, 0, 1), ...width(1.8, 3.2e6, 0.80, 0, 1)];
    expect(saturationFindings(one)[0].verdict).toBe('no verdict');
    expect(saturationFindings(one)[0].text).toContain('seed spread is unknown');
    const two = [...base(0.70), ...width(1.4, 2e6, 0.78), ...width(1.8, 3.2e6, 0.8).map((r) => ({ ...r, status: 'diverged' as const, valTop1: null }))];
    const [f] = saturationFindings(two);
    expect(f.verdict).toBe('not enough data');
    expect(f.text).toContain('2 runs diverged or failed');
  });

  it('reports on test accuracy when every finished network has it', () => {
    const rows = [...base(0.5), ...width(1.4, 2e6, 0.5), ...width(1.8, 3.2e6, 0.5)].map((r, i) => ({ ...r, testTop1: 0.6 + i * 0.01 }));
    expect(saturationFindings(rows)[0].text).toContain('test top-1');
  });
});

describe('width sweeps from (d, r) baselines (Figure 4)', () => {
  const sweep = (d: number, r: number, points: [number, number, number][], spread = 0.002) =>
    points.flatMap(([w, macs, acc]) => net(`d${d}-r${r}-w${w}`, { series: `d=${d.toFixed(1)}, r=${r.toFixed(1)}`, dimension: 'width', depthMult: d, resolutionMult: r, widthMult: w, macs }, acc, spread));
  const ref = sweep(1, 1, [[1, 1e6, 0.70], [1.4, 2e6, 0.75], [1.8, 4e6, 0.78], [2.6, 8e6, 0.80]]);

  it('compares at equal MACs, interpolating the width-only sweep in log MACs', () => {
    // At 2.83e6 MACs (halfway between 2e6 and 4e6 in log) width alone reaches 0.765.
    const deep = sweep(2, 1.3, [[1, 2 * Math.SQRT2 * 1e6, 0.785], [1.4, 8e6, 0.83]]);
    const [f] = widthByDrFindings([...ref, ...deep]);
    expect(f.verdict).toBe('held');
    expect(f.text).toContain('+2.50 pt');
    expect(f.text).toContain('on average');
  });

  it('says not enough data without the width-only sweep or without overlapping MACs', () => {
    const deep = sweep(2, 1.3, [[1, 2e6, 0.78]]);
    expect(widthByDrFindings(deep)[0].verdict).toBe('not enough data');
    const far = sweep(2, 1.3, [[1, 50e6, 0.9]]);
    expect(widthByDrFindings([...ref, ...far])[0].verdict).toBe('not enough data');
  });

  it('is not distinguishable when the lead is inside the seed spread', () => {
    const deep = sweep(2, 1.3, [[1, 2e6, 0.755], [1.4, 4e6, 0.785]], 0.05);
    expect(widthByDrFindings([...ref, ...deep])[0].verdict).toBe('not distinguishable');
  });
});

describe('compound against single dimensions at equal MACs (Table 7)', () => {
  const eq = (dim: 'compound' | 'width' | 'depth' | 'resolution', acc: number, spread: number) =>
    net(`equal-cost:${dim}`, { series: `equal-cost:${dim}`, dimension: dim, macs: 1.8e9 }, acc, spread);

  it('compares compound with the best single dimension', () => {
    const rows = [...eq('compound', 0.80, 0.002), ...eq('width', 0.78, 0.002), ...eq('depth', 0.79, 0.002), ...eq('resolution', 0.775, 0.002)];
    const [f] = compoundFindings(rows);
    expect(f.verdict).toBe('held');
    expect(f.text).toContain('best single dimension (depth) at 1.80 GMACs by +1.00 pt');
  });

  it('says within the seed spread: not distinguishable', () => {
    const rows = [...eq('compound', 0.80, 0.006), ...eq('depth', 0.796, 0.006)];
    const [f] = compoundFindings(rows);
    expect(f.verdict).toBe('not distinguishable');
    expect(f.text).toContain('+0.40 pt');
    expect(f.text).toContain('seed spread of 0.60 pt');
  });

  it('says not held when a single dimension wins beyond the spread, and not enough data without compound', () => {
    expect(compoundFindings([...eq('compound', 0.76, 0.002), ...eq('width', 0.79, 0.002)])[0].verdict).toBe('not held');
    expect(compoundFindings(eq('width', 0.79, 0.002))[0].verdict).toBe('not enough data');
  });
});

describe('the search', () => {
  const point = (a: number, b: number, g: number, acc: number, spread = 0.002) =>
    net(`a${a}-b${b}-g${g}`, { series: 'search', dimension: 'compound', alpha: a, beta: b, gamma: g, costRatio: 2.5, constraintValue: a * b * b * g * g }, acc, spread);
  const search = { target: 2, paper: { alpha: 1.2, beta: 1.1, gamma: 1.15 }, rungs: [100] };

  it('names the winner on validation and ranks the paper\'s point against it', () => {
    const rows = [...point(1, 1.3, 1.1, 0.826), ...point(1.2, 1.1, 1.15, 0.80), ...point(1.1, 1.2, 1.1, 0.81)];
    const fs = searchFindings(rows, search);
    expect(fs[0].text).toContain('winner on validation: (1, 1.3, 1.1) with 82.60% val top-1');
    const paper = fs.find((f) => f.claim.startsWith("the paper's"))!;
    expect(paper.verdict).toBe('not held');
    expect(paper.text).toContain('ranks 3 of 3');
  });

  it('holds the paper\'s claim when its point is within the seed spread of the winner', () => {
    const rows = [...point(1, 1.3, 1.1, 0.81, 0.02), ...point(1.2, 1.1, 1.15, 0.805, 0.02)];
    expect(searchFindings(rows, search).find((f) => f.claim.startsWith("the paper's"))!.verdict).toBe('not distinguishable');
  });

  it('says the paper\'s point is not in the grid', () => {
    const f = searchFindings(point(1, 1.3, 1.1, 0.8), search).find((x) => x.claim.startsWith("the paper's"))!;
    expect(f.verdict).toBe('not enough data');
    expect(f.text).toContain('--include 1.2,1.1,1.15');
  });
});

describe('costs', () => {
  it('states the rounding gap at phi 1 and the largest over the sweep', () => {
    const costs = [
      costRow({ family: 'f', phi: 0, theoreticalRatio: 1, realizedRatio: 1 }),
      costRow({ family: 'f', phi: 1, theoreticalRatio: 1.92027, realizedRatio: 2.57281 }),
      costRow({ family: 'f', phi: 2, theoreticalRatio: 3.6874, realizedRatio: 4.6927 }),
    ];
    const [f] = costFindings(costs);
    expect(f.text).toContain('at phi 1 the realized MACs are 2.573x the base against the constraint\'s 1.920x (+34.0%)');
    expect(f.text).toContain('largest gap over phi 1..2: +34.0% at phi 1');
  });
});
