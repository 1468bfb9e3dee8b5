import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { resolveArchitecture, type Architecture } from '../arch/architecture.js';
import { scaleSpec, type NetworkSpec } from '../arch/spec.js';
import type { BackendInfo } from '../backend/index.js';
import { batchCount, type BatchOptions } from '../data/batches.js';
import { loadDataset } from '../data/load.js';
import { defaultAugment } from '../data/augment.js';
import { resolveNormalization } from '../data/normalize.js';
import type { ChannelStats, Dataset } from '../data/types.js';
import { CheckpointError, ConfigError } from '../errors.js';
import { hasCheckpoint, readJson } from './checkpoint.js';
import { DEFAULT_DIVERGENCE, type DivergenceRule } from './divergence.js';
import { removeLeftovers } from './fsx.js';
import { codeVersion, machine } from './provenance.js';
import { RECIPES, type Recipe } from './recipes.js';
import type { RunRecord, TrainOptions, TrainResult } from './types.js';

/** Everything fixed before the first step: validated settings, data, network, budget and the run record. */
export interface Plan {
  opts: TrainOptions;
  recipe: Recipe;
  seed: number;
  ds: Dataset;
  arch: Architecture;
  channels: 1 | 3;
  batchOpts: Omit<BatchOptions, 'shuffle' | 'augment' | 'epoch'>;
  augment: boolean;
  stepsPerEpoch: number;
  totalSteps: number;
  horizon: number;
  divergence: DivergenceRule | false;
  evalSplit: 'val' | 'test';
  run: RunRecord;
  out: string;
  ckptDir: string;
}

/** A model being trained: what a step reads and changes. */

// ---- Settings -------------------------------------------------------------------------------------------------------

function checkPositiveInt(setting: string, what: string, v: number | undefined): void {
  if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new ConfigError(`${what} '${v}' must be a positive integer`, { setting });
}

export function resolveSettings(opts: TrainOptions): { recipe: Recipe; seed: number } {
  checkPositiveInt('batchSize', 'batch size', opts.batchSize);
  checkPositiveInt('epochs', 'epochs', opts.epochs);
  checkPositiveInt('steps', 'steps', opts.steps);
  checkPositiveInt('horizon', 'horizon', opts.horizon);
  checkPositiveInt('checkpointEvery', 'checkpoint every', opts.checkpointEvery);
  if (opts.epochs !== undefined && opts.steps !== undefined) throw new ConfigError('give a budget in epochs or steps, not both', { setting: 'steps' });
  const recipeName = opts.recipe ?? 'proxy';
  const baseRecipe = RECIPES[recipeName];
  if (!baseRecipe) throw new ConfigError(`unknown recipe '${recipeName}' (allowed: ${Object.keys(RECIPES).join(', ')})`, { setting: 'recipe' });
  const seed = opts.seed ?? 0;
  if (!Number.isSafeInteger(seed) || seed < 0) throw new ConfigError(`seed '${seed}' must be a non-negative integer`, { setting: 'seed' });
  return { recipe: { ...baseRecipe, ...opts.overrides }, seed };
}

// ---- Data, network, budget ------------------------------------------------------------------------------------------

export async function preparePlan(opts: TrainOptions, { recipe, seed }: { recipe: Recipe; seed: number }, backend: BackendInfo): Promise<Plan> {
  // Image folders are decoded once, straight to the network's resolution.
  const imageSize = opts.data.imageSize ?? scaleSpec(opts.network).resolution;
  const ds = await loadDataset({ ...opts.data, imageSize, seed: opts.data.seed ?? seed });
  const channels = (opts.network.inputChannels ?? ds.train.channels) as 1 | 3;
  if (channels !== 1 && channels !== 3) throw new ConfigError(`input channels ${channels} must be 1 or 3 for image data`, { setting: 'inputChannels' });
  const spec: NetworkSpec = {
    ...opts.network,
    classes: opts.network.classes ?? ds.classes.length,
    inputChannels: channels,
    dropConnectRate: opts.network.dropConnectRate ?? recipe.dropConnectRate,
    ...(recipe.dropout !== null && opts.network.dropout === undefined ? { dropout: recipe.dropout } : {}),
  };
  if (spec.classes !== ds.classes.length) {
    throw new ConfigError(`the network has ${spec.classes} classes but ${ds.name} has ${ds.classes.length}`, { setting: 'classes' });
  }
  const arch = resolveArchitecture(spec);
  opts.preflight?.(arch, opts.batchSize, backend);

  const augment = opts.augment ?? recipe.augment ?? defaultAugment(ds.name);
  // Resolved to concrete mean/std (train split statistics) so eval and predict apply exactly the same transform.
  const normalize: ChannelStats = resolveNormalization(opts.normalize ?? 'standardize', channels, ds.train.stats);
  const stepsPerEpoch = batchCount(ds.train, { batchSize: opts.batchSize, dropLast: true });
  if (stepsPerEpoch < 1) {
    throw new ConfigError(`batch size ${opts.batchSize} is larger than the ${ds.train.count} training images; choose a batch size <= ${ds.train.count}`,
      { setting: 'batchSize' });
  }
  const totalSteps = opts.steps ?? (opts.epochs ?? 1) * stepsPerEpoch;
  const horizon = opts.horizon ?? totalSteps;
  if (totalSteps > horizon) {
    throw new ConfigError(`the budget of ${totalSteps} steps runs past the horizon of ${horizon} steps; raise the horizon or stop earlier`, { setting: 'horizon' });
  }
  const divergence = opts.divergence ?? DEFAULT_DIVERGENCE;
  const evalSplit = ds.val ? 'val' : 'test';
  const out = opts.outDir;
  const run: RunRecord = {
    kind: 'effscale-train',
    createdAt: new Date().toISOString(),
    code: codeVersion(),
    machine: machine(),
    backend,
    seed,
    network: { spec, name: arch.name, depth: arch.depth, width: arch.width, resolution: arch.resolution, inputChannels: channels, classes: arch.classes },
    data: {
      name: ds.name, ...(opts.data.dir !== undefined ? { dir: resolve(opts.data.dir) } : {}), source: ds.source, classes: ds.classes,
      trainCount: ds.train.count, valCount: ds.val?.count ?? 0, testCount: ds.test.count,
      limits: { trainLimit: opts.data.trainLimit, testLimit: opts.data.testLimit, testFraction: opts.data.testFraction,
        valFraction: opts.data.valFraction, valCount: opts.data.valCount },
      evalSplit, augment, normalize,
    },
    recipe,
    budget: { epochs: opts.epochs, steps: opts.steps, totalSteps, horizon, stepsPerEpoch, batchSize: opts.batchSize },
    divergence,
  };
  return {
    opts, recipe, seed, ds, arch, channels, augment, stepsPerEpoch, totalSteps, horizon, divergence, evalSplit, run, out,
    batchOpts: { batchSize: opts.batchSize, resolution: arch.resolution, channels, normalize, seed },
    ckptDir: join(out, 'checkpoint'),
  };
}

