import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { FASHION_MNIST_DIR } from '@effscale/core/data';
import { UsageError } from '../errors.js';
import { flopsCommand } from './flops.js';
import { runExperiment } from './experiment.js';
import { searchCommand } from './search.js';

export const DEMO_HELP = `effscale demo: the main job on an embedded default, in a few minutes on a 2-core CPU

  effscale demo [--out runs/demo] [--workers 2] [--data-dir DIR (Fashion-MNIST's IDX files; default the Debian package's)]

1. the exact params and MACs of B0..B7 (as effscale flops --model all)
2. a compound phi sweep 0..7 with the paper's coefficients: realized against theoretical cost (the rounding gap)
3. single-dim on Fashion-MNIST (Figure 3 at toy scale: the smoke budget's 7 networks x 2 seeds, 1,920 images each)
4. a search of alpha 1, 1.2 x beta 1, 1.1 (gamma solved so alpha * beta^2 * gamma^2 = 2) and the paper's point, 2 seeds
5. one report with every chart and what the data say: OUT/index.html
Without Fashion-MNIST (sudo apt-get install -y dataset-fashion-mnist) it draws the costs only.
Interrupted, the same command resumes where it stopped; nothing is trained twice.`;

/**
 * What the demo trains on: the smoke budget's networks, on 1,920 images (60 steps). The smoke budget's 320 images
 * test the machinery but leave every network at chance; 60 steps take the base proxy to ~60% val top-1 and still fit
 * a few minutes.
 */
export const DEMO_DATA = { 'train-limit': '1920', 'val-count': '300', 'test-limit': '300' } as const;

/** The demo's search: 4 grid points with gamma solved for the constraint, and the paper's point, on 2 seeds. */
export const DEMO_SEARCH = ['--alpha', '1,1.2', '--beta', '1,1.1', '--solve', 'gamma', '--include', '1.2,1.1,1.15', '--seeds', '0,1',
  ...Object.entries(DEMO_DATA).flatMap(([k, v]) => [`--${k}`, v])];

export async function demoCommand(argv: string[]): Promise<number | void> {
  const { values: v, positionals } = parseArgs({
    args: argv, allowPositionals: true, strict: true,
    options: { out: { type: 'string' }, workers: { type: 'string' }, 'data-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (v.help) {
    console.log(DEMO_HELP);
    return;
  }
  if (positionals.length) throw new UsageError(`demo takes no arguments (got ${positionals.join(' ')}); use --out DIR`);
  const out = v.out ?? join('runs', 'demo');
  const workers = v.workers ?? '2';
  const started = Date.now();
  const step = (n: number, what: string) => process.stderr.write(`\n== ${n}/5 ${what}\n`);
  const report = await import('@effscale/report');

  step(1, 'exact costs of B0..B7 (from the architecture alone)');
  await flopsCommand(['--model', 'all']);

  step(2, 'compound scaling phi 0..7 with (1.2, 1.1, 1.15): realized against theoretical cost');
  const costs = report.costInput({ phi: [0, 1, 2, 3, 4, 5, 6, 7] });
  for (const f of report.costFindings(costs.costs)) process.stderr.write(`${f.text}\n`);

  const parts = [costs];
  const dataDir = v['data-dir'] ?? FASHION_MNIST_DIR;
  const haveData = existsSync(join(dataDir, 'train-images-idx3-ubyte.gz')) || existsSync(join(dataDir, 'train-images-idx3-ubyte'));
  const data = { data: 'fashion-mnist', ...(v['data-dir'] !== undefined ? { 'data-dir': v['data-dir'] } : {}) };
  if (!haveData) {
    process.stderr.write(`\nFashion-MNIST is not in ${dataDir}: sudo apt-get install -y dataset-fashion-mnist (or --data-dir DIR), then run this again to train; drawing the costs only\n`);
  } else {
    step(3, 'single-dim experiment (Figure 3 at toy scale: 7 networks, 2 seeds, 60 steps each)');
    const dimDir = join(out, 'single-dim');
    const code = await runExperiment('single-dim', dimDir, { budget: 'smoke', workers, ...DEMO_DATA, ...data }, { quietFindings: true });
    if (code !== 0) return code;
    parts.push(await report.loadExperiment(dimDir));

    step(4, 'search: 4 grid points with gamma solved for the constraint, and the paper\'s point; 2 seeds');
    const searchDir = join(out, 'search');
    const searchCode = await searchCommand(['run', searchDir, ...DEMO_SEARCH, '--workers', workers, ...Object.entries(data).flatMap(([k, x]) => [`--${k}`, x])]);
    if (typeof searchCode === 'number' && searchCode !== 0) return searchCode;
    parts.push(await report.loadStudy(searchDir));
  }

  step(5, 'the report');
  const input = report.mergeInputs('effscale demo: exact costs, single-dimension scaling and a compound search (smoke budgets)', resolve(out), parts);
  const { index, page } = await report.makeReport(input, out);
  for (const f of page.findings) process.stderr.write(`[${f.verdict}] ${f.text}\n`);
  process.stderr.write(`\ndemo finished in ${((Date.now() - started) / 1000).toFixed(0)} s; ${page.charts.length} charts\n`);
  console.log(resolve(index));
  return 0;
}
