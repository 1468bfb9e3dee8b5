import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  buildGrid, checkStudyName, DEFAULT_RANGES, formatGrid, halvingPlan, JOURNAL_FILE, openFileJournal, openPostgresJournal, replay, isFinished, runTrial,
  sleepTraining, SLEEP_TRIAL_ENV, trialsFor,
  type GridOptions, type JournalBackend, type StudySettings, type StudyState, type TrialMessage, type TrialTraining,
} from '@effscale/search';
import { StorageError } from '@effscale/core';
import { UsageError } from '../errors.js';
import { parseInteger, parseNumber } from '../numbers.js';
import { bestReport, exportRows, formatBest, formatStatus, rowsCsv } from './search-report.js';
import { runStudy, type StoredStudy } from '../study-runner.js';
import {
  BASE_FLAGS, SEARCH_DEFAULTS, STORAGE_FLAGS, TRAINING_FLAGS, WORKER_FLAGS, baseFromFlags, runFromFlags, storageFromFlags, trainingFromFlags, trialsDirFromFlags,
} from '../study-flags.js';

export const SEARCH_HELP = `effscale search: grid-search alpha, beta, gamma with durable, resumable studies

  effscale search run STUDY_DIR [grid] [base] [data] [recipe] [budget] [--workers 2] [--dry-run]
  effscale search status STUDY_DIR [--json]      trials and their states
  effscale search best STUDY_DIR [--json]        the ranking, the winner, the paper's point, seed spread
  effscale search export STUDY_DIR --json|--csv  one row per grid point and seed

Many machines (the study in PostgreSQL; STUDY_DIR becomes a study NAME):
  effscale search run NAME --storage postgresql://USER@HOST:5432/DB [grid ...] --workers 0   create (or check) it, queue its trials
  effscale search worker --storage URL --study NAME [--max-trials N] [--idle-exit S] [--trials-dir DIR] [--gpus 0]
                                                 claim, train, record until nothing is left (one per Slurm task / k8s pod)
  effscale search status|best|export NAME --storage URL ...;  effscale report NAME --storage URL [--out DIR]
  effscale search launch slurm|k8s --storage URL --study NAME --workers N [--submit]   print (or submit) the launchers
Storage: --storage URL, or EFFSCALE_STORAGE; @FILE reads the URL from a file; missing parts (and the password) come
         from PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD or ~/.pgpass. Passwords are never printed or stored.
         --trials-dir DIR (or EFFSCALE_TRIALS_DIR; default ./effscale-trials): trial run directories, DIR/NAME/trials/

Grid:    --alpha 1:2:0.1 --beta 1:1.5:0.1 --gamma 1:1.5:0.1 (ranges, lists 1.1,1.2 or one value; all >= 1)
         --constraint "alpha * beta^2 * gamma^2" --target 2 --tolerance 0.1 (kept: |value - target| < tolerance)
         --solve gamma (the solved coefficient makes the constraint exact) --include 1.2,1.1,1.15 (repeatable)
         --where "activationsRatio <= 2.2" (repeatable; also macsRatio, paramsRatio, macs, params, activations)
         --phi 1
Base:    --base-depth 0.5 --base-width 0.5 --base-resolution 32 (the documented proxy), --channels, --classes
Data:    --data fashion-mnist [--data-dir DIR] --train-limit 10000 (images trained on) --val-count 2000 (carved from
         the training images; every trial validates on the same ones) --test-limit 2000 (stratified)
Recipe:  --recipe proxy (any train recipe and its overrides: --lr --optimizer ...) --bn-momentum 0.9
Budget:  --epochs 1 | --steps N; --batch-size 32; --seeds 0,1; --halving [--eta 3] [--min-budget STEPS]
Run:     --workers 2 --max-retries 2 --lease 60 (seconds) --checkpoint-every 50 --backend wasm --gpus 0,1 (one per worker)
Report:  STUDY_DIR/report/index.html, redrawn after every finished trial (reloads itself while the study runs);
         --no-report to skip it; effscale report STUDY_DIR draws it at any time
A study is a directory with an append-only journal: kill it at any point and run the same command again.`;



const GRID_FLAGS = {
  alpha: { type: 'string' }, beta: { type: 'string' }, gamma: { type: 'string' }, constraint: { type: 'string' },
  target: { type: 'string' }, tolerance: { type: 'string' }, solve: { type: 'string' }, include: { type: 'string', multiple: true },
  where: { type: 'string', multiple: true }, phi: { type: 'string' }, ...BASE_FLAGS,
} as const;

const RUN_FLAGS = {
  ...GRID_FLAGS, ...TRAINING_FLAGS, ...WORKER_FLAGS,
  halving: { type: 'boolean' }, eta: { type: 'string' }, 'min-budget': { type: 'string' },
  'dry-run': { type: 'boolean' }, json: { type: 'boolean' }, 'no-report': { type: 'boolean' }, ...STORAGE_FLAGS,
  help: { type: 'boolean', short: 'h' },
} as const;

