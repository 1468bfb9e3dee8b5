import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { resolveArchitecture } from '../src/index.js';
import { batchNormTraining, initBackend, swish, type BackendInfo } from '../src/backend/index.js';
import { buildModel } from '../src/model/index.js';
import { evaluate, loadModel, train, type TrainOptions } from '../src/train/index.js';
import { FusedAdamOptimizer } from '@effscale/wasm-train';
import { tempDir, writeIdxSet } from './fixtures/data/helpers.js';

// The webgpu backend on whatever adapter Dawn finds (CI: Mesa's lavapipe, installed by .ci/install-vulkan). Without one
// the file skips with one line; with EFFSCALE_REQUIRE_WEBGPU=1 it fails instead. Kept small: lavapipe is slow.
// Reads are async only: dataSync needs OffscreenCanvas on webgpu, and moving a tensor off webgpu reads it synchronously,
// so every comparison builds its inputs per backend from plain arrays.

let info: BackendInfo | undefined;
let reason: string | undefined;
try {
  info = await initBackend('webgpu');
} catch (e) {
  reason = (e as Error).message;
}
if (reason !== undefined && process.env.EFFSCALE_REQUIRE_WEBGPU === '1') {
  throw new Error(`EFFSCALE_REQUIRE_WEBGPU=1 but ${reason}`);
}
if (reason !== undefined) console.log(`webgpu tests skipped: ${reason}`);

function noise(n: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return out;
}

async function on<T>(backend: 'cpu' | 'wasm' | 'webgpu', fn: () => Promise<T>): Promise<T> {
  if (backend === 'webgpu') await initBackend('webgpu');
  else if (!(await tf.setBackend(backend))) throw new Error(`${backend} failed`);
  return fn();
}

async function read(ts: tf.Tensor[]): Promise<Float32Array[]> {
  const out = await Promise.all(ts.map((t) => t.data() as Promise<Float32Array>));
  tf.dispose(ts);
  return out;
}

function expectClose(got: Float32Array, want: Float32Array, rel: number, label: string): void {
  expect(got.length, label).toBe(want.length);
  let scale = 0;
  for (const v of want) scale = Math.max(scale, Math.abs(v));
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
  expect(worst / Math.max(scale, 1e-6), `${label}: max |diff| ${worst} at scale ${scale}`).toBeLessThan(rel);
}

const arch = (resolution: number, width = 0.25) => resolveArchitecture({
  selector: { kind: 'multipliers', depth: 0.5, width, resolution }, classes: 4, inputChannels: 1, dropout: 0, dropConnectRate: 0,
});

