/**
 * The coefficient search: the grid as heatmaps of mean validation accuracy (one per gamma), accuracy against the
 * realized cost, and the learning curves of successive halving.
 *
 * Grid points and the winner come from search-rows.ts (the findings use the same rule). The search chooses on
 * validation, so these charts draw valTop1, never test.
 */
import { gridRows, hasCoefficients, rankGrid } from '../search-rows.js';
import type { Chart } from '../page.js';
import { coefficient, coefficientsText, isDone, seedStats, type NetworkRow, type ReportInput } from '../rows.js';
import {
  FONT_SIZE, HEIGHT, STATUS_COLOR, STATUS_SHAPE, WIDTH, fold, groupBy, linearDomain, notDrawn, pct, pctOrNull, round, short, themed,
} from './theme.js';

export type SearchInfo = NonNullable<ReportInput['search']>;

const VAL = 'val top-1 (%)';


/** Facet by gamma only when a few gammas span the grid; a solved gamma (one per alpha, beta) goes on the rows instead. */
const MAX_GAMMA_PANELS = 4;

/** One grid point, seeds folded (val top-1 in percent over the finished seeds). */
interface GridPoint {
  id: string;
  alpha: number;
  beta: number;
  gamma: number;
  constraintValue: number | null;
  costRatio: number;
  macs: number;
  params: number;
  mean: number | null;
  min: number | null;
  max: number | null;
  done: number;
  seeds: number;
  /** Mean val top-1 (%) of the seeds stopped early by halving, at their last rung; null without. */
  stoppedMean: number | null;
  /** 'done', or e.g. '1 done, 1 running'. */
  status: string;
  winner: boolean;
  paper: boolean;
}

function gridPoints(rows: readonly NetworkRow[], search: SearchInfo | null): GridPoint[] {
  const grid = gridRows(rows);
  const pts = fold(grid, 'valTop1').map((f): GridPoint => {
    const r = f.first;
    const byStatus = [...groupBy(f.rows, (x) => x.status)].map(([s, xs]) => `${xs.length} ${s}`);
    return {
      id: f.id, alpha: r.alpha!, beta: r.beta!, gamma: r.gamma!, constraintValue: r.constraintValue === null ? null : round(r.constraintValue),
      costRatio: round(r.costRatio), macs: r.macs, params: r.params,
      mean: f.stats?.mean ?? null, min: f.stats?.min ?? null, max: f.stats?.max ?? null,
      done: f.rows.filter(isDone).length, seeds: f.rows.length,
      stoppedMean: pctOrNull(seedStats(f.rows.filter((x) => x.status === 'stopped').map((x) => x.valTop1))?.mean ?? null),
      status: f.rows.every(isDone) ? 'done' : byStatus.join(', '),
      winner: false, paper: search !== null && hasCoefficients(r, search.paper),
    };
  });
  const [winner] = rankGrid(grid);
  for (const p of pts) p.winner = p.id === winner?.id;
  return pts;
}

const TOOLTIP = [
  { field: 'id', type: 'nominal', title: 'point' },
  { field: 'alpha', type: 'quantitative', title: 'alpha (depth)' },
  { field: 'beta', type: 'quantitative', title: 'beta (width)' },
  { field: 'gamma', type: 'quantitative', title: 'gamma (resolution)' },
  { field: 'constraintValue', type: 'quantitative', title: 'alpha*beta^2*gamma^2', format: '.4f' },
  { field: 'costRatio', type: 'quantitative', title: 'realized cost ratio', format: '.4f' },
  { field: 'macs', type: 'quantitative', title: 'MACs', format: ',' },
  { field: 'params', type: 'quantitative', title: 'params', format: ',' },
  { field: 'mean', type: 'quantitative', title: 'mean val top-1 (%)', format: '.2f' },
  { field: 'min', type: 'quantitative', title: 'min val top-1 (%)', format: '.2f' },
  { field: 'max', type: 'quantitative', title: 'max val top-1 (%)', format: '.2f' },
  { field: 'seedsText', type: 'nominal', title: 'seeds finished' },
  { field: 'stoppedMean', type: 'quantitative', title: 'val top-1 when stopped early (%)', format: '.2f' },
  { field: 'status', type: 'nominal', title: 'status' },
];

