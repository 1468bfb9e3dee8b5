/**
 * Tidy rows for tests: a finished B0-like network (or its exact costs) with any field overridden. Shared by the chart
 * and the findings tests; the defaults are plausible, not special, so a test states what it relies on.
 */
import type { CostRow, CurvePoint, NetworkRow, ReportInput } from '../src/rows.js';

/** B0 at 224 px: 5,288,548 params, 385 MMACs; trained, val top-1 75%. */
export const B0 = { params: 5_288_548, macs: 385_000_000, resolution: 224 } as const;

export function row(overrides: Partial<NetworkRow> = {}): NetworkRow {
  return {
    id: 'base',
    series: 'base',
    dimension: 'base',
    alpha: null,
    beta: null,
    gamma: null,
    phi: null,
    depthMult: 1,
    widthMult: 1,
    resolutionMult: 1,
    depth: 1,
    width: 1,
    resolution: B0.resolution,
    params: B0.params,
    macs: B0.macs,
    costRatio: 1,
    constraintValue: null,
    seed: 0,
    status: 'done',
    rung: 0,
    step: 1000,
    valTop1: 0.75,
    valTop5: 0.92,
    valLoss: 1.05,
    testTop1: null,
    testTop5: null,
    wallSeconds: 60,
    sharedWith: [],
    curve: [],
    ...overrides,
  };
}

export function costRow(overrides: Partial<CostRow> = {}): CostRow {
  return {
    family: 'B0..B7 (paper presets)',
    name: 'B0',
    phi: null,
    depth: 1,
    width: 1,
    resolution: B0.resolution,
    params: B0.params,
    macs: B0.macs,
    theoreticalRatio: null,
    realizedRatio: 1,
    ...overrides,
  };
}

/** A learning curve of `n` evaluations every `every` steps, val top-1 rising from `from` to `to`. */
export function curve(n: number, opts: { every?: number; from?: number; to?: number; stepsPerEpoch?: number | null } = {}): CurvePoint[] {
  const { every = 100, from = 0.3, to = 0.7, stepsPerEpoch = null } = opts;
  return Array.from({ length: n }, (_, i) => {
    const step = (i + 1) * every;
    const t = n === 1 ? 1 : i / (n - 1);
    return { step, epoch: stepsPerEpoch === null ? null : step / stepsPerEpoch, trainLoss: 3 - 2 * t, valLoss: 3.2 - 1.9 * t, valTop1: from + (to - from) * t };
  });
}

/** A ReportInput around `rows` and `costs`, with a neutral provenance. */
export function input(over: Partial<ReportInput> = {}): ReportInput {
  return {
    title: 'Test report',
    provenance: { kind: 'search study', source: '/tmp/study', code: {}, backend: 'cpu', data: null, seeds: [0, 1], settings: {}, createdAt: '2025-01-01T00:00:00.000Z' },
    rows: [],
    costs: [],
    search: null,
    live: false,
    ...over,
  };
}

// ---- Whole scenarios (the paper's figures, small) -----------------------------------------------------------------

/** A made-up saturating accuracy: +4 pt per doubling of MACs at first, less and less; `seed` shifts it by +-0.3 pt. */
export function accuracyAt(costRatio: number, seed = 0): number {
  return 0.75 + 0.06 * Math.log2(1 + Math.log2(costRatio)) + (seed === 0 ? -0.003 : 0.003);
}

/** Figure 3 rows: a base and width, depth, resolution sweeps, two seeds each (series 'base', 'width', 'depth', 'resolution'). */
export function saturationRows(seeds: number[] = [0, 1]): NetworkRow[] {
  const out: NetworkRow[] = [];
  const add = (series: 'width' | 'depth' | 'resolution', mult: number) => {
    const ratio = series === 'depth' ? mult : mult ** 2;
    for (const seed of seeds) {
      out.push(row({
        id: `${series[0]}${mult}`, series, dimension: series, seed,
        widthMult: series === 'width' ? mult : 1, depthMult: series === 'depth' ? mult : 1, resolutionMult: series === 'resolution' ? mult : 1,
        width: series === 'width' ? mult : 1, depth: series === 'depth' ? mult : 1, resolution: series === 'resolution' ? Math.round(224 * mult) : 224,
        macs: Math.round(B0.macs * ratio), params: series === 'width' ? Math.round(B0.params * mult ** 2) : series === 'depth' ? Math.round(B0.params * mult) : B0.params,
        costRatio: ratio, valTop1: accuracyAt(ratio, seed) + { width: -0.008, depth: -0.012, resolution: 0.006 }[series] * Math.log2(ratio),
      }));
    }
  };
  for (const seed of seeds) out.push(row({ seed, valTop1: accuracyAt(1, seed) }));
  for (const w of [1.4, 2, 2.6, 3.8]) add('width', w);
  for (const d of [2, 3, 4, 6]) add('depth', d);
  for (const r of [1.3, 1.7, 2.2]) add('resolution', r);
  return out;
}

/** Figure 4 rows: width sweeps of (d, r) baselines, series 'd=1.0, r=1.0' and so on (dimension 'width'). */
export function widthSweepRows(seeds: number[] = [0, 1]): NetworkRow[] {
  const out: NetworkRow[] = [];
  for (const [d, r] of [[1, 1], [2, 1], [1, 1.3], [2, 1.3]]) {
    for (const w of [1, 1.4, 2, 2.6]) {
      const ratio = d * w ** 2 * r ** 2;
      for (const seed of seeds) {
        out.push(row({
          id: `d${d}-r${r}-w${w}`, series: `d=${d.toFixed(1)}, r=${r.toFixed(1)}`, dimension: 'width', seed,
          widthMult: w, depthMult: d, resolutionMult: r, width: w, depth: d, resolution: Math.round(224 * r),
          macs: Math.round(B0.macs * ratio), params: Math.round(B0.params * d * w ** 2), costRatio: ratio,
          valTop1: accuracyAt(ratio, seed) + 0.01 * (d - 1) + 0.02 * (r - 1),
        }));
      }
    }
  }
  return out;
}

