/**
 * The tidy rows every chart and finding reads. Any producer (a search study, an experiment, a training run, a cost
 * sweep) emits these; nothing below this module knows where a row came from. One row per trained network and seed.
 */

/** How the network was reached from the base: one scaled dimension, a (depth, resolution) baseline's width sweep, compound scaling, or the base itself. */
export type Dimension = 'width' | 'depth' | 'resolution' | 'compound' | 'base';

export type RowStatus = 'done' | 'diverged' | 'failed' | 'stopped' | 'running' | 'pending' | 'waiting';

export interface CurvePoint {
  step: number;
  /** Fractional epochs when the producer knows them (training runs), else null. */
  epoch: number | null;
  trainLoss: number | null;
  valLoss: number | null;
  valTop1: number | null;
}

export interface NetworkRow {
  /** The network's id within its producer (a grid point id, an experiment member, a run name). */
  id: string;
  /** Series the row belongs to: the scaled dimension for single-dimension sweeps, 'd=2 r=1.3' for width sweeps, 'search' for a grid point. */
  series: string;
  dimension: Dimension;
  /** Compound coefficients (a search point), else null. */
  alpha: number | null;
  beta: number | null;
  gamma: number | null;
  phi: number | null;
  /** Multipliers over the producer's base network (1, 1, 1 is the base). */
  depthMult: number;
  widthMult: number;
  resolutionMult: number;
  /** The network itself: depth and width coefficients over B0, input side in pixels. */
  depth: number;
  width: number;
  resolution: number;
  params: number;
  macs: number;
  /** Realized MACs over the base's. */
  costRatio: number;
  /** The constraint's value (alpha * beta^2 * gamma^2) for a search point, else null. */
  constraintValue: number | null;
  seed: number | null;
  status: RowStatus;
  /** Successive-halving rung the network ended or waits at (0 without halving). */
  rung: number;
  /** Optimizer steps trained. */
  step: number | null;
  valTop1: number | null;
  valTop5: number | null;
  valLoss: number | null;
  testTop1: number | null;
  testTop5: number | null;
  wallSeconds: number | null;
  /** Other ids that train the identical network (their results are this row's by construction). */
  sharedWith: string[];
  curve: CurvePoint[];
}

/** Exact costs of a network that is not trained: the B0..B7 family, a found-coefficient family, a phi sweep. */
export interface CostRow {
  /** 'paper (1.2, 1.1, 1.15)', 'found (1.0, 1.3, 1.1)', 'presets'. */
  family: string;
  name: string;
  phi: number | null;
  depth: number;
  width: number;
  resolution: number;
  params: number;
  macs: number;
  /** (alpha * beta^2 * gamma^2)^phi, what the constraint promises; null for presets. */
  theoreticalRatio: number | null;
  /** MACs over the family's phi = 0 (or B0) network: what rounding delivers. */
  realizedRatio: number;
}

/** Who made the rows, with what: shown on every page, stored in every result file. */
export interface Provenance {
  /** 'search study', 'experiment single-dim', 'training run', 'costs'. */
  kind: string;
  /** The directory or journal it was read from (null for a cost sweep). */
  source: string | null;
  code: Record<string, unknown>;
  backend: string | null;
  data: Record<string, unknown> | null;
  seeds: number[];
  /** Every setting that defines the result (grid, training recipe, budget). */
  settings: Record<string, unknown>;
  createdAt: string;
}

/** A producer's whole output: what `effscale report` draws. */
export interface ReportInput {
  title: string;
  provenance: Provenance;
  rows: NetworkRow[];
  costs: CostRow[];
  /** The search's grid and constraint, when the rows are a study. */
  search: { target: number; paper: { alpha: number; beta: number; gamma: number }; rungs: number[] } | null;
  /** Still running: the page reloads itself until the producer finishes. */
  live: boolean;
}

export const isDone = (r: NetworkRow): boolean => r.status === 'done';

/** Mean, min and max over seeds of one network, or null with no finished seed. */
export interface SeedStats {
  mean: number;
  min: number;
  max: number;
  n: number;
}

export function seedStats(values: readonly (number | null)[]): SeedStats | null {
  const v = values.filter((x): x is number => x !== null && Number.isFinite(x));
  if (v.length === 0) return null;
  return { mean: v.reduce((a, b) => a + b, 0) / v.length, min: Math.min(...v), max: Math.max(...v), n: v.length };
}

/** The accuracy a chart or finding reports: test top-1 where every finished row has it (report on test), else val. */
export function reportedMetric(rows: readonly NetworkRow[]): 'testTop1' | 'valTop1' {
  const done = rows.filter(isDone);
  return done.length > 0 && done.every((r) => r.testTop1 !== null) ? 'testTop1' : 'valTop1';
}

export const METRIC_TITLE: Record<'testTop1' | 'valTop1', string> = { testTop1: 'test top-1 (%)', valTop1: 'val top-1 (%)' };

/** A coefficient as people read it: a solved 1.4142135623730951 is 1.41421. */
export const coefficient = (x: number | null): string => (x === null ? '?' : String(Number(x.toPrecision(6))));

/** '(alpha, beta, gamma)' to 6 digits. */
export const coefficientsText = (c: { alpha: number | null; beta: number | null; gamma: number | null }): string =>
  `(${coefficient(c.alpha)}, ${coefficient(c.beta)}, ${coefficient(c.gamma)})`;
