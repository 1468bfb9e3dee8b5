/** The search's grid points among the rows, and its ranking: one rule for the charts and the findings. */
import { isDone, seedStats, type NetworkRow, type SeedStats } from './rows.js';

/** Rows of a search study's grid points (series 'search', every coefficient set). */
export function gridRows(rows: readonly NetworkRow[]): NetworkRow[] {
  return rows.filter((r) => r.series === 'search' && r.alpha !== null && r.beta !== null && r.gamma !== null);
}

export interface RankedPoint {
  id: string;
  /** The point's rows, one per seed. */
  rows: NetworkRow[];
  val: SeedStats;
  test: SeedStats | null;
}

/**
 * As `effscale search best`: points finished on every seed of the study, by mean val top-1 (the search chooses on
 * validation), ties by id. The first is the winner.
 */
export function rankGrid(rows: readonly NetworkRow[]): RankedPoint[] {
  const grid = gridRows(rows);
  const seeds = new Set(grid.map((r) => r.seed)).size;
  const byId = new Map<string, NetworkRow[]>();
  for (const r of grid) byId.set(r.id, [...(byId.get(r.id) ?? []), r]);
  const ranked: RankedPoint[] = [];
  for (const [id, rs] of byId) {
    const val = rs.length === seeds && rs.every(isDone) ? seedStats(rs.map((x) => x.valTop1)) : null;
    if (val) ranked.push({ id, rows: rs, val, test: seedStats(rs.map((x) => x.testTop1)) });
  }
  return ranked.sort((a, b) => b.val.mean - a.val.mean || a.id.localeCompare(b.id));
}

/** The point has these coefficients (to 1e-9). */
export const hasCoefficients = (r: Pick<NetworkRow, 'alpha' | 'beta' | 'gamma'>, c: { alpha: number; beta: number; gamma: number }): boolean =>
  Math.abs(r.alpha! - c.alpha) < 1e-9 && Math.abs(r.beta! - c.beta) < 1e-9 && Math.abs(r.gamma! - c.gamma) < 1e-9;