/** Figure 8 rows: one network per dimension at about 4x the base's MACs (series 'equal-cost:<dimension>'). */
export function equalCostRows(seeds: number[] = [0, 1]): NetworkRow[] {
  const nets = [
    { dim: 'width', w: 2, d: 1, r: 1, macs: 1_541_000_000, acc: 0.781 },
    { dim: 'depth', w: 1, d: 4, r: 1, macs: 1_533_000_000, acc: 0.779 },
    { dim: 'resolution', w: 1, d: 1, r: 2, macs: 1_546_000_000, acc: 0.785 },
    { dim: 'compound', w: 1.21, d: 1.44, r: 1.32, macs: 1_528_000_000, acc: 0.796 },
  ] as const;
  return nets.flatMap((n) => seeds.map((seed) => row({
    id: `eq-${n.dim}`, series: `equal-cost:${n.dim}`, dimension: n.dim, seed, widthMult: n.w, depthMult: n.d, resolutionMult: n.r,
    macs: n.macs, costRatio: n.macs / B0.macs, valTop1: n.acc + (seed === 0 ? -0.002 : 0.002), testTop1: n.acc - 0.004 + (seed === 0 ? -0.002 : 0.002),
  })));
}

export const PAPER = { alpha: 1.2, beta: 1.1, gamma: 1.15 } as const;

/**
 * A small search study: alpha x beta x gamma over {1.1, 1.2, 1.3} x {1.0, 1.1, 1.2} x {1.1, 1.15}, two seeds, with
 * two-rung halving (stopped trials end at 200 steps); the point 'a1.3-b1.2-g1.15' still pending. Its series is 'search'.
 */
export function searchRows(seeds: number[] = [0, 1]): NetworkRow[] {
  const out: NetworkRow[] = [];
  for (const alpha of [1.1, 1.2, 1.3]) for (const beta of [1, 1.1, 1.2]) for (const gamma of [1.1, 1.15]) {
    const id = `a${alpha}-b${beta}-g${gamma}`;
    const c = alpha * beta ** 2 * gamma ** 2;
    const ratio = c * 1.03;
    // Best near the paper's point.
    const acc = 0.78 - 0.3 * ((alpha - 1.2) ** 2 + (beta - 1.1) ** 2 + (gamma - 1.15) ** 2) - 0.01 * Math.abs(c - 2);
    // The halving rung keeps the better half (by their accuracy at 200 steps).
    const stopped = acc < 0.774;
    for (const seed of seeds) {
      const pending = id === 'a1.3-b1.2-g1.15';
      const v = acc + (seed === 0 ? -0.001 : 0.001);
      const full = curve(4, { from: v - 0.3, to: v });
      const own = stopped ? full.slice(0, 2) : full;
      const n = own.length;
      out.push(row({
        id, series: 'search', dimension: 'compound', alpha, beta, gamma, phi: 1, seed,
        depthMult: alpha, widthMult: beta, resolutionMult: gamma, depth: alpha, width: beta, resolution: Math.round(224 * gamma),
        macs: Math.round(B0.macs * ratio), params: Math.round(B0.params * alpha * beta ** 2), costRatio: ratio, constraintValue: c,
        status: pending ? 'pending' : stopped ? 'stopped' : 'done', rung: stopped ? 0 : 1, step: pending ? null : n * 100,
        valTop1: pending ? null : own[n - 1].valTop1, curve: pending ? [] : own,
      }));
    }
  }
  return out;
}

/** A compound family over phi 0..4 (theoretical and realized ratios) and the B0..B4 presets. */
export function familyCostRows(): CostRow[] {
  const product = PAPER.alpha * PAPER.beta ** 2 * PAPER.gamma ** 2;
  const family = `compound (${PAPER.alpha}, ${PAPER.beta}, ${PAPER.gamma})`;
  const compound = [0, 1, 2, 3, 4].map((phi) => costRow({
    family, name: `phi ${phi}`, phi, depth: PAPER.alpha ** phi, width: PAPER.beta ** phi, resolution: Math.round(224 * PAPER.gamma ** phi),
    macs: Math.round(B0.macs * product ** phi * (1 + 0.04 * Math.sin(phi * 1.7))), params: Math.round(B0.params * PAPER.beta ** (2 * phi) * PAPER.alpha ** phi),
    theoreticalRatio: product ** phi, realizedRatio: product ** phi * (1 + 0.04 * Math.sin(phi * 1.7)),
  }));
  const presets = [
    { name: 'B0', macs: 385e6, params: 5.29e6 }, { name: 'B1', macs: 691e6, params: 7.79e6 }, { name: 'B2', macs: 995e6, params: 9.11e6 },
    { name: 'B3', macs: 1.83e9, params: 12.23e6 }, { name: 'B4', macs: 4.39e9, params: 19.34e6 },
  ].map((p) => costRow({ name: p.name, macs: p.macs, params: p.params, realizedRatio: p.macs / 385e6 }));
  return [...compound, ...presets];
}
