/**
 * The one look every chart shares: the font (the same family the renderer measures and rasterizes with), sizes, a
 * colour per scaling dimension that never changes from chart to chart, default view size, and the small data helpers
 * (percent, MACs units, seed folding, the "not drawn" note) the spec modules use to emit explicit data.
 */
import type { Config, TopLevelSpec } from 'vega-lite';
import { isDone, seedStats, type Dimension, type NetworkRow, type SeedStats } from '../rows.js';

/** The chart font. The renderer registers the same family (render/fonts.ts); defined here so specs stand alone. */
export const FONT_FAMILY = 'DejaVu Sans';

export const FONT_SIZE = { title: 15, subtitle: 11, axisTitle: 12, axisLabel: 11, legend: 11, header: 12, label: 10 } as const;

/** Default size of one view (a facet cell or concatenated panel sets its own). */
export const WIDTH = 460;
export const HEIGHT = 300;

/** One colour per dimension, the same in every chart. */
export const DIMENSION_COLOR: Record<Dimension, string> = {
  width: '#1f77b4',
  depth: '#ff7f0e',
  resolution: '#2ca02c',
  compound: '#d62728',
  base: '#555555',
};
export const DIMENSION_ORDER: readonly Dimension[] = ['width', 'depth', 'resolution', 'compound', 'base'];