/** Same run? Everything that changes the trajectory must match for a resume; where it stops may differ. */
function trajectoryKey(r: RunRecord): string {
  return JSON.stringify([r.seed, r.network.name, r.network.resolution, r.network.inputChannels, r.data.name, r.data.trainCount, r.data.valCount,
    r.data.limits, r.data.augment, r.recipe, r.budget.batchSize, r.budget.stepsPerEpoch, r.budget.horizon, r.divergence]);
}

/**
 * Refuses a directory that holds another run, or this one without resume. Returns the stored result when the
 * run already ended there (diverged, or completed at this very stop point) so resuming it is a no-op.
 */
export function checkRunDir(plan: Plan): TrainResult | null {
  const { out, ckptDir, run, opts } = plan;
  const checkpointed = hasCheckpoint(ckptDir);
  if (opts.resume !== true && (checkpointed || existsSync(join(out, 'final.json')))) {
    throw new CheckpointError(`'${out}' already holds a ${checkpointed ? 'checkpoint' : 'finished run'}: resume it, or choose another out directory`,
      { setting: 'resume' });
  }
  removeLeftovers(out);
  const runFile = join(out, 'run.json');
  if (opts.resume !== true || !existsSync(runFile)) return null;
  const before = readRunRecord(runFile);
  const differsOnlyInHorizon = trajectoryKey({ ...before, budget: { ...before.budget, horizon: run.budget.horizon } }) === trajectoryKey(run);
  if (before.budget.horizon !== run.budget.horizon && differsOnlyInHorizon) {
    throw new ConfigError(`'${out}' was planned over a horizon of ${before.budget.horizon} steps, not ${run.budget.horizon}; ` +
      `resume with horizon ${before.budget.horizon} (the stop point may change, the horizon may not)`, { setting: 'horizon' });
  }
  if (trajectoryKey(before) !== trajectoryKey(run)) {
    throw new ConfigError(`'${out}' was started with different settings (network, data, recipe, batch, seed or horizon); resume with the same settings`,
      { setting: 'resume' });
  }
  run.createdAt = before.createdAt;
  const finalFile = join(out, 'final.json');
  if (!existsSync(finalFile)) return null;
  const final = readJson(finalFile) as TrainResult & { run: RunRecord };
  const { run: _run, ...result } = final;
  if (final.status === 'diverged' || (final.status === 'completed' && final.step === plan.totalSteps)) return result;
  return null;
}

/**
 * run.json as written before the splits were named train/val/test and the horizon existed: the test limit and fraction
 * were valLimit / valFraction, there was no val split, and the schedule's horizon was the budget.
 */
function upgradeRunRecord(r: RunRecord): RunRecord {
  if (r.data?.evalSplit !== undefined || r.budget === undefined) return r;
  const old = r.data.limits as { trainLimit?: number; valLimit?: number; valFraction?: number };
  return {
    ...r,
    data: { ...r.data, valCount: 0, evalSplit: 'test',
      limits: { trainLimit: old.trainLimit, testLimit: old.valLimit, testFraction: old.valFraction, valFraction: undefined, valCount: undefined } },
    budget: { ...r.budget, horizon: r.budget.totalSteps },
    divergence: r.divergence ?? DEFAULT_DIVERGENCE,
  };
}

/** A run's run.json, upgraded to this version's shape; a corrupt one is refused by name. */
export function readRunRecord(file: string): RunRecord {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new CheckpointError(`cannot read '${file}'; pass the out directory of a training run`);
  }
  try {
    return upgradeRunRecord(JSON.parse(text) as RunRecord);
  } catch {
    throw new CheckpointError(`'${file}' is corrupt or truncated; restore it from the run's final.json (its "run" field) or retrain`);
  }
}
