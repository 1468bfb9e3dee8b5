import { ConfigError, PAPER_COEFFICIENTS } from '@effscale/core';
import type { StudyState } from './study.js';
import type { GridPoint, TrialOutcome, TrialStatus } from './types.js';

/** One row per grid point and seed: what `search export` prints and what reports read. */
export interface ResultRow {
  id: string;
  /** Shared by points whose networks are identical. */
  trial: string;
  sharedWith: string[];
  alpha: number;
  beta: number;
  gamma: number;
  seed: number;
  state: TrialStatus['state'];
  attempts: number;
  rung: number;
  step: number | null;
  valTop1: number | null;
  valTop5: number | null;
  valLoss: number | null;
  testTop1: number | null;
  testTop5: number | null;
  params: number;
  macs: number;
  /** Realized MACs over the unscaled base. */
  costRatio: number;
  constraintValue: number;
  wallSeconds: number | null;
  imagesPerSec: number | null;
  error: string | null;
  curve: NonNullable<TrialOutcome['curve']>;
}

/** The last outcome a trial recorded (the rung it ended or is waiting at). */
function lastOutcome(t: TrialStatus): TrialOutcome | undefined {
  for (let r = t.outcomes.length - 1; r >= 0; r--) if (t.outcomes[r]) return t.outcomes[r];
  return undefined;
}

export function exportRows(state: StudyState): ResultRow[] {
  const trials = [...state.trials.values()];
  const rows: ResultRow[] = [];
  for (const p of state.study.points) {
    for (const seed of state.study.settings.seeds) {
      const t = trials.find((x) => x.spec.seed === seed && x.spec.points.includes(p.id));
      if (!t) continue;
      const o = lastOutcome(t);
      const wall = t.outcomes.reduce((s, x) => s + (x?.wallSeconds ?? 0), 0);
      rows.push({
        id: p.id, trial: t.spec.id, sharedWith: t.spec.points.filter((q) => q !== p.id), alpha: p.alpha, beta: p.beta, gamma: p.gamma, seed,
        state: t.state, attempts: t.attempts, rung: t.rung, step: o?.step ?? null,
        valTop1: o?.valTop1 ?? null, valTop5: o?.valTop5 ?? null, valLoss: o?.valLoss ?? null,
        testTop1: o?.testTop1 ?? null, testTop5: o?.testTop5 ?? null,
        params: p.costs.params, macs: p.costs.macs, costRatio: p.costs.macsRatio, constraintValue: p.constraintValue,
        wallSeconds: o ? wall : null, imagesPerSec: o?.imagesPerSec ?? null, error: o?.error ?? null, curve: o?.curve ?? [],
      });
    }
  }
  return rows;
}

export interface RankedPoint {
  point: GridPoint;
  /** Points that train the same network (identical results by construction). */
  sharedWith: string[];
  seeds: number;
  meanVal: number;
  minVal: number;
  maxVal: number;
  meanTest: number | null;
}

export interface Comparison {
  against: string;
  lead: number;
  /** The larger of the two points' seed ranges (max - min of val top-1 over seeds). */
  spread: number;
  /** Lead larger than the seed spread (needs at least two seeds). */
  distinguishable: boolean;
}

export interface BestReport {
  ranking: RankedPoint[];
  winner: RankedPoint | null;
  runnerUp: Comparison | null;
  paper: (Comparison & { rank: number; point: RankedPoint }) | null;
  seeds: number[];
  /** Points with no finished result on every seed (not ranked). */
  unfinished: number;
  /** Points whose every seed diverged or failed. */
  failed: string[];
  /** Points stopped by successive halving (not ranked: they did not train to the end). */
  stopped: { id: string; rung: number; step: number | null }[];
  /** The paper's point when it is in the study but not ranked, and why. */
  paperUnranked: { id: string; state: string; step: number | null } | null;
}

