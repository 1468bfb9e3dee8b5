import * as tf from '@tensorflow/tfjs-core';
// tfjs-layers registers tfjs-core's gradient functions (the core node bundle does not).
import '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setSimdKernelsEnabled, setSimdVariant, wasmTrainingKernelsInfo } from '../src/index.js';
import { initWasm } from './fixtures/backend.js';
import { maxRelError, uniformStream } from './fixtures/numeric.js';

// Gradients of conv2d / depthwiseConv2d on wasm (custom kernels) against the pure-JS cpu backend.

type Pad = 'same' | 'valid';
interface Case { k: number; stride: number; pad: Pad; size: number; mult: number }

const random = uniformStream(12345);

type Op = (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor4D;

async function gradsOn(backend: string, op: Op, xs: number[], ws: number[], x: Float32Array, w: Float32Array, dyOf: (shape: number[]) => Float32Array) {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const xt = tf.tensor4d(x, xs as [number, number, number, number]);
    const wt = tf.tensor4d(w, ws as [number, number, number, number]);
    const yShape = op(xt, wt).shape;
    const dy = tf.tensor(dyOf(yShape), yShape);
    const [gx, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(op(a as tf.Tensor4D, b as tf.Tensor4D), dy)))([xt, wt]);
    return { gx: gx.dataSync() as Float32Array, gw: gw.dataSync() as Float32Array };
  });
}

async function compare(op: Op, xs: number[], ws: number[]) {
  const x = random(xs.reduce((a, b) => a * b));
  const w = random(ws.reduce((a, b) => a * b));
  const dyCache = new Map<string, Float32Array>();
  const dyOf = (shape: number[]) => {
    const key = shape.join('x');
    if (!dyCache.has(key)) dyCache.set(key, random(shape.reduce((a, b) => a * b)));
    return dyCache.get(key) as Float32Array;
  };
  const ref = await gradsOn('cpu', op, xs, ws, x, w, dyOf);
  const got = await gradsOn('wasm', op, xs, ws, x, w, dyOf);
  return { input: maxRelError(got.gx, ref.gx), filter: maxRelError(got.gw, ref.gw) };
}

const cases: Case[] = [];
for (const k of [1, 3, 5]) for (const stride of [1, 2]) for (const pad of ['same', 'valid'] as Pad[]) for (const size of [7, 8]) {
  cases.push({ k, stride, pad, size, mult: 1 });
}
const name = (c: Case) => `k${c.k} s${c.stride} ${c.pad} ${c.size}x${c.size}` + (c.mult > 1 ? ` x${c.mult}` : '');
const worst = { conv: 0, depthwise: 0 };

describe.each(['relaxed-simd', 'simd'] as const)('wasm training kernels match the cpu backend (%s build)', (variant) => {
  beforeAll(async () => {
    await initWasm();
    setSimdVariant(variant);
    expect(wasmTrainingKernelsInfo()?.variant).toBe(variant);
  });
  afterAll(() => setSimdVariant('auto'));

  it.each(cases)('conv2d gradients: $k/$stride/$pad/$size', async (c) => {
    const e = await compare((x, w) => tf.conv2d(x, w, c.stride, c.pad), [2, c.size, c.size, 3], [c.k, c.k, 3, 5]);
    worst.conv = Math.max(worst.conv, e.input, e.filter);
    expect(e.input, `input gradient ${name(c)}`).toBeLessThanOrEqual(1e-5);
    expect(e.filter, `filter gradient ${name(c)}`).toBeLessThanOrEqual(1e-5);
  });

  it.each(cases.flatMap((c) => [c, { ...c, mult: 2 }]))('depthwise gradients: $k/$stride/$pad/$size x$mult', async (c) => {
    const e = await compare((x, w) => tf.depthwiseConv2d(x, w, c.stride, c.pad), [2, c.size, c.size, 4], [c.k, c.k, 4, c.mult]);
    worst.depthwise = Math.max(worst.depthwise, e.input, e.filter);
    expect(e.input, `input gradient ${name(c)}`).toBeLessThanOrEqual(1e-5);
    expect(e.filter, `filter gradient ${name(c)}`).toBeLessThanOrEqual(1e-5);
  });

  it('1x1 convolutions with more input than output channels (the other matmul orientation)', async () => {
    const e = await compare((x, w) => tf.conv2d(x, w, 1, 'same'), [3, 5, 6, 24], [1, 1, 24, 8]);
    expect(Math.max(e.input, e.filter)).toBeLessThanOrEqual(1e-5);
    // Register tiles (4 x 8) plus edge rows and columns, over more than one 256-pixel chunk.
    const f = await compare((x, w) => tf.conv2d(x, w, 1, 'valid'), [2, 15, 11, 10], [1, 1, 10, 13]);
    expect(Math.max(f.input, f.filter)).toBeLessThanOrEqual(1e-5);
  });

  it('1x1 filter gradients with few pixels and many channels (transpose, then the forward GEMM)', async () => {
    // 30 pixels, 301 x 231 channels: past the 65,536-weight threshold, with edge rows and columns of the tiles.
    const e = await compare((x, w) => tf.conv2d(x, w, 1, 'same'), [2, 3, 5, 301], [1, 1, 301, 231]);
    expect(Math.max(e.input, e.filter)).toBeLessThanOrEqual(1e-5);
  });

  it('larger channel counts take the block-copy paths', async () => {
    const e = await compare((x, w) => tf.depthwiseConv2d(x, w, 2, 'same'), [2, 9, 9, 40], [5, 5, 40, 1]);
    const f = await compare((x, w) => tf.conv2d(x, w, 2, 'same'), [2, 9, 9, 16], [3, 3, 16, 24]);
    expect(Math.max(e.input, e.filter, f.input, f.filter)).toBeLessThanOrEqual(1e-5);
    console.log(`max relative gradient error vs cpu: conv ${worst.conv.toExponential(2)}, depthwise ${worst.depthwise.toExponential(2)}`);
  });

  it('gives the same gradients with the SIMD kernels off (tfjs-op compositions)', async () => {
    setSimdKernelsEnabled(false);
    try {
      for (const c of [{ k: 3, s: 2, size: 9 }, { k: 1, s: 1, size: 8 }, { k: 5, s: 1, size: 7 }]) {
        const conv = await compare((x, w) => tf.conv2d(x, w, c.s, 'same'), [2, c.size, c.size, 6], [c.k, c.k, 6, 10]);
        const dw = await compare((x, w) => tf.depthwiseConv2d(x, w, c.s, 'same'), [2, c.size, c.size, 20], [c.k, c.k, 20, 1]);
        expect(Math.max(conv.input, conv.filter, dw.input, dw.filter)).toBeLessThanOrEqual(1e-5);
      }
    } finally {
      setSimdKernelsEnabled(true);
    }
  });

  it('rejects NCHW filter gradients with a clear error', async () => {
    await tf.setBackend('wasm');
    const x = tf.zeros([1, 2, 4, 4]) as tf.Tensor4D;
    const dy = tf.zeros([1, 2, 4, 4]) as tf.Tensor4D;
    const run = () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, {
      strides: [1, 1], pad: 'same', dataFormat: 'NCHW', filterShape: [3, 3, 2, 2],
    });
    expect(run).toThrow(/dataFormat 'channelsFirst'.*channelsLast/);
    tf.dispose([x, dy]);
  });
});
