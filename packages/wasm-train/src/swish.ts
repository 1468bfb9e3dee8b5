import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { asWasmBackend } from './wasm-kernels/heap.js';
import { simdKernels } from './wasm-kernels/simd.js';
import { SWISH_GRAD } from './wasm-kernels/swish-grad.js';

function fusedGradAvailable(t: tf.Tensor): boolean {
  return tf.getBackend() === 'wasm' && t.dtype === 'float32' && tf.getKernel(SWISH_GRAD, 'wasm') !== undefined &&
    simdKernels(asWasmBackend(tf.backend())) !== undefined;
}

const swishOp = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  const s = tf.sigmoid(x);
  save([x, s]);
  return {
    value: tf.mul(x, s),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ss] = saved;
      if (fusedGradAvailable(dy)) return tf.engine().runKernel(SWISH_GRAD, { dy, x: xs, s: ss }) as tf.Tensor;
      return tf.mul(tf.mul(dy, ss), tf.add(1, tf.mul(xs, tf.sub(1, ss))));
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]);

/**
 * swish(x) = x * sigmoid(x), the same values as tfjs-layers' 'swish', with the sigmoid saved for the
 * gradient, which is one fused pass on wasm (4 passes and 5 kernels with the stock activation).
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
