import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { batchNormTraining, fusedBatchNormalization, fusedSwish } from '../src/index.js';
import { initWasm } from './fixtures/backend.js';
import { maxRelError, uniformStream } from './fixtures/numeric.js';

// batchNormTraining: fused kernels on wasm, tf.moments + tf.batchNorm elsewhere. Both must give the
// same outputs and gradients (to x, gamma, beta, including through the returned statistics).

const uniform = uniformStream(4242);
const random = (n: number, lo = -2, hi = 2): Float32Array => uniform(n, lo, hi);

const shape = [4, 6, 5, 12];
const n = shape.reduce((a, b) => a * b);
const data = { x: random(n, 1, 3), g: random(n), gamma: random(12, 0.5, 1.5), beta: random(12), hm: random(12), hv: random(12) };

async function run(backend: string, useStats: boolean): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const f = (x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor) => {
      const { y, mean, variance } = batchNormTraining(x, gamma, beta, 1e-3);
      let loss = tf.sum(tf.mul(y, tf.tensor(data.g, shape)));
      if (useStats) loss = tf.add(loss, tf.add(tf.sum(tf.mul(mean, tf.tensor1d(data.hm))), tf.sum(tf.mul(variance, tf.tensor1d(data.hv)))));
      return loss;
    };
    const x = tf.tensor(data.x, shape);
    const gamma = tf.tensor1d(data.gamma);
    const beta = tf.tensor1d(data.beta);
    const out = batchNormTraining(x, gamma, beta, 1e-3);
    const grads = tf.grads(f)([x, gamma, beta]);
    return [out.y, out.mean, out.variance, ...grads].map((t) => t.dataSync() as Float32Array);
  });
}

beforeAll(async () => {
  await initWasm();
});

describe('batchNormTraining', () => {
  for (const useStats of [false, true]) {
    it(`gives the same outputs and gradients on wasm (fused) and cpu${useStats ? ', with a loss on the statistics' : ''}`, async () => {
      const ref = await run('cpu', useStats);
      const got = await run('wasm', useStats);
      const names = ['y', 'mean', 'variance', 'dx', 'dgamma', 'dbeta'];
      names.forEach((name, i) => expect(maxRelError(got[i], ref[i]), name).toBeLessThanOrEqual(1e-4));
    });
  }

  it('runs as one fused kernel (and one gradient kernel) on wasm', async () => {
    await tf.setBackend('wasm');
    const info = await tf.profile(() => tf.tidy(() => {
      const f = (x: tf.Tensor) => tf.sum(batchNormTraining(x, tf.ones([12]), tf.zeros([12]), 1e-3).y);
      return tf.grad(f)(tf.tensor(data.x, shape));
    }));
    expect(info.kernelNames).toContain('EffscaleBatchNormTrain');
    expect(info.kernelNames).toContain('EffscaleBatchNormTrainGrad');
    expect(info.kernelNames).not.toContain('Mean');
  });

  it('rejects per-channel parameters of the wrong shape and a non-positive epsilon', () => {
    const x = tf.zeros([2, 3, 3, 4]);
    expect(() => batchNormTraining(x, tf.ones([3]), tf.zeros([4]), 1e-3)).toThrow('gamma of shape [3] (allowed: [4], one per channel)');
    expect(() => batchNormTraining(x, tf.ones([4]), tf.zeros([4]), 0)).toThrow('epsilon 0 (allowed: > 0)');
  });
});

describe('FusedBatchNormalization layer', () => {
  for (const backend of ['wasm', 'cpu']) {
    it(`behaves like tf.layers.batchNormalization on ${backend} (training, moving averages, inference, gradients)`, async () => {
      await tf.setBackend(backend);
      const shape4 = [3, 4, 5, 6];
      const x = tf.tensor(random(3 * 4 * 5 * 6, 0, 4), shape4);
      const g = tf.tensor(random(3 * 4 * 5 * 6), shape4);
      const weights = [random(6, 0.5, 1.5), random(6), random(6), random(6, 0.5, 2)].map((w) => tf.tensor1d(w));
      const stock = tfl.layers.batchNormalization({ axis: -1, momentum: 0.9, epsilon: 1e-3 });
      const fused = fusedBatchNormalization({ momentum: 0.9, epsilon: 1e-3 });
      const results = [stock, fused].map((layer) => {
        layer.build([null, 4, 5, 6]);
        layer.setWeights(weights);
        const vars = layer.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
        const training = tf.tidy(() => (layer.apply(x, { training: true }) as tf.Tensor).dataSync() as Float32Array);
        const { grads } = tf.variableGrads(() => tf.sum(tf.mul(layer.apply(x, { training: true }) as tf.Tensor, g)) as tf.Scalar, vars);
        const dx = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(layer.apply(t, { training: true }) as tf.Tensor, g)))(x);
        const inference = tf.tidy(() => (layer.apply(x, { training: false }) as tf.Tensor).dataSync() as Float32Array);
        const out = [training, ...vars.map((v) => grads[v.name].dataSync() as Float32Array), dx.dataSync() as Float32Array,
          ...layer.getWeights().map((w) => w.dataSync() as Float32Array), inference];
        tf.dispose([...Object.values(grads), dx]);
        return out;
      });
      expect(fused.getWeights().map((w) => w.shape)).toEqual(stock.getWeights().map((w) => w.shape));
      expect(fused.countParams()).toBe(stock.countParams());
      const names = ['training y', 'dgamma', 'dbeta', 'dx', 'gamma', 'beta', 'moving_mean', 'moving_variance', 'inference y'];
      names.forEach((name, i) => expect(maxRelError(results[1][i], results[0][i]), name).toBeLessThanOrEqual(1e-4));
      tf.dispose([x, g, ...weights]);
    });
  }

  it('updates the moving averages on wasm without kernels, to the bit of the tf-op formula', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor(random(2 * 3 * 5 * 7, 0, 4), [2, 3, 5, 7]);
    const weights = [random(7, 0.5, 1.5), random(7), random(7), random(7, 0.5, 2)].map((w) => tf.tensor1d(w));
    const layer = fusedBatchNormalization({ momentum: 0.97, epsilon: 1e-3 });
    layer.build([null, 3, 5, 7]);
    layer.setWeights(weights);
    const { mean, variance } = batchNormTraining(x, weights[0], weights[1], 1e-3);
    const decay = 1 - 0.97;
    const expected = [[weights[2], mean], [weights[3], variance]].map(([m, b]) => tf.sub(m, tf.mul(tf.sub(m, b), decay)).dataSync());
    const info = await tf.profile(() => {
      tf.dispose(layer.apply(x, { training: true }) as tf.Tensor);
    });
    expect(info.kernelNames.filter((k) => k !== 'EffscaleBatchNormTrain')).toEqual([]);
    const after = layer.getWeights().slice(2).map((w) => Array.from(w.dataSync()));
    expect(after).toEqual(expected.map((e) => Array.from(e)));
    tf.dispose([x, mean, variance, ...weights]);
  });

  it('round-trips its config', () => {
    const layer = fusedBatchNormalization({ name: 'bn_x', momentum: 0.95, epsilon: 1e-5 });
    expect(layer.getConfig()).toMatchObject({ name: 'bn_x', momentum: 0.95, epsilon: 1e-5 });
    expect(() => fusedBatchNormalization({ momentum: 2 })).toThrow('momentum 2 (allowed: 0..1)');
  });
});

