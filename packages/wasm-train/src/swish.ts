import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { wasmKernelRuns } from './wasm-kernels/heap.js';
import { SWISH, SWISH_GRAD } from './wasm-kernels/swish-grad.js';

const swishOp = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  let value: tf.Tensor;
  let s: tf.Tensor;
  if (wasmKernelRuns(SWISH, x)) {
    [value, s] = tf.engine().runKernel(SWISH, { x }) as unknown as [tf.Tensor, tf.Tensor];
  } else {
    s = tf.sigmoid(x);
    value = tf.mul(x, s);
  }
  save([x, s]);
  return {
    value,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ss] = saved;
      if (wasmKernelRuns(SWISH_GRAD, dy)) return tf.engine().runKernel(SWISH_GRAD, { dy, x: xs, s: ss }) as tf.Tensor;
      return tf.mul(tf.mul(dy, ss), tf.add(1, tf.mul(xs, tf.sub(1, ss))));
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]);

/**
 * swish(x) = x * sigmoid(x), as tfjs-layers' 'swish' computes it, with the sigmoid saved for the gradient. On wasm
 * the forward is one SIMD pass (its sigmoid within a few ulp of tfjs' Sigmoid kernel) and so is the gradient (4 passes
 * and 5 kernels with the stock activation); elsewhere the same values as the stock activation, bit for bit.
 */
export function swish(x: tf.Tensor): tf.Tensor {
  return swishOp(x) as tf.Tensor;
}

/** A drop-in for tf.layers.activation({ activation: 'swish' }) that uses swish() above. */
export class FusedSwish extends tfl.layers.Layer {
  static className = 'FusedSwish';
  constructor(config: { name?: string } = {}) {
    super({ name: config.name });
    this.supportsMasking = true;
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return swish(Array.isArray(inputs) ? inputs[0] : inputs);
  }
}
tf.serialization.registerClass(FusedSwish);

export function fusedSwish(config: { name?: string } = {}): FusedSwish {
  return new FusedSwish(config);
}
