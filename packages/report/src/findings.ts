/**
 * The paper's claims, tested on the rows at hand. Every sentence is computed from the data: a claim the rows cannot
 * test says "not enough data", a difference inside the seed-to-seed spread says "not distinguishable", and one seed
 * gives no verdict because its spread is unknown.
 */
import type { Finding, Verdict } from './page.js';
import { gridRows, hasCoefficients, rankGrid } from './search-rows.js';
import { coefficientsText, isDone, reportedMetric, seedStats, type CostRow, type NetworkRow, type ReportInput, type SeedStats } from './rows.js';

type Metric = 'testTop1' | 'valTop1';

/** One network with its seeds folded: mean accuracy and the min-max range. */
interface Point {
  id: string;
  mult: number;
  macs: number;
  acc: SeedStats;
}

const pt = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(2)} pt`;
const abs = (x: number) => `${(x * 100).toFixed(2)} pt`;
const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
const gmacs = (m: number) => (m >= 1e9 ? `${(m / 1e9).toFixed(2)} GMACs` : `${(m / 1e6).toFixed(1)} MMACs`);
const signedPct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
const num = (x: number) => String(Number(x.toPrecision(4)));
const range = (s: SeedStats) => s.max - s.min;
const seedsKnown = (ps: Point[]) => ps.every((p) => p.acc.n >= 2);
const NO_SPREAD = 'one seed per network, so the seed spread is unknown: no verdict';
const FINISHED_BAD = (rows: NetworkRow[]) => {
  const bad = rows.filter((r) => r.status === 'diverged' || r.status === 'failed').length;
  return bad ? ` (${bad} run${bad === 1 ? '' : 's'} diverged or failed, left out)` : '';
};

/** Networks of `rows` (grouped by id), sorted by `key`, with their seed statistics on `metric`; unfinished seeds left out. */
function points(rows: NetworkRow[], metric: Metric, key: (r: NetworkRow) => number): Point[] {
  const byId = new Map<string, NetworkRow[]>();
  for (const r of rows.filter(isDone)) byId.set(r.id, [...(byId.get(r.id) ?? []), r]);
  const out: Point[] = [];
  for (const [id, rs] of byId) {
    const acc = seedStats(rs.map((r) => r[metric]));
    if (acc) out.push({ id, mult: key(rs[0]), macs: rs[0].macs, acc });
  }
  return out.sort((a, b) => a.mult - b.mult || a.macs - b.macs);
}

/** held / not held / not distinguishable for "a beats b by `lead`" against the seed `spread`. */
function judge(lead: number, spread: number, seedsOk: boolean): Verdict {
  if (!seedsOk) return 'no verdict';
  if (lead > spread) return 'held';
  if (lead < -spread) return 'not held';
  return 'not distinguishable';
}

function spreadWords(v: Verdict, spread: number): string {
  if (v === 'no verdict') return NO_SPREAD;
  return v === 'not distinguishable' ? `inside the seed spread of ${abs(spread)}: not distinguishable` : `beyond the seed spread of ${abs(spread)}`;
}

const DIM_LETTER = { width: 'w', depth: 'd', resolution: 'r' } as const;
const MULT_OF = { width: (r: NetworkRow) => r.widthMult, depth: (r: NetworkRow) => r.depthMult, resolution: (r: NetworkRow) => r.resolutionMult } as const;

/**
 * Figure 3: "scaling up any dimension improves accuracy, but the gain diminishes for bigger models". Compares the
 * first and the last step of each sweep per doubling of MACs (the paper's multipliers are unevenly spaced in cost).
 */
export function saturationFindings(rows: NetworkRow[]): Finding[] {
  const metric = reportedMetric(rows);
  const out: Finding[] = [];
  for (const dim of ['width', 'depth', 'resolution'] as const) {
    const mine = rows.filter((r) => r.series === dim || r.dimension === 'base' && (r.series === 'base' || r.series === dim));
    if (!mine.some((r) => r.series === dim)) continue;
    const claim = `${dim} saturates`;
    const ps = points(mine, metric, MULT_OF[dim]);
    const l = DIM_LETTER[dim];
    if (ps.length < 3) {
      out.push({ claim, verdict: 'not enough data', text: `${dim}: ${ps.length} finished network${ps.length === 1 ? '' : 's'} in the sweep; telling a diminishing gain needs at least 3${FINISHED_BAD(mine)}` });
      continue;
    }
    const [a, b] = ps, [y, z] = ps.slice(-2);
    const firstGain = b.acc.mean - a.acc.mean, lastGain = z.acc.mean - y.acc.mean;
    const firstDoublings = Math.log2(b.macs / a.macs), lastDoublings = Math.log2(z.macs / y.macs);
    const firstSlope = firstGain / firstDoublings, lastSlope = lastGain / lastDoublings;
    const involved = ps.length === 3 ? [a, b, z] : [a, b, y, z];
    const spread = Math.max(...involved.map((p) => range(p.acc)));
    // A slope's noise: the spread of a difference of two means, per doubling of its interval.
    const slopeSpread = spread / Math.min(firstDoublings, lastDoublings);
    const total = ps[ps.length - 1].acc.mean - ps[0].acc.mean;
    const first = ps[0], lastP = ps[ps.length - 1];
    const totalSpread = Math.max(range(first.acc), range(lastP.acc));
    // Saturation is a diminishing gain; a sweep whose accuracy fell did not gain at all, whatever its slopes.
    if (seedsKnown([first, lastP]) && total < -totalSpread) {
      out.push({
        claim, verdict: 'not held',
        text: `${dim}: accuracy fell from ${pct(first.acc.mean)} at ${l} ${num(first.mult)} to ${pct(lastP.acc.mean)} at ${l} ${num(lastP.mult)} ` +
          `(${pt(total)} ${METRIC_WORD[metric]}, beyond the seed spread of ${abs(totalSpread)}): scaling ${dim} did not improve accuracy at this training budget${FINISHED_BAD(mine)}`,
      });
      continue;
    }
    const verdict = judge(firstSlope - lastSlope, slopeSpread, seedsKnown(involved));
    const outcome = verdict === 'held' ? 'saturates' : verdict === 'not held' ? 'does not saturate: the gain grows' : verdict === 'not distinguishable' ? 'not distinguishable' : 'no verdict';
    out.push({
      claim, verdict,
      text: `${dim}: gain from ${l} ${num(y.mult)} to ${num(z.mult)} was ${pt(lastGain)} (${pt(lastSlope)} per doubling of MACs), ` +
        `from ${l} ${num(a.mult)} to ${num(b.mult)} was ${pt(firstGain)} (${pt(firstSlope)} per doubling): ${outcome}` +
        `${verdict === 'no verdict' ? ` (${NO_SPREAD})` : verdict === 'not distinguishable' ? ` (the slopes differ by ${pt(firstSlope - lastSlope)}, inside the seed spread of ${abs(slopeSpread)} per doubling)` : ` (seed spread ${abs(slopeSpread)} per doubling)`}; ` +
        `${l} ${num(ps[0].mult)} to ${num(ps[ps.length - 1].mult)} in all: ${pt(total)} ${METRIC_WORD[metric]}${FINISHED_BAD(mine)}`,
    });
  }
  return out;
}

const METRIC_WORD: Record<Metric, string> = { testTop1: 'test top-1', valTop1: 'val top-1' };

/** Accuracy of `ref` at `macs`, linear in log MACs between its neighbours; null outside its range. */
function interpolate(ref: Point[], macs: number): { mean: number; spread: number } | null {
  const s = [...ref].sort((p, q) => p.macs - q.macs);
  for (let i = 0; i < s.length - 1; i++) {
    const [p, q] = [s[i], s[i + 1]];
    if (macs >= p.macs && macs <= q.macs) {
      const t = q.macs === p.macs ? 0 : Math.log(macs / p.macs) / Math.log(q.macs / p.macs);
      return { mean: p.acc.mean + t * (q.acc.mean - p.acc.mean), spread: Math.max(range(p.acc), range(q.acc)) };
    }
  }
  return null;
}

/**
 * Figure 4: width sweeps from several (depth, resolution) baselines. The paper's claim: deeper and higher-resolution
 * baselines reach higher accuracy at the same MACs than scaling width alone (d = 1, r = 1).
 */
export function widthByDrFindings(rows: NetworkRow[]): Finding[] {
  const metric = reportedMetric(rows);
  const sweeps = rows.filter((r) => r.series.startsWith('d='));
  const series = [...new Set(sweeps.map((r) => r.series))];
  if (series.length === 0) return [];
  const isRef = (s: string) => sweeps.some((r) => r.series === s && r.depthMult === 1 && r.resolutionMult === 1);
  const refName = series.find(isRef);
  const claim = 'depth and resolution with width beat width alone at equal MACs';
  if (!refName) return [{ claim, verdict: 'not enough data', text: 'no width sweep from the base (d=1.0, r=1.0) to compare against' }];
  const ref = points(sweeps.filter((r) => r.series === refName), metric, (r) => r.widthMult);
  const out: Finding[] = [];
  for (const s of series.filter((x) => x !== refName)) {
    const mine = points(sweeps.filter((r) => r.series === s), metric, (r) => r.widthMult);
    const pairs = mine.map((p) => ({ p, at: interpolate(ref, p.macs) })).filter((x): x is { p: Point; at: { mean: number; spread: number } } => x.at !== null);
    if (pairs.length === 0 || ref.length < 2) {
      out.push({ claim: `${s} against width alone`, verdict: 'not enough data', text: `${s}: no finished network of this sweep lies inside the MACs range of the ${refName} sweep, so the two cannot be compared at equal cost` });
      continue;
    }
    const lead = pairs.reduce((a, x) => a + (x.p.acc.mean - x.at.mean), 0) / pairs.length;
    const spread = Math.max(...pairs.map((x) => Math.max(range(x.p.acc), x.at.spread)));
    const v = judge(lead, spread, seedsKnown(mine) && seedsKnown(ref));
    const last = pairs[pairs.length - 1];
    out.push({
      claim: `${s} against width alone`, verdict: v,
      text: `${s}: at equal MACs (${pairs.length} point${pairs.length === 1 ? '' : 's'} inside the ${refName} sweep's range, up to ${gmacs(last.p.macs)}) ` +
        `it is ${pt(lead)} ${METRIC_WORD[metric]} over width alone on average (${pt(last.p.acc.mean - last.at.mean)} at ${gmacs(last.p.macs)}), ${spreadWords(v, spread)}`,
    });
  }
  return out;
}

