import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../backend/index.js';
import { batches, type Batch, type BatchOptions } from '../data/batches.js';
import { writeClassIndices } from '../data/folder.js';
import type { Split } from '../data/types.js';
import { buildModel } from '../model/build.js';
import { Rng } from '../util/rng.js';
import { hasCheckpoint, loadCheckpoint, saveCheckpoint, type TrainState } from './checkpoint.js';
import { checkDivergence, pushLoss, type Divergence } from './divergence.js';
import { evaluate, type EvalResult } from './evaluate.js';
import { ensureDir, failpoint, writeFileAtomic } from './fsx.js';
import { MetricsLog, type EvalRow } from './metrics.js';
import { makeOptimizer, setLearningRate } from './optimizer.js';
import { learningRateAt } from './recipes.js';
import { acquireRunLock } from './run-lock.js';
import { stepGradients } from './step.js';
import { checkRunDir, preparePlan, resolveSettings, type Plan } from './run-plan.js';
import type { TrainOptions, TrainResult, TrainStatus } from './types.js';

export type { RunRecord, SplitName, TrainEvent, TrainOptions, TrainResult, TrainStatus } from './types.js';

/**
 * Trains a network: resolve the settings, prepare data, network and budget, take the run directory, resume or
 * initialise, run the steps (evaluating at each epoch end and where it stops), finish.
 */
export async function train(opts: TrainOptions): Promise<TrainResult> {
  const settings = resolveSettings(opts);
  const backend = await initBackend(opts.backend);
  const plan = await preparePlan(opts, settings, backend);
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
      return await finish(plan, session, stop);
    } finally {
      session.weightDecay?.dispose();
      session.model.dispose();
      session.optimizer.dispose();
    }
  } finally {
    lock.release();
  }
}

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

const DECAYED = /\/(kernel|depthwise_kernel)$/;

// ---- Resume or initialise -------------------------------------------------------------------------------------------

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

// ---- The step loop --------------------------------------------------------------------------------------------------

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
    const { loss, grads, probsSum } = stepGradients(s.model, s.optimizer, s.vars, x, y);
    if (s.weightDecay) for (const v of s.vars) if (s.decayed.has(v.id)) grads[v.name] = tf.add(grads[v.name], tf.mul(v, s.weightDecay));
    s.optimizer.applyGradients(grads);
    const reported = tf.add(loss, tf.mul(probsSum, 0)) as tf.Scalar;
    probsSum.dispose();
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
      const row = await evaluationRow(plan, s, lastLr, wallStart);
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
  if (!(await weightsFinite(s.model))) return { kind: 'diverged', divergence: { reason: 'non-finite weights', loss: s.state.recentLosses.at(-1) ?? Number.NaN } };
  s.state.rng = s.maskRng.getState();
  failpoint('before-checkpoint');
  await saveCheckpoint(plan.ckptDir, s.model, s.optimizer, s.state);
  failpoint('after-checkpoint');
  plan.opts.onEvent?.({ type: 'checkpoint', dir: plan.ckptDir, step: s.state.step });
  return null;
}

async function weightsFinite(model: tfl.LayersModel): Promise<boolean> {
  for (const w of model.getWeights()) {
    const data = (await w.data()) as Float32Array;
    for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) return false;
  }
  return true;
}

function evaluateSplit(plan: Plan, s: Session, name: 'val' | 'test', epoch: number): Promise<EvalResult> {
  plan.opts.onEvent?.({ type: 'eval-start', epoch, split: name });
  const split = (name === 'val' ? plan.ds.val : plan.ds.test) as Split;
  return evaluate(s.model, split, { ...plan.batchOpts, batchSize: plan.opts.evalBatchSize ?? Math.max(plan.opts.batchSize, 128) });
}

async function evaluationRow(plan: Plan, s: Session, lr: number, wallStart: number): Promise<EvalRow> {
  const { state } = s;
  const held = await evaluateSplit(plan, s, plan.evalSplit, state.epoch);
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

// ---- Finish ---------------------------------------------------------------------------------------------------------

async function finish(plan: Plan, s: Session, stop: Stop): Promise<TrainResult> {
  const { state } = s;
  const status: TrainStatus = stop.kind;
  if (stop.kind === 'interrupted') plan.opts.onEvent?.({ type: 'interrupted', step: state.step });
  if (stop.kind === 'diverged') plan.opts.onEvent?.({ type: 'diverged', step: state.step, divergence: stop.divergence });
  const rows = [...s.metrics.all()];
  let last = rows.at(-1);
  if (stop.kind === 'completed' && plan.evalSplit === 'val' && plan.opts.evalTest && last && last.step === state.step) {
    const t = await evaluateSplit(plan, s, 'test', last.epoch);
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
