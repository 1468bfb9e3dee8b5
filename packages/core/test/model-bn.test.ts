import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveArchitecture } from '../src/index.js';
import { buildModel } from '../src/model/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('batch norm settings come from the architecture', () => {
  it('every BN layer of the built model has the architecture momentum and epsilon', () => {
    for (const bnMomentum of [undefined, 0.9]) {
      const arch = resolveArchitecture({ selector: { kind: 'multipliers', depth: 1, width: 0.25, resolution: 16 }, classes: 10, inputChannels: 1, bnMomentum });
      const model = buildModel(arch);
      const bns = model.layers.filter((l) => arch.layers.find((a) => a.name === l.name)?.op === 'batch_norm');
      expect(bns.length).toBe(arch.layers.filter((l) => l.op === 'batch_norm').length);
      for (const l of bns) expect(l.getConfig()).toMatchObject({ momentum: bnMomentum ?? 0.99, epsilon: 1e-3 });
      model.dispose();
    }
  });
});