/** Table 7 / Figure 8: compound scaling against each single dimension, all solved to the same target MACs. */
export function compoundFindings(rows: NetworkRow[]): Finding[] {
  const eq = rows.filter((r) => r.series.startsWith('equal-cost:'));
  if (eq.length === 0) return [];
  const metric = reportedMetric(eq);
  const claim = 'compound beats single dimensions at equal MACs';
  const byDim = new Map<string, Point>();
  for (const dim of ['width', 'depth', 'resolution', 'compound']) {
    const [p] = points(eq.filter((r) => r.series === `equal-cost:${dim}`), metric, () => 0);
    if (p) byDim.set(dim, p);
  }
  const compound = byDim.get('compound');
  const singles = [...byDim.entries()].filter(([d]) => d !== 'compound');
  if (!compound || singles.length === 0) {
    return [{ claim, verdict: 'not enough data', text: `finished: ${[...byDim.keys()].join(', ') || 'none'}; the comparison needs compound and at least one single dimension${FINISHED_BAD(eq)}` }];
  }
  const [bestDim, best] = singles.sort((x, y) => y[1].acc.mean - x[1].acc.mean)[0];
  const lead = compound.acc.mean - best.acc.mean;
  const spread = Math.max(range(compound.acc), range(best.acc));
  const v = judge(lead, spread, seedsKnown([compound, best]));
  const costs = [...byDim.entries()].map(([d, p]) => `${d} ${gmacs(p.macs)} ${pct(p.acc.mean)}`).join(', ');
  return [{
    claim, verdict: v,
    text: `compound ${v === 'not held' ? 'lost to' : 'against'} the best single dimension (${bestDim}) at ${gmacs(compound.macs)} by ${pt(lead)} ${METRIC_WORD[metric]}, ` +
      `${spreadWords(v, spread)} (${costs}${singles.length < 3 ? `; only ${singles.length} single dimension${singles.length === 1 ? '' : 's'} finished` : ''})`,
  }];
}

