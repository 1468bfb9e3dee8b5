import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setSimdKernelsEnabled, setSimdVariant, wasmTrainingKernelsInfo } from '../src/index.js';
import { initWasm } from './fixtures/backend.js';
import { maxRelError, uniformStream } from './fixtures/numeric.js';

// Forward kernels replaced on wasm, against the pure-JS cpu backend on fresh random inputs, with
// the SIMD kernels on and off (the stock-kernel fallback).

const random = uniformStream(98765);

async function on<T extends tf.Tensor>(backend: string, f: () => T): Promise<Float32Array> {
  await tf.setBackend(backend);
  const t = tf.tidy(f);
  const out = (await t.data()) as Float32Array;
  t.dispose();
  return out;
}

type Pad = 'same' | 'valid';
interface DwCase { n: number; h: number; w: number; c: number; k: number; stride: number; pad: Pad }

const dwCases: DwCase[] = [];
for (const k of [3, 5]) for (const stride of [1, 2]) for (const pad of ['same', 'valid'] as Pad[]) {
  dwCases.push({ n: 2, h: 7, w: 9, c: 37, k, stride, pad }); // 37 = 2 x 16 + 4 + 1: every channel loop
  dwCases.push({ n: 1, h: 8, w: 8, c: 3, k, stride, pad });
}
dwCases.push({ n: 1, h: 2, w: 3, c: 20, k: 5, stride: 1, pad: 'same' }); // taps beyond both edges
dwCases.push({ n: 3, h: 16, w: 16, c: 48, k: 3, stride: 2, pad: 'same' });

// Both builds of the SIMD kernels (relaxed: fused multiply-adds), and none (stock-kernel compositions).
describe.each(['relaxed-simd', 'simd', 'off'] as const)('wasm forward kernels match the cpu backend (SIMD kernels: %s)', (mode) => {
  beforeAll(async () => {
    await initWasm();
    setSimdKernelsEnabled(mode !== 'off');
    if (mode !== 'off') setSimdVariant(mode);
    expect(wasmTrainingKernelsInfo()?.variant).toBe(mode === 'off' ? undefined : mode);
  });
  afterAll(() => {
    setSimdKernelsEnabled(true);
    setSimdVariant('auto');
  });

  it.each(dwCases)('depthwise conv $n x $h x $w x $c, k$k s$stride $pad', async (c) => {
    const x = random(c.n * c.h * c.w * c.c);
    const f = random(c.k * c.k * c.c);
    const op = () => tf.depthwiseConv2d(tf.tensor4d(x, [c.n, c.h, c.w, c.c]), tf.tensor4d(f, [c.k, c.k, c.c, 1]), c.stride, c.pad);
    const ref = await on('cpu', op);
    const got = await on('wasm', op);
    expect(maxRelError(got, ref)).toBeLessThanOrEqual(1e-5);
  });

  // Stride 1 is a gather (forward kernel, reversed filter); stride 2 keeps the scatter kernel.
  it.each(dwCases)('depthwise input gradient $n x $h x $w x $c, k$k s$stride $pad', async (c) => {
    const x = random(c.n * c.h * c.w * c.c);
    const f = random(c.k * c.k * c.c);
    const shape: [number, number, number, number] = [c.n, c.h, c.w, c.c];
    const ys = tf.tidy(() => tf.depthwiseConv2d(tf.zeros(shape) as tf.Tensor4D, tf.zeros([c.k, c.k, c.c, 1]) as tf.Tensor4D, c.stride, c.pad).shape);
    const dy = random(ys.reduce((a, b) => a * b));
    const op = () => tf.engine().runKernel(
      'DepthwiseConv2dNativeBackpropInput', { dy: tf.tensor4d(dy, ys), filter: tf.tensor4d(f, [c.k, c.k, c.c, 1]) },
      { strides: [c.stride, c.stride], pad: c.pad, dilations: [1, 1], inputShape: shape },
    ) as tf.Tensor;
    expect(maxRelError(await on('wasm', op), await on('cpu', op))).toBeLessThanOrEqual(1e-5);
  });

  // Stride 1 sums per output row in registers; stride 2 keeps the scatter kernel.
  it.each(dwCases)('depthwise filter gradient $n x $h x $w x $c, k$k s$stride $pad', async (c) => {
    const x = random(c.n * c.h * c.w * c.c);
    const shape: [number, number, number, number] = [c.n, c.h, c.w, c.c];
    const ys = tf.tidy(() => tf.depthwiseConv2d(tf.zeros(shape) as tf.Tensor4D, tf.zeros([c.k, c.k, c.c, 1]) as tf.Tensor4D, c.stride, c.pad).shape);
    const dy = random(ys.reduce((a, b) => a * b));
    const op = () => tf.engine().runKernel(
      'DepthwiseConv2dNativeBackpropFilter', { x: tf.tensor4d(x, shape), dy: tf.tensor4d(dy, ys) },
      { strides: [c.stride, c.stride], pad: c.pad, dilations: [1, 1], filterShape: [c.k, c.k, c.c, 1] },
    ) as tf.Tensor;
    expect(maxRelError(await on('wasm', op), await on('cpu', op))).toBeLessThanOrEqual(1e-5);
  });

  it('depthwise conv with depth multiplier 2 (stock kernel)', async () => {
    const x = random(2 * 6 * 6 * 5);
    const f = random(3 * 3 * 5 * 2);
    const op = () => tf.depthwiseConv2d(tf.tensor4d(x, [2, 6, 6, 5]), tf.tensor4d(f, [3, 3, 5, 2]), 2, 'same');
    expect(maxRelError(await on('wasm', op), await on('cpu', op))).toBeLessThanOrEqual(1e-5);
  });
});
