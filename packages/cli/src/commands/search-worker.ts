/**
 * `effscale search worker`: what one Slurm array task or one Kubernetes pod runs. Joins a study stored in PostgreSQL,
 * claims a trial, trains it (its own process, as `search run` does), records the result, and again, until nothing is
 * left (or --max-trials, or --idle-exit seconds with nothing claimable while others still run trials). SIGTERM (scancel,
 * pod deletion) stops the running trial at its next step (it checkpoints) and gives its claim back, so nothing is lost.
 */
import { parseArgs } from 'node:util';
import { isFinished, openPostgresJournal, ownerId, replay, runWorker, summarize, checkStudyName, type WorkerEvent } from '@effscale/search';
import { StorageError } from '@effscale/core';
import { UsageError } from '../errors.js';
import { parseInteger, parseNumber } from '../numbers.js';
import { signalExit } from '../signals.js';
import { STORAGE_FLAGS, storageFromFlags, trialsDirFromFlags } from '../study-flags.js';
import { spawnTrial } from '../study-runner.js';

export const WORKER_HELP = `effscale search worker: join a study stored in PostgreSQL and run its trials until none is left

  effscale search worker --storage postgresql://USER@HOST:5432/DB --study NAME [--max-trials N] [--idle-exit SECONDS]
                         [--trials-dir DIR] [--workers 1] [--gpus 0,1]
--storage: or EFFSCALE_STORAGE (@FILE reads it from a file; PG* variables and ~/.pgpass fill what it leaves out)
--trials-dir: where trial run directories go (a shared filesystem lets a halving rung resume on another node), DIR/NAME/trials/
--idle-exit: leave after this many seconds with nothing claimable (default: wait until the study is finished)
Exit status: 0 when the study is finished or a limit was reached, 143 after SIGTERM (claims given back).`;

