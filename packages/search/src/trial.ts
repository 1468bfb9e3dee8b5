import { join } from 'node:path';
import { isUserError, type NetworkSpec } from '@effscale/core';
import type { LoadOptions } from '@effscale/core/data';
import { RunLockedError, train, type Recipe, type RecipeName, type TrainResult } from '@effscale/core/train';
import type { HalvingPlan, TrialOutcome, TrialSpec } from './types.js';

/**
 * What every trial of a study shares (stored in the study's first record as `settings.training`). The data seed is
 * the study's, not the trial's: every trial trains and validates on the same images, whatever its own seed.
 */
export interface TrialTraining {
  recipe: RecipeName;
  overrides: Partial<Omit<Recipe, 'name'>>;
  data: LoadOptions & { seed: number };
  batchSize: number;
  evalBatchSize?: number;
  backend: string;
  /** Steps between checkpoints, so a killed trial loses little and a halving rung resumes where it stopped. */
  checkpointEvery: number;
  /** BN momentum of the scaled networks (short proxies evaluate meaningfully only with a low one). */
  bnMomentum?: number;
}

export function trialDir(studyDir: string, trial: string): string {
  return join(studyDir, 'trials', trial);
}

/**
 * Train one trial to one rung: resume its run directory (a halving rung continues the previous rung's checkpoint
 * under the full horizon, so a promoted trial ends exactly where an uninterrupted one would), validate on the
 * study's val split, and at the last rung also evaluate the test split, reported apart. Never throws for what
 * happened in training: the outcome says done, diverged or failed (invalid: a setting that can never work).
 */
export async function runTrial(opts: {
  studyDir: string;
  trial: TrialSpec;
  rung: number;
  training: TrialTraining;
  halving: HalvingPlan;
  signal?: AbortSignal;
  onStep?: (step: number, total: number) => void;
}): Promise<TrialOutcome | 'interrupted'> {
  const { trial, training, halving, rung } = opts;
  const last = rung === halving.rungs.length - 1;
  const started = Date.now();
  const network: NetworkSpec = training.bnMomentum !== undefined ? { ...trial.network, bnMomentum: training.bnMomentum } : trial.network;
  let result: TrainResult;
  try {
    result = await train({
      network, data: training.data, recipe: training.recipe, overrides: training.overrides,
      steps: halving.rungs[rung], horizon: halving.rungs.at(-1), batchSize: training.batchSize, evalBatchSize: training.evalBatchSize,
      evalTest: last, seed: trial.seed, outDir: trialDir(opts.studyDir, trial.id), resume: true, backend: training.backend,
      checkpointEvery: training.checkpointEvery, signal: opts.signal,
      onEvent: (e) => e.type === 'step' && opts.onStep?.(e.step, e.totalSteps),
    });
  } catch (e) {
    const message = (e instanceof Error ? e.message : String(e)).split('\n')[0];
    // A user error is a configuration that can never train (recorded, not retried); a locked run directory is
    // another process still holding the trial, which a retry can outlive.
    return { status: 'failed', error: message, invalid: isUserError(e) && !(e instanceof RunLockedError), step: 0, wallSeconds: (Date.now() - started) / 1000 };
  }
  if (result.status === 'interrupted') return 'interrupted';
  const curve = result.epochs.filter((r) => r.valTop1 !== null).map((r) => ({ step: r.step, valTop1: r.valTop1!, valLoss: r.valLoss!, trainLoss: r.trainLoss }));
  return {
    status: result.status === 'diverged' ? 'diverged' : 'done',
    ...(result.divergence ? { error: `${result.divergence.reason} (loss ${result.divergence.loss})` } : {}),
    step: result.step,
    ...(result.val ? { valTop1: result.val.top1, valTop5: result.val.top5, valLoss: result.val.loss } : {}),
    ...(result.test ? { testTop1: result.test.top1, testTop5: result.test.top5, testLoss: result.test.loss } : {}),
    curve,
    imagesPerSec: result.imagesPerSec,
    trainSeconds: result.trainSeconds,
    wallSeconds: (Date.now() - started) / 1000,
    backend: result.epochs.at(-1)?.backend,
  };
}
