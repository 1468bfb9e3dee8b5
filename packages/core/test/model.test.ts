import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveArchitecture, type Architecture } from '../src/index.js';
import { buildModel } from '../src/model/index.js';

const tiny = (extra: { dropout?: number; dropConnectRate?: number } = {}): Architecture =>
  resolveArchitecture({ selector: { kind: 'multipliers', depth: 1, width: 0.25, resolution: 32 }, classes: 10, inputChannels: 1, ...extra });

const builtNames = (m: tfl.LayersModel): string[] => m.layers.filter((l) => l.getClassName() !== 'InputLayer').map((l) => l.name);

const trainableCount = (m: tfl.LayersModel): number => m.trainableWeights.reduce((s, w) => s + w.shape.reduce((a, b) => a * (b ?? 1), 1), 0);

function weightsOf(m: tfl.LayersModel): Map<string, Float32Array> {
  return new Map(m.weights.map((w) => [w.originalName, w.read().dataSync() as Float32Array]));
}

function std(a: Float32Array): number {
  const mean = a.reduce((s, v) => s + v, 0) / a.length;
  return Math.sqrt(a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length);
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('buildModel: structure', () => {
  it.each([
    ['b0', 5_330_564, 5_288_548],
    ['b1', 7_856_232, 7_794_184],
  ])('%s has the Keras layer names and countParams() = trainable + BN moving statistics', (preset, total, trainable) => {
    const arch = resolveArchitecture({ selector: { kind: 'preset', preset } });
    const m = buildModel(arch);
    try {
      expect(builtNames(m)).toEqual(arch.layers.map((l) => l.name));
      expect(m.countParams()).toBe(total);
      expect(trainableCount(m)).toBe(trainable);
      expect(m.inputs[0].shape).toEqual([null, arch.resolution, arch.resolution, 3]);
      expect(m.outputs[0].shape).toEqual([null, 1000]);
    } finally {
      m.dispose();
    }
  });

  it('wires the SE branch, the residual add and the stochastic depth like Keras', () => {
    const m = buildModel(tiny());
    try {
      const inbound = (name: string): string[] =>
        (m.getLayer(name).inboundNodes[0].inboundLayers as tfl.layers.Layer[]).map((l) => l.name);
      expect(inbound('block2a_se_excite')).toEqual(['block2a_activation', 'block2a_se_expand']);
      expect(inbound('block2b_add')).toEqual(['block2b_drop', 'block2a_project_bn']);
      expect(inbound('block2b_expand_conv')).toEqual(['block2a_project_bn']);
      expect(m.getLayer('block2a_se_reduce').getConfig()).toMatchObject({ activation: 'swish', useBias: true });
      expect(m.getLayer('block2a_se_expand').getConfig()).toMatchObject({ activation: 'sigmoid', useBias: true });
      expect(m.getLayer('block2a_project_conv').getConfig()).toMatchObject({ useBias: false, padding: 'same' });
      expect(m.getLayer('stem_bn').getConfig()).toMatchObject({ momentum: 0.99, epsilon: 1e-3 });
      expect(m.getLayer('block2b_drop').getConfig()).toMatchObject({ noiseShape: [null, 1, 1, 1] });
      expect(m.getLayer('predictions').getConfig()).toMatchObject({ activation: 'softmax', units: 10 });
      // At width 0.25 block1a maps 8 -> 8 filters, so it keeps its skip, without a drop (rate 0 for block 0);
      // a stride-2 block has no skip.
      expect(inbound('block1a_add')).toEqual(['block1a_project_bn', 'stem_activation']);
      const names = builtNames(m);
      expect(names).not.toContain('block1a_drop');
      expect(names).not.toContain('block2a_add');
    } finally {
      m.dispose();
    }
  });

  it('drops the residual branch of whole samples in training and passes it through in inference', () => {
    const m = buildModel(tiny({ dropConnectRate: 0.5 }));
    try {
      const drop = m.getLayer('block6d_drop');
      const rate = drop.getConfig().rate as number;
      expect(rate).toBeGreaterThan(0.3);
      const x = tf.ones([64, 2, 2, 3]);
      const y = (drop.apply(x, { training: true }) as tf.Tensor).arraySync() as number[][][][];
      const perSample = y.map((s) => new Set(s.flat(2).map((v) => v.toFixed(4))));
      expect(perSample.every((vals) => vals.size === 1)).toBe(true);
      const kept = perSample.filter((vals) => vals.has((1 / (1 - rate)).toFixed(4))).length;
      const dropped = perSample.filter((vals) => vals.has('0.0000')).length;
      expect(kept + dropped).toBe(64);
      expect(kept).toBeGreaterThan(5);
      expect(dropped).toBeGreaterThan(5);
      const z = (drop.apply(x, { training: false }) as tf.Tensor).dataSync();
      expect(Array.from(z).every((v) => v === 1)).toBe(true);
    } finally {
      m.dispose();
    }
  });
});

describe('buildModel: initialization', () => {
  it('gives identical weights for the same seed and different weights for another seed', () => {
    const [a, b, c] = [buildModel(tiny(), { seed: 7 }), buildModel(tiny(), { seed: 7 }), buildModel(tiny(), { seed: 8 })];
    try {
      const [wa, wb, wc] = [weightsOf(a), weightsOf(b), weightsOf(c)];
      for (const [name, v] of wa) expect(wb.get(name), name).toEqual(v);
      expect(wc.get('stem_conv/kernel')).not.toEqual(wa.get('stem_conv/kernel'));
      // Layers of equal shape in one model must not share a seed.
      expect(wa.get('block2b_se_reduce/kernel')).not.toEqual(wa.get('block2c_se_reduce/kernel') ?? new Float32Array());
      expect(wa.get('block6b_dwconv/depthwise_kernel')).not.toEqual(wa.get('block6c_dwconv/depthwise_kernel'));
    } finally {
      [a, b, c].forEach((m) => m.dispose());
    }
  });

  it('uses Keras VarianceScaling: conv fan_out truncated normal with variance 2/fan_out, dense uniform 1/3', () => {
    const m = buildModel(tiny(), { seed: 3 });
    try {
      const w = weightsOf(m);
      // top_conv: 1x1, 80 -> 320 channels at width 0.25: fan_out = 320.
      const top = w.get('top_conv/kernel')!;
      expect(m.getLayer('top_conv').getWeights()[0].shape).toEqual([1, 1, 80, 320]);
      expect(std(top)).toBeCloseTo(Math.sqrt(2 / 320), 2);
      expect(Math.max(...top.map(Math.abs))).toBeLessThanOrEqual((2 * Math.sqrt(2 / 320)) / 0.8796 + 1e-6);
      // predictions: 320 -> 10, fan_out 10, limit sqrt(3 * (1/3) / 10).
      const fc = w.get('predictions/kernel')!;
      const limit = Math.sqrt(1 / 10);
      expect(Math.max(...fc.map(Math.abs))).toBeLessThanOrEqual(limit + 1e-6);
      expect(Math.max(...fc.map(Math.abs))).toBeGreaterThan(0.95 * limit);
      expect(std(fc)).toBeCloseTo(limit / Math.sqrt(3), 2);
      expect(Array.from(w.get('predictions/bias')!).every((v) => v === 0)).toBe(true);
    } finally {
      m.dispose();
    }
  });
});

describe('buildModel: a tiny scaled net runs', () => {
  it('predicts a probability distribution per sample with the right shape', () => {
    const m = buildModel(tiny(), { seed: 1 });
    try {
      const y = tf.tidy(() => m.predict(tf.randomNormal([3, 32, 32, 1], 0, 1, 'float32', 1)) as tf.Tensor);
      expect(y.shape).toEqual([3, 10]);
      const rows = tf.sum(y, 1).dataSync();
      rows.forEach((r) => expect(r).toBeCloseTo(1, 5));
      y.dispose();
    } finally {
      m.dispose();
    }
  });

  it('takes Adam training steps that lower the loss and update weights and BN statistics', async () => {
    const m = buildModel(tiny({ dropout: 0, dropConnectRate: 0 }), { seed: 2 });
    try {
      m.compile({ optimizer: tf.train.adam(1e-2), loss: 'categoricalCrossentropy' });
      // The pure-JS cpu backend needs seconds per step even here: keep the batch and step count small.
      const x = tf.randomNormal([2, 32, 32, 1], 0, 1, 'float32', 5);
      const y = tf.oneHot(tf.tensor1d([3, 7], 'int32'), 10);
      const before = weightsOf(m);
      const losses: number[] = [];
      for (let i = 0; i < 3; i++) losses.push((await m.trainOnBatch(x, y)) as number);
      const after = weightsOf(m);
      expect(losses.every(Number.isFinite)).toBe(true);
      expect(losses[2]).toBeLessThan(losses[0]);
      expect(after.get('stem_conv/kernel')).not.toEqual(before.get('stem_conv/kernel'));
      expect(after.get('block2a_se_reduce/bias')).not.toEqual(before.get('block2a_se_reduce/bias'));
      expect(after.get('top_bn/moving_mean')).not.toEqual(before.get('top_bn/moving_mean'));
      tf.dispose([x, y]);
    } finally {
      m.dispose();
    }
  });

  it('survives model.save / tf.loadLayersModel with equal predictions and stochastic depth intact', async () => {
    const m = buildModel(tiny(), { seed: 4 });
    let artifacts: tf.io.ModelArtifacts | undefined;
    await m.save(tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts!));
    try {
      expect(builtNames(loaded)).toEqual(builtNames(m));
      expect(loaded.countParams()).toBe(m.countParams());
      expect(loaded.getLayer('block6d_drop').getConfig()).toMatchObject({ noiseShape: [null, 1, 1, 1] });
      const x = tf.randomNormal([2, 32, 32, 1], 0, 1, 'float32', 9);
      const [a, b] = [m.predict(x) as tf.Tensor, loaded.predict(x) as tf.Tensor];
      expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
      tf.dispose([x, a, b]);
    } finally {
      m.dispose();
      loaded.dispose();
    }
  });
});