export async function searchWorker(argv: string[]): Promise<number | void> {
  const { values: v, positionals } = parseArgs({
    args: argv, strict: true, allowPositionals: true,
    options: { ...STORAGE_FLAGS, study: { type: 'string' }, 'max-trials': { type: 'string' }, 'idle-exit': { type: 'string' }, workers: { type: 'string' }, gpus: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (v.help) {
    console.log(WORKER_HELP);
    return;
  }
  if (positionals.length) throw new UsageError(`search worker takes no positional arguments (got ${positionals.join(' ')}); name the study with --study NAME`);
  const url = storageFromFlags(v);
  if (!url) throw new UsageError('search worker needs --storage postgresql://... (or EFFSCALE_STORAGE): workers share a study stored in PostgreSQL');
  if (v.study === undefined) throw new UsageError('search worker needs --study NAME (create the study with effscale search run NAME --storage URL --workers 0)');
  const name = checkStudyName(v.study);
  const maxTrials = v['max-trials'] !== undefined ? await parseInteger('max-trials', v['max-trials'], 1) : undefined;
  const idleExitMs = v['idle-exit'] !== undefined ? (await parseNumber('idle-exit', v['idle-exit'])) * 1000 : undefined;
  if (idleExitMs !== undefined && !(idleExitMs >= 0)) throw new UsageError(`--idle-exit '${v['idle-exit']}' must be a number of seconds >= 0`);
  const workers = v.workers !== undefined ? await parseInteger('workers', v.workers, 1) : 1;
  const gpus = v.gpus !== undefined ? v.gpus.split(',').map((g) => g.trim()) : [];
  const dir = trialsDirFromFlags(v, name);

  // A worker may start before its database is up (a Slurm array and a fresh server): wait for it a while.
  const backend = await openPostgresJournal(url, name, { waitForServerMs: 60_000 });
  const records = await backend.read(0);
  if (records.length === 0) {
    await backend.close();
    throw new StorageError(`no study '${name}' in ${backend.target}; create it with: effscale search run ${name} --storage URL [grid flags] --workers 0`);
  }
  const study = replay(records).study;
  const log = (m: string) => process.stderr.write(`${new Date().toISOString()} ${m}\n`);
  const stop = stopSignals((sig) => log(`${sig}: stopping the running trial at its next step (it checkpoints) and giving its claim back`));
  const idle = new AbortController();
  const abort = new AbortController();
  stop.signal.addEventListener('abort', () => abort.abort(), { once: true });
  idle.signal.addEventListener('abort', () => abort.abort(), { once: true });
  let idleSince: number | null = null;
  let claimed = 0, recorded = 0;
  log(`worker ${ownerId(0)} on study '${name}' in ${backend.target}: ${study.trials.length} trials, trial runs in ${dir}`);
  const onEvent = (e: WorkerEvent) => {
    if (e.type === 'idle') {
      idleSince ??= Date.now();
      if (idleExitMs !== undefined && Date.now() - idleSince >= idleExitMs) {
        log(`nothing to claim for ${(idleExitMs / 1000).toFixed(0)} s (${summarize(e.state).byState.running} trials running elsewhere): leaving (--idle-exit)`);
        idle.abort();
      }
      return;
    }
    idleSince = null;
    if (e.type === 'claimed') {
      claimed++;
      log(`worker ${e.worker}: claimed ${e.trial} rung ${e.rung} attempt ${e.attempt}`);
    } else if (e.type === 'finished') {
      if (e.recorded) recorded++;
      const o = e.outcome;
      log(`worker ${e.worker}: ${e.trial} rung ${e.rung} ${o.status}${o.valTop1 !== undefined ? ` val top-1 ${(o.valTop1 * 100).toFixed(2)}%` : o.error ? `: ${o.error}` : ''}${e.recorded ? '' : ' [not recorded: lease lost]'}`);
    } else if (e.type === 'released') {
      log(`worker ${e.worker}: gave back ${e.trial} rung ${e.rung}`);
    } else if (e.type === 'lost-lease') {
      log(`worker ${e.worker}: lost the lease of ${e.trial}; another worker owns it now`);
    }
  };
  try {
    await Promise.all(Array.from({ length: workers }, (_, index) => runWorker({
      backend, index, signal: abort.signal, onEvent, ...(maxTrials !== undefined ? { maxTrials } : {}),
      spawnTrial: (job) => spawnTrial(dir, study, job, gpus.length ? gpus[index % gpus.length] : undefined, { url, name }),
    })));
  } finally {
    stop.dispose();
  }
  const state = replay(await backend.read(0));
  await backend.close();
  const s = summarize(state);
  const ended = s.byState.done + s.byState.diverged + s.byState.failed + s.byState.stopped;
  log(`worker done: ${claimed} claimed, ${recorded} recorded; study '${name}': ${ended}/${s.total} trials ended${isFinished(state) ? ' (finished)' : ''}`);
  const sig = stop.received();
  return sig ? signalExit(sig) : 0;
}

/**
 * The first SIGTERM or SIGINT stops the worker cleanly. A scheduler may deliver SIGTERM twice (scancel signals every
 * process of the task, and the batch script passes its own on): later SIGTERMs are ignored (the scheduler's SIGKILL
 * after its grace period is the hard stop); a second Ctrl-C quits at once.
 */
function stopSignals(onFirst: (signal: NodeJS.Signals) => void): { signal: AbortSignal; received: () => NodeJS.Signals | undefined; dispose: () => void } {
  const controller = new AbortController();
  let received: NodeJS.Signals | undefined;
  const handler = (signal: NodeJS.Signals) => {
    if (received !== undefined) {
      if (signal === 'SIGINT') process.exit(signalExit(signal));
      return;
    }
    received = signal;
    onFirst(signal);
    controller.abort();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return { signal: controller.signal, received: () => received, dispose: () => (process.off('SIGINT', handler), process.off('SIGTERM', handler)) };
}
