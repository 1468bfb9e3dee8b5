import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PAPER_COEFFICIENTS } from '@effscale/core';
import { codeVersion, writeFileAtomic, ensureDir } from '@effscale/core/train';
import { BUDGETS, BUDGET_NAMES, EXPERIMENTS, EXPERIMENT_NAMES, type BudgetName, type Experiment } from '@effscale/experiments';
import { buildPointSet, halvingPlan, JOURNAL_FILE, type StudySettings } from '@effscale/search';
import { UsageError } from '../errors.js';
import { parseNumber, parseSweep } from '../numbers.js';
import { runStudy } from '../study-runner.js';
import { coefficientsFrom } from './scale.js';
import { rowsCsv } from './search-report.js';
import { BASE_FLAGS, TRAINING_FLAGS, WORKER_FLAGS, baseFromFlags, runFromFlags, trainingFromFlags } from '../study-flags.js';

export const EXPERIMENT_HELP = `effscale experiment: the paper's scaling experiments at proxy scale, each one durable study

  effscale experiment NAME [RUN_DIR] [--budget smoke|quick|full] [flags]
  default RUN_DIR: runs/experiments/NAME-BUDGET; kill it at any point and run the same command again

Experiments:
  single-dim           Figure 3: width 1.0..5.0, depth 1..8, resolution 1.0..2.5 scaled one at a time from the base
  width-by-dr          Figure 4: width sweeps from (d, r) = (1.0, 1.0), (1.0, 1.3), (2.0, 1.0), (2.0, 1.3)
  compound-vs-single   Table 7: compound (--phi 2 with --alpha --beta --gamma, default the paper's 1.2, 1.1, 1.15, or
                       --from STUDY_DIR for a search's winner) and each single dimension solved to the same exact MACs
                       (--target-macs N to choose the target instead)
  family               Table 2: exact params and MACs of B0..B7 and of the coefficients' family (phi 0..7), proxy
                       accuracy of the members --family-phi lists (smoke 0,1; quick 0:3; full 0:5)
Budgets (every number a flag overrides):
  smoke   320 training images, 200 val, 200 test, 1 epoch, seeds 0,1, the first 3 multipliers of each sweep (2 widths per
          width-by-dr baseline): the machinery in seconds per network, accuracies near chance (CI)
  quick   4,000 training images, 1,000 val, 2,000 test, 1 epoch, seeds 0,1, the paper's multipliers (default)
  full    50,000 training images, 5,000 val, 10,000 test, 3 epochs, seeds 0,1,2, the paper's multipliers
Base:    --base-depth 0.5 --base-width 0.5 --base-resolution 32 (the documented proxy), --channels 1, --classes 10
Data, recipe and run flags as for search run: --data fashion-mnist --train-limit --val-count --test-limit --recipe
  --epochs | --steps --seeds --workers 2 --backend --no-report
Writes: RUN_DIR/experiment.json (the definition), journal.jsonl (the study), rows.jsonl and rows.csv (one row per
network and seed), report/index.html (charts and findings; redrawn after every finished network).`;

const FAMILY_PHIS: Record<BudgetName, number[]> = { smoke: [0, 1], quick: [0, 1, 2, 3], full: [0, 1, 2, 3, 4, 5] };
const DEFAULT_PHI = 2;

