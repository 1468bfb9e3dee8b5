import { stringify } from 'csv-stringify/sync';
import { bestReport, exportRows, type BestReport, type Comparison, type StudyState } from '@effscale/search';
import { group, table } from '../format.js';

export { bestReport, exportRows };

const pct = (x: number | null) => (x === null ? '' : `${(x * 100).toFixed(2)}`);
const pts = (x: number) => `${(x * 100).toFixed(2)} points`;

export function formatStatus(state: StudyState): string {
  const rows = exportRows(state);
  const counts = new Map<string, number>();
  for (const t of state.trials.values()) counts.set(t.state, (counts.get(t.state) ?? 0) + 1);
  const body = table(
    ['point', 'alpha', 'beta', 'gamma', 'seed', 'trial', 'state', 'rung', 'attempts', 'val top-1', 'test top-1', 'MACs', 'cost', 'wall s'],
    rows.map((r) => [r.id + (r.sharedWith.length ? ` (= ${r.sharedWith.join(', ')})` : ''), String(r.alpha), String(r.beta), String(r.gamma), String(r.seed),
      r.trial, r.state + (r.error && r.state !== 'done' ? `: ${r.error.slice(0, 60)}` : ''), String(r.rung), String(r.attempts), pct(r.valTop1), pct(r.testTop1),
      group(r.macs), `${r.costRatio.toFixed(3)}x`, r.wallSeconds === null ? '' : r.wallSeconds.toFixed(1)]),
  );
  const summary = [...counts.entries()].map(([s, n]) => `${n} ${s}`).join(', ');
  return `${body}\n\ntrials: ${summary} (${state.trials.size} in all; a trial is one network and seed, shared by points with identical networks)`;
}

function verdict(c: Comparison, seeds: number): string {
  if (seeds < 2) return `lead ${pts(c.lead)} (one seed: the seed-to-seed spread is unknown, so no verdict)`;
  return c.distinguishable
    ? `lead ${pts(c.lead)}, larger than the seed spread of ${pts(c.spread)}`
    : `lead ${pts(c.lead)}, inside the seed spread of ${pts(c.spread)}: not distinguishable`;
}

export function formatBest(r: BestReport): string {
  if (!r.winner) return `no point has a finished result on every seed yet (${r.unfinished} unfinished${r.failed.length ? `, ${r.failed.length} failed or diverged` : ''}${r.stopped.length ? `, ${r.stopped.length} stopped by halving` : ''})`;
  const lines = [table(
    ['rank', 'point', 'alpha', 'beta', 'gamma', 'val top-1 (mean)', 'min', 'max', 'test top-1', 'MACs ratio'],
    r.ranking.map((p, i) => [String(i + 1), p.point.id + (p.sharedWith.length ? ` (= ${p.sharedWith.join(', ')})` : ''), String(p.point.alpha), String(p.point.beta),
      String(p.point.gamma), pct(p.meanVal), pct(p.minVal), pct(p.maxVal), pct(p.meanTest), `${p.point.costs.macsRatio.toFixed(3)}x`]),
  ), ''];
  const w = r.winner;
  lines.push(`winner (by validation top-1, mean of ${r.seeds.length} seed${r.seeds.length === 1 ? '' : 's'}): alpha ${w.point.alpha}, beta ${w.point.beta}, ` +
    `gamma ${w.point.gamma}: val ${pct(w.meanVal)}%, test ${pct(w.meanTest)}%`);
  if (r.runnerUp) lines.push(`against the runner-up ${r.runnerUp.against}: ${verdict(r.runnerUp, r.seeds.length)}`);
  if (r.paper && r.paper.rank === 1) lines.push(`the paper's (1.2, 1.1, 1.15) is the winner here`);
  else if (r.paper) lines.push(`against the paper's (1.2, 1.1, 1.15), rank ${r.paper.rank}: ${verdict(r.paper, r.seeds.length)}`);
  else if (r.paperUnranked) lines.push(`the paper's (1.2, 1.1, 1.15) is not ranked: ${r.paperUnranked.state}${r.paperUnranked.step !== null ? ` at step ${r.paperUnranked.step}` : ''}`);
  else lines.push(`the paper's (1.2, 1.1, 1.15) is not in this study (add it with --include 1.2,1.1,1.15)`);
  if (r.stopped.length) lines.push(`${r.stopped.length} point(s) stopped by successive halving are not ranked (${r.stopped.map((p) => `${p.id} at step ${p.step}`).join(', ')})`);
  if (r.unfinished) lines.push(`${r.unfinished} point(s) not finished on every seed are not ranked`);
  if (r.failed.length) lines.push(`diverged or failed on every seed: ${r.failed.join(', ')}`);
  return lines.join('\n');
}

/** Rows as CSV: the learning curve left out (it is in the JSON), shared points joined by spaces. */
export function rowsCsv<T extends { curve: unknown; sharedWith: string[] }>(rows: readonly T[]): string {
  return stringify(rows.map(({ curve: _c, sharedWith, ...r }) => ({ ...r, sharedWith: sharedWith.join(' ') })), { header: true });
}