/** The search: which point won on validation, against the runner-up and the paper's (1.2, 1.1, 1.15). */
export function searchFindings(rows: NetworkRow[], search: NonNullable<ReportInput['search']>): Finding[] {
  const grid = gridRows(rows);
  if (grid.length === 0) return [];
  const seeds = new Set(grid.map((r) => r.seed)).size;
  const points = new Set(grid.map((r) => r.id)).size;
  const ranked = rankGrid(grid).map((p) => ({ r: p.rows[0], acc: p.val, test: p.test }));
  const claim = "the paper's coefficients win the search";
  if (ranked.length === 0) return [{ claim, verdict: 'not enough data', text: `no grid point has finished on every seed yet (${points} points)` }];
  const w = ranked[0];
  const out: Finding[] = [{
    claim: 'winner', verdict: 'measured',
    text: `winner on validation: ${coefficientsText(w.r)} with ${pct(w.acc.mean)} val top-1 (mean of ${w.acc.n} seed${w.acc.n === 1 ? '' : 's'}` +
      `${w.test ? `; test ${pct(w.test.mean)}` : ''}); its realized cost is ${w.r.costRatio.toFixed(3)}x the base against the constraint's target of ${search.target} ` +
      `(alpha * beta^2 * gamma^2 = ${w.r.constraintValue?.toFixed(4)}); ${ranked.length} of ${points} points ranked`,
  }];
  const other = ranked.find((x) => x.r.sharedWith.indexOf(w.r.id) < 0 && x.r.id !== w.r.id && !w.r.sharedWith.includes(x.r.id));
  if (other) {
    const lead = w.acc.mean - other.acc.mean, spread = Math.max(range(w.acc), range(other.acc));
    const v = judge(lead, spread, seeds >= 2);
    out.push({ claim: 'winner against the runner-up', verdict: v === 'held' ? 'measured' : v, text: `against the runner-up ${coefficientsText(other.r)}: lead ${pt(lead)}, ${spreadWords(v, spread)}` });
  }
  const pi = ranked.findIndex((x) => hasCoefficients(x.r, search.paper));
  const paper = `(${search.paper.alpha}, ${search.paper.beta}, ${search.paper.gamma})`;
  if (pi === 0) out.push({ claim, verdict: 'held', text: `the paper's ${paper} is the winner here` });
  else if (pi > 0) {
    const p = ranked[pi];
    const lead = w.acc.mean - p.acc.mean, spread = Math.max(range(w.acc), range(p.acc));
    const v = judge(lead, spread, seeds >= 2);
    // The claim is the paper's: it holds when the winner's lead over the paper's point is inside the noise.
    const verdict: Verdict = v === 'held' ? 'not held' : v === 'not distinguishable' ? 'not distinguishable' : v;
    out.push({ claim, verdict, text: `the paper's ${paper} ranks ${pi + 1} of ${ranked.length}: the winner leads it by ${pt(lead)}, ${spreadWords(v, spread)}` });
  } else if (grid.some((r) => hasCoefficients(r, search.paper))) {
    out.push({ claim, verdict: 'not enough data', text: `the paper's ${paper} is in the grid but not finished on every seed` });
  } else out.push({ claim, verdict: 'not enough data', text: `the paper's ${paper} is not in this grid (add it with --include ${search.paper.alpha},${search.paper.beta},${search.paper.gamma})` });
  const stopped = grid.filter((r) => r.status === 'stopped');
  if (search.rungs.length > 1) {
    out.push({ claim: 'successive halving', verdict: 'measured', text: `${stopped.length} of ${grid.length} trainings stopped early at rungs of ${search.rungs.slice(0, -1).join(', ')} steps; the ranking holds only networks trained to ${search.rungs[search.rungs.length - 1]} steps` });
  }
  return out;
}

