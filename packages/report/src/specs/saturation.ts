/**
 * The paper's single-dimension figures: accuracy against MACs when scaling one dimension (Figure 3), width sweeps of
 * several (depth, resolution) baselines (Figure 4), and compound against single dimensions at equal cost (Figure 8 /
 * Table 7). Seeds are folded here, in TypeScript: every drawn mean, min and max is in the spec's inline data.
 *
 * Which rows each chart reads, by `series` (the producer's contract):
 * - saturationChart: series 'width', 'depth', 'resolution' (one line each) and 'base'. A row with dimension 'base'
 *   and series 'base' is the first point of every line; a row with dimension 'base' and series 'width' (say) is the
 *   first point of that line only. Base rows are drawn once, with their own symbol, labelled "baseline".
 * - widthSweepChart: series starting with 'd=' (e.g. 'd=1.0, r=1.3'), one line per series, points labelled by widthMult.
 * - compoundVsSingleChart: series 'equal-cost:width', 'equal-cost:depth', 'equal-cost:resolution', 'equal-cost:compound';
 *   the colour is the row's `dimension`.
 * Accuracy is `reportedMetric` of the rows a chart reads; rows not 'done' are left out and counted in the caption.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { Chart } from '../page.js';
import { METRIC_TITLE, reportedMetric, type Dimension, type NetworkRow } from '../rows.js';
import {
  DIMENSION_COLOR, FONT_SIZE, HEIGHT, SERIES_PALETTE, WIDTH, accuracyTooltip, dimensionScale, fmtMacs, fold, linearDomain, logDomain,
  macsUnit, notDrawn, round, short, themed, type MacsUnit,
} from './theme.js';

type Metric = 'testTop1' | 'valTop1';
type Single = 'width' | 'depth' | 'resolution';

const SINGLE: readonly Single[] = ['width', 'depth', 'resolution'];
const LETTER: Record<Single, string> = { width: 'w', depth: 'd', resolution: 'r' };
const MULT: Record<Single, (r: NetworkRow) => number> = { width: (r) => r.widthMult, depth: (r) => r.depthMult, resolution: (r) => r.resolutionMult };

/** One drawn network of a sweep: seeds folded, accuracy in percent, MACs in the axis unit as `x`. */
interface SweepPoint {
  line: string;
  id: string;
  label: string;
  mult: number;
  macs: number;
  x: number;
  params: number;
  costRatio: number;
  mean: number;
  min: number;
  max: number;
  seeds: number;
  baseline: boolean;
}

function sweepPoints(line: string, rows: NetworkRow[], metric: Metric, mult: (r: NetworkRow) => number, letter: string, unit: MacsUnit): SweepPoint[] {
  return fold(rows, metric)
    .filter((f) => f.stats !== null)
    .map((f): SweepPoint => {
      const baseline = f.first.dimension === 'base';
      const s = f.stats!;
      return {
        line, id: f.id, label: baseline ? 'baseline' : `${letter}=${short(mult(f.first))}`, mult: round(mult(f.first)),
        macs: f.first.macs, x: round(f.first.macs / unit.div, 8), params: f.first.params, costRatio: round(f.first.costRatio),
        mean: s.mean, min: s.min, max: s.max, seeds: s.n, baseline,
      };
    })
    .sort((a, b) => a.macs - b.macs || a.mult - b.mult);
}

const ABOVE_LEFT = { align: 'right', baseline: 'bottom', dx: -4, dy: -4 } as const;
const BELOW_RIGHT = { align: 'left', baseline: 'top', dx: 5, dy: 4 } as const;

/**
 * Lines of mean accuracy over log MACs, one per `line`, with a min-max band when some point has two or more seeds,
 * every point labelled; baseline points drawn once as a grey diamond.
 */
