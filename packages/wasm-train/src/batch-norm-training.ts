import * as tf from '@tensorflow/tfjs-core';
import { registerGradient, type NamedAttrMap, type Tensor } from '@tensorflow/tfjs-core';
import { asWasmBackend, wasmKernelRuns } from './wasm-kernels/heap.js';
import { BATCH_NORM_SWISH_TRAIN, BATCH_NORM_SWISH_TRAIN_GRAD, BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD } from './wasm-kernels/batch-norm-train.js';
import { swish } from './swish.js';

export interface BatchNormTrainingResult {
  /** (x - mean) * gamma / sqrt(variance + epsilon) + beta. */
  y: Tensor;
  /** Per-channel batch mean, shape [C]. */
  mean: Tensor;
  /** Per-channel biased batch variance (divided by N, as tf.moments and Keras), shape [C]. */
  variance: Tensor;
}

let gradientRegistered = false;

/**
 * The fused gradient kernel `grad` for dys [dy, dmean, dvar] (absent ones: a zero dy, no statistics' terms) and the
 * saved tensors it reads: dx, dgamma, dbeta.
 */
function trainGradient(grad: string, dys: Tensor | Tensor[], saved: Record<string, Tensor>, attrs: NamedAttrMap) {
  const [dy, dmean, dvar] = dys as (Tensor | null | undefined)[];
  const inputs: Record<string, Tensor> = { dy: dy ?? tf.zerosLike(saved.x), ...saved };
  if (dmean != null) inputs.dmean = dmean;
  if (dvar != null) inputs.dvar = dvar;
  const [dx, dgamma, dbeta] = tf.engine().runKernel(grad, inputs, attrs) as Tensor[];
  return { x: () => dx, gamma: () => dgamma, beta: () => dbeta };
}

function registerTrainGradient(): void {
  if (gradientRegistered) return;
  registerGradient({
    kernelName: BATCH_NORM_SWISH_TRAIN,
    inputsToSave: ['x', 'gamma', 'beta', 's'],
    outputsToSave: [false, true, true],
    gradFunc: (dys, [x, gamma, beta, s, mean, variance], attrs) =>
      trainGradient(BATCH_NORM_SWISH_TRAIN_GRAD, dys, { x, mean, variance, gamma, beta, s }, attrs),
  });
  registerGradient({
    kernelName: BATCH_NORM_TRAIN,
    inputsToSave: ['x', 'gamma'],
    outputsToSave: [false, true, true],
    gradFunc: (dys, [x, gamma, mean, variance], attrs) => trainGradient(BATCH_NORM_TRAIN_GRAD, dys, { x, mean, variance, gamma }, attrs),
  });
  gradientRegistered = true;
}

/**
 * Training-mode batch normalization over every axis but the last (NHWC), returning the batch
 * statistics for the moving averages. On wasm it is one fused kernel with a fused gradient
 * (3 passes forward, 2 backward, versus ~23 for tf.moments + tf.batchNorm and their gradients);
 * elsewhere it is tf.moments + tf.batchNorm. Gradients flow to x, gamma and beta (and through the
 * returned statistics, if a loss uses them).
 */
export function batchNormTraining(x: Tensor, gamma: Tensor, beta: Tensor, epsilon: number): BatchNormTrainingResult {
  if (fusedOn(x, gamma, beta, epsilon, 'batchNormTraining', BATCH_NORM_TRAIN)) {
    registerTrainGradient();
    const [y, mean, variance] = tf.engine().runKernel(BATCH_NORM_TRAIN, { x, gamma, beta }, { epsilon }) as Tensor[];
    return { y, mean, variance };
  }
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  const { mean, variance } = tf.moments(x, axes);
  return { y: tf.batchNorm(x, mean, variance, beta, gamma, epsilon), mean, variance };
}

/**
 * swish(batchNormTraining(x, ...).y) as one op: on wasm one kernel that never stores the normalized tensor (its
 * sigmoid is saved instead) and one gradient that recomputes it from x, 2 fewer passes over the activation each way
 * than the two ops; elsewhere exactly those two ops. The same values as the two ops on wasm (the same sigmoid kernel).
 */
export function batchNormSwishTraining(x: Tensor, gamma: Tensor, beta: Tensor, epsilon: number): BatchNormTrainingResult {
  if (fusedOn(x, gamma, beta, epsilon, 'batchNormSwishTraining', BATCH_NORM_SWISH_TRAIN)) {
    registerTrainGradient();
    const backend = asWasmBackend(tf.backend());
    const s = tf.engine().makeTensorFromTensorInfo(backend.makeOutput(x.shape, 'float32')); // the kernel writes sigmoid(y) here
    const [y, mean, variance] = tf.engine().runKernel(BATCH_NORM_SWISH_TRAIN, { x, gamma, beta, s }, { epsilon }) as Tensor[];
    s.dispose(); // the tape keeps its own reference for the gradient
    return { y, mean, variance };
  }
  const { y, mean, variance } = batchNormTraining(x, gamma, beta, epsilon);
  return { y: swish(y), mean, variance };
}

/** Checks the arguments; true where the fused wasm kernel `kernel` runs them. */
function fusedOn(x: Tensor, gamma: Tensor, beta: Tensor, epsilon: number, op: string, kernel: string): boolean {
  const c = x.shape[x.rank - 1];
  if (x.rank < 2) throw new Error(`${op}: input of rank ${x.rank} (allowed: rank >= 2, channels last)`);
  for (const [name, t] of [['gamma', gamma], ['beta', beta]] as const) {
    if (t.rank !== 1 || t.shape[0] !== c) throw new Error(`${op}: ${name} of shape [${t.shape}] (allowed: [${c}], one per channel)`);
  }
  if (!(epsilon > 0)) throw new Error(`${op}: epsilon ${epsilon} (allowed: > 0)`);
  return wasmKernelRuns(kernel, x);
}