/** How the winner and the paper's point are marked, in words: "black outline: the winner (...) at 77.92%". */
function markWords(pts: GridPoint[], search: SearchInfo | null, marks: { winner: string; paper: string }): string[] {
  const w = pts.find((p) => p.winner);
  const out = [w ? `${marks.winner}: the winner ${coefficientsText(w)} at ${w.mean!.toFixed(2)}%` : 'no point finished on every seed yet, so no winner'];
  if (search === null) return out;
  const p = pts.find((x) => x.paper);
  const paper = `the paper's ${coefficientsText(search.paper)}`;
  if (!p) out.push(`${paper} is not in the grid`);
  else if (p.winner) out[0] += `, which is ${paper} (${marks.paper})`;
  else out.push(`${marks.paper}: ${paper}${p.mean === null ? ' (not finished)' : ` at ${p.mean.toFixed(2)}%`}`);
  return out;
}

const withText = (pts: GridPoint[]) => pts.map((p) => ({ ...p, seedsText: `${p.done} of ${p.seeds}` }));

/**
 * Heatmaps of mean val top-1 over alpha (x) and beta (y), one per gamma; unfinished points grey with their status.
 * The winner is outlined in black, the paper's point carries a triangle. null without grid points.
 */
export function searchHeatmapChart(rows: readonly NetworkRow[], search: SearchInfo | null): Chart | null {
  const pts = gridPoints(rows, search);
  if (pts.length === 0) return null;
  const means = pts.flatMap((p) => (p.mean === null ? [] : [p.mean]));
  const mid = means.length ? (Math.min(...means) + Math.max(...means)) / 2 : 0;
  const data = withText(pts).map((p) => ({
    ...p,
    label: p.mean === null ? (p.status.includes('running') ? 'running' : p.status.split(', ')[0].replace(/^\d+ /, '')) : `${p.mean.toFixed(1)}${p.done < p.seeds ? '*' : ''}`,
    dark: p.mean !== null && p.mean >= mid,
    gammaText: coefficient(p.gamma),
    row: `${coefficient(p.beta)} / ${coefficient(p.gamma)}`,
    rowKey: p.beta * 1e6 + p.gamma,
  }));
  const alphas = new Set(pts.map((p) => p.alpha)).size, betas = new Set(pts.map((p) => p.beta)).size, gammas = new Set(pts.map((p) => p.gamma)).size;
  const cellW = 52, cellH = 30;
  const x = { field: 'alpha', type: 'ordinal', title: 'alpha (depth coefficient)', axis: { labelAngle: 0 } };
  const panels = gammas <= MAX_GAMMA_PANELS;
  const y = panels
    ? { field: 'beta', type: 'ordinal', title: 'beta (width coefficient)', sort: 'descending' }
    : { field: 'row', type: 'ordinal', title: 'beta / gamma', sort: { field: 'rowKey', op: 'max', order: 'descending' } };
  const rowsN = panels ? betas : new Set(data.map((p) => p.row)).size;
  const layer: Record<string, unknown>[] = [
    { transform: [{ filter: 'datum.mean === null' }], mark: { type: 'rect', color: '#ececec', stroke: 'white', strokeWidth: 1 }, encoding: { x, y, tooltip: TOOLTIP } },
    {
      transform: [{ filter: 'datum.mean !== null' }],
      mark: { type: 'rect', stroke: 'white', strokeWidth: 1 },
      encoding: { x, y, color: { field: 'mean', type: 'quantitative', title: 'mean val top-1 (%)', scale: { scheme: 'viridis' }, legend: { format: '.1f', gradientLength: Math.max(80, rowsN * cellH) } }, tooltip: TOOLTIP },
    },
    ...[false, true].map((bold) => ({
      transform: [{ filter: bold ? 'datum.winner' : '!datum.winner' }],
      mark: { type: 'text', fontSize: FONT_SIZE.label, fontWeight: bold ? 'bold' : 'normal' },
      encoding: {
        x, y, text: { field: 'label' }, tooltip: TOOLTIP,
        color: { condition: [{ test: 'datum.mean === null', value: '#666' }, { test: 'datum.dark', value: 'black' }], value: 'white' },
      },
    })),
    { transform: [{ filter: 'datum.winner' }], mark: { type: 'rect', filled: false, stroke: 'black', strokeWidth: 3 }, encoding: { x, y } },
  ];
  if (pts.some((p) => p.paper)) {
    layer.push({
      transform: [{ filter: 'datum.paper' }],
      mark: { type: 'point', shape: 'triangle-up', filled: true, color: '#ff2d55', stroke: 'white', strokeWidth: 1, size: 70, opacity: 1, xOffset: -cellW / 2 + 8, yOffset: -cellH / 2 + 7 },
      encoding: { x, y },
    });
  }
  const marks = markWords(pts, search, { winner: 'black outline', paper: 'red triangle' });
  const title = 'Coefficient search: mean val top-1 over the grid';
  const partial = pts.some((p) => p.mean !== null && p.done < p.seeds);
  const subtitle = [...marks, ...(partial ? ['*: not finished on every seed'] : [])].join('; ');
  const left = notDrawn(gridRows(rows), 'valTop1');
  const cells = { width: alphas * cellW, height: rowsN * cellH, layer };
  const spec = themed(panels
    ? {
        title: { text: title, subtitle },
        data: { values: data },
        facet: { field: 'gammaText', type: 'ordinal', title: 'gamma (resolution coefficient)', header: { labelExpr: "'gamma = ' + datum.value" }, sort: { field: 'gamma', op: 'max' } },
        columns: Math.min(gammas, 3),
        spec: cells,
        resolve: { scale: { color: 'shared' } },
      }
    : { title: { text: title, subtitle }, data: { values: data }, ...cells });
  return {
    name: 'search-heatmap',
    title,
    caption: `Mean val top-1 (the search chooses on validation) of each grid point over its finished seeds, alpha across and beta up, ${panels ? 'one panel per gamma' : 'each row a beta and its gamma'}; ${marks.join('; ')}. Grey cells are not finished (status in the tooltip)${left ? `: ${left.replace(', not drawn.', '')}` : ''}.`,
    spec,
  };
}