type RunValues = { [K in keyof typeof RUN_FLAGS]?: (typeof RUN_FLAGS)[K] extends { multiple: true } ? string[] : (typeof RUN_FLAGS)[K] extends { type: 'boolean' } ? boolean : string };

export async function searchCommand(argv: string[]): Promise<number | void> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'run':
      return searchRun(rest);
    case 'status':
    case 'best':
    case 'export':
      return searchRead(sub, rest);
    case 'trial':
      return searchTrial(rest);
    case 'worker':
      return (await import('./search-worker.js')).searchWorker(rest);
    case 'launch':
      return (await import('./search-launch.js')).searchLaunch(rest);
    case undefined:
    case '--help':
    case '-h':
      console.log(SEARCH_HELP);
      return;
    default:
      throw new UsageError(`unknown search command '${sub}' (allowed: run, status, best, export, worker, launch)`);
  }
}

// ---- search run ---------------------------------------------------------------------------------------------------

async function studyFromFlags(v: RunValues): Promise<{ settings: StudySettings; grid: Awaited<ReturnType<typeof buildGrid>>; workers: number; gpus: string[] }> {
  const num = async (flag: keyof RunValues, fallback: number) => (v[flag] !== undefined ? parseNumber(flag, v[flag] as string) : fallback);
  if (v.solve !== undefined && !['alpha', 'beta', 'gamma'].includes(v.solve)) throw new UsageError(`--solve '${v.solve}' (allowed: alpha, beta, gamma)`);
  const gridOpts: GridOptions = {
    alpha: v.alpha ?? (v.solve === 'alpha' ? '' : DEFAULT_RANGES.alpha),
    beta: v.beta ?? (v.solve === 'beta' ? '' : DEFAULT_RANGES.beta),
    gamma: v.gamma ?? (v.solve === 'gamma' ? '' : DEFAULT_RANGES.gamma),
    ...(v.constraint !== undefined ? { constraint: v.constraint } : {}),
    target: await num('target', 2),
    tolerance: await num('tolerance', 0.1),
    ...(v.solve !== undefined ? { solve: v.solve as 'alpha' | 'beta' | 'gamma' } : {}),
    include: v.include ?? [],
    where: v.where ?? [],
    phi: await num('phi', 1),
    base: await baseFromFlags(v),
  };
  const grid = await buildGrid(gridOpts);
  const { training, seeds, steps } = await trainingFromFlags(v, SEARCH_DEFAULTS);
  const halving = halvingPlan(steps, v.halving ? { eta: await num('eta', 3), minBudget: v['min-budget'] !== undefined ? await parseInteger('min-budget', v['min-budget']) : Math.max(1, Math.floor(steps / 9)) } : null);
  const run = await runFromFlags(v);
  // EFFSCALE_SLEEP_TRIALS=<ms> (tests of storage and workers only): trials that sleep and return a fixed result.
  const sleep = process.env[SLEEP_TRIAL_ENV];
  const trainingSettings = sleep !== undefined ? sleepTraining(Number(sleep)) : training;
  const settings: StudySettings = { grid: grid.canonical, training: trainingSettings as unknown as Record<string, unknown>, seeds, halving, maxRetries: run.maxRetries, leaseMs: run.leaseMs };
  return { settings, grid, workers: run.workers, gpus: run.gpus };
}

async function searchRun(argv: string[]): Promise<number | void> {
  const { values: v, positionals } = parseArgs({ args: argv, options: RUN_FLAGS, allowPositionals: true, strict: true });
  if (v.help) {
    console.log(SEARCH_HELP);
    return;
  }
  const { settings, grid, workers, gpus } = await studyFromFlags(v as RunValues);
  if (v['dry-run']) {
    const trials = trialsFor(grid.points, settings.seeds);
    if (v.json) console.log(JSON.stringify({ points: grid.points, trials, settings }, null, 2));
    else {
      console.log(formatGrid(grid));
      const distinct = new Set(trials.map((t) => t.signature)).size;
      console.log(`\n${grid.points.length} points, ${distinct} distinct networks, x ${settings.seeds.length} seed(s) = ${trials.length} trainings` +
        ` of ${settings.halving.rungs.at(-1)} steps${settings.halving.rungs.length > 1 ? ` (halving rungs ${settings.halving.rungs.join(', ')}, eta ${settings.halving.eta})` : ''}`);
    }
    return;
  }
  const url = storageFromFlags(v);
  const what = url ? 'study NAME (it lives in --storage)' : 'STUDY_DIR (a directory; created if missing)';
  const first = positionals[0];
  if (first === undefined) throw new UsageError(`search run needs a ${what}`);
  if (positionals.length > 1) throw new UsageError(`search run takes one ${what.split(' ')[0]}, got ${positionals.length}: ${positionals.join(' ')}`);
  if (!url && v['trials-dir'] !== undefined) throw new UsageError('--trials-dir applies to a study in --storage; a study directory keeps its trials inside it');
  const storage: StoredStudy | undefined = url ? { url, name: checkStudyName(first) } : undefined;
  const dir = storage ? trialsDirFromFlags(v, storage.name) : first;
  const { code, state } = await runStudy({
    dir, storage, settings, grid, workers, gpus, label: 'search',
    report: v['no-report'] || workers === 0 ? null : (running) => drawStudyReport(dir, running, storage),
  });
  if (code === 0 && isFinished(state)) process.stderr.write(formatBest(bestReport(state)) + '\n');
  return code;
}

