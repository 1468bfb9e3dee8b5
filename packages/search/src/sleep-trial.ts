/**
 * A trial kind for storage tests only: it sleeps and returns a result that depends only on the trial and the rung, so
 * many workers exercise claims, leases and results without training anything. A study gets it only when created with
 * EFFSCALE_SLEEP_TRIALS=<ms> set (not in any help text); workers run it in their own process, as a stand-in for the
 * trial process (the same messages and exit), so a worker's claim loop is exactly the one that trains.
 */
import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { crc32 } from './journal/backend.js';
import type { HalvingPlan, TrialOutcome } from './types.js';
import type { TrialMessage } from './worker.js';

export const SLEEP_TRIAL_ENV = 'EFFSCALE_SLEEP_TRIALS';

export interface SleepTraining {
  kind: 'sleep';
  /** How long each trial sleeps (ms). */
  ms: number;
}

export function isSleepTraining(t: unknown): t is SleepTraining {
  return typeof t === 'object' && t !== null && (t as { kind?: unknown }).kind === 'sleep';
}

export function sleepTraining(ms: number): SleepTraining {
  if (!Number.isFinite(ms) || ms < 0) throw new Error(`${SLEEP_TRIAL_ENV}=${ms}: give a sleep in ms (>= 0)`);
  return { kind: 'sleep', ms };
}

/** The deterministic outcome of (trial, rung). */
export function sleepOutcome(trial: string, rung: number, training: SleepTraining, halving: HalvingPlan): TrialOutcome {
  const u = crc32(Buffer.from(`${trial}:${rung}`)) / 2 ** 32;
  const step = halving.rungs[rung];
  const valTop1 = Math.round((0.5 + 0.4 * u) * 1e4) / 1e4;
  return { status: 'done', step, valTop1, valLoss: Math.round((1 - valTop1) * 1e4) / 1e4, testTop1: valTop1, curve: [], wallSeconds: training.ms / 1000, backend: 'sleep' };
}

/** A stand-in for a trial process: after `ms` it sends the outcome and exits; SIGTERM interrupts it (the claim is released). */
export function sleepTrialProcess(job: { trial: string; rung: number }, training: SleepTraining, halving: HalvingPlan): ChildProcess {
  const child = new EventEmitter() as EventEmitter & { kill(sig?: NodeJS.Signals): boolean };
  let ended = false;
  const end = (m: TrialMessage, code: number | null, sig: NodeJS.Signals | null) => {
    if (ended) return;
    ended = true;
    clearTimeout(timer);
    child.emit('message', m);
    child.emit('exit', code, sig);
  };
  const timer = setTimeout(() => end({ type: 'outcome', outcome: sleepOutcome(job.trial, job.rung, training, halving) }, 0, null), training.ms);
  child.kill = () => {
    setImmediate(() => end({ type: 'interrupted' }, null, 'SIGTERM'));
    return true;
  };
  return child as unknown as ChildProcess;
}
