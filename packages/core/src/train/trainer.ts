import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { resolveArchitecture, type Architecture } from '../arch/architecture.js';
import { scaleSpec, type NetworkSpec } from '../arch/spec.js';
import { initBackend, type BackendInfo } from '../backend/index.js';
import { batchCount, batches, type Batch, type BatchOptions } from '../data/batches.js';
import { loadDataset, type LoadOptions } from '../data/load.js';
import { defaultAugment } from '../data/augment.js';
import { writeClassIndices } from '../data/folder.js';
import { resolveNormalization, type Normalize } from '../data/normalize.js';
import type { ChannelStats, Dataset, Split } from '../data/types.js';
import { CheckpointError, ConfigError } from '../errors.js';
import { buildModel } from '../model/build.js';
import { Rng } from '../util/rng.js';
import { hasCheckpoint, loadCheckpoint, saveCheckpoint, type TrainState } from './checkpoint.js';
import { checkDivergence, DEFAULT_DIVERGENCE, pushLoss, type Divergence, type DivergenceRule } from './divergence.js';
import { evaluate, type EvalResult } from './evaluate.js';
import { ensureDir, failpoint, removeLeftovers, writeFileAtomic } from './fsx.js';
import { MetricsLog, type EvalRow } from './metrics.js';
import { makeOptimizer, setLearningRate } from './optimizer.js';
import { codeVersion, machine } from './provenance.js';
import { learningRateAt, RECIPES, type Recipe, type RecipeName } from './recipes.js';
import { acquireRunLock } from './run-lock.js';

export interface TrainOptions {
  /** The network: classes and input channels are filled from the dataset unless given. */
  network: NetworkSpec;
  /** The data, including an optional validation split carved from the training images (valFraction / valCount). */
  data: LoadOptions;
  recipe?: RecipeName;
  overrides?: Partial<Omit<Recipe, 'name'>>;
  /** Where to stop this time: whole epochs, or optimizer steps (one of them). */
  epochs?: number;
  steps?: number;
  /**
   * The planned length of the whole run in steps, over which the schedule (warmup, cosine, decay) is computed;
   * default: the steps of this budget. A run stopped early under a horizon and resumed to a later stop point
   * (successive halving) ends exactly where one uninterrupted run to that point ends.
   */
  horizon?: number;
  batchSize: number;
  evalBatchSize?: number;
  /** With a validation split: also evaluate the test split once, at the end (reported separately, never for choosing). */
  evalTest?: boolean;
  seed?: number;
  outDir: string;
  resume?: boolean;
  backend?: string;
  augment?: boolean;
  normalize?: Normalize;
  /** When a run counts as diverged (see divergence.ts); false: only non-finite losses and weights. */
  divergence?: DivergenceRule | false;
  /** Called with the resolved architecture before anything is built; throws to refuse (e.g. the memory guard). */
  preflight?: (arch: Architecture, batchSize: number, backend: BackendInfo) => void;
  onEvent?: (e: TrainEvent) => void;
  /** Aborting checkpoints at the next step boundary and returns; resuming continues from there. */
  signal?: AbortSignal;
  /** Also checkpoint every N steps within an epoch, so a crash (not just Ctrl-C) loses at most N steps. */
  checkpointEvery?: number;
}

export type TrainEvent =
  | { type: 'start'; run: RunRecord; resumedFrom: TrainState | null; totalSteps: number; stepsPerEpoch: number }
  | { type: 'step'; step: number; totalSteps: number; epoch: number; loss: number; lr: number; imagesPerSec: number }
  | { type: 'eval-start'; epoch: number; split: SplitName }
  | { type: 'epoch'; metrics: EvalRow }
  | { type: 'checkpoint'; dir: string; step: number }
  | { type: 'interrupted'; step: number }
  | { type: 'diverged'; step: number; divergence: Divergence }
  | { type: 'done'; result: TrainResult };

export type SplitName = 'train' | 'val' | 'test';

