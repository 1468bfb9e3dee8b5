import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { resolveArchitecture, type Architecture } from '../arch/architecture.js';
import { scaleSpec, type NetworkSpec } from '../arch/spec.js';
import { initBackend, type BackendInfo } from '../backend/index.js';
import { batchCount, batches, type BatchOptions } from '../data/batches.js';
import { loadDataset, type LoadOptions } from '../data/load.js';
import { defaultAugment } from '../data/augment.js';
import { writeClassIndices } from '../data/folder.js';
import { resolveNormalization, type Normalize } from '../data/normalize.js';
import type { ChannelStats } from '../data/types.js';
import type { Dataset } from '../data/types.js';
import { buildModel } from '../model/build.js';
import { ConfigError } from '../errors.js';
import { Rng } from '../util/rng.js';
import { hasCheckpoint, loadCheckpoint, saveCheckpoint, type TrainState } from './checkpoint.js';
import { evaluate, type EvalResult } from './evaluate.js';
import { writeFileAtomic } from './fsx.js';
import { MetricsLog, type EpochMetrics } from './metrics.js';
import { makeOptimizer, setLearningRate } from './optimizer.js';
import { codeVersion, machine } from './provenance.js';
import { learningRateAt, RECIPES, type Recipe, type RecipeName } from './recipes.js';

export interface TrainOptions {
  /** The network: classes and input channels are filled from the dataset unless given. */
  network: NetworkSpec;
  data: LoadOptions;
  recipe?: RecipeName;
  overrides?: Partial<Omit<Recipe, 'name'>>;
  /** Budget: whole epochs, or optimizer steps (one of them). */
  epochs?: number;
  steps?: number;
  batchSize: number;
  evalBatchSize?: number;
  seed?: number;
  outDir: string;
  resume?: boolean;
  backend?: string;
  augment?: boolean;
  normalize?: Normalize;
  /** Called with the resolved architecture before anything is built; throws to refuse (e.g. the memory guard). */
  preflight?: (arch: Architecture, batchSize: number, backend: BackendInfo) => void;
  onEvent?: (e: TrainEvent) => void;
  /** Aborting checkpoints at the next step boundary and returns; `--resume` continues from there. */
  signal?: AbortSignal;
  /** Also checkpoint every N steps within an epoch, so a crash (not just Ctrl-C) loses at most N steps. */
  checkpointEvery?: number;
}

export type TrainEvent =
  | { type: 'start'; run: RunRecord; resumedFrom: TrainState | null; totalSteps: number; stepsPerEpoch: number }
  | { type: 'step'; step: number; totalSteps: number; epoch: number; loss: number; lr: number; imagesPerSec: number }
  | { type: 'eval-start'; epoch: number }
  | { type: 'epoch'; metrics: EpochMetrics }
  | { type: 'checkpoint'; dir: string; step: number }
  | { type: 'interrupted'; step: number }
  | { type: 'done'; result: TrainResult };

export interface RunRecord {
  kind: 'effscale-train';
  createdAt: string;
  code: ReturnType<typeof codeVersion>;
  machine: ReturnType<typeof machine>;
  backend: BackendInfo;
  seed: number;
  network: { spec: NetworkSpec; name: string; depth: number; width: number; resolution: number; inputChannels: number; classes: number };
  data: { name: string; dir?: string; source: string; classes: string[]; trainCount: number; testCount: number; limits: Pick<LoadOptions, 'trainLimit' | 'valLimit' | 'valFraction'>;
    augment: boolean; normalize: ChannelStats };
  recipe: Recipe;
  budget: { epochs?: number; steps?: number; totalSteps: number; stepsPerEpoch: number; batchSize: number };
}

export interface TrainResult {
  outDir: string;
  completed: boolean;
  step: number;
  epochs: EpochMetrics[];
  final: EvalResult | null;
  trainSeconds: number;
  imagesPerSec: number;
}

const EPS = 1e-7;
const DECAYED = /\/(kernel|depthwise_kernel)$/;