describe.skipIf(reason !== undefined)(`webgpu backend${reason ? ` (skipped: ${reason})` : ''}`, () => {
  it('records the adapter it runs on', () => {
    expect(info!.name).toBe('webgpu');
    expect(tf.getBackend()).toBe('webgpu');
    expect(info!.adapter).toBeDefined();
    expect(typeof info!.adapter!.software).toBe('boolean');
    expect(info!.adapter!.description + info!.adapter!.device).not.toBe('');
    expect(info!.version).toMatch(/tfjs-backend-webgpu 4\.22\.\d+/);
  });

  it('auto never picks a software adapter', async () => {
    if (!info!.adapter!.software) return; // a real GPU is auto's to pick
    vi.stubEnv('EFFSCALE_WEBGPU_PROBE', '1');
    try {
      const auto = await initBackend('auto');
      expect(auto.name).not.toBe('webgpu');
      expect(auto.fallbacks.find((l) => l.startsWith('webgpu:'))).toMatch(/^webgpu: only a software adapter, .+; it is used only when asked for: --backend webgpu or EFFSCALE_BACKEND=webgpu$/);
    } finally {
      vi.unstubAllEnvs();
      await initBackend('webgpu');
    }
  });

  it('fused batchnorm: output, batch statistics and gradients (x, gamma, beta, through the statistics) match cpu', async () => {
    const shape = [3, 5, 5, 6];
    const [xs, gs, bs, ws, us] = [noise(450, 1, 2), noise(6, 2, 0.5), noise(6, 3), noise(450, 4), noise(6, 5)];
    const run = () => {
      const [x, gamma, beta] = [tf.tensor(xs, shape), tf.add(tf.tensor1d(gs), 1), tf.tensor1d(bs)];
      const f = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
        const { y, mean, variance } = batchNormTraining(a, g, b, 1e-3);
        return tf.addN([tf.sum(tf.mul(y, tf.tensor(ws, shape))), tf.sum(tf.mul(mean, tf.tensor1d(us))), tf.sum(variance)]);
      };
      const { y, mean, variance } = batchNormTraining(x, gamma, beta, 1e-3);
      const grads = tf.grads(f)([x, gamma, beta]);
      return read([y, mean, variance, ...grads]);
    };
    const want = await on('cpu', run);
    const got = await on('webgpu', run);
    ['y', 'mean', 'variance', 'dx', 'dgamma', 'dbeta'].forEach((name, i) => expectClose(got[i], want[i], 1e-5, name));
  });

  it('fused swish: values and gradient match cpu', async () => {
    const [xs, ws] = [noise(300, 6, 6), noise(300, 7)];
    const run = () => {
      const x = tf.tensor2d(xs, [10, 30]);
      const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(swish(a), tf.tensor2d(ws, [10, 30]))))(x);
      return read([swish(x), g]);
    };
    const want = await on('cpu', run);
    const got = await on('webgpu', run);
    expectClose(got[0], want[0], 1e-6, 'swish');
    expectClose(got[1], want[1], 1e-6, 'swish gradient');
  });

  it('fused Adam: three steps match tf.train.adam on cpu', async () => {
    const [w0, g0] = [noise(40, 8), noise(40, 9)];
    const run = async (make: () => tf.Optimizer) => {
      const v = tf.variable(tf.tensor1d(w0), true, 'adam-w');
      const opt = make();
      for (let step = 0; step < 3; step++) {
        tf.tidy(() => opt.applyGradients({ 'adam-w': tf.mul(tf.tensor1d(g0), step + 1) }));
      }
      const [out] = await read([v.clone()]);
      v.dispose();
      opt.dispose();
      return out;
    };
    const want = await on('cpu', () => run(() => tf.train.adam(0.01)));
    const got = await on('webgpu', () => run(() => new FusedAdamOptimizer(0.01)));
    expectClose(got, want, 1e-6, 'weights after 3 Adam steps');
  });

  it('a whole-model training step (forward, backward, Adam) gives the cpu backend losses and weights', async () => {
    const a = arch(16);
    const [xs, labels] = [noise(8 * 16 * 16, 10), Array.from({ length: 8 }, (_, i) => i % 4)];
    const run = async () => {
      const model = buildModel(a, { seed: 3 });
      const opt = new FusedAdamOptimizer(1e-3);
      const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
      const losses: number[] = [];
      for (let step = 0; step < 3; step++) {
        const loss = tf.tidy(() => {
          const x = tf.tensor4d(xs, [8, 16, 16, 1]);
          const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 4);
          const { value, grads } = opt.computeGradients(() => {
            const p = model.apply(x, { training: true }) as tf.Tensor;
            return tf.neg(tf.mean(tf.sum(tf.mul(y, tf.log(tf.clipByValue(p, 1e-7, 1 - 1e-7))), -1))) as tf.Scalar;
          }, vars);
          opt.applyGradients(grads);
          return value;
        });
        losses.push((await read([loss]))[0][0]);
      }
      const weights = await read(model.getWeights().map((w) => w.clone()));
      model.dispose();
      opt.dispose();
      return { losses, weights };
    };
    const want = await on('cpu', run);
    const got = await on('webgpu', run);
    // Float noise only: Adam turns last-bit gradient differences of near-zero gradients into lr-sized steps, so the
    // tolerance is a few lr-sized weight changes, orders of magnitude below what a wrong gradient does.
    for (let i = 0; i < 3; i++) expect(Math.abs(got.losses[i] - want.losses[i]), `loss ${i}`).toBeLessThan(1e-3);
    // Each Adam step moves a weight by at most about lr, whatever its gradient: 3 steps, two runs.
    got.weights.forEach((w, i) => w.forEach((v, j) => expect(Math.abs(v - want.weights[i][j]), `weight ${i}[${j}]`).toBeLessThan(2 * 3 * 1e-3 + 1e-4)));
  });

  it('keeps a constant number of tensors and GPU bytes over many training steps', async () => {
    await initBackend('webgpu');
    const model = buildModel(arch(8), { seed: 4 });
    const opt = new FusedAdamOptimizer(1e-3);
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const xs = noise(4 * 8 * 8, 11);
    const step = async () => {
      const loss = tf.tidy(() => {
        const x = tf.tensor4d(xs, [4, 8, 8, 1]);
        const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3], 'int32'), 4);
        const { value, grads } = opt.computeGradients(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, vars);
        opt.applyGradients(grads);
        return value;
      });
      await loss.data();
      loss.dispose();
    };
    for (let i = 0; i < 3; i++) await step();
    const before = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number };
    for (let i = 0; i < 12; i++) await step();
    const after = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number };
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numDataBuffers).toBe(before.numDataBuffers);
    expect(after.numBytesInGPU).toBe(before.numBytesInGPU);
    model.dispose();
    opt.dispose();
  });

  describe('checkpoints move between webgpu and wasm', () => {
    const data = tempDir('webgpu-data');
    writeIdxSet(data.dir, { train: 64, test: 16, size: 8, classes: 4 });
    const runs = tempDir('webgpu-runs');
    afterAll(() => {
      data.cleanup();
      runs.cleanup();
    });
    const opts = (out: string, backend: string, steps: number): TrainOptions => ({
      network: { selector: { kind: 'multipliers', depth: 0.5, width: 0.25, resolution: 8 } },
      data: { name: 'mnist', dir: data.dir }, steps, horizon: 8, batchSize: 16, seed: 5, recipe: 'proxy',
      outDir: join(runs.dir, out), backend, resume: true,
    });
    const losses = async (o: TrainOptions): Promise<number[]> => {
      const seen: number[] = [];
      const r = await train({ ...o, onEvent: (e) => void (e.type === 'step' && seen.push(e.loss)) });
      expect(r.status).toBe('completed');
      return seen;
    };

    it('train on webgpu, resume on wasm (and the reverse) follows the straight wasm run; evaluation agrees', async () => {
      const straight = await losses(opts('wasm-8', 'wasm', 8));
      const firstGpu = await losses(opts('gpu-then-wasm', 'webgpu', 4));
      const thenWasm = await losses(opts('gpu-then-wasm', 'wasm', 8));
      const firstWasm = await losses(opts('wasm-then-gpu', 'wasm', 4));
      const thenGpu = await losses(opts('wasm-then-gpu', 'webgpu', 8));
      const close = (a: number[], b: number[]) => a.forEach((v, i) => expect(Math.abs(v - b[i]), `step ${i + 1}: ${v} vs ${b[i]}`).toBeLessThan(1e-3));
      close([...firstGpu, ...thenWasm], straight);
      close([...firstWasm, ...thenGpu], straight);

      // The webgpu-trained checkpoint evaluates the same on both backends.
      const split = { name: 'mnist', dir: data.dir };
      const { loadDataset } = await import('../src/data/index.js');
      const ds = await loadDataset({ ...split, seed: 5 });
      const { readFileSync } = await import('node:fs');
      const normalize = JSON.parse(readFileSync(join(runs.dir, 'wasm-then-gpu', 'run.json'), 'utf8')).data.normalize;
      const evalOn = async (backend: 'wasm' | 'webgpu') => {
        await initBackend(backend);
        const model: tfl.LayersModel = await loadModel(join(runs.dir, 'wasm-then-gpu', 'checkpoint'));
        const r = await evaluate(model, ds.test, { batchSize: 8, resolution: 8, channels: 1, normalize, seed: 5 });
        model.dispose();
        return r;
      };
      const onWasm = await evalOn('wasm');
      const onGpu = await evalOn('webgpu');
      expect(onGpu.top1).toBe(onWasm.top1);
      expect(Math.abs(onGpu.loss - onWasm.loss)).toBeLessThan(1e-4);
    });
  });
});