export interface RunRecord {
  kind: 'effscale-train';
  createdAt: string;
  code: ReturnType<typeof codeVersion>;
  machine: ReturnType<typeof machine>;
  backend: BackendInfo;
  seed: number;
  network: { spec: NetworkSpec; name: string; depth: number; width: number; resolution: number; inputChannels: number; classes: number };
  data: {
    name: string; dir?: string; source: string; classes: string[]; trainCount: number; valCount: number; testCount: number;
    limits: Pick<LoadOptions, 'trainLimit' | 'testLimit' | 'testFraction' | 'valFraction' | 'valCount'>;
    /** The split evaluated during training (val when there is one, else test). */
    evalSplit: 'val' | 'test';
    augment: boolean; normalize: ChannelStats;
  };
  recipe: Recipe;
  budget: { epochs?: number; steps?: number; totalSteps: number; horizon: number; stepsPerEpoch: number; batchSize: number };
  divergence: DivergenceRule | false;
}

export type TrainStatus = 'completed' | 'interrupted' | 'diverged';

export interface TrainResult {
  outDir: string;
  status: TrainStatus;
  completed: boolean;
  step: number;
  epochs: EvalRow[];
  /** The last evaluation of each held-out split (val: during training when there is a val split; test: when evaluated). */
  val: EvalResult | null;
  test: EvalResult | null;
  /** Diverged runs: why, and the loss that showed it. */
  divergence?: Divergence;
  trainSeconds: number;
  imagesPerSec: number;
}