async function drawStudyReport(dir: string, running: boolean, storage?: StoredStudy): Promise<void> {
  const { loadStudy, makeReport } = await import('@effscale/report');
  await makeReport(storage ? await loadStudy(storage.name, { running, storage: storage.url }) : await loadStudy(dir, { running }), join(dir, 'report'));
}

/** A stored study's journal, refused in one line when the study does not exist. */
export async function openStoredStudy(url: string, name: string): Promise<{ backend: JournalBackend; state: StudyState }> {
  const backend = await openPostgresJournal(url, checkStudyName(name), { readOnly: true });
  const records = await backend.read(0);
  if (records.length === 0) {
    await backend.close();
    throw new StorageError(`no study '${name}' in ${backend.target}; create it with: effscale search run ${name} --storage URL [grid flags] --workers 0`);
  }
  return { backend, state: replay(records) };
}

// ---- search trial (internal: one trial process) -------------------------------------------------------------------

async function searchTrial(argv: string[]): Promise<number> {
  const { values: v } = parseArgs({ args: argv, options: { study: { type: 'string' }, trial: { type: 'string' }, rung: { type: 'string' }, name: { type: 'string' } }, strict: true });
  if (v.study === undefined || v.trial === undefined || v.rung === undefined) throw new UsageError('search trial needs --study DIR --trial ID --rung N (started by search run)');
  const send = (m: TrialMessage) => process.send?.(m);
  // --name: the study is in EFFSCALE_STORAGE (set by the worker) under that name; --study is where the trial trains.
  const url = v.name !== undefined ? storageFromFlags({}) : null;
  if (v.name !== undefined && !url) throw new UsageError('search trial --name needs EFFSCALE_STORAGE (set by search worker)');
  const backend = url ? await openPostgresJournal(url, checkStudyName(v.name!), { readOnly: true }) : await openFileJournal(v.study, { readOnly: true });
  const [first] = await backend.read(0);
  await backend.close();
  if (first?.record.kind !== 'study') throw new UsageError(`'${v.study}' is not a study (no study record in its journal)`);
  const study = first.record;
  const trial = study.trials.find((t) => t.id === v.trial);
  if (!trial) throw new UsageError(`study '${v.study}' has no trial '${v.trial}'`);
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('disconnect', stop); // the worker died: checkpoint and leave, its claim will be taken over
  let lastSent = 0;
  const outcome = await runTrial({
    studyDir: v.study, trial, rung: Number(v.rung), training: study.settings.training as unknown as TrialTraining, halving: study.settings.halving,
    signal: controller.signal,
    onStep: (step, total) => {
      if (Date.now() - lastSent > 500 || step === total) {
        lastSent = Date.now();
        send({ type: 'step', step, total });
      }
    },
  });
  send(outcome === 'interrupted' ? { type: 'interrupted' } : { type: 'outcome', outcome });
  process.disconnect?.();
  return 0;
}

// ---- search status / best / export --------------------------------------------------------------------------------

async function searchRead(sub: 'status' | 'best' | 'export', argv: string[]): Promise<void> {
  const { values: v, positionals } = parseArgs({
    args: argv, options: { json: { type: 'boolean' }, csv: { type: 'boolean' }, storage: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true,
  });
  if (v.help) {
    console.log(SEARCH_HELP);
    return;
  }
  const url = storageFromFlags(v);
  const dir = positionals[0];
  if (dir === undefined) throw new UsageError(`search ${sub} needs a ${url ? 'study NAME' : 'STUDY_DIR'}`);
  let state: StudyState;
  if (url) {
    const opened = await openStoredStudy(url, dir);
    state = opened.state;
    await opened.backend.close();
  } else {
    if (!existsSync(join(dir, JOURNAL_FILE))) throw new UsageError(`'${dir}' is not a study (no ${JOURNAL_FILE} there); create one with effscale search run`);
    const backend = await openFileJournal(dir, { readOnly: true, onWarning: (m) => process.stderr.write(`effscale: ${m}\n`) });
    state = replay(await backend.read(0));
    await backend.close();
  }
  if (sub === 'status') {
    console.log(v.json ? JSON.stringify(exportRows(state), null, 2) : formatStatus(state));
  } else if (sub === 'best') {
    const report = bestReport(state);
    console.log(v.json ? JSON.stringify(report, null, 2) : formatBest(report));
  } else {
    if (!v.json && !v.csv) throw new UsageError('search export needs --json or --csv');
    const rows = exportRows(state);
    process.stdout.write(v.json ? JSON.stringify(rows, null, 2) + '\n' : rowsCsv(rows));
  }
}
