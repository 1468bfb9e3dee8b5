import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initWasm } from './fixtures/backend.js';
import { uniformStream } from './fixtures/numeric.js';

// The Mean and Sum gradients replicate dy with one Tile: the same bits as tfjs-core's dy * ones(x.shape) (/ n).

const random = uniformStream(777);

interface Case { shape: number[]; axis?: number | number[]; keepDims?: boolean }
const cases: Case[] = [
  { shape: [2, 5, 3, 4], axis: [1, 2] }, // global average pool (NHWC)
  { shape: [1, 7, 7, 9], axis: [1, 2], keepDims: true }, // batch 1, the SE squeeze
  { shape: [3, 5], axis: -1 },
  { shape: [3, 5, 2], axis: 0 },
  { shape: [4, 3, 2] }, // every axis
];

function stockFormula(op: 'mean' | 'sum', c: Case, x: tf.Tensor, dy: tf.Tensor): tf.Tensor {
  const axes = c.axis === undefined ? x.shape.map((_, i) => i) : [c.axis].flat().map((a) => (a < 0 ? a + x.rank : a));
  const expanded = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const n = axes.reduce((p, a) => p * x.shape[a], 1);
  const ones = tf.mul(tf.reshape(dy, expanded), tf.ones(x.shape));
  return op === 'mean' ? tf.div(ones, n) : ones;
}

describe('Mean and Sum gradients', () => {
  beforeAll(async () => {
    await initWasm();
  });

  for (const backend of ['wasm', 'cpu']) {
    for (const op of ['mean', 'sum'] as const) {
      it.each(cases)(`${op} on ${backend}: $shape over $axis (keepDims $keepDims), bit for bit`, async (c) => {
        await tf.setBackend(backend);
        tf.tidy(() => {
          const x = tf.tensor(random(c.shape.reduce((a, b) => a * b)), c.shape);
          const reduce = (t: tf.Tensor) => (op === 'mean' ? tf.mean(t, c.axis, c.keepDims) : tf.sum(t, c.axis, c.keepDims));
          const yShape = reduce(x).shape;
          const dy = tf.tensor(random(yShape.reduce((a, b) => a * b, 1)), yShape);
          const got = tf.grad((t: tf.Tensor) => reduce(t))(x, dy);
          expect(got.shape).toEqual(c.shape);
          expect(Array.from(got.dataSync())).toEqual(Array.from(stockFormula(op, c, x, dy).dataSync()));
        });
      });
    }
  }

  it('builds no tensor of ones and runs no multiply (one Tile) on wasm', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor(random(2 * 6 * 6 * 8), [2, 6, 6, 8]);
    const info = await tf.profile(() => tf.grad((t: tf.Tensor) => tf.mean(t, [1, 2]))(x));
    expect(info.kernelNames).toContain('Tile');
    expect(info.kernelNames).not.toContain('Multiply');
    x.dispose();
  });
});