/** What rounding does to the constraint: realized against theoretical cost over phi, per family. */
export function costFindings(costs: CostRow[]): Finding[] {
  const out: Finding[] = [];
  for (const family of [...new Set(costs.map((c) => c.family))]) {
    const rs = costs.filter((c) => c.family === family && c.phi !== null && c.theoreticalRatio !== null && c.phi > 0);
    if (rs.length === 0) continue;
    const gap = (c: CostRow) => c.realizedRatio / c.theoreticalRatio! - 1;
    const worst = rs.reduce((a, b) => (Math.abs(gap(b)) > Math.abs(gap(a)) ? b : a));
    const one = rs.find((c) => c.phi === 1);
    out.push({
      claim: `rounding gap, ${family}`, verdict: 'measured',
      text: `${family}: ${one ? `at phi 1 the realized MACs are ${one.realizedRatio.toFixed(3)}x the base against the constraint's ${one.theoreticalRatio!.toFixed(3)}x (${signedPct(gap(one))}); ` : ''}` +
        `largest gap over phi ${rs[0].phi}..${rs[rs.length - 1].phi}: ${signedPct(gap(worst))} at phi ${worst.phi} (${worst.realizedRatio.toFixed(2)}x against ${worst.theoreticalRatio!.toFixed(2)}x)`,
    });
  }
  return out;
}

/** A single training run: where it ended. */
export function runFindings(rows: NetworkRow[]): Finding[] {
  return rows.map((r) => ({
    claim: `training run ${r.id}`, verdict: 'measured' as const,
    text: `${r.id}: ${r.status} after ${r.step ?? 0} steps` +
      `${r.valTop1 !== null ? `, val top-1 ${pct(r.valTop1)}` : ''}${r.testTop1 !== null ? `, test top-1 ${pct(r.testTop1)}` : ''}` +
      `${r.seed !== null ? ` (seed ${r.seed})` : ''}; one run, one seed: no comparison is drawn from it`,
  }));
}

export function findingsFor(input: ReportInput): Finding[] {
  if (input.provenance.kind === 'training run') return runFindings(input.rows);
  return [
    ...saturationFindings(input.rows),
    ...widthByDrFindings(input.rows),
    ...compoundFindings(input.rows),
    ...(input.search ? searchFindings(input.rows, input.search) : []),
    ...costFindings(input.costs),
  ];
}
