import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { initBackend } from '../src/backend/index.js';
import { loadModel } from '../src/train/checkpoint.js';

// A checkpoint written before the wasm training engine moved into @effscale/wasm-train (made by
// fixtures/checkpoint-compat/make-fixture.ts): its layers are stored by class name, FusedBatchNormalization and
// FusedSwish, so those names must stay registered with tfjs serialization, with the same weights and config.

const dir = new URL('./fixtures/checkpoint-compat/', import.meta.url);
const expected = JSON.parse(readFileSync(new URL('expected.json', dir), 'utf8')) as {
  layerClasses: string[]; inputShape: number[]; inputs: number[]; predictions: number[];
};

async function predict(): Promise<Float32Array> {
  const model = await loadModel(fileURLToPath(dir));
  expect(model.layers.map((l) => l.getClassName())).toEqual(expected.layerClasses);
  const y = tf.tidy(() => model.predict(tf.tensor(expected.inputs, expected.inputShape)) as tf.Tensor);
  const out = (await y.data()) as Float32Array;
  y.dispose();
  model.dispose();
  return out;
}

describe('a checkpoint saved before the wasm-train move', () => {
  it('loads with its FusedBatchNormalization and FusedSwish layers and predicts the recorded values (cpu)', async () => {
    await initBackend('cpu');
    expect(expected.layerClasses).toContain('FusedBatchNormalization');
    expect(expected.layerClasses).toContain('FusedSwish');
    expect(Array.from(await predict())).toEqual(expected.predictions);
  });

  it('predicts the same values on wasm', async () => {
    await initBackend('wasm');
    const got = await predict();
    expect(got.length).toBe(expected.predictions.length);
    got.forEach((p, i) => expect(Math.abs(p - expected.predictions[i]), `prediction ${i}`).toBeLessThanOrEqual(1e-6));
  });
});