export const EXPERIMENT_FLAGS = {
  ...BASE_FLAGS, ...TRAINING_FLAGS, ...WORKER_FLAGS,
  budget: { type: 'string' }, alpha: { type: 'string' }, beta: { type: 'string' }, gamma: { type: 'string' }, from: { type: 'string' },
  phi: { type: 'string' }, 'target-macs': { type: 'string' }, 'family-phi': { type: 'string' },
  'no-report': { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
} as const;

type Values = Partial<Record<keyof typeof EXPERIMENT_FLAGS, string | boolean>>;

async function coefficients(v: Values): Promise<{ alpha: number; beta: number; gamma: number; from?: string }> {
  if (typeof v.from === 'string') {
    for (const c of ['alpha', 'beta', 'gamma'] as const) if (v[c] !== undefined) throw new UsageError(`--from takes the coefficients from the study; leave --${c} out`);
    return { ...(await coefficientsFrom(v.from)), from: v.from };
  }
  const get = async (c: 'alpha' | 'beta' | 'gamma') => (typeof v[c] === 'string' ? parseNumber(c, v[c] as string) : PAPER_COEFFICIENTS[c]);
  return { alpha: await get('alpha'), beta: await get('beta'), gamma: await get('gamma') };
}

/** Everything that defines an experiment run, from its name, budget and flags. */
export async function planExperiment(name: string, v: Values) {
  const experiment: Experiment | undefined = EXPERIMENTS[name];
  if (!experiment) throw new UsageError(`unknown experiment '${name}' (allowed: ${EXPERIMENT_NAMES.join(', ')})`);
  const budgetName = (typeof v.budget === 'string' ? v.budget : 'quick') as BudgetName;
  if (!BUDGET_NAMES.includes(budgetName)) throw new UsageError(`--budget '${v.budget}' (allowed: ${BUDGET_NAMES.join(', ')})`);
  const budget = BUDGETS[budgetName];
  for (const f of ['alpha', 'beta', 'gamma', 'from', 'phi', 'target-macs'] as const) {
    if (v[f] !== undefined && name !== 'compound-vs-single' && !(name === 'family' && f !== 'phi' && f !== 'target-macs')) throw new UsageError(`--${f} does not apply to ${name}`);
  }
  if (v['family-phi'] !== undefined && name !== 'family') throw new UsageError(`--family-phi does not apply to ${name}`);
  const base = await baseFromFlags(v as Record<string, string>);
  const coeff = await coefficients(v);
  const phi = typeof v.phi === 'string' ? await parseNumber('phi', v.phi) : DEFAULT_PHI;
  if (!(phi > 0)) throw new UsageError(`--phi '${v.phi}' must be > 0`);
  const familyPhis = typeof v['family-phi'] === 'string' ? await parseSweep('family-phi', v['family-phi']) : FAMILY_PHIS[budgetName];
  if (familyPhis.some((p) => p < 0)) throw new UsageError(`--family-phi '${v['family-phi']}' must be >= 0`);
  const plan = experiment.plan({
    base, sweepLength: budget.sweepLength, coefficients: { alpha: coeff.alpha, beta: coeff.beta, gamma: coeff.gamma }, phi, familyPhis,
    ...(typeof v['target-macs'] === 'string' ? { targetMacs: await parseNumber('target-macs', v['target-macs']) } : {}),
  });
  const grid = buildPointSet({ members: plan.members.map((m) => ({ id: m.id, depth: m.depthMult, width: m.widthMult, resolution: m.resolutionMult })), base, describe: plan.describe });
  const { training, seeds, steps } = await trainingFromFlags(v as Record<string, string>, budget);
  const run = await runFromFlags(v as Record<string, string>);
  const settings: StudySettings = {
    grid: grid.canonical, training: training as unknown as Record<string, unknown>, seeds, halving: halvingPlan(steps, null),
    maxRetries: run.maxRetries, leaseMs: run.leaseMs,
  };
  const manifest = {
    kind: 'effscale-experiment' as const, version: 1 as const, name, title: experiment.title, paper: experiment.paper, budget: budgetName,
    createdAt: new Date().toISOString(), code: codeVersion(),
    settings: { base, budget: { ...budget, steps }, coefficients: coeff, ...plan.describe, training, seeds },
    members: plan.members.map((m) => ({
      id: m.id, series: m.series, dimension: m.dimension, depthMult: m.depthMult, widthMult: m.widthMult, resolutionMult: m.resolutionMult,
      alpha: m.compound?.alpha ?? null, beta: m.compound?.beta ?? null, gamma: m.compound?.gamma ?? null, phi: m.compound?.phi ?? null,
    })),
    costs: plan.costs,
  };
  return { experiment, budgetName, grid, settings, run, manifest };
}

export async function experimentCommand(argv: string[]): Promise<number | void> {
  const { values: v, positionals } = parseArgs({ args: argv, options: EXPERIMENT_FLAGS, allowPositionals: true, strict: true });
  if (v.help || positionals.length === 0) {
    console.log(EXPERIMENT_HELP);
    return;
  }
  if (positionals.length > 2) throw new UsageError(`experiment takes NAME [RUN_DIR], got ${positionals.length} arguments: ${positionals.join(' ')}`);
  const [name, dirArg] = positionals;
  return runExperiment(name, dirArg, v);
}

/** Run (or resume) one experiment into `dir`; returns the exit code. */
export async function runExperiment(name: string, dirArg: string | undefined, v: Values, opts: { quietFindings?: boolean } = {}): Promise<number> {
  const { grid, settings, run, manifest, budgetName } = await planExperiment(name, v);
  const dir = dirArg ?? join('runs', 'experiments', `${name}-${budgetName}`);
  const { EXPERIMENT_FILE, loadExperiment, makeReport } = await import('@effscale/report');
  const manifestFile = join(dir, EXPERIMENT_FILE);
  if (existsSync(join(dir, JOURNAL_FILE)) && !existsSync(manifestFile)) {
    throw new UsageError(`'${dir}' holds a search study, not an experiment; choose another RUN_DIR`);
  }
  ensureDir(dir, 'experiment directory');
  // Written once: the first run's definition stands (a changed one is refused by the study's settings check).
  if (!existsSync(manifestFile)) writeFileAtomic(manifestFile, JSON.stringify(manifest, null, 2) + '\n');
  const drawReport = async (running: boolean) => {
    await makeReport(await loadExperiment(dir, { running }), join(dir, 'report'));
  };
  const { code, state } = await runStudy({
    dir, settings, grid, workers: run.workers, gpus: run.gpus, label: name, report: v['no-report'] ? null : drawReport,
  });
  if (code !== 0) return code;
  const input = await loadExperiment(dir);
  writeFileAtomic(join(dir, 'rows.jsonl'), input.rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  writeFileAtomic(join(dir, 'rows.csv'), rowsCsv(input.rows));
  writeFileAtomic(join(dir, 'provenance.json'), JSON.stringify(input.provenance, null, 2) + '\n');
  if (!opts.quietFindings) {
    const { findingsFor } = await import('@effscale/report');
    for (const f of findingsFor(input)) process.stderr.write(`[${f.verdict}] ${f.text}\n`);
    process.stderr.write(`${state.trials.size} trainings; rows: ${join(dir, 'rows.csv')}${v['no-report'] ? '' : `; report: ${join(dir, 'report', 'index.html')}`}\n`);
  }
  return 0;
}