/** Everything fixed before the first step: validated settings, data, network, budget and the run record. */
interface Plan {
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
interface Session {
  model: tfl.LayersModel;
  optimizer: tf.Optimizer;
  state: TrainState;
  maskRng: Rng;
  vars: tf.Variable[];
  decayed: Set<number>;
  weightDecay: tf.Scalar | null;
  metrics: MetricsLog;
  resumedFrom: TrainState | null;
}

const EPS = 1e-7;
const DECAYED = /\/(kernel|depthwise_kernel)$/;

export async function train(opts: TrainOptions): Promise<TrainResult> {
  const settings = resolveSettings(opts);
  const backend = await initBackend(opts.backend);
  const plan = await prepare(opts, settings, backend);
  ensureDir(plan.out, 'out directory');
  const lock = acquireRunLock(plan.out);
  try {
    const finished = checkRunDir(plan);
    if (finished) return finished;
    writeFileAtomic(join(plan.out, 'run.json'), JSON.stringify(plan.run, null, 2) + '\n');
    await writeClassIndices(plan.out, plan.ds.classes);
    const session = await resumeOrInit(plan);
    try {
      const stop = await withSeededMasks(session.maskRng, () => stepLoop(plan, session));
      return finish(plan, session, stop);
    } finally {
      session.weightDecay?.dispose();
      session.model.dispose();
      session.optimizer.dispose();
    }
  } finally {
    lock.release();
  }
}

// ---- 1. Settings ----------------------------------------------------------------------------------------------------

function checkPositiveInt(setting: string, what: string, v: number | undefined): void {
  if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new ConfigError(`${what} '${v}' must be a positive integer`, { setting });
}

function resolveSettings(opts: TrainOptions): { recipe: Recipe; seed: number } {
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

// ---- 2. Data, network, budget ---------------------------------------------------------------------------------------

async function prepare(opts: TrainOptions, { recipe, seed }: { recipe: Recipe; seed: number }, backend: BackendInfo): Promise<Plan> {
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
function checkRunDir(plan: Plan): TrainResult | null {
  const { out, ckptDir, run, opts } = plan;
  const existing = hasCheckpoint(ckptDir) || existsSync(join(out, 'final.json'));
  if (opts.resume !== true && existing) {
    throw new CheckpointError(`'${out}' already holds a ${hasCheckpoint(ckptDir) ? 'checkpoint' : 'finished run'}: resume it, or choose another out directory`,
      { setting: 'resume' });
  }
  removeLeftovers(out);
  const runFile = join(out, 'run.json');
  if (opts.resume !== true || !existsSync(runFile)) return null;
  const before = upgradeRunRecord(readJsonOrRefuse(runFile) as RunRecord);
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
  const final = readJsonOrRefuse(finalFile) as TrainResult & { run: RunRecord };
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

function readJsonOrRefuse(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw new CheckpointError(`'${file}' is corrupt or truncated; restore it, or start the run again in a new out directory`);
  }
}

// ---- 3. Resume or initialise ----------------------------------------------------------------------------------------

async function resumeOrInit(plan: Plan): Promise<Session> {
  const { recipe, seed, arch, ckptDir, opts } = plan;
  const optimizer = makeOptimizer(recipe, learningRateAt(recipe, 0, plan.stepsPerEpoch, plan.horizon, opts.batchSize));
  const maskRng = new Rng(seed).fork('masks');
  let model: tfl.LayersModel;
  let state: TrainState;
  const resuming = opts.resume === true && hasCheckpoint(ckptDir);
  if (resuming) {
    ({ model, state } = await loadCheckpoint(ckptDir, optimizer));
    maskRng.setState(state.rng);
  } else {
    model = buildModel(arch, { seed });
    if (recipe.zeroInitHead) {
      const head = model.getLayer('predictions');
      head.setWeights(head.getWeights().map((w) => tf.zerosLike(w)));
    }
    state = {
      step: 0, epoch: 0, batchInEpoch: 0, rng: maskRng.getState(), trainSeconds: 0, imagesSeen: 0,
      epochLossSum: 0, epochImages: 0, epochSeconds: 0, recentLosses: [],
    };
  }
  const metrics = new MetricsLog(join(plan.out, 'metrics.jsonl'), join(plan.out, 'metrics.csv'));
  metrics.load(state.step);
  const resumedFrom = resuming ? { ...state } : null;
  opts.onEvent?.({ type: 'start', run: plan.run, resumedFrom, totalSteps: plan.totalSteps, stepsPerEpoch: plan.stepsPerEpoch });
  return {
    model, optimizer, state, maskRng, metrics, resumedFrom,
    vars: model.trainableWeights.map((w) => w.read() as tf.Variable),
    decayed: new Set(model.trainableWeights.filter((w) => DECAYED.test(w.originalName)).map((w) => w.read().id)),
    weightDecay: recipe.weightDecay > 0 ? tf.scalar(recipe.weightDecay) : null,
  };
}

/**
 * tfjs draws dropout and stochastic-depth masks from Math.random when no seed is given; a seeded stream whose state
 * is checkpointed makes runs reproducible and resumable. Math.random is restored when training returns.
 */
async function withSeededMasks<T>(rng: Rng, fn: () => Promise<T>): Promise<T> {
  const mathRandom = Math.random;
  Math.random = () => rng.next();
  try {
    return await fn();
  } finally {
    Math.random = mathRandom;
  }
}

// ---- 4. The step loop -----------------------------------------------------------------------------------------------

function crossEntropy(labels: tf.Tensor, probs: tf.Tensor): tf.Scalar {
  return tf.neg(tf.mean(tf.sum(tf.mul(labels, tf.log(tf.clipByValue(probs, EPS, 1 - EPS))), -1))) as tf.Scalar;
}

/**
 * One optimizer step on one batch. Returns the loss to report: the clipped cross-entropy plus 0 x the sum of the
 * output probabilities, because clipping maps NaN to the bound (wasm), so only this sum shows a blown-up network.
 */
function trainStep(plan: Plan, s: Session, b: Batch, lr: number): tf.Scalar {
  const { arch, channels } = plan;
  const smoothing = plan.recipe.labelSmoothing;
  setLearningRate(s.optimizer, lr);
  return tf.tidy(() => {
    const x = tf.tensor4d(b.x, [b.size, arch.resolution, arch.resolution, channels]);
    const hot = tf.oneHot(tf.tensor1d(b.y, 'int32'), arch.classes);
    const y = smoothing > 0 ? tf.add(tf.mul(hot, 1 - smoothing), smoothing / arch.classes) : hot;
    let probsSum: tf.Tensor | undefined;
    const { value, grads } = s.optimizer.computeGradients(() => {
      const probs = s.model.apply(x, { training: true }) as tf.Tensor;
      probsSum = tf.keep(tf.sum(probs)); // off the loss's path: no gradient, survives the gradient scope
      return crossEntropy(y, probs);
    }, s.vars);
    if (s.weightDecay) for (const v of s.vars) if (s.decayed.has(v.id)) grads[v.name] = tf.add(grads[v.name], tf.mul(v, s.weightDecay));
    s.optimizer.applyGradients(grads);
    const reported = tf.add(value, tf.mul(probsSum!, 0)) as tf.Scalar;
    probsSum!.dispose();
    return reported;
  });
}

type Stop = { kind: 'completed' } | { kind: 'interrupted' } | { kind: 'diverged'; divergence: Divergence };

async function stepLoop(plan: Plan, s: Session): Promise<Stop> {
  const { opts } = plan;
  const { state } = s;
  const wallStart = performance.now();
  let lastLr = 0;
  while (state.step < plan.totalSteps) {
    const order: BatchOptions = { ...plan.batchOpts, augment: plan.augment, shuffle: true, epoch: state.epoch, dropLast: true, startBatch: state.batchInEpoch };
    for (const b of batches(plan.ds.train, order)) {
      lastLr = learningRateAt(plan.recipe, state.step, plan.stepsPerEpoch, plan.horizon, opts.batchSize);
      const t0 = performance.now();
      const lossT = trainStep(plan, s, b, lastLr);
      const loss = (await lossT.data())[0];
      lossT.dispose();
      // wasm resolves data() as a microtask: without a real turn of the event loop, Ctrl-C (SIGINT) and
      // progress-bar timers would never run until training ends.
      await new Promise<void>((done) => setImmediate(done));
      const secs = (performance.now() - t0) / 1000;
      state.step++;
      state.batchInEpoch = b.index + 1;
      state.trainSeconds += secs;
      state.imagesSeen += b.size;
      state.epochLossSum += loss * b.size;
      state.epochImages += b.size;
      state.epochSeconds += secs;
      state.recentLosses = pushLoss(plan.divergence, state.recentLosses, loss);
      const divergence = checkDivergence(plan.divergence, state.recentLosses, loss, plan.arch.classes);
      if (divergence) return { kind: 'diverged', divergence };
      opts.onEvent?.({ type: 'step', step: state.step, totalSteps: plan.totalSteps, epoch: state.epoch, loss, lr: lastLr, imagesPerSec: b.size / secs });
      if (opts.signal?.aborted || state.step >= plan.totalSteps) break;
      if (opts.checkpointEvery && state.step % opts.checkpointEvery === 0 && state.batchInEpoch < plan.stepsPerEpoch) {
        const bad = await checkpoint(plan, s);
        if (bad) return bad;
      }
    }
    const epochDone = state.batchInEpoch >= plan.stepsPerEpoch;
    if (epochDone || state.step >= plan.totalSteps) {
      const row = evaluationRow(plan, s, lastLr, wallStart);
      if (epochDone) {
        state.epoch++;
        state.batchInEpoch = 0;
        state.epochLossSum = 0;
        state.epochImages = 0;
        state.epochSeconds = 0;
      }
      s.metrics.append(row);
      opts.onEvent?.({ type: 'epoch', metrics: row });
    }
    const bad = await checkpoint(plan, s);
    if (bad) return bad;
    if (opts.signal?.aborted && state.step < plan.totalSteps) return { kind: 'interrupted' };
  }
  return { kind: 'completed' };
}

/** Weights are checked before they are saved, so a checkpoint never holds a blown-up network. */
async function checkpoint(plan: Plan, s: Session): Promise<Stop | null> {
  if (!weightsFinite(s.model)) return { kind: 'diverged', divergence: { reason: 'non-finite weights', loss: s.state.recentLosses.at(-1) ?? Number.NaN } };
  s.state.rng = s.maskRng.getState();
  failpoint('before-checkpoint');
  await saveCheckpoint(plan.ckptDir, s.model, s.optimizer, s.state);
  failpoint('after-checkpoint');
  plan.opts.onEvent?.({ type: 'checkpoint', dir: plan.ckptDir, step: s.state.step });
  return null;
}

function weightsFinite(model: tfl.LayersModel): boolean {
  return model.getWeights().every((w) => {
    const data = w.dataSync() as Float32Array;
    for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) return false;
    return true;
  });
}

function evaluateSplit(plan: Plan, s: Session, name: 'val' | 'test', epoch: number): EvalResult {
  plan.opts.onEvent?.({ type: 'eval-start', epoch, split: name });
  const split = (name === 'val' ? plan.ds.val : plan.ds.test) as Split;
  return evaluate(s.model, split, { ...plan.batchOpts, batchSize: plan.opts.evalBatchSize ?? Math.max(plan.opts.batchSize, 128) });
}

function evaluationRow(plan: Plan, s: Session, lr: number, wallStart: number): EvalRow {
  const { state } = s;
  const held = evaluateSplit(plan, s, plan.evalSplit, state.epoch);
  const val = plan.evalSplit === 'val' ? held : null;
  const test = plan.evalSplit === 'test' ? held : null;
  return {
    epoch: state.epoch, step: state.step, trainLoss: state.epochImages ? state.epochLossSum / state.epochImages : Number.NaN,
    valLoss: val?.loss ?? null, valTop1: val?.top1 ?? null, valTop5: val?.top5 ?? null,
    testLoss: test?.loss ?? null, testTop1: test?.top1 ?? null, testTop5: test?.top5 ?? null,
    lr, imagesPerSec: state.epochSeconds ? state.epochImages / state.epochSeconds : Number.NaN, trainSeconds: state.trainSeconds,
    wallSeconds: (performance.now() - wallStart) / 1000, backend: plan.run.backend.name,
  };
}

// ---- 5. Finish ------------------------------------------------------------------------------------------------------

function finish(plan: Plan, s: Session, stop: Stop): TrainResult {
  const { state } = s;
  const status: TrainStatus = stop.kind;
  if (stop.kind === 'interrupted') plan.opts.onEvent?.({ type: 'interrupted', step: state.step });
  if (stop.kind === 'diverged') plan.opts.onEvent?.({ type: 'diverged', step: state.step, divergence: stop.divergence });
  const rows = [...s.metrics.all()];
  let last = rows.at(-1);
  if (stop.kind === 'completed' && plan.evalSplit === 'val' && plan.opts.evalTest && last && last.step === state.step) {
    const t = evaluateSplit(plan, s, 'test', last.epoch);
    last = { ...last, testLoss: t.loss, testTop1: t.top1, testTop5: t.top5 };
    s.metrics.append(last);
    rows[rows.length - 1] = last;
  }
  const ended = stop.kind === 'completed' && last !== undefined && last.step === state.step ? last : null;
  const held = (loss: number | null | undefined, top1: number | null | undefined, top5: number | null | undefined, count: number): EvalResult | null =>
    loss != null && top1 != null && top5 != null ? { loss, top1, top5, count } : null;
  const result: TrainResult = {
    outDir: plan.out, status, completed: status === 'completed', step: state.step, epochs: rows,
    val: held(ended?.valLoss, ended?.valTop1, ended?.valTop5, plan.ds.val?.count ?? 0),
    test: held(ended?.testLoss, ended?.testTop1, ended?.testTop5, plan.ds.test.count),
    ...(stop.kind === 'diverged' ? { divergence: stop.divergence } : {}),
    trainSeconds: state.trainSeconds, imagesPerSec: state.trainSeconds ? state.imagesSeen / state.trainSeconds : 0,
  };
  if (status !== 'interrupted') writeFileAtomic(join(plan.out, 'final.json'), JSON.stringify({ ...result, run: plan.run }, null, 2) + '\n');
  plan.opts.onEvent?.({ type: 'done', result });
  return result;
}
