/**
 * The chart specs: each compiles with vega-lite without a warning, renders with vega to an SVG that carries its axis
 * titles in the chart font, and carries the drawn numbers in its inline data (seed means and bands, winners, what is
 * left out). Nothing here snapshots a whole spec.
 */
import { describe, expect, it } from 'vitest';
import { parse, View, type LoggerInterface } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { Chart } from '../src/page.js';
import type { NetworkRow } from '../src/rows.js';
import {
  chartsFor, compoundVsSingleChart, costAccuracyChart, familyChart, halvingChart, roundingGapChart, saturationChart, searchHeatmapChart,
  trainingCurveChart, widthSweepChart, DIMENSION_COLOR,
} from '../src/specs/index.js';
import { FONT_FAMILY } from '../src/specs/theme.js';
import { PAPER, costRow, curve, equalCostRows, familyCostRows, input, row, saturationRows, searchRows, widthSweepRows } from './fixture-rows.js';

// ---- Helpers ------------------------------------------------------------------------------------------------------

function collectingLogger(messages: string[]): LoggerInterface {
  let level = 0;
  const logger: LoggerInterface = {
    level(l?: number) {
      if (l === undefined) return level as never;
      level = l;
      return logger as never;
    },
    error: (...a: readonly unknown[]) => (messages.push(`error: ${a.join(' ')}`), logger),
    warn: (...a: readonly unknown[]) => (messages.push(`warn: ${a.join(' ')}`), logger),
    info: () => logger,
    debug: () => logger,
  } as LoggerInterface;
  return logger;
}

/** Compile (asserting no vega-lite warning) and render to SVG with vega. */
async function render(chart: Chart): Promise<{ svg: string; vg: ReturnType<typeof compile>['spec'] }> {
  const messages: string[] = [];
  const vg = compile(chart.spec, { logger: collectingLogger(messages) }).spec;
  expect(messages).toEqual([]);
  const view = new View(parse(vg), { renderer: 'none' });
  try {
    return { svg: await view.toSVG(), vg };
  } finally {
    view.finalize();
  }
}

type Datum = Record<string, unknown>;

/** Every inline data value of a spec, from its top, layers, facet spec and panels. */
function inline(spec: unknown): Datum[] {
  const out: Datum[] = [];
  const walk = (s: unknown) => {
    if (Array.isArray(s)) return s.forEach(walk);
    if (!s || typeof s !== 'object') return;
    const o = s as Record<string, unknown>;
    const values = (o.data as { values?: Datum[] } | undefined)?.values;
    if (values) out.push(...values);
    for (const k of ['layer', 'vconcat', 'hconcat', 'concat', 'spec']) walk(o[k]);
  };
  walk(spec);
  return out;
}

/** Every encoding of a spec (all layers and panels). */
function encodings(spec: unknown): Record<string, Record<string, unknown>>[] {
  const out: Record<string, Record<string, unknown>>[] = [];
  const walk = (s: unknown) => {
    if (Array.isArray(s)) return s.forEach(walk);
    if (!s || typeof s !== 'object') return;
    const o = s as Record<string, unknown>;
    if (o.encoding) out.push(o.encoding as Record<string, Record<string, unknown>>);
    for (const k of ['layer', 'vconcat', 'hconcat', 'concat', 'spec']) walk(o[k]);
  };
  walk(spec);
  return out;
}