describe('FusedSwish layer', () => {
  // On wasm the forward is one SIMD kernel with its own sigmoid (a few ulp from tfjs' Sigmoid); elsewhere it is the
  // stock activation's own ops, bit for bit.
  const tolerance = (backend: string): number => (backend === 'wasm' ? 1e-6 : 0);
  for (const backend of ['wasm', 'cpu']) {
    it(`gives tf.layers swish values (${backend === 'wasm' ? 'within 1e-6' : 'bit for bit'}) and its gradient on ${backend}`, async () => {
      await tf.setBackend(backend);
      const shape4 = [2, 3, 4, 5];
      const x = tf.tensor(random(120, -6, 6), shape4);
      const g = tf.tensor(random(120), shape4);
      const stock = tfl.layers.activation({ activation: 'swish' });
      const fused = fusedSwish();
      const [ys, yf] = [stock, fused].map((l) => (l.apply(x) as tf.Tensor).dataSync() as Float32Array);
      expect(maxRelError(yf, ys)).toBeLessThanOrEqual(tolerance(backend));
      const [gs, gf] = [stock, fused].map((l) =>
        tf.grad((t: tf.Tensor) => tf.sum(tf.mul(l.apply(t) as tf.Tensor, g)))(x).dataSync() as Float32Array);
      expect(maxRelError(gf, gs)).toBeLessThanOrEqual(1e-6);
      if (backend === 'wasm') {
        const info = await tf.profile(() => tf.grad((t: tf.Tensor) => tf.sum(fused.apply(t) as tf.Tensor))(x));
        expect(info.kernelNames).toContain('EffscaleSwish');
        expect(info.kernelNames).toContain('EffscaleSwishGrad');
        expect(info.kernelNames).not.toContain('Sigmoid');
      }
      tf.dispose([x, g]);
    });
  }
  it('gives tf.layers swish values on wasm at odd sizes and batch 1, leaving no tensors behind', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor(random(105, -8, 8), [1, 3, 5, 7]);
    const g = tf.tensor(random(105), [1, 3, 5, 7]);
    const stock = tfl.layers.activation({ activation: 'swish' });
    const fused = fusedSwish();
    const [ys, yf] = [stock, fused].map((l) => tf.tidy(() => (l.apply(x) as tf.Tensor).dataSync() as Float32Array));
    expect(maxRelError(yf, ys)).toBeLessThanOrEqual(1e-6);
    const before = tf.memory().numTensors;
    const [gs, gf] = [stock, fused].map((l) => tf.tidy(() =>
      tf.grad((t: tf.Tensor) => tf.sum(tf.mul(l.apply(t) as tf.Tensor, g)))(x).dataSync() as Float32Array));
    expect(tf.memory().numTensors).toBe(before);
    expect(maxRelError(gf, gs)).toBeLessThanOrEqual(1e-6);
    tf.dispose([x, g]);
  });
  it('saturates to 0 and 1 over the whole float range on wasm and lets NaN through, as the stock sigmoid does', async () => {
    await tf.setBackend('wasm');
    const xs = [-1e30, -200, -88, -87.4, -87.3, -30, -1e-30, 0, 1e-30, 30, 87.3, 88, 200, 1e30, Number.NaN];
    const x = tf.tensor1d(xs);
    const got = Array.from((fusedSwish().apply(x) as tf.Tensor).dataSync());
    const ref = xs.map((v) => Math.fround(v * (1 / (1 + Math.exp(-v)))));
    xs.forEach((v, i) => {
      if (Number.isNaN(v)) expect(got[i]).toBeNaN();
      else if (Math.abs(ref[i]) < 1e-30) expect(Math.abs(got[i])).toBeLessThan(1e-30);
      else expect(Math.abs(got[i] - ref[i]) / Math.abs(ref[i])).toBeLessThanOrEqual(1e-6);
    });
    x.dispose();
  });
});