const isPaper = (p: GridPoint) => (['alpha', 'beta', 'gamma'] as const).every((c) => Math.abs(p[c] - PAPER_COEFFICIENTS[c]) < 1e-9);

function compare(a: RankedPoint, b: RankedPoint, seeds: number): Comparison {
  const lead = a.meanVal - b.meanVal;
  const spread = Math.max(a.maxVal - a.minVal, b.maxVal - b.minVal);
  return { against: b.point.id, lead, spread, distinguishable: seeds >= 2 && lead > spread };
}

/**
 * The ranking by mean validation top-1 over seeds (chosen on val; test is reported beside it, never used to choose),
 * the winner, the runner-up among other networks, and the paper's (1.2, 1.1, 1.15) when it is in the study, each
 * with whether the lead is larger than the seed-to-seed spread.
 */
export function bestReport(state: StudyState): BestReport {
  const rows = exportRows(state);
  const seeds = state.study.settings.seeds;
  const ranking: RankedPoint[] = [];
  const failed: string[] = [];
  const stopped: BestReport['stopped'] = [];
  let unfinished = 0;
  for (const point of state.study.points) {
    const mine = rows.filter((r) => r.id === point.id);
    const done = mine.filter((r) => r.state === 'done' && r.valTop1 !== null);
    if (mine.length > 0 && mine.every((r) => r.state === 'diverged' || r.state === 'failed')) failed.push(point.id);
    if (mine.length > 0 && mine.every((r) => r.state === 'stopped')) stopped.push({ id: point.id, rung: mine[0].rung, step: mine[0].step });
    if (done.length < seeds.length) {
      if (!mine.every((r) => r.state === 'diverged' || r.state === 'failed' || r.state === 'stopped')) unfinished++;
      continue;
    }
    const vals = done.map((r) => r.valTop1!);
    const tests = done.map((r) => r.testTop1).filter((x): x is number => x !== null);
    ranking.push({
      point, sharedWith: mine[0].sharedWith, seeds: done.length, meanVal: vals.reduce((a, b) => a + b, 0) / vals.length,
      minVal: Math.min(...vals), maxVal: Math.max(...vals), meanTest: tests.length ? tests.reduce((a, b) => a + b, 0) / tests.length : null,
    });
  }
  ranking.sort((a, b) => b.meanVal - a.meanVal || a.point.id.localeCompare(b.point.id));
  const winner = ranking[0] ?? null;
  const other = winner ? ranking.find((r) => r.point.signature !== winner.point.signature) : undefined;
  const paperIndex = ranking.findIndex((r) => isPaper(r.point));
  const paperPoint = state.study.points.find(isPaper);
  const paperRow = paperPoint && paperIndex < 0 ? rows.find((r) => r.id === paperPoint.id) : undefined;
  return {
    ranking, winner, seeds, unfinished, failed, stopped,
    paperUnranked: paperRow ? { id: paperRow.id, state: paperRow.state, step: paperRow.step } : null,
    runnerUp: winner && other ? compare(winner, other, seeds.length) : null,
    paper: winner && paperIndex >= 0 && !isPaper(winner.point)
      ? { ...compare(winner, ranking[paperIndex], seeds.length), rank: paperIndex + 1, point: ranking[paperIndex] }
      : winner && paperIndex === 0 ? { against: winner.point.id, lead: 0, spread: 0, distinguishable: false, rank: 1, point: winner } : null,
  };
}

/** The winner's coefficients, for step 2 (scaling up); refuses a study with no ranked point yet. */
export function winningCoefficients(state: StudyState): { alpha: number; beta: number; gamma: number; point: string } {
  const { winner } = bestReport(state);
  if (!winner) throw new ConfigError('the study has no point finished on every seed yet: run it to the end (effscale search run), then scale');
  return { alpha: winner.point.alpha, beta: winner.point.beta, gamma: winner.point.gamma, point: winner.point.id };
}
