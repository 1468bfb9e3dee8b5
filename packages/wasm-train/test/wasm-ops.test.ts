import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { setSimdKernelsEnabled } from '../src/index.js';
import { initWasm } from './fixtures/backend.js';
import { broadcastSplit } from '../src/wasm-kernels/binary.js';
import { collapsePermutation } from '../src/wasm-kernels/layout.js';
import { reductionSplit } from '../src/wasm-kernels/reduce.js';
import { maxRelError, uniformStream } from './fixtures/numeric.js';

// Stock wasm kernels replaced for speed (Tile, Sum, Mean, Cast, Multiply/Add/Sub/RealDiv with
// broadcasting, FusedBatchNorm, Identity) must give the cpu backend's results.

const uniform = uniformStream(99);
const random = (shape: number[]): Float32Array => uniform(shape.reduce((a, b) => a * b, 1), -2, 2);

async function onBoth(f: () => tf.Tensor): Promise<{ cpu: Float32Array | Int32Array; wasm: Float32Array | Int32Array; shape: number[][] }> {
  await tf.setBackend('cpu');
  const c = tf.tidy(f);
  const cpu = c.dataSync() as Float32Array;
  const cs = c.shape;
  c.dispose();
  await tf.setBackend('wasm');
  const w = tf.tidy(f);
  const wasm = w.dataSync() as Float32Array;
  const ws = w.shape;
  w.dispose();
  return { cpu, wasm, shape: [cs, ws] };
}

async function expectSame(f: () => tf.Tensor, tol = 1e-6): Promise<void> {
  const r = await onBoth(f);
  expect(r.shape[1]).toEqual(r.shape[0]);
  expect(r.wasm.length).toBe(r.cpu.length);
  expect(maxRelError(r.wasm, r.cpu)).toBeLessThanOrEqual(tol);
}

beforeAll(async () => {
  await initWasm();
});

describe('shape analysis', () => {
  it('splits reductions into [outer, reduced, inner] only for contiguous axes', () => {
    expect(reductionSplit([2, 3, 4, 5], [0, 1, 2])).toEqual([1, 24, 5]);
    expect(reductionSplit([2, 3, 4, 5], [1, 2])).toEqual([2, 12, 5]);
    expect(reductionSplit([2, 3, 4, 5], [3])).toEqual([24, 5, 1]);
    expect(reductionSplit([2, 3, 4, 5], [0, 2])).toBeNull();
  });

  it('recognizes per-channel, per-sample and scalar broadcasts', () => {
    expect(broadcastSplit([2, 3, 4, 5], [5])).toEqual([1, 24, 5]);
    expect(broadcastSplit([2, 3, 4, 5], [1, 1, 1, 5])).toEqual([1, 24, 5]);
    expect(broadcastSplit([2, 3, 4, 5], [2, 1, 1, 5])).toEqual([2, 12, 5]);
    expect(broadcastSplit([2, 3, 4, 5], [])).toEqual([1, 120, 1]);
    expect(broadcastSplit([2, 3, 4, 5], [2, 3, 4, 1])).toEqual([24, 5, 1]);
    expect(broadcastSplit([2, 3, 4, 5], [1, 3, 1, 5])).toBeNull();
    expect(broadcastSplit([2, 3, 4, 5], [2, 3, 4, 5])).toBeNull();
  });

  it('collapses permutations to their lowest rank', () => {
    expect(collapsePermutation([2, 3, 4, 5], [1, 2, 0, 3])).toEqual({ shape: [2, 12, 5], perm: [1, 0, 2] });
    expect(collapsePermutation([6, 1, 1, 7], [3, 1, 2, 0])).toEqual({ shape: [6, 7], perm: [1, 0] });
    expect(collapsePermutation([2, 3], [0, 1])).toEqual({ shape: [6], perm: [0] });
  });
});