describe('buildModel: bad input', () => {
  it('rejects a bad seed and an unknown op with a message naming the value', () => {
    expect(() => buildModel(tiny(), { seed: -1 })).toThrow("seed '-1' must be a non-negative integer");
    expect(() => buildModel(tiny(), { seed: 1.5 })).toThrow("seed '1.5'");
    const arch = tiny();
    const bad = { ...arch, layers: arch.layers.map((l, i) => (i === 1 ? { ...l, op: 'groupnorm' as never } : l)) };
    expect(() => buildModel(bad)).toThrow(/layer 'stem_bn': unknown op 'groupnorm' \(allowed: conv2d, /);
  });

  it('rejects an architecture whose shapes disagree with what the layers compute', () => {
    const arch = tiny();
    const bad = { ...arch, layers: arch.layers.map((l) => (l.name === 'stem_conv' ? { ...l, outputShape: [15, 15, 8] } : l)) };
    expect(() => buildModel(bad)).toThrow("layer 'stem_conv': built output shape [16, 16, 8] differs from the architecture's [15, 15, 8]");
  });
});

describe('buildModel: every preset', () => {
  it.each([
    ['b2', 9_177_562],
    ['b3', 12_320_528],
    ['b4', 19_466_816],
    ['b5', 30_562_520],
    ['b6', 43_265_136],
    ['b7', 66_658_680],
  ])('%s countParams() = %i', (preset, total) => {
    const arch = resolveArchitecture({ selector: { kind: 'preset', preset } });
    const m = buildModel(arch);
    try {
      expect(builtNames(m)).toEqual(arch.layers.map((l) => l.name));
      expect(m.countParams()).toBe(total);
    } finally {
      m.dispose();
    }
  });
});
