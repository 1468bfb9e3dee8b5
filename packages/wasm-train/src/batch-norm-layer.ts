import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { batchNormSwishTraining, batchNormTraining } from './batch-norm-training.js';
import { asWasmBackend, f32Offset, heapF32 } from './wasm-kernels/heap.js';
import { simdKernels } from './wasm-kernels/simd.js';

type Shape = (number | null)[];

/**
 * moving := moving - (moving - batch) * decay, in float32 as the tf ops below compute it (each op rounded to float32:
 * the same bits), but on wasm written straight into a new heap buffer: no kernels, so nothing on the gradient tape.
 * Inside a training step's gradient scope, the four tf ops per statistic would be recorded there (~200 kernels per
 * EfficientNet step) and scanned by tfjs' tape filter once per trainable variable, though no gradient flows through
 * them. Returns false where it does not apply (another backend, the SIMD kernels off).
 */
function movingAverageInPlace(moving: tfl.LayerVariable, batch: tf.Tensor, decay: number): boolean {
  if (tf.getBackend() !== 'wasm' || batch.dtype !== 'float32') return false;
  const backend = asWasmBackend(tf.backend());
  if (simdKernels(backend) === undefined) return false;
  const current = moving.read();
  const out = backend.makeOutput(current.shape, 'float32');
  const heap = heapF32(backend);
  const o = f32Offset(backend, out);
  const m = f32Offset(backend, current);
  const b = f32Offset(backend, batch);
  const d = Math.fround(decay);
  for (let k = 0; k < current.size; k++) heap[o + k] = heap[m + k] - Math.fround(Math.fround(heap[m + k] - heap[b + k]) * d);
  const next = tf.engine().makeTensorFromTensorInfo(out);
  moving.write(next);
  next.dispose();
  return true;
}

export interface FusedBatchNormalizationConfig {
  name?: string;
  /** Moving-average momentum, Keras semantics: moving = moving * momentum + batch * (1 - momentum). */
  momentum?: number;
  epsilon?: number;
  trainable?: boolean;
}

/**
 * A drop-in for tf.layers.batchNormalization({ axis: -1 }) (same weights: gamma, beta, moving_mean,
 * moving_variance; same training and inference results) whose training step runs batchNormTraining:
 * one fused kernel and one fused gradient on wasm instead of ~23 passes over the activation.
 */
export class FusedBatchNormalization extends tfl.layers.Layer {
  static className = 'FusedBatchNormalization';
  readonly momentum: number;
  readonly epsilon: number;
  private gamma: tfl.LayerVariable | undefined;
  private beta: tfl.LayerVariable | undefined;
  private movingMean: tfl.LayerVariable | undefined;
  private movingVariance: tfl.LayerVariable | undefined;

  constructor(config: FusedBatchNormalizationConfig = {}) {
    super({ name: config.name, trainable: config.trainable });
    this.momentum = config.momentum ?? 0.99;
    this.epsilon = config.epsilon ?? 1e-3;
    if (!(this.momentum >= 0 && this.momentum <= 1)) throw new Error(`momentum ${this.momentum} (allowed: 0..1)`);
    if (!(this.epsilon > 0)) throw new Error(`epsilon ${this.epsilon} (allowed: > 0)`);
    this.supportsMasking = true;
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    const c = shape[shape.length - 1];
    if (c == null) throw new Error(`${this.name}: the channel axis (last) must have a known size, got [${shape.join(', ')}]`);
    this.gamma = this.addWeight('gamma', [c], 'float32', tfl.initializers.ones(), undefined, true);
    this.beta = this.addWeight('beta', [c], 'float32', tfl.initializers.zeros(), undefined, true);
    this.movingMean = this.addWeight('moving_mean', [c], 'float32', tfl.initializers.zeros(), undefined, false);
    this.movingVariance = this.addWeight('moving_variance', [c], 'float32', tfl.initializers.ones(), undefined, false);
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (kwargs.training !== true) {
      const [gamma, beta, movingMean, movingVariance] = this.variables();
      return tf.batchNorm(x, movingMean.read(), movingVariance.read(), beta.read(), gamma.read(), this.epsilon);
    }
    return this.train(x, batchNormTraining);
  }

  /**
   * A training step's swish(this layer(x)), for a swish layer that is the only reader of this layer's output:
   * batchNormSwishTraining (one kernel each way on wasm) with the moving averages updated as call() does.
   */
  trainingCallWithSwish(x: tf.Tensor): tf.Tensor {
    return this.train(x, batchNormSwishTraining);
  }

  private train(x: tf.Tensor, op: typeof batchNormTraining): tf.Tensor {
    const [gamma, beta, movingMean, movingVariance] = this.variables();
    const { y, mean, variance } = op(x, gamma.read(), beta.read(), this.epsilon);
    const decay = 1 - this.momentum;
    for (const [moving, batch] of [[movingMean, mean], [movingVariance, variance]] as const) {
      if (!movingAverageInPlace(moving, batch, decay)) {
        tf.tidy(() => {
          moving.write(tf.sub(moving.read(), tf.mul(tf.sub(moving.read(), batch), decay)));
        });
      }
    }
    return y;
  }

  private variables(): [tfl.LayerVariable, tfl.LayerVariable, tfl.LayerVariable, tfl.LayerVariable] {
    const [gamma, beta, movingMean, movingVariance] = [this.gamma, this.beta, this.movingMean, this.movingVariance];
    if (!gamma || !beta || !movingMean || !movingVariance) throw new Error(`${this.name}: called before build`);
    return [gamma, beta, movingMean, movingVariance];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), momentum: this.momentum, epsilon: this.epsilon };
  }
}
tf.serialization.registerClass(FusedBatchNormalization);

export function fusedBatchNormalization(config: FusedBatchNormalizationConfig = {}): FusedBatchNormalization {
  return new FusedBatchNormalization(config);
}