function sweepSpec(o: {
  title: string; subtitle: string; points: SweepPoint[]; unit: MacsUnit; metricTitle: string; color: { domain: string[]; range: string[] }; colorTitle: string;
}): TopLevelSpec {
  const { points, unit } = o;
  const seen = new Set<string>();
  const baselines = points.filter((p) => p.baseline && !seen.has(p.id) && seen.add(p.id));
  const x = { field: 'x', type: 'quantitative', title: unit.title, scale: { type: 'log', domain: logDomain(points.map((p) => p.x)), nice: false }, axis: { format: '~g', tickCount: 6 } };
  const y = { field: 'mean', type: 'quantitative', title: o.metricTitle, scale: { domain: linearDomain(points.flatMap((p) => [p.min, p.max]), 0.1, 0.5), nice: false } };
  const color = { field: 'line', type: 'nominal', title: o.colorTitle, scale: o.color, legend: { orient: 'bottom-right', fillColor: 'white', padding: 6, symbolType: 'circle', symbolOpacity: 1 } };
  const tooltip = [
    { field: 'line', type: 'nominal', title: o.colorTitle },
    { field: 'label', type: 'nominal', title: 'multiplier' },
    { field: 'id', type: 'nominal', title: 'network' },
    { field: 'macs', type: 'quantitative', title: 'MACs', format: ',' },
    { field: 'params', type: 'quantitative', title: 'params', format: ',' },
    { field: 'costRatio', type: 'quantitative', title: 'cost ratio', format: '.3f' },
    ...accuracyTooltip(o.metricTitle),
  ];
  const plain = { field: 'line', type: 'nominal', scale: o.color };
  const top = (line: string) => Math.max(...points.filter((p) => p.line === line).map((p) => p.mean));
  const byHeight = o.color.domain.filter((l) => points.some((p) => p.line === l && !p.baseline)).sort((a, b) => top(b) - top(a));
  // The line first: the legend takes its symbols from the first layer, not from the faint band.
  const layer: Record<string, unknown>[] = [{ mark: { type: 'line', strokeWidth: 2 }, encoding: { x, y, color, order: { field: 'x' } } }];
  if (points.some((p) => p.seeds >= 2)) {
    layer.push({
      mark: { type: 'area', fillOpacity: 0.16, strokeWidth: 0 },
      encoding: { x, y: { ...y, field: 'min' }, y2: { field: 'max' }, color: plain },
    });
  }
  layer.push(
    { transform: [{ filter: '!datum.baseline' }], mark: { type: 'point', filled: true, size: 55, opacity: 1 }, encoding: { x, y, color: plain, tooltip } },
    // The lowest line is labelled below its points, every other above: lines rise to the right, so labels above-left
    // and below-right sit off the lines.
    ...byHeight.map((line, i) => ({
      transform: [{ filter: { field: 'line', equal: line } }, { filter: '!datum.baseline' }],
      mark: { type: 'text', fontSize: FONT_SIZE.label, ...(i === byHeight.length - 1 && i > 0 ? BELOW_RIGHT : ABOVE_LEFT) },
      encoding: { x, y, text: { field: 'label' }, color: plain },
    })),
  );
  if (baselines.length) {
    layer.push(
      { data: { values: baselines }, mark: { type: 'point', shape: 'diamond', filled: true, size: 130, color: DIMENSION_COLOR.base, opacity: 1 }, encoding: { x, y, tooltip } },
      { data: { values: baselines }, mark: { type: 'text', align: 'left', baseline: 'top', dx: 7, dy: 5, fontSize: FONT_SIZE.label, fontStyle: 'italic', color: DIMENSION_COLOR.base }, encoding: { x, y, text: { field: 'label' } } },
    );
  }
  return themed({ title: { text: o.title, subtitle: o.subtitle }, width: WIDTH, height: HEIGHT, data: { values: points }, layer });
}

const seedWords = (points: SweepPoint[]) => {
  const n = Math.max(0, ...points.map((p) => p.seeds));
  return n >= 2 ? `mean over up to ${n} seeds, the band spans min to max` : 'one seed per network';
};

