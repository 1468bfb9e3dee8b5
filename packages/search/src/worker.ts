import type { ChildProcess } from 'node:child_process';
import {
  appendWithRetry, claimRecord, heartbeatRecord, holdsClaim, isFinished, isOwnerAliveLocal, nextClaim, ownerId, releaseRecord, resultRecord, storageNow,
  type ClaimRecord, type ClaimRef, type StudyState,
} from './study.js';
import type { JournalBackend, TrialOutcome } from './types.js';

/** What a worker tells its caller (the CLI draws progress from it). */
export type WorkerEvent =
  | { type: 'claimed'; worker: number; trial: string; rung: number; attempt: number }
  | { type: 'step'; worker: number; trial: string; step: number; total: number }
  | { type: 'finished'; worker: number; trial: string; rung: number; attempt: number; outcome: TrialOutcome; recorded: boolean }
  | { type: 'released'; worker: number; trial: string; rung: number }
  | { type: 'lost-lease'; worker: number; trial: string; rung: number }
  | { type: 'idle'; worker: number; state: StudyState };

/** Messages a trial process sends over its IPC channel. */
export type TrialMessage = { type: 'step'; step: number; total: number } | { type: 'outcome'; outcome: TrialOutcome } | { type: 'interrupted' };

export interface WorkerOptions {
  backend: JournalBackend;
  index: number;
  /** Starts the process that trains (trial, rung); it must have an IPC channel and send TrialMessages. */
  spawnTrial: (job: { trial: string; rung: number; attempt: number; worker: number }) => ChildProcess;
  /** Aborting stops the worker: its running trial is sent SIGTERM (it checkpoints), and the claim is released. */
  signal?: AbortSignal;
  onEvent?: (e: WorkerEvent) => void;
  /** How long to wait before looking again when nothing is claimable but the study is not finished (ms). */
  pollMs?: number;
  /** Claim at most this many trials, then stop (for tests and for `search worker --max-trials`). */
  maxTrials?: number;
}

/** Resolves after `ms`, or at once on abort; either way the abort listener goes (a waiting worker polls many times). */
const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((done) => {
    const wake = () => {
      clearTimeout(t);
      signal?.removeEventListener('abort', wake);
      done();
    };
    const t = setTimeout(wake, ms);
    signal?.addEventListener('abort', wake, { once: true });
  });

/**
 * One worker: claim the next (trial, rung) through the journal, run it as its own process while renewing the lease,
 * record the outcome. A claim is one compare-and-append, so two workers (in this process or any other) never run the
 * same point; a worker that lost its lease records nothing; a dead worker's claim is taken over when its lease runs
 * out (at once, when its process is known dead on this host).
 */
export async function runWorker(opts: WorkerOptions): Promise<void> {
  const owner = ownerId(opts.index);
  const { backend, signal } = opts;
  let claimedCount = 0;
  while (!signal?.aborted && (opts.maxTrials === undefined || claimedCount < opts.maxTrials)) {
    const { appended, state } = await appendWithRetry(backend, (st) => {
      const now = storageNow(backend);
      const c = nextClaim(st, now, isOwnerAliveLocal);
      return c ? [claimRecord(c, owner, now, st.study.settings.leaseMs)] : null;
    });
    if (!appended) {
      if (isFinished(state)) return;
      opts.onEvent?.({ type: 'idle', worker: opts.index, state });
      await sleep(opts.pollMs ?? Math.min(1000, Math.max(50, state.study.settings.leaseMs / 10)), signal);
      continue;
    }
    const claim = appended[0] as ClaimRecord;
    if (!holdsClaim(state, { trial: claim.trial, rung: claim.rung, attempt: claim.attempt, owner })) {
      // Stored, but it does not count: a takeover decided on a clock ahead of the storage's. Look again shortly.
      await sleep(opts.pollMs ?? Math.min(1000, Math.max(50, state.study.settings.leaseMs / 10)), signal);
      continue;
    }
    claimedCount++;
    opts.onEvent?.({ type: 'claimed', worker: opts.index, trial: claim.trial, rung: claim.rung, attempt: claim.attempt });
    await runClaim(opts, owner, claim, state.study.settings.leaseMs);
  }
}

async function runClaim(opts: WorkerOptions, owner: string, claim: ClaimRecord, leaseMs: number): Promise<void> {
  const ref: ClaimRef = { trial: claim.trial, rung: claim.rung, attempt: claim.attempt, owner };
  const { backend, signal } = opts;
  const spawned = Date.now();
  const child = opts.spawnTrial({ trial: claim.trial, rung: claim.rung, attempt: claim.attempt, worker: opts.index });
  let outcome: TrialOutcome | undefined;
  let interrupted = false;
  let lost = false;
  child.on('message', (m: TrialMessage) => {
    if (m.type === 'outcome') outcome = m.outcome;
    else if (m.type === 'interrupted') interrupted = true;
    else if (m.type === 'step') opts.onEvent?.({ type: 'step', worker: opts.index, trial: claim.trial, step: m.step, total: m.total });
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => {
    child.on('exit', (code, sig) => done({ code, signal: sig }));
    child.on('error', () => done({ code: null, signal: null }));
  });
  const stop = () => child.kill('SIGTERM');
  signal?.addEventListener('abort', stop, { once: true });

  // Renew the lease a few times per lease period; a worker that finds its claim taken stops its trial.
  let renewing = Promise.resolve();
  const heartbeat = setInterval(() => {
    renewing = renewing.then(async () => {
      const { appended } = await appendWithRetry(backend, (st) => (holdsClaim(st, ref) ? [heartbeatRecord(ref, storageNow(backend), leaseMs)] : null));
      if (!appended && !lost) {
        lost = true;
        opts.onEvent?.({ type: 'lost-lease', worker: opts.index, trial: claim.trial, rung: claim.rung });
        child.kill('SIGTERM');
      }
    }).catch(() => undefined);
  }, Math.max(20, leaseMs / 3));

  const exit = await exited;
  clearInterval(heartbeat);
  await renewing;
  signal?.removeEventListener('abort', stop);
  if (lost) return;

  if (interrupted || (signal?.aborted && outcome === undefined)) {
    await appendWithRetry(backend, (st) => (holdsClaim(st, ref) ? [releaseRecord(ref, storageNow(backend))] : null));
    opts.onEvent?.({ type: 'released', worker: opts.index, trial: claim.trial, rung: claim.rung });
    return;
  }
  const processSeconds = (Date.now() - spawned) / 1000;
  const ended: TrialOutcome = outcome ? { ...outcome, processSeconds } : {
    processSeconds,
    status: 'failed', step: 0,
    error: `the trial process ended without a result (${exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`})`,
  };
  const { appended } = await appendWithRetry(backend, (st) => (holdsClaim(st, ref) ? [resultRecord(ref, storageNow(backend), ended)] : null));
  opts.onEvent?.({ type: 'finished', worker: opts.index, trial: claim.trial, rung: claim.rung, attempt: claim.attempt, outcome: ended, recorded: appended !== null });
}