describe('replaced wasm kernels match the cpu backend', () => {
  it('Sum and Mean over leading, middle and inner axes', async () => {
    const x = random([3, 5, 6, 7]);
    for (const axis of [[0, 1, 2], [1, 2], [3], [0, 2], [0]]) {
      await expectSame(() => tf.sum(tf.tensor4d(x, [3, 5, 6, 7]), axis), 1e-5);
      await expectSame(() => tf.mean(tf.tensor4d(x, [3, 5, 6, 7]), axis, true), 1e-5);
    }
    // A long reduction (4,000 rows) stays accurate thanks to blocked summation.
    const big = random([4000, 9]);
    await expectSame(() => tf.sum(tf.tensor2d(big, [4000, 9]), 0), 1e-5);
  });

  it('Tile of float32 and int32 tensors', async () => {
    const v = random([1, 1, 1, 6]);
    await expectSame(() => tf.tile(tf.tensor4d(v, [1, 1, 1, 6]), [2, 3, 4, 1]));
    const m = random([2, 3]);
    await expectSame(() => tf.tile(tf.tensor2d(m, [2, 3]), [3, 2]));
    await expectSame(() => tf.tile(tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32'), [2, 3]));
  });

  it('broadcasting Multiply / Add / Sub / RealDiv, both operand orders', async () => {
    const full = random([2, 4, 3, 6]);
    const smalls: number[][] = [[6], [1, 1, 1, 6], [2, 1, 1, 6], [], [2, 4, 3, 1], [1, 4, 1, 6]];
    for (const s of smalls) {
      const sv = random(s).map((v) => v + 3);
      for (const op of [tf.mul, tf.add, tf.sub, tf.div]) {
        await expectSame(() => op(tf.tensor(full, [2, 4, 3, 6]), tf.tensor(sv, s)));
        await expectSame(() => op(tf.tensor(sv, s), tf.tensor(full, [2, 4, 3, 6])));
      }
    }
  });

  it('multiplying by exactly 1 returns the other operand and keeps it alive independently', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor([1.5, -2, 3]);
    const y = tf.mul(x, tf.scalar(1));
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1.5, -2, 3]);
    y.dispose();
  });

  it('Cast to the same dtype and Identity share data safely', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor([1, 2, 3]);
    const c = tf.cast(x, 'float32');
    const i = tf.clone(x);
    x.dispose();
    expect(Array.from(c.dataSync())).toEqual([1, 2, 3]);
    expect(Array.from(i.dataSync())).toEqual([1, 2, 3]);
    tf.dispose([c, i]);
    await expectSame(() => tf.cast(tf.tensor([1.7, -2.2]), 'int32'));
  });

  it('1x1 convolutions (plain, fused without extras, fused with bias and activation)', async () => {
    for (const [xs, ws] of [[[3, 5, 7, 10], [1, 1, 10, 13]], [[2, 4, 4, 16], [1, 1, 16, 24]], [[1, 1, 1, 3], [1, 1, 3, 5]]]) {
      const x = random(xs);
      const w = random(ws);
      const bias = random([ws[3]]);
      await expectSame(() => tf.conv2d(tf.tensor4d(x, xs as never), tf.tensor4d(w, ws as never), 1, 'same'), 1e-5);
      await expectSame(() => tf.fused.conv2d({ x: tf.tensor4d(x, xs as never), filter: tf.tensor4d(w, ws as never), strides: 1, pad: 'valid' }), 1e-5);
      await expectSame(() => tf.fused.conv2d({
        x: tf.tensor4d(x, xs as never), filter: tf.tensor4d(w, ws as never), strides: 1, pad: 'same', bias: tf.tensor1d(bias), activation: 'relu',
      }), 1e-5);
    }
    // Strided 1x1 convolutions are not plain matrix products: the stock kernel runs them.
    const sx = random([2, 6, 6, 4]);
    const sw = random([1, 1, 4, 8]);
    await expectSame(() => tf.conv2d(tf.tensor4d(sx, [2, 6, 6, 4]), tf.tensor4d(sw, [1, 1, 4, 8]), 2, 'same'), 1e-5);
  });

  it('falls back to JS loops / stock kernels with the SIMD kernels off', async () => {
    setSimdKernelsEnabled(false);
    try {
      const x = random([3, 5, 6, 7]);
      await expectSame(() => tf.sum(tf.tensor4d(x, [3, 5, 6, 7]), [0, 1, 2]), 1e-5);
      await expectSame(() => tf.mean(tf.tensor4d(x, [3, 5, 6, 7]), [1, 2]), 1e-5);
      const v = random([7]);
      await expectSame(() => tf.mul(tf.tensor4d(x, [3, 5, 6, 7]), tf.tensor1d(v)), 1e-6);
      const w = random([1, 1, 7, 9]);
      await expectSame(() => tf.conv2d(tf.tensor4d(x, [3, 5, 6, 7]), tf.tensor4d(w, [1, 1, 7, 9]), 1, 'same'), 1e-5);
    } finally {
      setSimdKernelsEnabled(true);
    }
  });

  it('FusedBatchNorm with per-channel statistics, with and without scale/offset', async () => {
    const x = random([2, 3, 4, 5]);
    const mean = random([5]);
    const variance = random([5]).map((v) => Math.abs(v) + 0.1);
    const scale = random([5]);
    const offset = random([5]);
    const t = (a: Float32Array, s: number[]) => tf.tensor(a, s);
    await expectSame(() => tf.batchNorm(t(x, [2, 3, 4, 5]), t(mean, [5]), t(variance, [5]), t(offset, [5]), t(scale, [5]), 1e-3), 1e-5);
    await expectSame(() => tf.batchNorm(t(x, [2, 3, 4, 5]), t(mean, [5]), t(variance, [5]), undefined, undefined, 1e-3), 1e-5);
    await expectSame(() => tf.batchNorm(t(x, [2, 3, 4, 5]), t(mean, [1, 1, 1, 5]), t(variance, [1, 1, 1, 5]), t(offset, [1, 1, 1, 5]), t(scale, [1, 1, 1, 5]), 1e-3), 1e-5);
  });
});

