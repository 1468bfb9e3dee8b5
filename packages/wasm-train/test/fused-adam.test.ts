import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FusedAdamOptimizer, fusedBatchNormalization, fusedSwish } from '../src/index.js';
import { initWasm } from './fixtures/backend.js';

// The fused Adam must follow tf.train.adam step for step: same weights after N steps (bit for bit
// in practice; held to 1e-6 relative), learning-rate changes between steps, optimizer state saved
// and restored by position, and no tensors left behind.

/**
 * A small EfficientNet-like network, seeded: stem, one MBConv block (expand, depthwise, squeeze-and-excitation,
 * project, residual add), head; convolutions, depthwise filters, fused batchnorms and swishes, biases, a dense layer.
 */
function tinyConvnet(): tfl.LayersModel {
  let seed = 7;
  const init = () => tfl.initializers.glorotUniform({ seed: seed++ });
  const conv = (filters: number, kernelSize: number, strides = 1, extra: { useBias?: boolean; activation?: 'swish' | 'sigmoid' } = {}) =>
    tfl.layers.conv2d({ filters, kernelSize, strides, padding: 'same', useBias: extra.useBias ?? false, kernelInitializer: init(), ...(extra.activation ? { activation: extra.activation } : {}) });
  const bnSwish = (x: tfl.SymbolicTensor) => fusedSwish().apply(fusedBatchNormalization({ momentum: 0.9 }).apply(x)) as tfl.SymbolicTensor;
  const input = tfl.input({ shape: [16, 16, 1] });
  const stem = bnSwish(conv(8, 3, 2).apply(input) as tfl.SymbolicTensor);
  let x = bnSwish(conv(16, 1).apply(stem) as tfl.SymbolicTensor);
  x = bnSwish(tfl.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', useBias: false, depthwiseInitializer: init() }).apply(x) as tfl.SymbolicTensor);
  let se = tfl.layers.globalAveragePooling2d({}).apply(x) as tfl.SymbolicTensor;
  se = tfl.layers.reshape({ targetShape: [1, 1, 16] }).apply(se) as tfl.SymbolicTensor;
  se = conv(4, 1, 1, { useBias: true, activation: 'swish' }).apply(se) as tfl.SymbolicTensor;
  se = conv(16, 1, 1, { useBias: true, activation: 'sigmoid' }).apply(se) as tfl.SymbolicTensor;
  x = tfl.layers.multiply().apply([se, x]) as tfl.SymbolicTensor;
  x = fusedBatchNormalization({ momentum: 0.9 }).apply(conv(8, 1).apply(x)) as tfl.SymbolicTensor;
  x = tfl.layers.add().apply([x, stem]) as tfl.SymbolicTensor;
  x = bnSwish(conv(32, 1).apply(x) as tfl.SymbolicTensor);
  x = tfl.layers.globalAveragePooling2d({}).apply(x) as tfl.SymbolicTensor;
  const output = tfl.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: init() }).apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: output });
}

/** Adam reads its learningRate field at every step (what @effscale/core's setLearningRate does for it). */
function setLearningRate(opt: tf.Optimizer, lr: number): void {
  (opt as unknown as { learningRate: number }).learningRate = lr;
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1103515245 + 12345) >>> 0;
    return s / 2 ** 32;
  };
}

function batch(n: number, seed: number): { x: tf.Tensor4D; y: tf.Tensor2D } {
  const rnd = lcg(seed);
  const xs = Float32Array.from({ length: n * 16 * 16 }, () => rnd() * 2 - 1);
  const labels = Array.from({ length: n }, (_, i) => (i * 3 + seed) % 10);
  return { x: tf.tensor4d(xs, [n, 16, 16, 1]), y: tf.oneHot(tf.tensor1d(labels, 'int32'), 10) as tf.Tensor2D };
}

const trainable = (model: tfl.LayersModel): tf.Variable[] => model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);

/** The trainer's step: computeGradients, then applyGradients, inside one tidy. */
function trainStep(model: tfl.LayersModel, opt: tf.Optimizer, x: tf.Tensor, y: tf.Tensor): void {
  tf.tidy(() => {
    const { value, grads } = opt.computeGradients(
      () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
      trainable(model),
    );
    opt.applyGradients(grads);
    return value;
  }).dispose();
}

/** The model's weights after `steps` steps, with the learning rate dropped to a third half-way. */
function trainModel(makeOpt: (lr: number) => tf.Optimizer, steps: number): Float32Array[] {
  const model = tinyConvnet();
  const opt = makeOpt(3e-3);
  for (let step = 0; step < steps; step++) {
    if (step === steps >> 1) setLearningRate(opt, 1e-3);
    const { x, y } = batch(4, 100 + step);
    trainStep(model, opt, x, y);
    tf.dispose([x, y]);
  }
  const weights = model.getWeights().map((w) => w.dataSync() as Float32Array);
  opt.dispose();
  model.dispose();
  return weights;
}

