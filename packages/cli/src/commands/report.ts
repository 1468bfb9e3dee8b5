import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { parseNumber, parseSweep } from '../numbers.js';

export const REPORT_HELP = `effscale report: charts (Vega-Lite, as .vl.json, .svg, .png), findings and one offline index.html

  effscale report PATH [--out DIR]     PATH: a study directory (effscale search run), an experiment run directory
                                       (effscale experiment) or a training run directory (effscale train --out)
                                       default --out: PATH/report
  effscale report NAME --storage postgresql://... [--out DIR]
                                       a study stored in PostgreSQL (or EFFSCALE_STORAGE); default --out: reports/NAME
  effscale report --costs [--phi 0:7] [--alpha 1.2 --beta 1.1 --gamma 1.15] [--out reports/costs]
                                       exact costs with no training: realized against theoretical cost ratio over
                                       phi (the rounding gap), and the family next to B0..B7
Options: --no-png (skip the PNGs: faster), --json (print the findings as JSON instead of lines)
The page works offline and from file:// (vega, vega-lite and vega-embed are inlined, data too).`;

export async function reportCommand(argv: string[]): Promise<void> {
  const { values: v, positionals } = parseArgs({
    args: argv, allowPositionals: true, strict: true,
    options: {
      out: { type: 'string' }, costs: { type: 'boolean' }, phi: { type: 'string' }, alpha: { type: 'string' }, beta: { type: 'string' }, gamma: { type: 'string' },
      'no-png': { type: 'boolean' }, json: { type: 'boolean' }, storage: { type: 'string' }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (v.help) {
    console.log(REPORT_HELP);
    return;
  }
  if (positionals.length > 1) throw new UsageError(`report takes one PATH, not ${positionals.length} (${positionals.join(', ')})`);
  const report = await import('@effscale/report');
  let input;
  let out: string;
  if (v.costs) {
    if (positionals.length) throw new UsageError('report --costs draws costs without training: give no PATH with it');
    const coeff = async (c: 'alpha' | 'beta' | 'gamma') => (v[c] === undefined ? undefined : parseNumber(c, v[c]!));
    const phi = await parseSweep('phi', v.phi ?? '0:7');
    if (phi.some((p) => p < 0)) throw new UsageError(`--phi '${v.phi}' must be >= 0`);
    input = report.costInput({ phi, alpha: await coeff('alpha'), beta: await coeff('beta'), gamma: await coeff('gamma') });
    out = v.out ?? join('reports', 'costs');
  } else {
    for (const f of ['phi', 'alpha', 'beta', 'gamma'] as const) if (v[f] !== undefined) throw new UsageError(`--${f} only applies with --costs`);
    const path = positionals[0];
    if (path === undefined) throw new UsageError('report needs a PATH (a study, experiment or training run directory) or --costs');
    const { storageFromFlags } = await import('../study-flags.js');
    // --storage, or EFFSCALE_STORAGE when PATH is not a path here: the study is a name in that database.
    const storage = v.storage !== undefined || !existsSync(path) ? storageFromFlags(v) : null;
    input = storage ? await report.loadStudy(path, { storage }) : await report.loadInput(path);
    out = v.out ?? (storage ? join('reports', path) : join(path, 'report'));
  }
  const { index, page } = await report.makeReport(input, out, { png: !v['no-png'] });
  if (v.json) {
    console.log(JSON.stringify({ index, findings: page.findings, charts: page.charts.map((c) => c.name) }, null, 2));
    return;
  }
  for (const f of page.findings) console.log(`[${f.verdict}] ${f.text}`);
  if (page.live) console.log('the producer is still running: the page reloads itself until it finishes');
  console.log(`${page.charts.length} chart${page.charts.length === 1 ? '' : 's'}: ${index}`);
}