describe('the replacement FusedBatchNorm gradient', () => {
  // Reference: the same batchnorm written with elementary ops, differentiated by tfjs.
  const elementary = (x: tf.Tensor, mean: tf.Tensor, variance: tf.Tensor, offset: tf.Tensor, scale: tf.Tensor) =>
    tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-3))), scale), offset);

  for (const training of [true, false]) {
    it(`matches differentiating the formula (${training ? 'batch statistics' : 'fixed statistics'}) on cpu and wasm`, async () => {
      const shape = [3, 4, 5, 6];
      const xs = random(shape);
      const gs = random(shape);
      const params = [random([6]), random([6]).map((v) => Math.abs(v) + 0.2), random([6]), random([6])];
      for (const backend of ['cpu', 'wasm']) {
        await tf.setBackend(backend);
        const grads = (bn: typeof elementary) => tf.tidy(() => {
          const [m0, v0, offset, scale] = params.map((p) => tf.tensor1d(p));
          const f = (x: tf.Tensor, off: tf.Tensor, sc: tf.Tensor) => {
            const { mean, variance } = training ? tf.moments(x, [0, 1, 2]) : { mean: m0, variance: v0 };
            return tf.sum(tf.mul(bn(x, mean, variance, off, sc), tf.tensor(gs, shape)));
          };
          return tf.grads(f)([tf.tensor(xs, shape), offset, scale]).map((t) => t.dataSync() as Float32Array);
        });
        const fused = grads((x, mean, variance, offset, scale) => tf.batchNorm(x, mean, variance, offset, scale, 1e-3));
        const reference = grads(elementary);
        fused.forEach((g, i) => expect(maxRelError(g, reference[i]), `${backend} gradient ${i}`).toBeLessThanOrEqual(1e-4));
      }
    });
  }
});

describe('the fused Sigmoid gradient', () => {
  it('equals tfjs-core formula bit for bit on wasm and still works with the SIMD kernels off', async () => {
    const xs = random([2, 3, 5, 7]);
    const gs = random([2, 3, 5, 7]);
    const grad = () => tf.tidy(() => {
      const g = tf.tensor(gs, [2, 3, 5, 7]);
      return tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.sigmoid(x), g)))(tf.tensor(xs, [2, 3, 5, 7])).dataSync() as Float32Array;
    });
    const formula = () => tf.tidy(() => {
      const y = tf.sigmoid(tf.tensor(xs, [2, 3, 5, 7]));
      return tf.mul(tf.tensor(gs, [2, 3, 5, 7]), tf.mul(y, tf.sub(tf.scalar(1), y))).dataSync() as Float32Array;
    });
    await tf.setBackend('wasm');
    expect(Array.from(grad())).toEqual(Array.from(formula()));
    setSimdKernelsEnabled(false);
    try {
      expect(Array.from(grad())).toEqual(Array.from(formula()));
    } finally {
      setSimdKernelsEnabled(true);
    }
    await tf.setBackend('cpu');
    expect(maxRelError(grad(), formula())).toBe(0);
  });
});