/** Mean val top-1 against the realized cost ratio, one point per finished grid point, the constraint's target as a rule. */
export function costAccuracyChart(rows: readonly NetworkRow[], search: SearchInfo | null): Chart | null {
  const all = gridPoints(rows, search);
  const pts = withText(all.filter((p) => p.mean !== null));
  if (pts.length === 0) return null;
  const xs = [...pts.map((p) => p.costRatio), ...(search ? [search.target] : [])];
  const xDomain = linearDomain(xs, 0.08, 0.02);
  const yDomain = linearDomain(pts.flatMap((p) => [p.min!, p.max!]), 0.12, 0.2);
  const x = { field: 'costRatio', type: 'quantitative', title: 'realized cost ratio (MACs over the base)', scale: { domain: xDomain, nice: false } };
  const y = { field: 'mean', type: 'quantitative', title: 'mean val top-1 (%)', scale: { domain: yDomain, nice: false } };
  const gammas = [...new Set(pts.map((p) => p.gamma))].sort((a, b) => a - b);
  const color = { field: 'gamma', type: 'ordinal', title: 'gamma', scale: { domain: gammas, scheme: 'dark2' }, legend: { orient: 'right', symbolOpacity: 1, labelExpr: "format(datum.value, '.6~g')" } };
  const layer: Record<string, unknown>[] = [];
  if (search) {
    const target = [{ target: search.target, label: `constraint target ${short(search.target)}` }];
    const rightHalf = (search.target - xDomain[0]) / (xDomain[1] - xDomain[0]) > 0.6;
    layer.push(
      { data: { values: target }, mark: { type: 'rule', strokeDash: [6, 4], color: '#555' }, encoding: { x: { ...x, field: 'target' } } },
      {
        data: { values: target },
        mark: { type: 'text', baseline: 'top', dy: 3, color: '#555', fontSize: FONT_SIZE.label, ...(rightHalf ? { align: 'right', dx: -4 } : { align: 'left', dx: 4 }) },
        encoding: { x: { ...x, field: 'target' }, y: { value: 0 }, text: { field: 'label' } },
      },
    );
  }
  const plain = { field: 'gamma', type: 'ordinal', scale: color.scale };
  if (pts.some((p) => p.done >= 2)) layer.push({ mark: { type: 'rule', strokeWidth: 1.2, strokeOpacity: 0.6 }, encoding: { x, y: { ...y, field: 'min' }, y2: { field: 'max' }, color: plain } });
  layer.push(
    { mark: { type: 'point', filled: true, size: 60, opacity: 1 }, encoding: { x, y, color, tooltip: TOOLTIP } },
    { transform: [{ filter: 'datum.winner' }], mark: { type: 'point', filled: false, size: 320, stroke: 'black', strokeWidth: 2, opacity: 1 }, encoding: { x, y, tooltip: TOOLTIP } },
    { transform: [{ filter: 'datum.winner' }], mark: { type: 'text', align: 'left', dx: 12, dy: -10, fontSize: FONT_SIZE.label, fontWeight: 'bold' }, encoding: { x, y, text: { value: 'winner' } } },
  );
  if (pts.some((p) => p.paper)) {
    layer.push(
      { transform: [{ filter: 'datum.paper' }], mark: { type: 'point', shape: 'triangle-up', filled: false, size: 240, stroke: '#ff2d55', strokeWidth: 2, opacity: 1 }, encoding: { x, y, tooltip: TOOLTIP } },
      { transform: [{ filter: 'datum.paper' }], mark: { type: 'text', align: 'left', dx: 12, dy: 12, fontSize: FONT_SIZE.label, color: '#c2002f' }, encoding: { x, y, text: { value: 'paper' } } },
    );
  }
  const marks = markWords(all, search, { winner: 'circled', paper: 'triangle' });
  const left = notDrawn(gridRows(rows), 'valTop1');
  const title = 'Coefficient search: accuracy against realized cost';
  const several = pts.some((p) => p.done >= 2);
  return {
    name: 'search-cost',
    title,
    caption: `Mean val top-1 of each finished grid point${several ? ' (rule: min to max over seeds)' : ''} against its realized MACs over the base, coloured by gamma${search ? `; the dashed rule is the constraint's target ${short(search.target)}` : ''}; ${marks.join('; ')}.${left ? ` ${left}` : ''}`,
    spec: themed({ title: { text: title, subtitle: `val top-1 (%)${several ? ', mean and min-max over seeds' : ''}; circle: the winner${pts.some((p) => p.paper) ? ", triangle: the paper's point" : ''}` }, width: WIDTH, height: HEIGHT, data: { values: pts }, layer }),
  };
}