/** Figure 3: scaling width, depth or resolution alone. null when no row of a width, depth or resolution series is finished. */
export function saturationChart(rows: readonly NetworkRow[]): Chart | null {
  const mine = rows.filter((r) => r.series === 'base' || (SINGLE as readonly string[]).includes(r.series));
  if (!mine.some((r) => r.series !== 'base')) return null;
  const metric = reportedMetric(mine);
  const unit = macsUnit(mine.map((r) => r.macs));
  const points: SweepPoint[] = [];
  const present: Dimension[] = [];
  for (const dim of SINGLE) {
    const own = mine.filter((r) => r.series === dim);
    if (own.length === 0) continue;
    const base = mine.filter((r) => r.series === 'base' && r.dimension === 'base');
    const ps = sweepPoints(dim, [...base, ...own], metric, MULT[dim], LETTER[dim], unit);
    if (ps.some((p) => !p.baseline)) present.push(dim);
    points.push(...ps);
  }
  if (!points.some((p) => !p.baseline)) return null;
  const title = 'Scaling one dimension: accuracy against MACs';
  const subtitle = `${METRIC_TITLE[metric]}, ${seedWords(points)}; labels are the multipliers over the baseline`;
  const left = notDrawn(mine, metric);
  return {
    name: 'saturation',
    title,
    caption: `Mean ${METRIC_TITLE[metric].replace(' (%)', '')} of each network against its MACs (log scale) when scaling width (w), depth (d) or resolution (r) alone from the baseline (diamond); ${seedWords(points)}.${left ? ` ${left}` : ''}`,
    spec: sweepSpec({ title, subtitle, points, unit, metricTitle: METRIC_TITLE[metric], color: dimensionScale(present), colorTitle: 'scaled dimension' }),
  };
}

/** Figure 4: width sweeps from several (depth, resolution) baselines. null when no 'd=...' series has a finished row. */
export function widthSweepChart(rows: readonly NetworkRow[]): Chart | null {
  const mine = rows.filter((r) => r.series.startsWith('d='));
  if (mine.length === 0) return null;
  const metric = reportedMetric(mine);
  const unit = macsUnit(mine.map((r) => r.macs));
  // Series in order of their baseline's size: d=1, r=1 (width alone) first, so it takes width's colour.
  const series = [...new Set(mine.map((r) => r.series))].sort((a, b) => {
    const ra = mine.find((r) => r.series === a)!, rb = mine.find((r) => r.series === b)!;
    return ra.depthMult * ra.resolutionMult ** 2 - rb.depthMult * rb.resolutionMult ** 2 || a.localeCompare(b);
  });
  const points = series.flatMap((s) => sweepPoints(s, mine.filter((r) => r.series === s), metric, (r) => r.widthMult, 'w', unit)).map((p) => ({ ...p, baseline: false }));
  if (points.length === 0) return null;
  const drawn = series.filter((s) => points.some((p) => p.line === s));
  const title = 'Scaling width from different (depth, resolution) baselines';
  const left = notDrawn(mine, metric);
  return {
    name: 'width-sweeps',
    title,
    caption: `Mean ${METRIC_TITLE[metric].replace(' (%)', '')} against MACs (log scale) of width sweeps, one line per (depth, resolution) baseline, points labelled by the width multiplier w; ${seedWords(points)}.${left ? ` ${left}` : ''}`,
    spec: sweepSpec({
      title, subtitle: `${METRIC_TITLE[metric]}, ${seedWords(points)}; labels are width multipliers`, points, unit, metricTitle: METRIC_TITLE[metric],
      color: { domain: drawn, range: drawn.map((_, i) => SERIES_PALETTE[i % SERIES_PALETTE.length]) }, colorTitle: 'baseline (depth, resolution)',
    }),
  };
}

const EQUAL_COST = 'equal-cost:';
const capital = (s: string) => s[0].toUpperCase() + s.slice(1);

