/**
 * A single training run's curves: train and val loss, and val top-1, against epoch (or step when a producer does not
 * know epochs). Reads NetworkRow.curve of the rows of one id (several seeds of one network are drawn side by side).
 */
import type { Chart } from '../page.js';
import type { NetworkRow } from '../rows.js';
import { CURVE_COLOR, WIDTH, groupBy, pct, themed } from './theme.js';

/** null unless the rows with curve points all have one id. */
export function trainingCurveChart(rows: readonly NetworkRow[]): Chart | null {
  const withCurve = rows.filter((r) => r.curve.length > 0);
  const ids = new Set(withCurve.map((r) => r.id));
  if (ids.size !== 1) return null;
  const id = [...ids][0];
  const byEpoch = withCurve.every((r) => r.curve.every((p) => p.epoch !== null));
  const seeds = [...groupBy(withCurve, (r) => String(r.seed)).keys()];
  const several = seeds.length > 1;
  const points = withCurve.flatMap((r) =>
    r.curve.map((p) => ({ seed: r.seed === null ? 'seed ?' : `seed ${r.seed}`, step: p.step, epoch: p.epoch, x: byEpoch ? p.epoch! : p.step, trainLoss: p.trainLoss, valLoss: p.valLoss, valTop1: p.valTop1 === null ? null : pct(p.valTop1) })),
  );
  const xTitle = byEpoch ? 'epoch' : 'optimizer step';
  const x = { field: 'x', type: 'quantitative', title: xTitle, scale: { zero: true, nice: false } };
  const common = [
    { field: 'seed', type: 'nominal', title: 'seed' },
    { field: 'step', type: 'quantitative', title: 'step', format: ',' },
    ...(byEpoch ? [{ field: 'epoch', type: 'quantitative', title: 'epoch', format: '.3~f' }] : []),
  ];
  const losses = points.flatMap((p) => [
    ...(p.trainLoss === null ? [] : [{ ...p, kind: 'train loss', loss: p.trainLoss }]),
    ...(p.valLoss === null ? [] : [{ ...p, kind: 'val loss', loss: p.valLoss }]),
  ]);
  const accs = points.filter((p) => p.valTop1 !== null);
  if (losses.length === 0 && accs.length === 0) return null;
  const seedDash = several ? { strokeDash: { field: 'seed', type: 'nominal', title: 'seed' } } : {};
  const panels: Record<string, unknown>[] = [];
  if (losses.length) {
    const kinds = ['train loss', 'val loss'].filter((k) => losses.some((l) => l.kind === k));
    const color = { field: 'kind', type: 'nominal', title: null, scale: { domain: kinds, range: kinds.map((k) => (k === 'train loss' ? CURVE_COLOR.train : CURVE_COLOR.val)) }, legend: { orient: 'top-right', fillColor: 'white', padding: 4 } };
    const y = { field: 'loss', type: 'quantitative', title: 'loss (cross-entropy)', scale: { zero: false } };
    panels.push({
      width: WIDTH, height: 200, data: { values: losses },
      layer: [
        { mark: { type: 'line', strokeWidth: 1.8 }, encoding: { x, y, color, order: { field: 'step' }, detail: { field: 'seed', type: 'nominal' }, ...seedDash } },
        { mark: { type: 'point', filled: true, size: 18, opacity: 1 }, encoding: { x, y, color: { field: 'kind', type: 'nominal', scale: color.scale }, tooltip: [...common, { field: 'kind', type: 'nominal', title: 'curve' }, { field: 'loss', type: 'quantitative', title: 'loss', format: '.4f' }] } },
      ],
    });
  }
  if (accs.length) {
    const y = { field: 'valTop1', type: 'quantitative', title: 'val top-1 (%)', scale: { zero: false } };
    panels.push({
      width: WIDTH, height: 200, data: { values: accs },
      layer: [
        { mark: { type: 'line', strokeWidth: 1.8, color: CURVE_COLOR.val }, encoding: { x, y, order: { field: 'step' }, detail: { field: 'seed', type: 'nominal' }, ...seedDash } },
        { mark: { type: 'point', filled: true, size: 18, opacity: 1, color: CURVE_COLOR.val }, encoding: { x, y, tooltip: [...common, { field: 'valTop1', type: 'quantitative', title: 'val top-1 (%)', format: '.2f' }] } },
      ],
    });
  }
  const evals = new Set(points.map((p) => `${p.seed} ${p.step}`)).size;
  const status = [...new Set(withCurve.map((r) => r.status))].join(', ');
  const title = `Training run ${id}`;
  const drawn = [losses.length ? 'train and val loss' : null, accs.length ? 'val top-1 (%)' : null].filter(Boolean).join(' and ');
  return {
    name: 'training-curve',
    title,
    caption: `${drawn[0].toUpperCase()}${drawn.slice(1)} of ${id} against ${xTitle}${several ? `, one dash pattern per seed (${seeds.length} seeds)` : ''}: ${evals} evaluation${evals === 1 ? '' : 's'}, status ${status}.`,
    spec: themed({
      title: { text: title, subtitle: `${drawn} against ${xTitle}` },
      vconcat: panels,
      resolve: { scale: { x: 'shared', color: 'independent', strokeDash: 'shared' } },
      spacing: 18,
    }),
  };
}
