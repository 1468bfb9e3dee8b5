import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { batchNormSwishTraining, batchNormTraining, excite, fusedBatchNormalization, fusedSwish, leanGradientSaves, swish, trainingForward } from '../src/index.js';
import { initWasm } from './fixtures/backend.js';
import { maxRelError, uniformStream } from './fixtures/numeric.js';

// trainingForward must be model.apply(x, { training: true }) for a training step: the same outputs, gradients to
// every trainable weight and moving statistics, on wasm (where it fuses batchnorm + swish and skips the stem's input
// gradient) and on cpu (where it only skips tf.layers' bookkeeping).

const random = uniformStream(777);

/** A small EfficientNet-like block stack with every layer kind the effscale builder uses. */
function smallNet(seed: number): tfl.LayersModel {
  const init = (s: number) => tfl.initializers.glorotUniform({ seed: seed * 100 + s });
  const input = tfl.input({ shape: [9, 9, 2] });
  const apply = (l: tfl.layers.Layer, x: tfl.SymbolicTensor | tfl.SymbolicTensor[]) => l.apply(x) as tfl.SymbolicTensor;
  let x = apply(tfl.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', useBias: false, kernelInitializer: init(1) }), input);
  x = apply(fusedSwish(), apply(fusedBatchNormalization({ momentum: 0.9 }), x));
  const blockIn = x;
  x = apply(tfl.layers.conv2d({ filters: 20, kernelSize: 1, useBias: false, kernelInitializer: init(2) }), x);
  x = apply(fusedSwish(), apply(fusedBatchNormalization({ momentum: 0.9 }), x));
  x = apply(tfl.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', useBias: false, depthwiseInitializer: init(3) }), x);
  x = apply(fusedSwish(), apply(fusedBatchNormalization({ momentum: 0.9 }), x));
  const seIn = x;
  let se = apply(tfl.layers.globalAveragePooling2d({}), x);
  se = apply(tfl.layers.reshape({ targetShape: [1, 1, 20] }), se);
  se = apply(tfl.layers.conv2d({ filters: 4, kernelSize: 1, activation: 'swish', kernelInitializer: init(4) }), se);
  se = apply(tfl.layers.conv2d({ filters: 20, kernelSize: 1, activation: 'sigmoid', kernelInitializer: init(5) }), se);
  x = apply(tfl.layers.multiply({}), [seIn, se]);
  x = apply(tfl.layers.conv2d({ filters: 8, kernelSize: 1, useBias: false, kernelInitializer: init(6) }), x);
  x = apply(fusedBatchNormalization({ momentum: 0.9 }), x); // no swish after it: the plain batchnorm
  x = apply(tfl.layers.dropout({ rate: 0.3, noiseShape: [null, 1, 1, 1] as unknown as number[] }), x);
  x = apply(tfl.layers.add({}), [x, blockIn]);
  const tap = x; // read by the head and by a second branch: this batchnorm must not be fused with its swish
  x = apply(fusedBatchNormalization({ momentum: 0.9 }), tap);
  const branch = apply(fusedSwish(), x);
  x = apply(tfl.layers.add({}), [branch, x]);
  x = apply(tfl.layers.globalAveragePooling2d({}), x);
  x = apply(tfl.layers.dropout({ rate: 0.2 }), x);
  const out = apply(tfl.layers.dense({ units: 5, activation: 'softmax', kernelInitializer: init(7) }), x);
  return tfl.model({ inputs: input, outputs: out });
}

/** Math.random as a seeded stream (dropout masks), for the duration of fn. */
function seeded<T>(seed: number, fn: () => T): T {
  const stream = uniformStream(seed);
  const original = Math.random;
  Math.random = () => stream(1, 0, 1)[0];
  try {
    return fn();
  } finally {
    Math.random = original;
  }
}

interface Step { probs: Float32Array; grads: Float32Array[]; moving: Float32Array[] }

function step(model: tfl.LayersModel, forward: (x: tf.Tensor) => tf.Tensor, xData: Float32Array, yData: Float32Array): Step {
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  return seeded(31, () => tf.tidy(() => {
    const x = tf.tensor4d(xData, [3, 9, 9, 2]);
    const y = tf.tensor2d(yData, [3, 5]);
    let probs: Float32Array = new Float32Array();
    const { grads } = tf.variableGrads(() => {
      const p = forward(x);
      probs = p.dataSync() as Float32Array;
      return tf.neg(tf.sum(tf.mul(y, tf.log(tf.add(p, 1e-6))))) as tf.Scalar;
    }, vars);
    return {
      probs,
      grads: vars.map((v) => grads[v.name].dataSync() as Float32Array),
      moving: model.nonTrainableWeights.map((w) => w.read().dataSync() as Float32Array),
    };
  }));
}

describe.each(['wasm', 'cpu'])('trainingForward on %s', (backend) => {
  beforeAll(async () => {
    await initWasm();
    await tf.setBackend(backend);
  });

  it('gives model.apply(x, { training: true })\'s outputs, gradients and moving statistics', () => {
    const xData = random(3 * 9 * 9 * 2, -2, 2);
    const yData = new Float32Array(15);
    [1, 3, 4].forEach((c, i) => (yData[i * 5 + c] = 1));
    const a = smallNet(1);
    const b = smallNet(1);
    const viaApply = step(a, (x) => a.apply(x, { training: true }) as tf.Tensor, xData, yData);
    const before = tf.memory().numTensors;
    const viaPlan = step(b, (x) => trainingForward(b, x), xData, yData);
    expect(tf.memory().numTensors).toBe(before); // nothing left behind
    expect(maxRelError(viaPlan.probs, viaApply.probs)).toBeLessThanOrEqual(1e-6);
    expect(viaPlan.grads.length).toBe(viaApply.grads.length);
    viaPlan.grads.forEach((g, i) => expect(maxRelError(g, viaApply.grads[i]), a.trainableWeights[i].name).toBeLessThanOrEqual(1e-5));
    viaPlan.moving.forEach((m, i) => expect(maxRelError(m, viaApply.moving[i]), a.nonTrainableWeights[i].name).toBeLessThanOrEqual(1e-6));
    tf.dispose([a, b].flatMap((m) => m.weights.map((w) => w.read())));
  });

  it('fuses batchnorm and swish on wasm where the swish is the batchnorm\'s only reader, and skips the stem\'s input gradient', async () => {
    const model = smallNet(2);
    const x = tf.tensor4d(random(3 * 9 * 9 * 2), [3, 9, 9, 2]);
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const info = await tf.profile(() => tf.variableGrads(() => tf.sum(trainingForward(model, x)) as tf.Scalar, vars).value);
    const count = (k: string) => info.kernels.filter((e) => e.name === k).length;
    if (backend === 'wasm') {
      expect(count('EffscaleBatchNormSwishTrain')).toBe(3); // stem, expand, depthwise; not the shared or the plain one
      expect(count('EffscaleBatchNormTrain')).toBe(2);
      expect(count('EffscaleBatchNormSwishTrainGrad')).toBe(3);
      expect(count('EffscaleExciteGrad')).toBe(1);
    }
    // The stem's input gradient (of the images, filter [3, 3, 2, 8]) is computed by model.apply, not here.
    const stemInputGrads = async (forward: (t: tf.Tensor) => tf.Tensor) => {
      const p = await tf.profile(() => tf.variableGrads(() => tf.sum(forward(x)) as tf.Scalar, vars).value);
      return p.kernels.filter((e) => e.name === 'Conv2DBackpropInput' && e.inputShapes[1]?.join() === '3,3,2,8').length;
    };
    expect(await stemInputGrads((t) => model.apply(t, { training: true }) as tf.Tensor)).toBeGreaterThan(0);
    expect(await stemInputGrads((t) => trainingForward(model, t))).toBe(0);
    x.dispose();
  });
});

describe('batchNormSwishTraining', () => {
  beforeAll(initWasm);

  it.each(['wasm', 'cpu'])('is swish(batchNormTraining(...)) on %s, bit for bit, gradients included', async (backend) => {
    await tf.setBackend(backend);
    for (const shape of [[2, 5, 7, 13], [1, 3, 3, 4], [6, 32]]) {
      const n = shape.reduce((p, q) => p * q);
      const c = shape[shape.length - 1];
      const [xd, gd, gammaD, betaD] = [random(n, -3, 3), random(n), random(c, 0.5, 1.5), random(c)];
      const run = (fused: boolean) => tf.tidy(() => {
        const x = tf.tensor(xd, shape);
        const g = tf.tensor(gd, shape);
        const f = (xt: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor) => {
          const r = fused ? batchNormSwishTraining(xt, gamma, beta, 1e-3) : (() => {
            const t = batchNormTraining(xt, gamma, beta, 1e-3);
            return { ...t, y: swish(t.y) };
          })();
          return tf.add(tf.sum(tf.mul(r.y, g)), tf.sum(tf.mul(r.variance, tf.onesLike(r.variance))));
        };
        const grads = tf.grads(f)([x, tf.tensor1d(gammaD), tf.tensor1d(betaD)]);
        const { y, mean, variance } = fused ? batchNormSwishTraining(x, tf.tensor1d(gammaD), tf.tensor1d(betaD), 1e-3) : batchNormTraining(x, tf.tensor1d(gammaD), tf.tensor1d(betaD), 1e-3);
        const out = fused ? y : swish(y);
        return [out, mean, variance, ...grads].map((t) => Array.from(t.dataSync()));
      });
      const before = tf.memory().numTensors;
      const fused = run(true);
      expect(tf.memory().numTensors).toBe(before);
      expect(fused).toEqual(run(false));
    }
  });
});

describe('excite', () => {
  beforeAll(initWasm);

  it.each(['wasm', 'cpu'])('is x * se with its gradients on %s (one pass on wasm), at odd sizes and over 64 pixels', async (backend) => {
    await tf.setBackend(backend);
    for (const [n, h, w, c] of [[2, 3, 5, 7], [1, 9, 10, 16], [3, 1, 1, 5]]) {
      const [xd, sd, gd] = [random(n * h * w * c), random(n * c, 0, 1), random(n * h * w * c)];
      const run = (f: (x: tf.Tensor, se: tf.Tensor) => tf.Tensor) => tf.tidy(() => {
        const x = tf.tensor4d(xd, [n, h, w, c]);
        const se = tf.tensor4d(sd, [n, 1, 1, c]);
        const g = tf.tensor4d(gd, [n, h, w, c]);
        const loss = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(a, b), g));
        return [f(x, se), ...tf.grads(loss)([x, se])].map((t) => t.dataSync() as Float32Array);
      });
      const before = tf.memory().numTensors;
      const [y, dx, dse] = run(excite);
      expect(tf.memory().numTensors).toBe(before);
      const [y0, dx0, dse0] = run((a, b) => tf.mul(a, b));
      expect(Array.from(y)).toEqual(Array.from(y0));
      expect(Array.from(dx)).toEqual(Array.from(dx0));
      expect(maxRelError(dse, dse0)).toBeLessThanOrEqual(1e-6);
    }
    if (backend === 'wasm') {
      const x = tf.ones([1, 2, 2, 4]);
      const info = await tf.profile(() => tf.grad((t: tf.Tensor) => tf.sum(excite(t, tf.ones([1, 1, 1, 4]))))(x));
      expect(info.kernelNames).toContain('EffscaleExciteGrad');
      x.dispose();
    }
  });

  it('refuses shapes that are not a squeeze-and-excitation gate, naming both', () => {
    expect(() => excite(tf.zeros([1, 2, 2, 4]), tf.zeros([1, 2, 1, 4]))).toThrow(/excite: x \[1,2,2,4\] and se \[1,2,1,4\]/);
  });
});