const scaleType = (vg: { scales?: { name: string; type?: string }[] }, name: string) => vg.scales?.find((s) => s.name === name)?.type;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const byId = (rows: NetworkRow[], id: string) => rows.filter((r) => r.id === id);
const fonts = (svg: string) => new Set([...svg.matchAll(/font-family="([^"]+)"/g)].map((m) => m[1].replace(/&quot;/g, '"')));

function expectChartFont(svg: string) {
  const used = fonts(svg);
  expect(used.size).toBeGreaterThan(0);
  for (const f of used) expect(f).toContain(FONT_FAMILY);
}

const SEARCH = { target: 2, paper: { ...PAPER }, rungs: [200, 400] };

// ---- Figure 3 -------------------------------------------------------------------------------------------------------

describe('saturationChart', () => {
  const rows = [
    ...saturationRows(),
    row({ id: 'w5', series: 'width', dimension: 'width', widthMult: 5, macs: 385e6 * 25, status: 'diverged', valTop1: null }),
    row({ id: 'd8', series: 'depth', dimension: 'depth', depthMult: 8, macs: 385e6 * 8, status: 'diverged', valTop1: null }),
  ];

  it('compiles, renders with axis titles in the chart font, and uses a log MACs axis', async () => {
    const chart = saturationChart(rows)!;
    expect(chart.name).toBe('saturation');
    const { svg, vg } = await render(chart);
    expect(svg).toContain('MACs (billions, log scale)');
    expect(svg).toContain('val top-1 (%)');
    expect(svg).toContain('baseline');
    expect(svg).toContain('w=1.4');
    expect(svg).toContain('d=2');
    expect(svg).toContain('r=1.3');
    expectChartFont(svg);
    expect(scaleType(vg as never, 'x')).toBe('log');
  });

  it('draws the mean of two seeds in % with the min-max band', () => {
    const chart = saturationChart(rows)!;
    const w14 = inline(chart.spec).find((d) => d.id === 'w1.4')!;
    const accs = byId(rows, 'w1.4').map((r) => r.valTop1!);
    expect(w14.mean).toBeCloseTo(mean(accs) * 100, 6);
    expect(w14.min).toBeCloseTo(Math.min(...accs) * 100, 6);
    expect(w14.max).toBeCloseTo(Math.max(...accs) * 100, 6);
    expect(w14.seeds).toBe(2);
    expect(w14.label).toBe('w=1.4');
    expect(w14.x).toBeCloseTo(byId(rows, 'w1.4')[0].macs / 1e9, 6);
    // The band is drawn from those fields.
    expect(encodings(chart.spec).some((e) => e.y?.field === 'min' && e.y2?.field === 'max')).toBe(true);
  });

  it('puts the baseline first on every line, and marks it', () => {
    const data = inline(saturationChart(rows)!.spec).filter((d) => d.baseline === true);
    expect(new Set(data.map((d) => d.line))).toEqual(new Set(['width', 'depth', 'resolution']));
    expect(data.every((d) => d.label === 'baseline' && d.id === 'base')).toBe(true);
  });

  it('leaves unfinished runs out and counts them in the caption', () => {
    const chart = saturationChart(rows)!;
    expect(inline(chart.spec).some((d) => d.id === 'w5' || d.id === 'd8')).toBe(false);
    expect(chart.caption).toContain('2 runs diverged, not drawn');
    const pending = saturationChart([...saturationRows(), row({ id: 'w5', series: 'width', dimension: 'width', status: 'pending', valTop1: null })])!;
    expect(pending.caption).toContain('1 run pending, not drawn');
  });

  it('reports test top-1 when every finished row has it', async () => {
    const chart = saturationChart(saturationRows().map((r) => ({ ...r, testTop1: r.valTop1! - 0.01 })))!;
    const { svg } = await render(chart);
    expect(svg).toContain('test top-1 (%)');
    const base = inline(chart.spec).find((d) => d.id === 'base')!;
    expect(base.mean).toBeCloseTo(mean(byId(saturationRows(), 'base').map((r) => r.valTop1! - 0.01)) * 100, 6);
  });

  it('colours each dimension with its own colour', () => {
    const color = encodings(saturationChart(rows)!.spec).find((e) => e.color?.field === 'line')!.color.scale as { domain: string[]; range: string[] };
    expect(color.range[color.domain.indexOf('width')]).toBe(DIMENSION_COLOR.width);
    expect(color.range[color.domain.indexOf('resolution')]).toBe(DIMENSION_COLOR.resolution);
  });

  it('is null without a finished width, depth or resolution row', () => {
    expect(saturationChart([])).toBeNull();
    expect(saturationChart([row()])).toBeNull();
    expect(saturationChart(searchRows())).toBeNull();
    expect(saturationChart([row(), row({ id: 'w2', series: 'width', dimension: 'width', status: 'running', valTop1: null })])).toBeNull();
  });
});

// ---- Figure 4 -------------------------------------------------------------------------------------------------------

describe('widthSweepChart', () => {
  it('draws one line per d=, r= series, labelled by width, with seed bands', async () => {
    const rows = widthSweepRows();
    const chart = widthSweepChart([...rows, ...saturationRows()])!;
    expect(chart.name).toBe('width-sweeps');
    const { svg, vg } = await render(chart);
    expect(svg).toContain('MACs (billions, log scale)');
    expect(svg).toContain('val top-1 (%)');
    expect(svg).toContain('d=2.0, r=1.3');
    expect(scaleType(vg as never, 'x')).toBe('log');
    const data = inline(chart.spec);
    expect(new Set(data.map((d) => d.line))).toEqual(new Set(['d=1.0, r=1.0', 'd=2.0, r=1.0', 'd=1.0, r=1.3', 'd=2.0, r=1.3']));
    const p = data.find((d) => d.id === 'd2-r1.3-w1.4')!;
    const accs = byId(rows, 'd2-r1.3-w1.4').map((r) => r.valTop1!);
    expect(p.label).toBe('w=1.4');
    expect([p.mean, p.min, p.max]).toEqual([mean(accs), Math.min(...accs), Math.max(...accs)].map((x) => expect.closeTo(x * 100, 6)));
  });

  it('is null without a d= series', () => {
    expect(widthSweepChart(saturationRows())).toBeNull();
    expect(widthSweepChart(widthSweepRows().map((r) => ({ ...r, status: 'failed' as const })))).toBeNull();
  });
});

// ---- Figure 8 -------------------------------------------------------------------------------------------------------

describe('compoundVsSingleChart', () => {
  const rows = equalCostRows();

  it('draws one point per dimension with min-max bars, MACs in the label, y zoomed to the data', async () => {
    const chart = compoundVsSingleChart([...rows, ...saturationRows()])!;
    expect(chart.name).toBe('compound-vs-single');
    const { svg, vg } = await render(chart);
    // Every equal-cost row has a test top-1: the chart reports test.
    expect(svg).toContain('test top-1 (%)');
    expect(svg).toContain('1.53 GMACs');
    expectChartFont(svg);
    const data = inline(chart.spec);
    expect(data.map((d) => d.scaled)).toEqual(['width', 'depth', 'resolution', 'compound']);
    const c = data.find((d) => d.scaled === 'compound')!;
    const accs = byId(rows, 'eq-compound').map((r) => r.testTop1!);
    expect(c.mean).toBeCloseTo(mean(accs) * 100, 6);
    expect(c.min).toBeCloseTo(Math.min(...accs) * 100, 6);
    expect(c.max).toBeCloseTo(Math.max(...accs) * 100, 6);
    expect(c.macs).toBe(1_528_000_000);
    expect(c.dimension).toBe('compound');
    const y = (vg as { scales: { name: string; domain: unknown }[] }).scales.find((s) => s.name === 'y')!;
    const [lo, hi] = y.domain as number[];
    const all = data.flatMap((d) => [d.min as number, d.max as number]);
    expect(lo).toBeGreaterThan(50);
    expect(lo).toBeLessThan(Math.min(...all));
    expect(hi).toBeGreaterThan(Math.max(...all));
  });

  it('leaves out unfinished networks and says so; null without equal-cost rows', () => {
    const some = compoundVsSingleChart([...rows.filter((r) => r.series !== 'equal-cost:depth'), row({ id: 'eq-depth', series: 'equal-cost:depth', dimension: 'depth', status: 'diverged', valTop1: null })])!;
    expect(inline(some.spec).map((d) => d.scaled)).toEqual(['width', 'resolution', 'compound']);
    expect(some.caption).toContain('1 run diverged, not drawn');
    expect(compoundVsSingleChart(saturationRows())).toBeNull();
    expect(compoundVsSingleChart(rows.map((r) => ({ ...r, status: 'running' as const })))).toBeNull();
  });
});

// ---- Search ---------------------------------------------------------------------------------------------------------

describe('searchHeatmapChart', () => {
  const rows = searchRows();

  it('compiles, renders one panel per gamma with the axis titles', async () => {
    const chart = searchHeatmapChart(rows, SEARCH)!;
    expect(chart.name).toBe('search-heatmap');
    const { svg } = await render(chart);
    expect(svg).toContain('alpha (depth coefficient)');
    expect(svg).toContain('beta (width coefficient)');
    expect(svg).toContain('gamma = 1.15');
    expect(svg).toContain('gamma = 1.1');
    expect(svg).toContain('mean val top-1 (%)');
    expectChartFont(svg);
  });

  it('colours by mean val top-1 over seeds, and marks the winner by val', () => {
    // Test top-1 would pick another point: the search chooses on validation.
    const withTest = rows.map((r) => ({ ...r, testTop1: r.id === 'a1.1-b1.1-g1.15' ? 0.99 : r.valTop1 }));
    const data = inline(searchHeatmapChart(withTest, SEARCH)!.spec);
    const done = data.filter((d) => d.mean !== null && d.done === d.seeds);
    const best = done.reduce((a, b) => ((b.mean as number) > (a.mean as number) ? b : a));
    expect(data.filter((d) => d.winner).map((d) => d.id)).toEqual([best.id]);
    expect(best.id).toBe('a1.2-b1.1-g1.15');
    const accs = byId(rows, 'a1.2-b1.1-g1.15').map((r) => r.valTop1!);
    expect(best.mean).toBeCloseTo(mean(accs) * 100, 6);
    expect(best.min).toBeCloseTo(Math.min(...accs) * 100, 6);
    expect(best.max).toBeCloseTo(Math.max(...accs) * 100, 6);
    expect(best.costRatio).toBeCloseTo(rows.find((r) => r.id === best.id)!.costRatio, 5);
  });

  it('ranks only points finished on every seed, ties broken by id', () => {
    const two = [
      row({ id: 'b', series: 'search', dimension: 'compound', alpha: 1.1, beta: 1.1, gamma: 1.1, seed: 0, valTop1: 0.8 }),
      row({ id: 'b', series: 'search', dimension: 'compound', alpha: 1.1, beta: 1.1, gamma: 1.1, seed: 1, valTop1: 0.8 }),
      row({ id: 'a', series: 'search', dimension: 'compound', alpha: 1.2, beta: 1.1, gamma: 1.1, seed: 0, valTop1: 0.8 }),
      row({ id: 'a', series: 'search', dimension: 'compound', alpha: 1.2, beta: 1.1, gamma: 1.1, seed: 1, valTop1: 0.8 }),
      // Higher, but one seed still running: not ranked.
      row({ id: 'c', series: 'search', dimension: 'compound', alpha: 1.3, beta: 1.1, gamma: 1.1, seed: 0, valTop1: 0.9 }),
      row({ id: 'c', series: 'search', dimension: 'compound', alpha: 1.3, beta: 1.1, gamma: 1.1, seed: 1, status: 'running', valTop1: null }),
    ];
    const data = inline(searchHeatmapChart(two, SEARCH)!.spec);
    expect(data.filter((d) => d.winner).map((d) => d.id)).toEqual(['a']);
    const c = data.find((d) => d.id === 'c')!;
    expect(c.mean).toBeCloseTo(90, 6);
    expect(c.status).toBe('1 done, 1 running');
    expect(c.label).toBe('90.0*');
  });

  it('shows unfinished points as grey cells with their status, and counts them', () => {
    const chart = searchHeatmapChart(rows, SEARCH)!;
    const pending = inline(chart.spec).find((d) => d.id === 'a1.3-b1.2-g1.15')!;
    expect(pending.mean).toBeNull();
    expect(pending.status).toBe('2 pending');
    expect(pending.label).toBe('pending');
    expect(chart.caption).toContain('2 pending');
  });

  it("marks the paper's point, or says it is not in the grid", () => {
    const data = inline(searchHeatmapChart(rows, SEARCH)!.spec);
    expect(data.filter((d) => d.paper).map((d) => d.id)).toEqual(['a1.2-b1.1-g1.15']);
    const off = searchHeatmapChart(rows, { ...SEARCH, paper: { alpha: 1.25, beta: 1.1, gamma: 1.15 } })!;
    expect(inline(off.spec).some((d) => d.paper)).toBe(false);
    expect(off.caption).toContain("the paper's (1.25, 1.1, 1.15) is not in the grid");
  });

  it('is null without grid points', () => {
    expect(searchHeatmapChart(saturationRows(), SEARCH)).toBeNull();
    // The compound network of the equal-cost comparison is not a grid point.
    expect(searchHeatmapChart(equalCostRows().map((r) => ({ ...r, alpha: 1.2, beta: 1.1, gamma: 1.15 })), SEARCH)).toBeNull();
  });
});

describe('costAccuracyChart', () => {
  it('draws finished points against the realized cost, the target rule labelled with its value', async () => {
    const rows = searchRows();
    const chart = costAccuracyChart(rows, SEARCH)!;
    expect(chart.name).toBe('search-cost');
    const { svg } = await render(chart);
    expect(svg).toContain('realized cost ratio (MACs over the base)');
    expect(svg).toContain('mean val top-1 (%)');
    expect(svg).toContain('constraint target 2');
    const data = inline(chart.spec);
    expect(data.filter((d) => 'target' in d)[0]).toMatchObject({ target: 2, label: 'constraint target 2' });
    const pts = data.filter((d) => 'costRatio' in d);
    expect(pts.some((d) => d.id === 'a1.3-b1.2-g1.15')).toBe(false);
    expect(pts.filter((d) => d.winner).map((d) => d.id)).toEqual(['a1.2-b1.1-g1.15']);
    expect(pts.filter((d) => d.paper).map((d) => d.id)).toEqual(['a1.2-b1.1-g1.15']);
    expect(chart.caption).toContain('2 pending, not drawn');
    const label = costAccuracyChart(rows, { ...SEARCH, target: 3 })!;
    expect(inline(label.spec).filter((d) => 'target' in d)[0]).toMatchObject({ target: 3, label: 'constraint target 3' });
  });

  it('is null without a finished grid point', () => {
    expect(costAccuracyChart(searchRows().map((r) => ({ ...r, status: 'pending' as const, valTop1: null })), SEARCH)).toBeNull();
  });
});

describe('halvingChart', () => {
  it('draws every trial curve in %, the rungs as rules, the last points by status', async () => {
    const rows = searchRows();
    const chart = halvingChart(rows, SEARCH)!;
    expect(chart.name).toBe('search-halving');
    const { svg } = await render(chart);
    expect(svg).toContain('optimizer step');
    expect(svg).toContain('val top-1 (%)');
    expect(svg).toContain('rung 0: 200 steps');
    const data = inline(chart.spec);
    expect(new Set(data.filter((d) => 'steps' in d).map((d) => d.steps))).toEqual(new Set([200, 400]));
    const last = data.filter((d) => d.last === true);
    const trials = rows.filter((r) => r.curve.length > 0);
    expect(last).toHaveLength(trials.length);
    const stopped = trials.find((r) => r.status === 'stopped')!;
    const end = last.find((d) => d.id === stopped.id && d.seed === stopped.seed)!;
    expect(end.status).toBe('stopped');
    expect(end.step).toBe(200);
    expect(end.acc).toBeCloseTo(stopped.curve[1].valTop1! * 100, 6);
  });

  it('is null with a single rung or no curves', () => {
    expect(halvingChart(searchRows(), { ...SEARCH, rungs: [400] })).toBeNull();
    expect(halvingChart(searchRows().map((r) => ({ ...r, curve: [] })), SEARCH)).toBeNull();
  });
});

// ---- Costs ----------------------------------------------------------------------------------------------------------

describe('roundingGapChart', () => {
  it('draws theoretical and realized ratios over phi on a log axis with the gap in %', async () => {
    const costs = familyCostRows();
    const chart = roundingGapChart(costs)!;
    expect(chart.name).toBe('rounding-gap');
    const { svg, vg } = await render(chart);
    expect(svg).toContain('compound coefficient phi');
    expect(svg).toContain('MACs over the phi = 0 network (log scale)');
    expect(scaleType(vg as never, 'y')).toBe('log');
    const data = inline(chart.spec);
    // Presets (no phi) are left out; each phi gives a theoretical and a realized point.
    expect(data).toHaveLength(2 * 5);
    const one = costs.find((c) => c.phi === 1)!;
    const at1 = data.filter((d) => d.phi === 1);
    expect(new Set(at1.map((d) => d.kind)).size).toBe(2);
    expect(at1.map((d) => d.ratio).sort()).toEqual([one.theoreticalRatio!, one.realizedRatio].map((x) => expect.closeTo(x, 5)).sort());
    expect(at1[0].gap).toBeCloseTo((one.realizedRatio / one.theoreticalRatio! - 1) * 100, 3);
    expect(at1[0].macs).toBe(one.macs);
  });

  it('colours by family and dashes by kind with several families; null without phi rows', async () => {
    const two = [...familyCostRows(), ...familyCostRows().filter((c) => c.phi !== null).map((c) => ({ ...c, family: 'found (1.0, 1.3, 1.1)' }))];
    const chart = roundingGapChart(two)!;
    await render(chart);
    const line = encodings(chart.spec).find((e) => e.strokeDash)!;
    expect(line.color.field).toBe('family');
    expect(line.strokeDash.field).toBe('kind');
    expect(roundingGapChart([costRow()])).toBeNull();
    expect(roundingGapChart([])).toBeNull();
  });
});

describe('familyChart', () => {
  it('draws params against MACs, log-log, one labelled line per family', async () => {
    const chart = familyChart(familyCostRows())!;
    expect(chart.name).toBe('family');
    const { svg, vg } = await render(chart);
    expect(svg).toContain('MACs (billions, log scale)');
    expect(svg).toContain('parameters (millions, log scale)');
    expect(svg).toContain('B4');
    expect(svg).toContain('phi 2');
    expect(scaleType(vg as never, 'x')).toBe('log');
    expect(scaleType(vg as never, 'y')).toBe('log');
    const presets = inline(chart.spec).filter((d) => d.family === 'B0..B7 (paper presets)');
    expect(presets.map((d) => d.name)).toEqual(['B0', 'B1', 'B2', 'B3', 'B4']);
    expect(presets[3].params).toBe(12.23e6);
  });

  it('uses millions for small networks; null without cost rows', async () => {
    const chart = familyChart([costRow({ name: 'tiny', macs: 2e6, params: 1e5 }), costRow({ name: 'small', macs: 8e6, params: 3e5 })])!;
    expect((await render(chart)).svg).toContain('MACs (millions, log scale)');
    expect(familyChart([])).toBeNull();
  });
});

// ---- Training run -----------------------------------------------------------------------------------------------------

describe('trainingCurveChart', () => {
  it('draws loss and val top-1 (%) panels against epoch', async () => {
    const r = row({ id: 'b0-run', series: 'run', curve: curve(5, { stepsPerEpoch: 250 }) });
    const chart = trainingCurveChart([r])!;
    expect(chart.name).toBe('training-curve');
    const { svg } = await render(chart);
    expect(svg).toContain('epoch');
    expect(svg).toContain('loss (cross-entropy)');
    expect(svg).toContain('val top-1 (%)');
    expectChartFont(svg);
    const data = inline(chart.spec);
    expect(data.filter((d) => d.kind === 'train loss')).toHaveLength(5);
    const accs = data.filter((d) => !('kind' in d));
    expect(accs.map((d) => d.valTop1)).toEqual(r.curve.map((p) => expect.closeTo(p.valTop1! * 100, 6)));
    expect(accs[4].x).toBe(2);
  });

  it('falls back to steps without epochs; null without curves or with several networks', async () => {
    const chart = trainingCurveChart([row({ curve: curve(3) })])!;
    expect((await render(chart)).svg).toContain('optimizer step');
    expect(trainingCurveChart([row()])).toBeNull();
    expect(trainingCurveChart([row({ id: 'a', curve: curve(2) }), row({ id: 'b', curve: curve(2) })])).toBeNull();
    expect(trainingCurveChart([row({ curve: [{ step: 1, epoch: null, trainLoss: null, valLoss: null, valTop1: null }] })])).toBeNull();
  });
});

// ---- All --------------------------------------------------------------------------------------------------------------

describe('chartsFor', () => {
  it('returns the drawable charts in the paper order', () => {
    const rows = [...saturationRows(), ...widthSweepRows(), ...equalCostRows()];
    expect(chartsFor(input({ rows })).map((c) => c.name)).toEqual(['saturation', 'width-sweeps', 'compound-vs-single']);
    expect(chartsFor(input({ rows: searchRows(), search: SEARCH })).map((c) => c.name)).toEqual(['search-heatmap', 'search-cost', 'search-halving']);
    // Without the search settings the grid is not drawn (as the findings).
    expect(chartsFor(input({ rows: searchRows() })).map((c) => c.name)).toEqual([]);
    expect(chartsFor(input({ costs: familyCostRows() })).map((c) => c.name)).toEqual(['rounding-gap', 'family']);
    expect(chartsFor(input({ rows: [row({ curve: curve(4) })] })).map((c) => c.name)).toEqual(['training-curve']);
  });

  it('gives every chart a title and a caption, and every spec the chart font', () => {
    const all = [
      ...chartsFor(input({ rows: [...saturationRows(), ...widthSweepRows(), ...equalCostRows()] })),
      ...chartsFor(input({ rows: searchRows(), search: SEARCH, costs: familyCostRows() })),
      ...chartsFor(input({ rows: [row({ curve: curve(4) })] })),
    ];
    expect(all).toHaveLength(9);
    for (const c of all) {
      expect(c.title.length).toBeGreaterThan(0);
      expect(c.caption).toMatch(/\.$/);
      const spec = c.spec as TopLevelSpec & { config: { font: string }; title: { text: string } };
      expect(spec.config.font).toBe(FONT_FAMILY);
      expect(spec.title.text).toBe(c.title);
    }
  });
});