/** Figure 8 / Table 7: one network per dimension solved to the same MACs. null when no 'equal-cost:' row is finished. */
export function compoundVsSingleChart(rows: readonly NetworkRow[]): Chart | null {
  const mine = rows.filter((r) => r.series.startsWith(EQUAL_COST));
  if (mine.length === 0) return null;
  const metric = reportedMetric(mine);
  const unit = macsUnit(mine.map((r) => r.macs));
  const order = ['width', 'depth', 'resolution', 'compound'];
  const folded = fold(mine, metric, (r) => `${r.series}\u0000${r.id}`)
    .filter((f) => f.stats !== null)
    .sort((a, b) => {
      const ka = order.indexOf(a.first.series.slice(EQUAL_COST.length)), kb = order.indexOf(b.first.series.slice(EQUAL_COST.length));
      return (ka < 0 ? 99 : ka) - (kb < 0 ? 99 : kb) || a.first.series.localeCompare(b.first.series) || a.first.id.localeCompare(b.first.id);
    });
  if (folded.length === 0) return null;
  const data = folded.map((f) => {
    const s = f.stats!;
    const scaled = f.first.series.slice(EQUAL_COST.length);
    // Two networks in one series (not expected) get their id in the category so both are drawn.
    const dup = folded.filter((g) => g.first.series === f.first.series).length > 1;
    const name = dup ? `${scaled} ${f.first.id}` : scaled;
    return {
      category: `${name}|${fmtMacs(f.first.macs, unit)}`, scaled, dimension: f.first.dimension, id: f.first.id,
      macs: f.first.macs, params: f.first.params, costRatio: round(f.first.costRatio),
      mean: s.mean, min: s.min, max: s.max, seeds: s.n, label: `${s.mean.toFixed(2)}%`,
    };
  });
  const metricTitle = METRIC_TITLE[metric];
  const x = {
    field: 'category', type: 'nominal', title: 'scaled dimension (MACs)', sort: data.map((d) => d.category),
    axis: { labelAngle: 0, labelExpr: "split(datum.label, '|')", labelLineHeight: 14, labelPadding: 6 },
  };
  const y = { field: 'mean', type: 'quantitative', title: metricTitle, scale: { domain: linearDomain(data.flatMap((d) => [d.min, d.max]), 0.3, 0.5), nice: false } };
  const color = { field: 'dimension', type: 'nominal', title: 'dimension', scale: dimensionScale(data.map((d) => d.dimension)), legend: null };
  const tooltip = [
    { field: 'scaled', type: 'nominal', title: 'scaled' },
    { field: 'id', type: 'nominal', title: 'network' },
    { field: 'macs', type: 'quantitative', title: 'MACs', format: ',' },
    { field: 'params', type: 'quantitative', title: 'params', format: ',' },
    { field: 'costRatio', type: 'quantitative', title: 'cost ratio', format: '.3f' },
    ...accuracyTooltip(metricTitle),
  ];
  const several = data.some((d) => d.seeds >= 2);
  const layer: Record<string, unknown>[] = [];
  if (several) layer.push({ mark: { type: 'errorbar', ticks: { size: 12 }, thickness: 1.5 }, encoding: { x, y: { field: 'min', type: 'quantitative', title: metricTitle, scale: y.scale }, y2: { field: 'max' }, color } });
  layer.push(
    { mark: { type: 'point', filled: true, size: 110, opacity: 1 }, encoding: { x, y, color, tooltip } },
    { mark: { type: 'text', align: 'left', dx: 10, fontSize: FONT_SIZE.label + 1 }, encoding: { x, y, text: { field: 'label' }, color } },
  );
  const n = Math.max(...data.map((d) => d.seeds));
  const spread = several ? `mean over up to ${n} seeds with the min-max range` : 'one seed per network';
  const title = 'Compound against single-dimension scaling at equal MACs';
  const left = notDrawn(mine, metric);
  return {
    name: 'compound-vs-single',
    title,
    caption: `${capital(metricTitle.replace(' (%)', ''))} of networks scaled to the same target MACs by one dimension or by compound scaling, ${spread}; the y axis does not start at zero.${left ? ` ${left}` : ''}`,
    spec: themed({ title: { text: title, subtitle: `${metricTitle}, ${spread}; y axis zoomed to the data` }, width: Math.max(320, data.length * 110), height: HEIGHT, data: { values: data }, layer }),
  };
}