describe('leanGradientSaves', () => {
  beforeAll(initWasm);

  it.each(['wasm', 'cpu'])('gives the same gradients bit for bit on %s, leaves no tensor behind and restores the engine', async (backend) => {
    await tf.setBackend(backend);
    const xData = random(3 * 9 * 9 * 2, -2, 2);
    const yData = new Float32Array(15);
    [0, 2, 4].forEach((c, i) => (yData[i * 5 + c] = 1));
    const plain = smallNet(3);
    const lean = smallNet(3);
    const ref = step(plain, (x) => trainingForward(plain, x), xData, yData);
    const engine = tf.engine() as unknown as Record<string, unknown>;
    const before = tf.memory().numTensors;
    let identities = 0;
    const info = await tf.profile(() => {
      const got = leanGradientSaves(() => step(lean, (x) => trainingForward(lean, x), xData, yData));
      expect(got.probs).toEqual(ref.probs);
      got.grads.forEach((g, i) => expect(g, lean.trainableWeights[i].name).toEqual(ref.grads[i]));
      got.moving.forEach((m, i) => expect(m).toEqual(ref.moving[i]));
      return tf.scalar(0);
    });
    identities = info.kernels.filter((k) => k.name === 'Identity').length;
    (info.result as tf.Tensor).dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(Object.prototype.hasOwnProperty.call(engine, 'saveTensorsForBackwardMode')).toBe(false);
    // On wasm the saved tensors are shared, not cloned: far fewer Identity kernels than the plain step runs.
    const plainInfo = await tf.profile(() => {
      step(plain, (x) => trainingForward(plain, x), xData, yData);
      return tf.scalar(0);
    });
    const plainIdentities = plainInfo.kernels.filter((k) => k.name === 'Identity').length;
    (plainInfo.result as tf.Tensor).dispose();
    if (backend === 'wasm') expect(identities).toBeLessThan(plainIdentities / 2);
    else expect(identities).toBe(plainIdentities);
  });
});
