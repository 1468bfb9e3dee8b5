/**
 * Running a study on this machine: create it or check it is the same, N workers each spawning one trial process at a
 * time, progress, signals, and the study's live report. `search run` and `experiment` both run through here.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { codeVersion, ensureDir } from '@effscale/core/train';
import {
  checkSettings, isFinished, isSleepTraining, loadState, openFileJournal, openPostgresJournal, replay, runWorker, sleepTrialProcess, summarize, trialDir, trialsFor,
  type GridPoint, type JournalBackend, type StudySettings, type StudyState, type WorkerEvent,
} from '@effscale/search';
import { UsageError } from './errors.js';
import { createProgress } from './progress.js';
import { onStopSignals, signalExit } from './signals.js';

const BIN = fileURLToPath(new URL('../bin/effscale.js', import.meta.url));

/** The points a study trains and the fingerprint of what defines them (a search grid or an experiment's members). */
export interface StudyPoints {
  points: GridPoint[];
  fingerprint: string;
}

/** Draws the study's report; `running`: the study is being run by this process, so the page stays live. */
export type ReportDrawer = (running: boolean) => Promise<void>;

/** A study stored in a database instead of a directory: its storage URL and name. */
export interface StoredStudy {
  url: string;
  name: string;
}

export interface RunStudyOptions {
  /** The study directory; for a stored study, where its trials' run directories (and its report) go. */
  dir: string;
  /** Set: the journal is this database study, not `dir`'s journal file. */
  storage?: StoredStudy;
  settings: StudySettings;
  grid: StudyPoints;
  workers: number;
  gpus: string[];
  /** Progress bar label. */
  label: string;
  report: ReportDrawer | null;
}

/** Creates the study, or checks that this command describes the same one. */
export async function openStudy(dir: string, settings: StudySettings, grid: StudyPoints, warn: (m: string) => void, storage?: StoredStudy): Promise<{ backend: JournalBackend; state: StudyState }> {
  let backend: JournalBackend;
  let where = `'${dir}'`;
  let fresh = 'start a new study directory';
  if (storage) {
    const pg = await openPostgresJournal(storage.url, storage.name);
    backend = pg;
    where = `study '${storage.name}' in ${pg.target}`;
    fresh = 'choose another study name';
  } else {
    ensureDir(dir, 'study directory');
    backend = await openFileJournal(dir, { onWarning: warn });
  }
  for (;;) {
    const records = await backend.read(0);
    if (records.length > 0) {
      const state = replay(records);
      // Operational settings may change between runs; what defines the trials may not.
      const given = { ...settings, leaseMs: state.study.settings.leaseMs, maxRetries: state.study.settings.maxRetries };
      const diff = checkSettings(state.study.settings, given);
      if (diff) {
        await backend.close();
        throw new UsageError(`${where} holds a study with other settings: ${diff}; run it with its own settings, or ${fresh}`);
      }
      return { backend, state };
    }
    const trials = trialsFor(grid.points, settings.seeds);
    const created = await backend.append([{ kind: 'study', version: 1, createdAt: new Date().toISOString(), settings, fingerprint: grid.fingerprint,
      points: grid.points, trials, code: codeVersion() }], 0);
    if (created) continue; // read it back through the same path as everyone else
  }
}


/** Run the study's trials until none is left (or a stop signal): the exit code and the final state. */
export async function runStudy(opts: RunStudyOptions): Promise<{ code: number; state: StudyState }> {
  const { dir, settings, grid, workers, gpus } = opts;
  const progress = createProgress(process.stderr, 1);
  const { backend, state } = await openStudy(dir, settings, grid, (m) => progress.log(`effscale: ${m}`), opts.storage);
  const name = opts.storage ? `${opts.storage.name} (${(backend as { target?: string }).target})` : dir;

  const total = state.trials.size;
  if (workers === 0) {
    const s = summarize(state);
    const left = total - s.byState.done - s.byState.diverged - s.byState.failed - s.byState.stopped;
    progress.log(`study ${name}: ${state.study.points.length} points, ${total} trials (${left} to run, ${s.byState.running} running); no local workers (--workers 0)`);
    if (opts.storage) progress.log(`start workers with: effscale search worker --storage URL --study ${opts.storage.name} (or submit deploy/slurm/effscale-workers.sbatch)`);
    await backend.close();
    return { code: 0, state };
  }
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
  progress.log(`study ${name}: ${state.study.points.length} points, ${total} trials, ${settings.halving.rungs.length} rung(s), ${workers} worker(s)`);
  const report = opts.report ? liveReport(opts.report, (m) => progress.log(`effscale: ${m}`)) : null;
  if (report) progress.log(`report: ${join(dir, 'report', 'index.html')} (redrawn after every finished trial)`);
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
  progress.start(total, counts().done, opts.label, 'trials');
  try {
    await Promise.all(Array.from({ length: workers }, (_, index) => runWorker({
      backend, index, signal: stop.signal, onEvent,
      spawnTrial: (job) => spawnTrial(dir, state.study, job, gpus[index % Math.max(1, gpus.length)], opts.storage),
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
  if (signalled) return { code: signalExit(signalled), state: latest };
  const c = counts();
  progress.log(`study ${name}: ${c.done}/${total} trials finished in ${((Date.now() - started) / 1000).toFixed(1)} s${isFinished(latest) ? '' : ' (others still running elsewhere)'}`);
  return { code: 0, state: latest };
}


/**
 * The process that runs one (trial, rung): `effscale search trial`, training into dir/trials/ID. A stored study's URL
 * goes to it in its environment, never on its command line (where `ps` would show a password).
 */
export function spawnTrial(dir: string, study: StudyState['study'], job: { trial: string; rung: number; attempt: number }, gpu: string | undefined, storage?: StoredStudy): ChildProcess {
  if (isSleepTraining(study.settings.training)) return sleepTrialProcess(job, study.settings.training, study.settings.halving);
  const logDir = trialDir(dir, job.trial);
  mkdirSync(logDir, { recursive: true });
  const args = [BIN, 'search', 'trial', '--study', dir, '--trial', job.trial, '--rung', String(job.rung), ...(storage ? ['--name', storage.name] : [])];
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    env: { ...process.env, ...(storage ? { EFFSCALE_STORAGE: storage.url } : {}), ...(gpu !== undefined ? { CUDA_VISIBLE_DEVICES: gpu } : {}) },
  });
  child.stderr?.pipe(createWriteStream(join(logDir, 'trial.log'), { flags: 'a' }));
  return child;
}

/**
 * The study's report, redrawn after each finished trial: one drawing at a time, and a request made while one runs
 * coalesces into one more. A failed drawing is one line; it never stops the study.
 */
function liveReport(drawReport: ReportDrawer, log: (m: string) => void): { refresh(): void; close(): Promise<void> } {
  let running: Promise<void> | null = null;
  let again = false;
  const draw = async (live: boolean) => {
    try {
      await drawReport(live);
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