/** Colours for things that are not dimensions (width-sweep series, cost families, seeds): none is a dimension colour but the first, width's. */
export const SERIES_PALETTE = ['#1f77b4', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#9467bd', '#7f7f7f', '#393b79'] as const;
export const FAMILY_PALETTE = ['#d62728', '#9467bd', '#8c564b', '#17becf', '#e377c2', '#bcbd22'] as const;

/** Training runs' final states (halving chart). */
export const STATUS_COLOR: Record<string, string> = {
  done: '#1a1a1a', stopped: '#9e9e9e', running: '#e6a700', pending: '#c7c7c7', waiting: '#c7c7c7', diverged: '#b2182b', failed: '#b2182b',
};
export const STATUS_SHAPE: Record<string, string> = {
  done: 'circle', stopped: 'cross', running: 'triangle-up', pending: 'square', waiting: 'square', diverged: 'diamond', failed: 'diamond',
};

/** Train against validation, in every curve chart. */
export const CURVE_COLOR = { train: '#1f77b4', val: '#ff7f0e' } as const;

export const CONFIG: Config = {
  font: FONT_FAMILY,
  background: 'white',
  padding: 10,
  title: { font: FONT_FAMILY, fontSize: FONT_SIZE.title, subtitleFont: FONT_FAMILY, subtitleFontSize: FONT_SIZE.subtitle, subtitleColor: '#444', anchor: 'start', offset: 10, limit: 0 },
  axis: {
    labelFont: FONT_FAMILY, titleFont: FONT_FAMILY, labelFontSize: FONT_SIZE.axisLabel, titleFontSize: FONT_SIZE.axisTitle,
    titleFontWeight: 'normal', titlePadding: 8, gridColor: '#e8e8e8', labelOverlap: true,
  },
  legend: { labelFont: FONT_FAMILY, titleFont: FONT_FAMILY, labelFontSize: FONT_SIZE.legend, titleFontSize: FONT_SIZE.legend, labelLimit: 280, titleLimit: 280 },
  header: { labelFont: FONT_FAMILY, titleFont: FONT_FAMILY, labelFontSize: FONT_SIZE.header, titleFontSize: FONT_SIZE.header, titleFontWeight: 'normal' },
  text: { font: FONT_FAMILY, fontSize: FONT_SIZE.label },
  mark: { font: FONT_FAMILY },
  view: { stroke: '#d0d0d0' },
};

export const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** A top-level spec with the shared schema and config; `spec` is any Vega-Lite view, layer, facet or concat. */
export function themed(spec: Record<string, unknown>): TopLevelSpec {
  return { $schema: SCHEMA, ...spec, config: CONFIG } as unknown as TopLevelSpec;
}

/** Colour scale over the dimensions present, in the fixed order, with their fixed colours. */
export function dimensionScale(present: Iterable<Dimension>): { domain: string[]; range: string[] } {
  const set = new Set(present);
  const domain = DIMENSION_ORDER.filter((d) => set.has(d));
  return { domain: [...domain], range: domain.map((d) => DIMENSION_COLOR[d]) };
}

// ---- Numbers -------------------------------------------------------------------------------------------------------

/** A fraction as percent, rounded only to strip float noise (0.7 * 100 = 70.00000000000001). */
export const pct = (x: number): number => Number((x * 100).toFixed(8));
export const pctOrNull = (x: number | null): number | null => (x === null ? null : pct(x));
/** Few significant digits for labels: 1.4, 2, 1.15. */
export const short = (x: number): string => String(Number(x.toPrecision(3)));
export const round = (x: number, digits = 6): number => Number(x.toPrecision(digits));

/** The unit a MACs axis is drawn in: billions once any network reaches 1e9 MACs, else millions. */
export interface MacsUnit {
  div: number;
  /** 'MACs (billions, log scale)' */
  title: string;
  /** 'GMACs' / 'MMACs' for labels. */
  abbr: string;
}
export function macsUnit(macs: readonly number[]): MacsUnit {
  const big = macs.some((m) => m >= 1e9);
  return big ? { div: 1e9, title: 'MACs (billions, log scale)', abbr: 'GMACs' } : { div: 1e6, title: 'MACs (millions, log scale)', abbr: 'MMACs' };
}
export const fmtMacs = (m: number, u: MacsUnit = macsUnit([m])): string => `${Number((m / u.div).toPrecision(3))} ${u.abbr}`;

/** A log-scale domain around `values` with a little room at both ends, so points and labels at the edges are not cut. */
export function logDomain(values: readonly number[], room = 0.08): [number, number] {
  const v = values.filter((x) => x > 0 && Number.isFinite(x));
  if (v.length === 0) return [1, 10];
  const lo = Math.log10(Math.min(...v)), hi = Math.log10(Math.max(...v));
  const pad = Math.max((hi - lo) * room, 0.04);
  return [round(10 ** (lo - pad), 4), round(10 ** (hi + pad), 4)];
}

/** A linear domain around `values` (not from zero) with room at both ends. */
export function linearDomain(values: readonly number[], room = 0.12, minPad = 0.5): [number, number] {
  const v = values.filter((x) => Number.isFinite(x));
  if (v.length === 0) return [0, 1];
  const lo = Math.min(...v), hi = Math.max(...v);
  const pad = Math.max((hi - lo) * room, minPad);
  return [round(lo - pad, 6), round(hi + pad, 6)];
}

// ---- Rows -----------------------------------------------------------------------------------------------------------

/** Rows grouped by `key` (the network id by default), in first-seen order. */
export function groupBy<T>(rows: readonly T[], key: (r: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const r of rows) {
    const k = key(r);
    const list = out.get(k);
    if (list) list.push(r);
    else out.set(k, [r]);
  }
  return out;
}

/** One network with its seeds folded; `stats` over the finished seeds with a value, in percent; null when none. */
export interface Folded {
  id: string;
  first: NetworkRow;
  rows: NetworkRow[];
  stats: SeedStats | null;
}

export function fold(rows: readonly NetworkRow[], metric: 'testTop1' | 'valTop1', key: (r: NetworkRow) => string = (r) => r.id): Folded[] {
  return [...groupBy(rows, key)].map(([id, rs]) => {
    const s = seedStats(rs.filter(isDone).map((r) => r[metric]));
    return { id, first: rs[0], rows: rs, stats: s && { mean: pct(s.mean), min: pct(s.min), max: pct(s.max), n: s.n } };
  });
}

const STATUS_WORD: Record<string, string> = {
  diverged: 'diverged', failed: 'failed', stopped: 'stopped early', running: 'still running', pending: 'pending', waiting: 'waiting',
};

/**
 * What a chart of `metric` leaves out of `rows`, as a sentence: "2 runs diverged and 1 still running, not drawn."
 * A run is one network and seed; a finished run without the metric is counted too. '' when nothing is left out.
 */
export function notDrawn(rows: readonly NetworkRow[], metric: 'testTop1' | 'valTop1' | null): string {
  const counts = new Map<string, number>();
  for (const r of rows) {
    const word = r.status !== 'done' ? STATUS_WORD[r.status] ?? r.status : metric !== null && r[metric] === null ? `finished without ${metric === 'testTop1' ? 'test' : 'val'} top-1` : null;
    if (word !== null) counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  if (counts.size === 0) return '';
  const parts = [...counts].map(([word, n], i) => (i === 0 ? `${n} run${n === 1 ? '' : 's'} ${word}` : `${n} ${word}`));
  const list = parts.length === 1 ? parts[0] : `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
  return `${list}, not drawn.`;
}

/** The standard tooltip rows of a network: id, MACs and params exact, cost ratio. */
export const NETWORK_TOOLTIP = [
  { field: 'id', type: 'nominal', title: 'network' },
  { field: 'macs', type: 'quantitative', title: 'MACs', format: ',' },
  { field: 'params', type: 'quantitative', title: 'params', format: ',' },
] as const;

/** Mean, min and max (percent) and the number of seeds behind them. */
export function accuracyTooltip(title: string): Record<string, unknown>[] {
  const t = title.replace(/ \(%\)$/, '');
  return [
    { field: 'mean', type: 'quantitative', title: `mean ${t} (%)`, format: '.2f' },
    { field: 'min', type: 'quantitative', title: `min ${t} (%)`, format: '.2f' },
    { field: 'max', type: 'quantitative', title: `max ${t} (%)`, format: '.2f' },
    { field: 'seeds', type: 'quantitative', title: 'seeds' },
  ];
}
