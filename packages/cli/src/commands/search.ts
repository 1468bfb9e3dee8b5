import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { NetworkSpec } from '@effscale/core';
import { codeVersion, ensureDir, RECIPE_NAMES, type RecipeName } from '@effscale/core/train';
import {
  buildGrid, checkSettings, DEFAULT_RANGES, formatGrid, halvingPlan, JOURNAL_FILE, openFileJournal, replay, isFinished, loadState, summarize, runTrial, runWorker, trialDir, trialsFor,
  type GridOptions, type JournalBackend, type StudySettings, type StudyState, type TrialMessage, type TrialTraining, type WorkerEvent,
} from '@effscale/search';
import { UsageError } from '../errors.js';
import { parseInteger, parseNumber } from '../numbers.js';
import { createProgress } from '../progress.js';
import { onStopSignals, signalExit } from '../signals.js';
import { DATA_OPTIONS, checkBackendFlag, dataFromFlags } from '../data-flags.js';
import { DEFAULT_PROXY, RECIPE_FLAGS, recipeOverrides } from './train.js';
import { bestReport, exportRows, formatBest, formatStatus, rowsCsv } from './search-report.js';

export const SEARCH_HELP = `effscale search: grid-search alpha, beta, gamma with durable, resumable studies

  effscale search run STUDY_DIR [grid] [base] [data] [recipe] [budget] [--workers 2] [--dry-run]
  effscale search status STUDY_DIR [--json]      trials and their states
  effscale search best STUDY_DIR [--json]        the ranking, the winner, the paper's point, seed spread
  effscale search export STUDY_DIR --json|--csv  one row per grid point and seed

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

/**
 * Test images each trial evaluates at its end. The full Fashion-MNIST test set costs ~8.6 s per trial (more than the
 * start-up, data and validation together); 2,000 stratified images cost ~1.7 s with a standard error near 0.9 points.
 * Test accuracy is reported, never used to choose; give --test-limit 10000 for the whole set.
 */
const DEFAULT_TEST_LIMIT = 2000;

const BIN = fileURLToPath(new URL('../../bin/effscale.js', import.meta.url));

const GRID_FLAGS = {
  alpha: { type: 'string' }, beta: { type: 'string' }, gamma: { type: 'string' }, constraint: { type: 'string' },
  target: { type: 'string' }, tolerance: { type: 'string' }, solve: { type: 'string' }, include: { type: 'string', multiple: true },
  where: { type: 'string', multiple: true }, phi: { type: 'string' },
  'base-depth': { type: 'string' }, 'base-width': { type: 'string' }, 'base-resolution': { type: 'string' },
  channels: { type: 'string' }, classes: { type: 'string' },
} as const;

const RUN_FLAGS = {
  ...GRID_FLAGS, ...DATA_OPTIONS, ...RECIPE_FLAGS,
  recipe: { type: 'string' }, 'bn-momentum': { type: 'string' }, dropout: { type: 'string' },
  epochs: { type: 'string' }, steps: { type: 'string' }, 'batch-size': { type: 'string' }, seeds: { type: 'string' },
  halving: { type: 'boolean' }, eta: { type: 'string' }, 'min-budget': { type: 'string' },
  workers: { type: 'string' }, 'max-retries': { type: 'string' }, lease: { type: 'string' }, 'checkpoint-every': { type: 'string' },
  backend: { type: 'string' }, gpus: { type: 'string' }, 'dry-run': { type: 'boolean' }, json: { type: 'boolean' }, 'no-report': { type: 'boolean' },
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
    case undefined:
    case '--help':
    case '-h':
      console.log(SEARCH_HELP);
      return;
    default:
      throw new UsageError(`unknown search command '${sub}' (allowed: run, status, best, export)`);
  }
}

// ---- search run ---------------------------------------------------------------------------------------------------

async function studyFromFlags(v: RunValues): Promise<{ settings: StudySettings; grid: Awaited<ReturnType<typeof buildGrid>>; workers: number; gpus: string[] }> {
  const num = async (flag: keyof RunValues, fallback: number) => (v[flag] !== undefined ? parseNumber(flag, v[flag] as string) : fallback);
  const int = async (flag: keyof RunValues, fallback: number, min = 1) => (v[flag] !== undefined ? parseInteger(flag, v[flag] as string, min) : fallback);
  const base: NetworkSpec = {
    selector: { kind: 'multipliers', depth: await num('base-depth', DEFAULT_PROXY.depth), width: await num('base-width', DEFAULT_PROXY.width),
      resolution: await int('base-resolution', DEFAULT_PROXY.resolution) },
    inputChannels: await int('channels', 1),
    classes: await int('classes', 10),
  };
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
    base,
  };
  const grid = await buildGrid(gridOpts);

  const recipe = (v.recipe ?? 'proxy') as RecipeName;
  if (!RECIPE_NAMES.includes(recipe)) throw new UsageError(`--recipe '${v.recipe}' is not a recipe (allowed: ${RECIPE_NAMES.join(', ')})`);
  const data = await dataFromFlags({ ...v, data: v.data ?? 'fashion-mnist' });
  const valCount = data.valCount ?? (data.valFraction === undefined ? 2000 : undefined);
  const trainImages = await int('train-limit', 10_000);
  checkBackendFlag(v.backend);
  const batchSize = await int('batch-size', 32);
  if (v.epochs !== undefined && v.steps !== undefined) throw new UsageError('give a budget in --epochs or --steps, not both');
  // --train-limit counts the images trained on; the val split is carved from the training set, so load both.
  const steps = v.steps !== undefined ? await int('steps', 1) : Math.floor(trainImages / batchSize) * (await int('epochs', 1));
  const training: TrialTraining = {
    recipe,
    overrides: { ...(await recipeOverrides(v)), ...(v.dropout !== undefined ? { dropout: await parseNumber('dropout', v.dropout) } : {}) },
    data: { name: data.name, ...(data.dir !== undefined ? { dir: data.dir } : {}), trainLimit: trainImages + (valCount ?? 0),
      ...(valCount !== undefined ? { valCount } : { valFraction: data.valFraction }),
      testLimit: data.testLimit ?? DEFAULT_TEST_LIMIT, seed: 0 },
    batchSize,
    backend: v.backend ?? 'wasm',
    checkpointEvery: await int('checkpoint-every', 50),
    bnMomentum: await num('bn-momentum', 0.9),
  };
  const seeds = (v.seeds ?? '0,1').split(',').map((s) => {
    const n = Number(s.trim());
    if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`--seeds '${v.seeds}': each seed must be a non-negative integer (e.g. 0,1,2)`);
    return n;
  });
  if (new Set(seeds).size !== seeds.length) throw new UsageError(`--seeds '${v.seeds}' repeats a seed`);
  const halving = halvingPlan(steps, v.halving ? { eta: await num('eta', 3), minBudget: await int('min-budget', Math.max(1, Math.floor(steps / 9))) } : null);
  const settings: StudySettings = {
    grid: grid.canonical, training: training as unknown as Record<string, unknown>, seeds, halving,
    maxRetries: await int('max-retries', 2, 0), leaseMs: (await num('lease', 60)) * 1000,
  };
  const workers = await int('workers', 2);
  const gpus = v.gpus !== undefined ? v.gpus.split(',').map((g) => g.trim()) : [];
  return { settings, grid, workers, gpus };
}

/** Creates the study, or checks that this command describes the same one. */
async function openStudy(dir: string, settings: StudySettings, grid: Awaited<ReturnType<typeof buildGrid>>, warn: (m: string) => void): Promise<{ backend: JournalBackend; state: StudyState }> {
  ensureDir(dir, 'study directory');
  const backend = await openFileJournal(dir, { onWarning: warn });
  for (;;) {
    const records = await backend.read(0);
    if (records.length > 0) {
      const state = replay(records);
      // Operational settings may change between runs; what defines the trials may not.
      const given = { ...settings, leaseMs: state.study.settings.leaseMs, maxRetries: state.study.settings.maxRetries };
      const diff = checkSettings(state.study.settings, given);
      if (diff) throw new UsageError(`'${dir}' holds a study with other settings: ${diff}; run it with its own settings, or start a new study directory`);
      return { backend, state };
    }
    const trials = trialsFor(grid.points, settings.seeds);
    const created = await backend.append([{ kind: 'study', version: 1, createdAt: new Date().toISOString(), settings, fingerprint: grid.fingerprint,
      points: grid.points, trials, code: codeVersion() }], 0);
    if (created) continue; // read it back through the same path as everyone else
  }
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
  const dir = positionals[0];
  if (dir === undefined) throw new UsageError('search run needs a STUDY_DIR (a directory; created if missing)');
  if (positionals.length > 1) throw new UsageError(`search run takes one STUDY_DIR, got ${positionals.length}: ${positionals.join(' ')}`);
  const progress = createProgress(process.stderr, 1);
  const { backend, state } = await openStudy(dir, settings, grid, (m) => progress.log(`effscale: ${m}`));

  const total = state.trials.size;
  const stop = onStopSignals((sig) =>
    progress.log(`${sig === 'SIGINT' ? 'interrupt' : sig}: stopping the running trials at their next step (they checkpoint); run the same command to continue`));
  /** Trials that ended (done, diverged, failed, stopped), running, and the rest. */
  const counts = () => {
    const { byState } = summarize(latest);
    const done = byState.done + byState.diverged + byState.failed + byState.stopped;
    return { done, running: byState.running, pending: total - done - byState.running };
  };
  let latest = state;
  const points = new Map(state.study.points.map((p) => [p.id, p]));
  const started = Date.now();
  const onEvent = (e: WorkerEvent) => {
    if (e.type === 'idle') latest = e.state;
    if (e.type === 'finished') {
      const t = latest.trials.get(e.trial);
      const spec = t?.spec ?? state.trials.get(e.trial)?.spec;
      const o = e.outcome;
      const names = spec ? spec.points.map((id) => points.get(id)?.id ?? id).join(' = ') : e.trial;
      const metric = o.valTop1 !== undefined ? `val top-1 ${(o.valTop1 * 100).toFixed(2)}%` : o.error ?? '';
      progress.log(`${names} seed ${spec?.seed}: rung ${e.rung} ${o.status}${metric ? `, ${metric}` : ''} (${(o.wallSeconds ?? 0).toFixed(1)} s)` +
        `${e.recorded ? '' : ' [not recorded: lease lost]'}`);
      if (e.recorded) report?.refresh();
    }
    if (e.type === 'lost-lease') progress.log(`worker ${e.worker}: lost the lease of ${e.trial}; another worker owns it now`);
  };
  progress.log(`study ${dir}: ${state.study.points.length} points, ${total} trials, ${settings.halving.rungs.length} rung(s), ${workers} worker(s)`);
  const report = v['no-report'] ? null : liveReport(dir, (m) => progress.log(`effscale: ${m}`));
  if (report) progress.log(`report: ${join(dir, 'report', 'index.html')} (refreshed after every finished trial)`);
  report?.refresh();
  const refresh = setInterval(async () => {
    try {
      latest = await loadState(backend);
      const c = counts();
      progress.update(c.done, { running: String(c.running), pending: String(c.pending) });
    } catch {
      // a read racing an append: the next tick reads again
    }
  }, 2000);
  progress.start(total, counts().done, 'search', 'trials');
  try {
    await Promise.all(Array.from({ length: workers }, (_, index) => runWorker({
      backend, index, signal: stop.signal, onEvent,
      spawnTrial: (job) => spawnTrial(dir, job, gpus[index % Math.max(1, gpus.length)]),
    })));
  } finally {
    clearInterval(refresh);
    stop.dispose();
    progress.stop();
  }
  latest = await loadState(backend);
  await backend.close();
  await report?.close();
  const signalled = stop.received();
  if (signalled) return signalExit(signalled);
  const c = counts();
  progress.log(`study ${dir}: ${c.done}/${total} trials finished in ${((Date.now() - started) / 1000).toFixed(1)} s${isFinished(latest) ? '' : ' (others still running elsewhere)'}`);
  if (isFinished(latest)) progress.log(formatBest(bestReport(latest)));
  return 0;
}

function spawnTrial(dir: string, job: { trial: string; rung: number; attempt: number }, gpu: string | undefined): ChildProcess {
  const logDir = trialDir(dir, job.trial);
  mkdirSync(logDir, { recursive: true });
  const child = spawn(process.execPath, [BIN, 'search', 'trial', '--study', dir, '--trial', job.trial, '--rung', String(job.rung)], {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    env: { ...process.env, ...(gpu !== undefined ? { CUDA_VISIBLE_DEVICES: gpu } : {}) },
  });
  child.stderr?.pipe(createWriteStream(join(logDir, 'trial.log'), { flags: 'a' }));
  return child;
}

/**
 * The study's report, redrawn after each finished trial: one drawing at a time, and a request made while one runs
 * coalesces into one more. A failed drawing is one line; it never stops the study.
 */
function liveReport(dir: string, log: (m: string) => void): { refresh(): void; close(): Promise<void> } {
  let running: Promise<void> | null = null;
  let again = false;
  const draw = async (running: boolean) => {
    const { loadStudy, makeReport } = await import('@effscale/report');
    try {
      await makeReport(await loadStudy(dir, { running }), join(dir, 'report'));
    } catch (e) {
      log(`the report was not redrawn: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
    }
  };
  const refresh = () => {
    if (running) {
      again = true;
      return;
    }
    running = (async () => {
      do {
        again = false;
        await draw(true);
      } while (again);
      running = null;
    })();
  };
  return {
    refresh,
    async close() {
      while (running) await running;
      // The last drawing, from the study's final state: live only while another process still runs trials of it.
      await draw(false);
    },
  };
}

// ---- search trial (internal: one trial process) -------------------------------------------------------------------

async function searchTrial(argv: string[]): Promise<number> {
  const { values: v } = parseArgs({ args: argv, options: { study: { type: 'string' }, trial: { type: 'string' }, rung: { type: 'string' } }, strict: true });
  if (v.study === undefined || v.trial === undefined || v.rung === undefined) throw new UsageError('search trial needs --study DIR --trial ID --rung N (started by search run)');
  const send = (m: TrialMessage) => process.send?.(m);
  const backend = await openFileJournal(v.study, { readOnly: true });
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
    args: argv, options: { json: { type: 'boolean' }, csv: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true,
  });
  if (v.help) {
    console.log(SEARCH_HELP);
    return;
  }
  const dir = positionals[0];
  if (dir === undefined) throw new UsageError(`search ${sub} needs a STUDY_DIR`);
  if (!existsSync(join(dir, JOURNAL_FILE))) throw new UsageError(`'${dir}' is not a study (no ${JOURNAL_FILE} there); create one with effscale search run`);
  const backend = await openFileJournal(dir, { readOnly: true, onWarning: (m) => process.stderr.write(`effscale: ${m}\n`) });
  const state = replay(await backend.read(0));
  await backend.close();
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
