import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { learningRateAt, loadModel, RECIPES, train, type TrainOptions } from '../src/train/index.js';
import { tempDir, writeIdxSet } from './fixtures/data/helpers.js';

const data = tempDir('train-data');
writeIdxSet(data.dir, { train: 96, test: 40, size: 8, classes: 4 });
const runs = tempDir('train-runs');
afterAll(() => {
  data.cleanup();
  runs.cleanup();
});

const base = (out: string): TrainOptions => ({
  network: { selector: { kind: 'multipliers', depth: 1, width: 0.25, resolution: 16 } },
  data: { name: 'mnist', dir: data.dir },
  epochs: 2,
  batchSize: 16,
  seed: 7,
  outDir: join(runs.dir, out),
  backend: 'wasm',
  // Dropout and stochastic depth stay on: their masks must also replay identically after a resume.
  recipe: 'seed',
});

async function weights(dir: string): Promise<Float32Array[]> {
  const m = await loadModel(join(dir, 'checkpoint'));
  const w = m.getWeights().map((t) => t.dataSync() as Float32Array);
  m.dispose();
  return w;
}

function maxRelDiff(a: Float32Array[], b: Float32Array[]): number {
  let worst = 0;
  a.forEach((x, i) => x.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - b[i][j]) / (Math.abs(v) + 1e-3)))));
  return worst;
}

describe('proxy trainer', () => {
  it('an interrupted run resumed from its checkpoint ends where an uninterrupted run ends', async () => {
    const full = await train(base('full'));
    expect(full.completed).toBe(true);
    expect(full.step).toBe(12);
    expect(full.epochs.map((e) => e.epoch)).toEqual([0, 1]);

    const controller = new AbortController();
    const first = await train({
      ...base('split'),
      signal: controller.signal,
      onEvent: (e) => e.type === 'step' && e.step === 9 && controller.abort(), // mid-epoch 2
    });
    expect(first.completed).toBe(false);
    expect(first.step).toBe(9);
    expect(existsSync(join(runs.dir, 'split', 'final.json'))).toBe(false);
    const resumed = await train({ ...base('split'), resume: true });
    expect(resumed.completed).toBe(true);
    expect(resumed.step).toBe(12);

    expect(maxRelDiff(await weights(join(runs.dir, 'full')), await weights(join(runs.dir, 'split')))).toBeLessThan(1e-4);
    expect(resumed.final!.top1).toBeCloseTo(full.final!.top1, 6);
    expect(resumed.epochs.map((e) => e.valLoss)[1]).toBeCloseTo(full.epochs[1].valLoss, 3);
    const metrics = readFileSync(join(runs.dir, 'split', 'metrics.jsonl'), 'utf8').trim().split('\n');
    expect(metrics).toHaveLength(2);
  });

  it('records which code, backend, data and settings made the result', () => {
    const run = JSON.parse(readFileSync(join(runs.dir, 'full', 'run.json'), 'utf8'));
    expect(run.seed).toBe(7);
    expect(run.backend.name).toBe('wasm');
    expect(run.code.tfjs).toBe('4.22.0');
    expect(run.data).toMatchObject({ name: 'mnist', trainCount: 96, testCount: 40 });
    expect(run.data.normalize.mean).toHaveLength(1);
    expect(run.network).toMatchObject({ resolution: 16, inputChannels: 1, classes: 10 }); // mnist names 10 digit classes
    expect(run.recipe.optimizer).toBe('sgd');
    const final = JSON.parse(readFileSync(join(runs.dir, 'full', 'final.json'), 'utf8'));
    expect(final.run.seed).toBe(7);
    expect(JSON.parse(readFileSync(join(runs.dir, 'full', 'class_indices.json'), 'utf8'))).toMatchObject({ 0: '0', 9: '9' });
    expect(readFileSync(join(runs.dir, 'full', 'metrics.csv'), 'utf8').split('\n')[0]).toContain('top1');
  });

  it('refuses to overwrite a checkpoint, and to resume with different settings', async () => {
    await expect(train(base('full'))).rejects.toThrow(/already holds a checkpoint: pass --resume/);
    await expect(train({ ...base('full'), resume: true, batchSize: 8 })).rejects.toThrow(/different settings/);
    await expect(train({ ...base('x'), epochs: 1, steps: 3 })).rejects.toThrow(/--epochs or --steps, not both/);
    await expect(train({ ...base('y'), batchSize: 500 })).rejects.toThrow(/batch size 500 is larger than the 96 training images/);
  });
});

describe('learning-rate schedules', () => {
  it('paper: linear warmup capped at 10% of a short budget, then 0.97 every 2.4 epochs', () => {
    const r = RECIPES.paper;
    const peak = (0.016 * 64) / 256;
    expect(learningRateAt(r, 0, 100, 1000, 64)).toBeCloseTo(peak / 100, 12); // warmup = min(5 epochs, 10% of 1000) = 100 steps
    expect(learningRateAt(r, 99, 100, 1000, 64)).toBeCloseTo(peak, 12);
    expect(learningRateAt(r, 240, 100, 1000, 64)).toBeCloseTo(peak * 0.97, 12);
  });
  it('seed: cosine from lr to lr * lrf', () => {
    const r = RECIPES.seed;
    expect(learningRateAt(r, 0, 10, 100, 16)).toBeCloseTo(0.01, 12);
    expect(learningRateAt(r, 50, 10, 100, 16)).toBeCloseTo(0.01 * (0.5 * 0.99 + 0.01), 12);
    expect(learningRateAt(r, 100, 10, 100, 16)).toBeCloseTo(0.0001, 12);
  });
});
