import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveArchitecture } from '../src/index.js';
import { initBackend } from '../src/backend/index.js';
import { buildModel } from '../src/model/index.js';
import { FusedAdamOptimizer, trainingForward } from '@effscale/wasm-train';

// Whole-model training on wasm: gradients of a small scaled B0 equal the cpu backend's, and
// training steps neither leak tensors nor wasm heap buffers.

function tinyB0(width: number, resolution: number, depth = 1): tfl.LayersModel {
  const arch = resolveArchitecture({
    selector: { kind: 'multipliers', depth, width, resolution },
    classes: 10, inputChannels: 1, dropout: 0, dropConnectRate: 0,
  });
  return buildModel(arch, { seed: 7 });
}

function batch(n: number, res: number, seed: number): { x: tf.Tensor4D; y: tf.Tensor2D } {
  const xs = new Float32Array(n * res * res);
  let s = seed;
  for (let i = 0; i < xs.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    xs[i] = (s / 2 ** 32) * 2 - 1;
  }
  const labels = Array.from({ length: n }, (_, i) => (i * 3 + seed) % 10);
  return { x: tf.tensor4d(xs, [n, res, res, 1]), y: tf.oneHot(tf.tensor1d(labels, 'int32'), 10) as tf.Tensor2D };
}

type Forward = (model: tfl.LayersModel, x: tf.Tensor) => tf.Tensor;
const layersApply: Forward = (model, x) => model.apply(x, { training: true }) as tf.Tensor;

async function gradientsOn(backend: string, model: tfl.LayersModel, xs: Float32Array, ys: Float32Array, shape: number[], forward: Forward) {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const x = tf.tensor4d(xs, shape as [number, number, number, number]);
    const y = tf.tensor2d(ys, [shape[0], 10]);
    const { grads } = tf.variableGrads(() => {
      const p = forward(model, x);
      return tf.neg(tf.mean(tf.sum(tf.mul(y, tf.log(tf.add(p, 1e-7))), -1))) as tf.Scalar;
    }, model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val));
    return Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, g.dataSync() as Float32Array]));
  });
}

beforeAll(async () => {
  await initBackend('wasm');
});

describe('training a scaled B0 on wasm', () => {
  // The trainer's forward (trainingForward: fused batchnorm + swish, SE gates, plain convolutions) on wasm against
  // tf.layers' own model.apply on the pure-JS cpu backend.
  it('gives the cpu backend gradients for every weight (training mode, the trainer\'s forward)', async () => {
    await tf.setBackend('cpu');
    const model = tinyB0(0.25, 32);
    const { x, y } = batch(8, 32, 5);
    const xs = x.dataSync() as Float32Array;
    const ys = y.dataSync() as Float32Array;
    tf.dispose([x, y]);
    // Batchnorm moving statistics change in training mode; snapshot and restore so both passes see the same weights.
    const weights = model.getWeights().map((w) => w.clone());
    const ref = await gradientsOn('cpu', model, xs, ys, [8, 32, 32, 1], layersApply);
    model.setWeights(weights);
    const got = await gradientsOn('wasm', model, xs, ys, [8, 32, 32, 1], trainingForward);
    tf.dispose(weights);

    const names = Object.keys(ref);
    expect(names.length).toBe(model.trainableWeights.length);
    expect(Object.keys(got).sort()).toEqual(names.sort());
    // Per weight: max |wasm - cpu| / max |cpu|. The betas of the project batchnorms have a zero true
    // gradient (the next batchnorm cancels any per-channel shift): both backends return rounding noise
    // (~1e-6 of the largest gradient) there, so those are held to an absolute bound instead.
    const maxAbs = (a: Float32Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const largest = Math.max(...names.map((n) => maxAbs(ref[n])));
    let worst = 0;
    let worstName = '';
    let worstZero = 0;
    let zeroCount = 0;
    for (const name of names) {
      let diff = 0;
      for (let i = 0; i < ref[name].length; i++) diff = Math.max(diff, Math.abs(got[name][i] - ref[name][i]));
      const scale = maxAbs(ref[name]);
      if (scale < 1e-4 * largest) {
        zeroCount++;
        worstZero = Math.max(worstZero, diff / largest);
        continue;
      }
      if (diff / scale > worst) [worst, worstName] = [diff / scale, name];
    }
    console.log(
      `whole-model gradients: max relative error vs cpu ${worst.toExponential(2)} over ${names.length - zeroCount} weights (${worstName}); ` +
        `${zeroCount} zero-gradient weights within ${worstZero.toExponential(2)} of the largest gradient`,
    );
    expect(worst).toBeLessThanOrEqual(1e-3);
    expect(worstZero).toBeLessThanOrEqual(1e-5);
    model.dispose();
  });

  it('keeps tensor and wasm buffer counts constant over 50 training steps', async () => {
    await tf.setBackend('wasm');
    // Depth 0.5 keeps every op kind (expand, strided and residual blocks, SE) in 10 blocks.
    const model = tinyB0(0.25, 16, 0.5);
    model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
    const { x, y } = batch(2, 16, 11);
    const backend = tf.backend() as unknown as { numDataIds(): number };
    await model.trainOnBatch(x, y);
    const tensors = tf.memory().numTensors;
    const buffers = backend.numDataIds();
    for (let step = 0; step < 50; step++) await model.trainOnBatch(x, y);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(backend.numDataIds()).toBe(buffers);
    const loss = (await model.trainOnBatch(x, y)) as number;
    expect(Number.isFinite(loss)).toBe(true);
    tf.dispose([x, y]);
    model.dispose();
  });

  it("keeps tensor and wasm buffer counts constant over 50 of the trainer's steps (trainingForward, fused Adam)", async () => {
    await tf.setBackend('wasm');
    const model = tinyB0(0.25, 16, 0.5);
    const optimizer = new FusedAdamOptimizer(1e-3);
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const { x, y } = batch(2, 16, 11);
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const step = async (): Promise<number> => {
      const loss = tf.tidy(() => {
        const { value, grads } = optimizer.computeGradients(() => tf.losses.softmaxCrossEntropy(y, trainingForward(model, x)) as tf.Scalar, vars);
        optimizer.applyGradients(grads);
        return value;
      });
      const v = (await loss.data())[0];
      loss.dispose();
      return v;
    };
    await step();
    const tensors = tf.memory().numTensors;
    const buffers = backend.numDataIds();
    for (let i = 0; i < 50; i++) await step();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(backend.numDataIds()).toBe(buffers);
    expect(Number.isFinite(await step())).toBe(true);
    tf.dispose([x, y]);
    optimizer.dispose();
    model.dispose();
  });
});