/** max over elements of |a - b| / max|b|, the worst over all arrays. */
function worstRelative(got: Float32Array[], ref: Float32Array[]): number {
  expect(got.length).toBe(ref.length);
  let worst = 0;
  got.forEach((g, k) => {
    const r = ref[k];
    expect(g.length).toBe(r.length);
    let diff = 0;
    let scale = 0;
    for (let i = 0; i < r.length; i++) {
      diff = Math.max(diff, Math.abs(g[i] - r[i]));
      scale = Math.max(scale, Math.abs(r[i]));
    }
    worst = Math.max(worst, scale === 0 ? diff : diff / scale);
  });
  return worst;
}

// Plain variables: odd sizes (SIMD body and scalar tail), a scalar, a 2-D weight.
const SHAPES: number[][] = [[7], [], [33, 5], [1000]];

function makeVars(prefix: string): tf.Variable[] {
  const rnd = lcg(42);
  return SHAPES.map((shape, k) => {
    const size = shape.reduce((a, b) => a * b, 1);
    return tf.variable(tf.tensor(Float32Array.from({ length: size }, () => rnd() - 0.5), shape), true, `${prefix}${k}`);
  });
}

/** Deterministic gradients for step `step`, of very different magnitudes per variable, with exact zeros. */
function gradsFor(vars: tf.Variable[], step: number): tf.NamedTensorMap {
  const rnd = lcg(1000 + step);
  const grads: tf.NamedTensorMap = {};
  vars.forEach((v, k) => {
    const scale = 10 ** (k - 2);
    grads[v.name] = tf.tensor(Float32Array.from({ length: v.size }, (_, i) => (i % 5 === 3 ? 0 : (rnd() - 0.5) * scale)), v.shape);
  });
  return grads;
}

function stepVars(opt: tf.Optimizer, vars: tf.Variable[], step: number, asArray = false): void {
  const grads = gradsFor(vars, step);
  opt.applyGradients(asArray ? vars.map((v) => ({ name: v.name, tensor: grads[v.name] })) : grads);
  tf.dispose(grads);
}

let varPrefix = 0;
const fresh = (): string => `fused-adam-test-${varPrefix++}/`;

/** Copies of an optimizer's weights, as a checkpoint restores them (new tensors, same names and order). */
async function snapshot(opt: tf.Optimizer): Promise<Array<{ name: string; tensor: tf.Tensor }>> {
  const weights = await opt.getWeights();
  const out = await Promise.all(weights.map(async (w) => ({ name: w.name, tensor: tf.tensor(await w.tensor.data(), w.tensor.shape, w.tensor.dtype) })));
  // getWeights makes a new 'iter' scalar each call.
  weights[0].tensor.dispose();
  return out;
}

beforeAll(async () => {
  await initWasm();
});

afterEach(async () => {
  await tf.setBackend('wasm');
});

