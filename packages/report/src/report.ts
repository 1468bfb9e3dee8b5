/** One ReportInput -> one page (charts, findings, tables) -> files. The only place the three meet. */
import type { Page, Table } from './page.js';
import { isDone, type CostRow, type NetworkRow, type ReportInput } from './rows.js';
import { chartsFor } from './specs/index.js';
import { findingsFor } from './findings.js';
import { writeReport } from './render/write.js';

/** How often a live page reloads: often enough to follow a study, rarely enough not to flicker while reading. */
export const LIVE_REFRESH_SECONDS = 5;

const pct = (x: number | null) => (x === null ? null : Number((x * 100).toFixed(2)));
const num = (x: number | null) => (x === null ? null : Number(x.toPrecision(6)));

function networkTable(rows: NetworkRow[]): Table {
  return {
    name: 'networks', title: 'Networks (one row per network and seed)',
    columns: ['network', 'series', 'alpha', 'beta', 'gamma', 'depth x', 'width x', 'res x', 'res px', 'params', 'MACs', 'cost ratio', 'seed', 'status', 'step', 'val top-1 %', 'test top-1 %', 'wall s'],
    rows: rows.map((r) => [
      r.id + (r.sharedWith.length ? ` (= ${r.sharedWith.join(', ')})` : ''), r.series, r.alpha, r.beta, r.gamma, num(r.depthMult), num(r.widthMult), num(r.resolutionMult),
      r.resolution, r.params, r.macs, num(r.costRatio), r.seed, r.status, r.step, pct(r.valTop1), pct(r.testTop1), r.wallSeconds === null ? null : Number(r.wallSeconds.toFixed(1)),
    ]),
  };
}

function costTable(costs: CostRow[]): Table {
  return {
    name: 'costs', title: 'Exact costs (flops, no training)',
    columns: ['family', 'network', 'phi', 'depth', 'width', 'res px', 'params', 'MACs', 'theoretical ratio', 'realized ratio'],
    rows: costs.map((c) => [c.family, c.name, c.phi, num(c.depth), num(c.width), c.resolution, c.params, c.macs, num(c.theoreticalRatio), num(c.realizedRatio)]),
  };
}

/** Several producers' inputs as one page (the demo): rows and costs side by side, provenance of each part kept. */
export function mergeInputs(title: string, source: string, inputs: ReportInput[]): ReportInput {
  const backends = [...new Set(inputs.map((i) => i.provenance.backend).filter((b): b is string => b !== null))];
  return {
    title,
    provenance: {
      kind: inputs.map((i) => i.provenance.kind).join(' + '), source, code: inputs[0]?.provenance.code ?? {}, createdAt: new Date().toISOString(),
      backend: backends.length ? backends.join(', ') : null, data: inputs.find((i) => i.provenance.data)?.provenance.data ?? null,
      seeds: [...new Set(inputs.flatMap((i) => i.provenance.seeds))].sort((a, b) => a - b),
      settings: Object.fromEntries(inputs.map((i) => [i.provenance.source ?? i.provenance.kind, { kind: i.provenance.kind, ...i.provenance.settings }])),
    },
    rows: inputs.flatMap((i) => i.rows),
    costs: inputs.flatMap((i) => i.costs),
    search: inputs.find((i) => i.search)?.search ?? null,
    live: inputs.some((i) => i.live),
  };
}

export function buildPage(input: ReportInput): Page {
  const tables: Table[] = [];
  if (input.rows.length) tables.push(networkTable(input.rows));
  if (input.costs.length) tables.push(costTable(input.costs));
  const done = input.rows.filter(isDone).length;
  const title = input.rows.length ? `${input.title} (${done} of ${input.rows.length} finished)` : input.title;
  return { title, charts: chartsFor(input), findings: findingsFor(input), tables, provenance: input.provenance, live: input.live, refreshSeconds: LIVE_REFRESH_SECONDS };
}

/** Draw `input` into `outDir`: charts as .vl.json, .svg, .png, and index.html last. Returns index.html's path. */
export async function makeReport(input: ReportInput, outDir: string, opts: { png?: boolean } = {}): Promise<{ index: string; page: Page }> {
  const page = buildPage(input);
  const { index } = await writeReport(outDir, page, opts);
  return { index, page };
}