function crossEntropy(labels: tf.Tensor, probs: tf.Tensor): tf.Scalar {
  return tf.neg(tf.mean(tf.sum(tf.mul(labels, tf.log(tf.clipByValue(probs, EPS, 1 - EPS))), -1))) as tf.Scalar;
}


function checkPositiveInt(name: string, v: number | undefined): void {
  if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new ConfigError(`${name} '${v}' must be a positive integer`);
}

/** Same run? Everything that changes the trajectory must match for --resume. */
function trajectoryKey(r: RunRecord): string {
  return JSON.stringify([r.seed, r.network.name, r.network.resolution, r.network.inputChannels, r.data.name, r.data.trainCount, r.data.limits,
    r.data.augment, r.recipe, r.budget.batchSize, r.budget.stepsPerEpoch]);
}

export async function train(opts: TrainOptions): Promise<TrainResult> {
  checkPositiveInt('batch size', opts.batchSize);
  checkPositiveInt('epochs', opts.epochs);
  checkPositiveInt('steps', opts.steps);
  checkPositiveInt('checkpoint every', opts.checkpointEvery);
  if (opts.epochs !== undefined && opts.steps !== undefined) throw new ConfigError('give a budget in --epochs or --steps, not both');
  const recipeName = opts.recipe ?? 'proxy';
  const baseRecipe = RECIPES[recipeName];
  if (!baseRecipe) throw new ConfigError(`unknown recipe '${recipeName}' (allowed: ${Object.keys(RECIPES).join(', ')})`);
  const recipe: Recipe = { ...baseRecipe, ...opts.overrides };
  const seed = opts.seed ?? 0;
  if (!Number.isSafeInteger(seed) || seed < 0) throw new ConfigError(`seed '${seed}' must be a non-negative integer`);

  const backend = await initBackend(opts.backend);
  // Image folders are decoded once, straight to the network's resolution.
  const imageSize = opts.data.imageSize ?? scaleSpec(opts.network).resolution;
  const ds: Dataset = await loadDataset({ ...opts.data, imageSize, seed: opts.data.seed ?? seed });
  const channels = (opts.network.inputChannels ?? ds.train.channels) as 1 | 3;
  if (channels !== 1 && channels !== 3) throw new ConfigError(`input channels ${channels} must be 1 or 3 for image data`);
  const spec: NetworkSpec = {
    ...opts.network,
    classes: opts.network.classes ?? ds.classes.length,
    inputChannels: channels,
    dropConnectRate: opts.network.dropConnectRate ?? recipe.dropConnectRate,
    ...(recipe.dropout !== null && opts.network.dropout === undefined ? { dropout: recipe.dropout } : {}),
  };
  if (spec.classes !== ds.classes.length) {
    throw new ConfigError(`the network has ${spec.classes} classes but ${ds.name} has ${ds.classes.length}`);
  }
  const arch = resolveArchitecture(spec);
  opts.preflight?.(arch, opts.batchSize, backend);

  const augment = opts.augment ?? recipe.augment ?? defaultAugment(ds.name);
  // Resolved to concrete mean/std (train split statistics) so eval and predict apply exactly the same transform.
  const normalize: ChannelStats = resolveNormalization(opts.normalize ?? 'standardize', channels, ds.train.stats);
  const batchOpts = { batchSize: opts.batchSize, resolution: arch.resolution, channels, normalize, seed };
  const stepsPerEpoch = batchCount(ds.train, { batchSize: opts.batchSize, dropLast: true });
  if (stepsPerEpoch < 1) {
    throw new ConfigError(`batch size ${opts.batchSize} is larger than the ${ds.train.count} training images; use --batch-size <= ${ds.train.count}`);
  }
  const totalSteps = opts.steps ?? (opts.epochs ?? 1) * stepsPerEpoch;

  const run: RunRecord = {
    kind: 'effscale-train',
    createdAt: new Date().toISOString(),
    code: codeVersion(),
    machine: machine(),
    backend,
    seed,
    network: { spec, name: arch.name, depth: arch.depth, width: arch.width, resolution: arch.resolution, inputChannels: channels, classes: arch.classes },
    data: { name: ds.name, ...(opts.data.dir !== undefined ? { dir: resolve(opts.data.dir) } : {}), source: ds.source, classes: ds.classes, trainCount: ds.train.count, testCount: ds.test.count,
      limits: { trainLimit: opts.data.trainLimit, valLimit: opts.data.valLimit, valFraction: opts.data.valFraction }, augment, normalize },
    recipe,
    budget: { epochs: opts.epochs, steps: opts.steps, totalSteps, stepsPerEpoch, batchSize: opts.batchSize },
  };

  const out = opts.outDir;
  const ckptDir = join(out, 'checkpoint');
  const runFile = join(out, 'run.json');
  mkdirSync(out, { recursive: true });
  const existing = hasCheckpoint(ckptDir);
  const resuming = opts.resume === true && existing;
  if (opts.resume !== true && existing) {
    throw new ConfigError(`'${out}' already holds a checkpoint: pass --resume to continue it, or choose another --out`);
  }
  if (resuming && existsSync(runFile)) {
    const before = JSON.parse(readFileSync(runFile, 'utf8')) as RunRecord;
    if (trajectoryKey(before) !== trajectoryKey(run)) {
      throw new ConfigError(`--resume: '${out}' was started with different settings (network, data, recipe, batch or seed); resume with the same flags`);
    }
    run.createdAt = before.createdAt;
  }
  writeFileAtomic(runFile, JSON.stringify(run, null, 2) + '\n');
  await writeClassIndices(out, ds.classes);

  const optimizer = makeOptimizer(recipe, learningRateAt(recipe, 0, stepsPerEpoch, totalSteps, opts.batchSize));
  let model: tfl.LayersModel;
  let state: TrainState;
  const maskRng = new Rng(seed).fork('masks');
  if (resuming) {
    ({ model, state } = await loadCheckpoint(ckptDir, optimizer));
    maskRng.setState(state.rng);
  } else {
    model = buildModel(arch, { seed });
    if (recipe.zeroInitHead) {
      const head = model.getLayer('predictions');
      head.setWeights(head.getWeights().map((w) => tf.zerosLike(w)));
    }
    state = { step: 0, epoch: 0, batchInEpoch: 0, rng: maskRng.getState(), trainSeconds: 0, imagesSeen: 0 };
  }
  const metrics = new MetricsLog(join(out, 'metrics.jsonl'), join(out, 'metrics.csv'));
  metrics.load(state.epoch);
  opts.onEvent?.({ type: 'start', run, resumedFrom: resuming ? { ...state } : null, totalSteps, stepsPerEpoch });

  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const decayed = new Set(model.trainableWeights.filter((w) => DECAYED.test(w.originalName)).map((w) => w.read().id));
  const wd = recipe.weightDecay > 0 ? tf.scalar(recipe.weightDecay) : null;
  const smoothing = recipe.labelSmoothing;
  const wallStart = performance.now();

  const checkpoint = async (): Promise<void> => {
    state.rng = maskRng.getState();
    await saveCheckpoint(ckptDir, model, optimizer, state);
    opts.onEvent?.({ type: 'checkpoint', dir: ckptDir, step: state.step });
  };

  // tfjs draws dropout and stochastic-depth masks from Math.random when no seed is given; a seeded stream whose
  // state is checkpointed makes runs reproducible and resumable. Restored when training returns.
  const mathRandom = Math.random;
  Math.random = () => maskRng.next();
  let interrupted = false;
  let lastLr = 0;
  try {
    while (state.step < totalSteps && !interrupted) {
      let epochLoss = 0;
      let epochImages = 0;
      let epochSeconds = 0;
      const opt: BatchOptions = { ...batchOpts, augment, shuffle: true, epoch: state.epoch, dropLast: true, startBatch: state.batchInEpoch };
      for (const b of batches(ds.train, opt)) {
        const lr = learningRateAt(recipe, state.step, stepsPerEpoch, totalSteps, opts.batchSize);
        setLearningRate(optimizer, lr);
        lastLr = lr;
        const t0 = performance.now();
        const lossT = tf.tidy(() => {
          const x = tf.tensor4d(b.x, [b.size, arch.resolution, arch.resolution, channels]);
          const hot = tf.oneHot(tf.tensor1d(b.y, 'int32'), arch.classes);
          const y = smoothing > 0 ? tf.add(tf.mul(hot, 1 - smoothing), smoothing / arch.classes) : hot;
          const { value, grads } = optimizer.computeGradients(() => crossEntropy(y, model.apply(x, { training: true }) as tf.Tensor), vars);
          if (wd) for (const v of vars) if (decayed.has(v.id)) grads[v.name] = tf.add(grads[v.name], tf.mul(v, wd));
          optimizer.applyGradients(grads);
          return value;
        });
        const loss = (await lossT.data())[0];
        lossT.dispose();
        // wasm resolves data() as a microtask: without a real turn of the event loop, Ctrl-C (SIGINT) and
        // progress-bar timers would never run until training ends.
        await new Promise<void>((done) => setImmediate(done));
        const secs = (performance.now() - t0) / 1000;
        if (!Number.isFinite(loss)) {
          throw new ConfigError(`training diverged at step ${state.step} (loss ${loss}); lower the learning rate (--lr ${recipe.lr} now)`);
        }
        state.step++;
        state.batchInEpoch = b.index + 1;
        state.trainSeconds += secs;
        state.imagesSeen += b.size;
        epochLoss += loss * b.size;
        epochImages += b.size;
        epochSeconds += secs;
        opts.onEvent?.({ type: 'step', step: state.step, totalSteps, epoch: state.epoch, loss, lr, imagesPerSec: b.size / secs });
        if (opts.signal?.aborted) interrupted = true;
        if (state.step >= totalSteps || interrupted) break;
        if (opts.checkpointEvery && state.step % opts.checkpointEvery === 0 && state.batchInEpoch < stepsPerEpoch) {
          await checkpoint();
        }
      }
      const epochDone = state.batchInEpoch >= stepsPerEpoch;
      if (epochDone || state.step >= totalSteps) {
        opts.onEvent?.({ type: 'eval-start', epoch: state.epoch });
        const ev = evaluate(model, ds.test, { ...batchOpts, batchSize: opts.evalBatchSize ?? Math.max(opts.batchSize, 128) });
        const row: EpochMetrics = {
          epoch: state.epoch, step: state.step, trainLoss: epochImages ? epochLoss / epochImages : Number.NaN, valLoss: ev.loss, top1: ev.top1,
          top5: ev.top5, lr: lastLr, imagesPerSec: epochSeconds ? epochImages / epochSeconds : Number.NaN, trainSeconds: state.trainSeconds,
          wallSeconds: (performance.now() - wallStart) / 1000, backend: backend.name,
        };
        if (epochDone) {
          state.epoch++;
          state.batchInEpoch = 0;
        }
        metrics.append(row);
        opts.onEvent?.({ type: 'epoch', metrics: row });
      }
      await checkpoint();
    }
  } finally {
    Math.random = mathRandom;
    wd?.dispose();
  }

  const completed = state.step >= totalSteps;
  if (interrupted && !completed) opts.onEvent?.({ type: 'interrupted', step: state.step });
  const rows = [...metrics.all()];
  const last = rows.at(-1);
  const result: TrainResult = {
    outDir: out,
    completed,
    step: state.step,
    epochs: rows,
    final: completed && last ? { loss: last.valLoss, top1: last.top1, top5: last.top5, count: ds.test.count } : null,
    trainSeconds: state.trainSeconds,
    imagesPerSec: state.trainSeconds ? state.imagesSeen / state.trainSeconds : 0,
  };
  if (completed) writeFileAtomic(join(out, 'final.json'), JSON.stringify({ ...result, run }, null, 2) + '\n');
  model.dispose();
  optimizer.dispose();
  opts.onEvent?.({ type: 'done', result });
  return result;
}