/** Successive halving: every trial's val top-1 curve, the rungs as rules, each curve's end marked by status. null without rungs. */
export function halvingChart(rows: readonly NetworkRow[], search: SearchInfo | null): Chart | null {
  if (search === null || search.rungs.length <= 1) return null;
  const grid = gridRows(rows);
  const points = grid.flatMap((r) => {
    const c = r.curve.filter((p) => p.valTop1 !== null);
    const trial = `${r.id}${r.seed === null ? '' : ` seed ${r.seed}`}`;
    return c.map((p, i) => ({
      trial, id: r.id, seed: r.seed, alpha: r.alpha, beta: r.beta, gamma: r.gamma, step: p.step, acc: pct(p.valTop1!), status: r.status, rung: r.rung, last: i === c.length - 1,
    }));
  });
  if (points.length === 0) return null;
  const statuses = [...new Set(points.map((p) => p.status))].sort((a, b) => Object.keys(STATUS_COLOR).indexOf(a) - Object.keys(STATUS_COLOR).indexOf(b));
  const statusScale = { domain: statuses, range: statuses.map((s) => STATUS_COLOR[s] ?? '#777') };
  const x = { field: 'step', type: 'quantitative', title: 'optimizer step', scale: { domain: [0, Math.max(...search.rungs, ...points.map((p) => p.step))], nice: false } };
  const y = { field: 'acc', type: 'quantitative', title: VAL, scale: { zero: false } };
  const rungs = search.rungs.map((steps, rung) => ({ steps, label: `rung ${rung}: ${steps.toLocaleString('en-US')} steps` }));
  const tooltip = [
    { field: 'trial', type: 'nominal', title: 'trial' },
    { field: 'alpha', type: 'quantitative', title: 'alpha' },
    { field: 'beta', type: 'quantitative', title: 'beta' },
    { field: 'gamma', type: 'quantitative', title: 'gamma' },
    { field: 'step', type: 'quantitative', title: 'step', format: ',' },
    { field: 'acc', type: 'quantitative', title: VAL, format: '.2f' },
    { field: 'status', type: 'nominal', title: 'status' },
    { field: 'rung', type: 'quantitative', title: 'rung reached' },
  ];
  const layer: Record<string, unknown>[] = [
    { data: { values: rungs }, mark: { type: 'rule', strokeDash: [4, 4], color: '#888' }, encoding: { x: { ...x, field: 'steps' } } },
    // Rung labels at the bottom, left of their rule: curves start low on the left and end high at the rungs.
    { data: { values: rungs }, mark: { type: 'text', align: 'right', baseline: 'bottom', dx: -4, dy: -4, color: '#555', fontSize: FONT_SIZE.label }, encoding: { x: { ...x, field: 'steps' }, y: { value: HEIGHT }, text: { field: 'label' } } },
    { mark: { type: 'line', strokeWidth: 1.3, strokeOpacity: 0.65 }, encoding: { x, y, detail: { field: 'trial', type: 'nominal' }, order: { field: 'step' }, color: { field: 'status', type: 'nominal', scale: statusScale }, tooltip } },
    {
      transform: [{ filter: 'datum.last' }],
      mark: { type: 'point', filled: true, size: 55, opacity: 1 },
      encoding: {
        x, y, tooltip,
        color: { field: 'status', type: 'nominal', title: 'final status', scale: statusScale },
        shape: { field: 'status', type: 'nominal', title: 'final status', scale: { domain: statuses, range: statuses.map((s) => STATUS_SHAPE[s] ?? 'circle') } },
      },
    },
  ];
  const trials = new Set(points.map((p) => p.trial)).size;
  const stopped = grid.filter((r) => r.status === 'stopped').length;
  const title = 'Successive halving: learning curves of every trial';
  return {
    name: 'search-halving',
    title,
    caption: `Val top-1 against optimizer steps of ${trials} trial${trials === 1 ? '' : 's'} (network and seed), the dashed rules at the rungs (${search.rungs.join(', ')} steps); the last point of each curve shows how it ended (${stopped} stopped early). Trials without a val top-1 evaluation are not drawn.`,
    spec: themed({ title: { text: title, subtitle: `${VAL} per evaluation; colour and symbol: final status` }, width: WIDTH, height: HEIGHT, data: { values: points }, layer }),
  };
}
