import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveArchitecture, type NetworkSpec } from '@effscale/core';
import { buildModel } from '@effscale/core/model';
import { countArchitecture } from '../src/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** The analytic count and the built TensorFlow.js model must agree exactly: countParams() = params + BN statistics. */
function check(spec: NetworkSpec): void {
  const arch = resolveArchitecture(spec);
  const c = countArchitecture(arch);
  const model = buildModel(arch);
  const trainable = model.trainableWeights.reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1), 0);
  expect(model.countParams(), arch.name).toBe(c.params + c.bnMovingStats);
  expect(trainable, arch.name).toBe(c.params);
  model.dispose();
}

describe('tfjs countParams equals the analytic count', () => {
  it('b0 and b1 (3 channels, 1000 classes)', () => {
    check({ selector: { kind: 'preset', preset: 'b0' } });
    check({ selector: { kind: 'preset', preset: 'b1' } });
  });
  it('compound and explicit scalings with other channels and classes', () => {
    check({ selector: { kind: 'compound', phi: 0.5, alpha: 1.3, beta: 1.05, gamma: 1.1 }, classes: 10, inputChannels: 1 });
    check({ selector: { kind: 'multipliers', depth: 1.7, width: 0.35, resolution: 40 }, classes: 7, inputChannels: 3 });
  });
  it('b2..b4', () => {
    for (const preset of ['b2', 'b3', 'b4']) check({ selector: { kind: 'preset', preset } });
  });
});
