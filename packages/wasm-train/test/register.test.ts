import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { registerWasmTrainingKernels } from '../src/index.js';

// Runs in its own process (vitest forks per file), so the registry is still the stock one at the start.

const MISSING = ['Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput'];

describe('registerWasmTrainingKernels', () => {
  it('adds the three gradient kernels stock tfjs-backend-wasm lacks, on an initialised backend, once', async () => {
    tf.env().set('PROD', true);
    expect(await tf.setBackend('wasm')).toBe(true);
    for (const name of MISSING) expect(tf.getKernel(name, 'wasm'), name).toBeUndefined();
    const stock = new Set(tf.getKernelsForBackend('wasm').map((k) => k.kernelName));
    const names = registerWasmTrainingKernels();
    expect(names.filter((n) => !stock.has(n)).sort()).toEqual(
      [...MISSING, 'EffscaleBatchNormTrain', 'EffscaleBatchNormTrainGrad', 'EffscaleBatchNormSwishTrain', 'EffscaleBatchNormSwishTrainGrad', 'EffscaleSigmoidGrad', 'EffscaleExciteGrad', 'EffscaleSwish', 'EffscaleSwishGrad'].sort());
    for (const name of names) expect(tf.getKernel(name, 'wasm'), name).toBeDefined();
    expect(registerWasmTrainingKernels()).toEqual(names);

    // A convolution now trains on wasm.
    const dw = tf.tidy(() => {
      const x = tf.ones([1, 5, 5, 3]) as tf.Tensor4D;
      const f = tf.ones([3, 3, 3, 1]) as tf.Tensor4D;
      const [gx, gf] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same')))([x, f]);
      return [tf.sum(gx).dataSync()[0], tf.sum(gf).dataSync()[0]];
    });
    // Both sum to the (output, in-bounds tap) pairs: 13 per row (5 x 3 - 2 taps off the edges), 13 x 13 per channel.
    expect(dw).toEqual([3 * 169, 3 * 169]);
  });
});