describe.each(['wasm', 'cpu'])('FusedAdamOptimizer on %s', (backend) => {
  beforeAll(async () => {
    await tf.setBackend(backend);
  });

  it('trains a small convnet to the weights tf.train.adam gives, with the learning rate changed half-way', async () => {
    await tf.setBackend(backend);
    const steps = 6;
    const ref = trainModel((lr) => tf.train.adam(lr), steps);
    const got = trainModel((lr) => new FusedAdamOptimizer(lr), steps);
    expect(worstRelative(got, ref)).toBeLessThanOrEqual(1e-6);
    // The schedule matters: without the change the weights differ.
    const unchanged = trainModel((lr) => {
      const opt = new FusedAdamOptimizer(lr);
      const o = opt as unknown as { learningRate: number };
      Object.defineProperty(o, 'learningRate', { get: () => 3e-3, set: () => {} });
      return opt;
    }, steps);
    expect(worstRelative(unchanged, ref)).toBeGreaterThan(1e-5);
  });

  it('updates plain variables as tf.train.adam does (map and array gradients, lr changes)', async () => {
    await tf.setBackend(backend);
    const refVars = makeVars(fresh());
    const gotVars = makeVars(fresh());
    const ref = tf.train.adam(0.01);
    const got = new FusedAdamOptimizer(0.01);
    for (let step = 0; step < 12; step++) {
      if (step === 4) [ref, got].forEach((o) => setLearningRate(o, 0.002));
      if (step === 8) [ref, got].forEach((o) => setLearningRate(o, 0.05));
      stepVars(ref, refVars, step, step % 2 === 1);
      stepVars(got, gotVars, step, step % 2 === 1);
    }
    const a = gotVars.map((v) => v.dataSync() as Float32Array);
    const b = refVars.map((v) => v.dataSync() as Float32Array);
    // Same float32 operations in the same order: bit for bit.
    expect(worstRelative(a, b)).toBe(0);
    const [gw, rw] = [await got.getWeights(), await ref.getWeights()];
    expect(gw.map((w) => w.name)).toEqual(['iter', ...gotVars.map((v) => `${v.name}/m`), ...gotVars.map((v) => `${v.name}/v`)]);
    expect(worstRelative(gw.slice(1).map((w) => w.tensor.dataSync() as Float32Array), rw.slice(1).map((w) => w.tensor.dataSync() as Float32Array)))
      .toBeLessThanOrEqual(1e-6);
    expect(gw[0].tensor.dataSync()[0]).toBe(12);
    tf.dispose([gw[0].tensor, rw[0].tensor]);
    [ref, got].forEach((o) => o.dispose());
    tf.dispose([...refVars, ...gotVars]);
  });

  it('saves and restores its state by position like AdamOptimizer, in both directions', async () => {
    await tf.setBackend(backend);
    // 5 steps, state copied into a new optimizer, 5 more. The reference makes the same round trip:
    // AdamOptimizer.setWeights recomputes the bias-correction powers with pow(), which differs from
    // the running product in the last bits, so an uninterrupted run is not the reference.
    const roundTrip = async (before: () => tf.Optimizer, after: () => tf.Optimizer) => {
      const vars = makeVars(fresh());
      const first = before();
      for (let step = 0; step < 5; step++) stepVars(first, vars, step);
      const saved = await snapshot(first);
      expect(saved.map((w) => w.name)).toEqual(['iter', ...vars.map((v) => `${v.name}/m`), ...vars.map((v) => `${v.name}/v`)]);
      first.dispose();
      const savedValues = saved.map((w) => (w.tensor.dataSync() as Float32Array).slice());
      const second = after();
      await second.setWeights(saved);
      for (let step = 5; step < 10; step++) stepVars(second, vars, step);
      // setWeights shares the restored tensors' buffers with the slots: updating those in place would change the tensors too.
      saved.forEach((w, k) => expect(w.tensor.dataSync()).toEqual(savedValues[k]));
      const values = vars.map((v) => v.dataSync() as Float32Array);
      second.dispose();
      tf.dispose([...vars, ...saved.map((w) => w.tensor)]);
      return values;
    };
    const stock = () => tf.train.adam(0.01);
    const fused = () => new FusedAdamOptimizer(0.01);
    const ref = await roundTrip(stock, stock);
    expect(worstRelative(await roundTrip(fused, fused), ref)).toBeLessThanOrEqual(1e-6);
    expect(worstRelative(await roundTrip(stock, fused), ref)).toBeLessThanOrEqual(1e-6);
    expect(worstRelative(await roundTrip(fused, stock), ref)).toBeLessThanOrEqual(1e-6);
    const [a, b] = [stock(), fused()];
    expect(b.getClassName()).toBe(a.getClassName());
    expect(b.getConfig()).toEqual(a.getConfig());
    [a, b].forEach((o) => o.dispose());
  });

  it('keeps the tensor count constant over training steps', async () => {
    await tf.setBackend(backend);
    const model = tinyConvnet();
    const opt = new FusedAdamOptimizer(1e-3);
    const { x, y } = batch(2, 3);
    trainStep(model, opt, x, y);
    const tensors = tf.memory().numTensors;
    const buffers = (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
    for (let step = 0; step < 5; step++) trainStep(model, opt, x, y);
    expect(tf.memory().numTensors).toBe(tensors);
    expect((tf.backend() as unknown as { numDataIds(): number }).numDataIds()).toBe(buffers);
    opt.dispose();
    tf.dispose([x, y]);
    model.dispose();
  });
});

describe('FusedAdamOptimizer on wasm', () => {
  it('updates each variable in one kernel instead of the stock chain', async () => {
    await tf.setBackend('wasm');
    const vars = makeVars(fresh());
    const opt = new FusedAdamOptimizer(0.01);
    const stock = tf.train.adam(0.01);
    const count = async (o: tf.Optimizer): Promise<number> => {
      const grads = gradsFor(vars, 0);
      const info = await tf.profile(() => o.applyGradients(grads));
      tf.dispose(grads);
      return info.kernels.length;
    };
    await count(opt);
    await count(stock);
    // Per step: the two bias-correction powers only (the stock chain runs ~12 kernels per variable).
    expect(await count(opt)).toBeLessThanOrEqual(2);
    expect(await count(stock)).toBeGreaterThanOrEqual(10 * vars.length);
    [opt, stock].forEach((o) => o.dispose());
    tf.dispose(vars);
  });
});
