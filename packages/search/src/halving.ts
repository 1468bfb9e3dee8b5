/**
 * Synchronous successive halving over architectures, pure.
 *
 * Rungs are step counts: minBudget, minBudget * eta, ... below the horizon, then the horizon; a rung within a factor
 * sqrt(eta) of the horizon is dropped (306 of 312 steps would buy a decision for almost no saved compute). Every trial trains
 * to rung 0; when every trial at a rung has an outcome (waiting for the decision, diverged, or failed), the
 * architectures (signatures: all seeds of one network move together) are ranked by the mean val top-1 of their seeds
 * at that rung, a diverged or failed seed counting as -Infinity, ties broken by signature (code-point order); the top
 * ceil(n / eta) of the n signatures at the rung continue to the next rung, never one with a -Infinity score, and the
 * rest stop. The decision is derived from the results by replay (no record of its own), so it is the same on every
 * replay, in every process, and a resumed study continues it.
 */
import { ConfigError } from '@effscale/core';
import type { HalvingPlan, TrialOutcome, TrialState } from './types.js';

export function halvingPlan(horizon: number, opts: { eta: number; minBudget: number } | null): HalvingPlan {
  if (!Number.isSafeInteger(horizon) || horizon < 1) {
    throw new ConfigError(`the budget must be a whole number of steps, at least 1 (got ${horizon})`, { setting: 'steps' });
  }
  if (opts === null) return { rungs: [horizon], eta: 1 };
  const { eta, minBudget } = opts;
  if (!Number.isFinite(eta) || eta <= 1) throw new ConfigError(`--eta must be a number above 1 (got ${eta})`, { setting: 'eta' });
  if (!Number.isSafeInteger(minBudget) || minBudget < 1) {
    throw new ConfigError(`--min-budget must be a whole number of steps, at least 1 (got ${minBudget})`, { setting: 'minBudget' });
  }
  if (minBudget >= horizon) {
    throw new ConfigError(`--min-budget ${minBudget} is not below the budget of ${horizon} steps: halving needs a first rung shorter than the budget`, { setting: 'minBudget' });
  }
  const rungs: number[] = [];
  for (let r = minBudget; r < horizon && (rungs.length === 0 || r * Math.sqrt(eta) <= horizon); r *= eta) {
    const steps = Math.round(r);
    if (steps >= horizon) break;
    if (rungs.length === 0 || steps > rungs[rungs.length - 1]) rungs.push(steps);
  }
  rungs.push(horizon);
  return { rungs, eta };
}

/** A trial as the rung decision sees it: its state and its outcome at the rung being decided. */
export interface RungMember {
  id: string;
  signature: string;
  state: TrialState;
  outcome?: TrialOutcome;
}

export interface RungDecision {
  rung: number;
  /** Every signature at the rung, best first. */
  ranking: { signature: string; score: number; trials: string[] }[];
  /** Signatures that continue to the next rung. */
  promoted: string[];
  /** Trial ids that continue (pending at rung + 1) and that stop here. */
  continuing: string[];
  stopped: string[];
}

const decided = (s: TrialState) => s === 'waiting' || s === 'diverged' || s === 'failed';

/** A trial's score at a rung: its val top-1 when it finished the rung, else -Infinity. */
export function rungScore(m: RungMember): number {
  const v = m.state === 'waiting' ? m.outcome?.valTop1 : undefined;
  return v !== undefined && Number.isFinite(v) ? v : -Infinity;
}

const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The decision at `rung` over its members, or null while some member has no outcome yet. */
export function decideRung(members: RungMember[], rung: number, eta: number): RungDecision | null {
  if (members.length === 0 || !members.every((m) => decided(m.state))) return null;
  const groups = new Map<string, RungMember[]>();
  for (const m of members) {
    const g = groups.get(m.signature);
    if (g) g.push(m);
    else groups.set(m.signature, [m]);
  }
  const ranking = [...groups].map(([signature, ms]) => {
    const scores = ms.map(rungScore);
    const score = scores.some((s) => s === -Infinity) ? -Infinity : scores.reduce((a, b) => a + b, 0) / scores.length;
    return { signature, score, trials: ms.map((m) => m.id) };
  });
  ranking.sort((a, b) => (b.score === a.score ? byCodePoint(a.signature, b.signature) : b.score > a.score ? 1 : -1));
  const keep = Math.ceil(ranking.length / eta);
  const promoted = ranking.slice(0, keep).filter((g) => g.score > -Infinity).map((g) => g.signature);
  const up = new Set(promoted);
  const continuing: string[] = [];
  const stopped: string[] = [];
  for (const m of members) {
    if (m.state !== 'waiting') continue;
    (up.has(m.signature) ? continuing : stopped).push(m.id);
  }
  return { rung, ranking, promoted, continuing, stopped };
}
