import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { learningRateAt, loadModel, RECIPES, train, type RecipeName, type TrainOptions } from '../src/train/index.js';
import { tempDir, writeIdxSet } from './fixtures/data/helpers.js';

const data = tempDir('train-data');
writeIdxSet(data.dir, { train: 96, test: 40, size: 8, classes: 4 });
const runs = tempDir('train-runs');
afterAll(() => {
  data.cleanup();
  runs.cleanup();
});

const base = (out: string, recipe: RecipeName = 'seed'): TrainOptions => ({
  network: { selector: { kind: 'multipliers', depth: 1, width: 0.25, resolution: 16 } },
  data: { name: 'mnist', dir: data.dir },
  epochs: 2,
  batchSize: 16,
  seed: 7,
  outDir: join(runs.dir, out),
  backend: 'wasm',
  // Dropout and stochastic depth stay on (seed, paper): their masks must also replay identically after a resume.
  recipe,
});

async function weights(dir: string): Promise<Float32Array[]> {
  const m = await loadModel(join(dir, 'checkpoint'));
  const w = m.getWeights().map((t) => t.dataSync() as Float32Array);
  m.dispose();
  return w;
}

/** Number of weight values that differ at all (exact comparison: resume must be bit-identical). */
function differing(a: Float32Array[], b: Float32Array[]): number {
  let n = 0;
  a.forEach((x, i) => x.forEach((v, j) => void (Object.is(v, b[i][j]) || n++)));
  return n;
}

const stepOnDisk = (out: string): number => JSON.parse(readFileSync(join(runs.dir, out, 'checkpoint', 'state.json'), 'utf8')).step;

describe('proxy trainer', () => {
  // 4 epochs of 6 steps: long enough for Adam's bias-correction drift to show if it were there.
  for (const recipe of ['proxy', 'seed', 'paper'] as const) {
    it(`${recipe}: a run interrupted mid-epoch and resumed ends with exactly the uninterrupted weights and metrics`, async () => {
      const opts = (out: string): TrainOptions => ({ ...base(`${recipe}-${out}`, recipe), epochs: 4 });
      const full = await train(opts('full'));
      expect(full.status).toBe('completed');
      expect(full.step).toBe(24);
      expect(full.epochs.map((e) => e.epoch)).toEqual([0, 1, 2, 3]);

      const controller = new AbortController();
      const first = await train({
        ...opts('split'),
        signal: controller.signal,
        onEvent: (e) => e.type === 'step' && e.step === 15 && controller.abort(), // mid-epoch 3, no checkpointEvery
      });
      expect(first.status).toBe('interrupted');
      expect(first.step).toBe(15);
      expect(stepOnDisk(`${recipe}-split`)).toBe(15); // the interrupt itself checkpointed, at the step interrupted at
      expect(existsSync(join(runs.dir, `${recipe}-split`, 'final.json'))).toBe(false);
      const resumed = await train({ ...opts('split'), resume: true });
      expect(resumed.status).toBe('completed');
      expect(resumed.step).toBe(24);

      expect(differing(await weights(join(runs.dir, `${recipe}-full`)), await weights(join(runs.dir, `${recipe}-split`)))).toBe(0);
      expect(resumed.test).toEqual(full.test);
      // The interrupted epoch's train loss covers the whole epoch, across the resume.
      expect(resumed.epochs.map((e) => e.trainLoss)).toEqual(full.epochs.map((e) => e.trainLoss));
      expect(resumed.epochs.map((e) => e.testLoss)).toEqual(full.epochs.map((e) => e.testLoss));
      const metrics = readFileSync(join(runs.dir, `${recipe}-split`, 'metrics.jsonl'), 'utf8').trim().split('\n');
      expect(metrics).toHaveLength(4);
    });
  }

  it('stopped early under a horizon and resumed to it, a run equals one uninterrupted run to the horizon', async () => {
    const opts = (out: string, steps: number): TrainOptions => ({ ...base(out, 'proxy'), epochs: undefined, steps, horizon: 20 });
    const full = await train(opts('horizon-full', 20));
    const rung = await train(opts('horizon-rung', 8));
    expect(rung.status).toBe('completed');
    expect(rung.step).toBe(8);
    expect(JSON.parse(readFileSync(join(runs.dir, 'horizon-rung', 'final.json'), 'utf8'))).toMatchObject({ status: 'completed', step: 8 });
    const continued = await train({ ...opts('horizon-rung', 20), resume: true });
    expect(continued.step).toBe(20);
    expect(differing(await weights(join(runs.dir, 'horizon-full')), await weights(join(runs.dir, 'horizon-rung')))).toBe(0);
    // The rung's evaluation stays in the log, next to the epoch ends.
    expect(continued.epochs.map((e) => e.step)).toEqual([6, 8, 12, 18, 20]);
    // The schedule depends on the horizon, so resuming under another one is refused.
    await expect(train({ ...opts('horizon-rung', 20), horizon: 40, steps: 30, resume: true })).rejects.toThrow(/planned over a horizon of 20 steps, not 40/);
    await expect(train({ ...opts('horizon-past', 30) })).rejects.toThrow(/30 steps runs past the horizon of 20 steps/);
  });

  it('a diverging run ends with status diverged at the step it blew up, writes final.json and returns normally', async () => {
    const opts: TrainOptions = { ...base('diverged'), epochs: 6, overrides: { lr: 1e30, momentum: 0 } };
    const result = await train(opts);
    expect(result.status).toBe('diverged');
    expect(result.completed).toBe(false);
    expect(result.step).toBeGreaterThan(0);
    expect(result.step).toBeLessThan(36);
    expect(result.divergence?.reason).toMatch(/non-finite|far above chance/);
    const final = JSON.parse(readFileSync(join(runs.dir, 'diverged', 'final.json'), 'utf8'));
    expect(final).toMatchObject({ status: 'diverged', step: result.step });
    // Resuming a diverged run reports the same result without training again.
    const again = await train({ ...opts, resume: true });
    expect(again).toMatchObject({ status: 'diverged', step: result.step });
  });

  it('a loss stuck far above chance counts as diverged once the window is full; a learning run does not', async () => {
    // lr 0 never learns but never blows up: the loss stays at chance (ln 10 with a zero-initialised head), under 3 ln 10.
    const flat = await train({ ...base('flat', 'proxy'), overrides: { lr: 0 } });
    expect(flat.status).toBe('completed');
    // A window of 2 steps and a threshold below chance makes the same run diverge on its second step.
    const strict = await train({ ...base('strict', 'proxy'), overrides: { lr: 0 }, divergence: { window: 2, chanceMultiple: 0.5 } });
    expect(strict).toMatchObject({ status: 'diverged', step: 2, divergence: { reason: 'loss far above chance' } });
  });

  it('with a validation split, evaluates on val during training and on test only when asked, at the end', async () => {
    const opts: TrainOptions = { ...base('with-val'), epochs: 1, data: { name: 'mnist', dir: data.dir, valCount: 16 } };
    const plain = await train(opts);
    expect(plain.val?.count).toBe(16);
    expect(plain.test).toBeNull();
    expect(plain.epochs[0]).toMatchObject({ testTop1: null, testLoss: null });
    expect(plain.epochs[0].valTop1).toEqual(expect.any(Number));
    const run = JSON.parse(readFileSync(join(runs.dir, 'with-val', 'run.json'), 'utf8'));
    expect(run.data).toMatchObject({ trainCount: 80, valCount: 16, testCount: 40, evalSplit: 'val' });
    const both = await train({ ...opts, outDir: join(runs.dir, 'with-val-test'), evalTest: true });
    expect(both.test?.count).toBe(40);
    expect(both.val).toEqual(plain.val);
    expect(readFileSync(join(runs.dir, 'with-val-test', 'metrics.csv'), 'utf8').split('\n')[0]).toMatch(/valTop1.*testTop1/);
  });

  it('records which code, backend, data and settings made the result', async () => {
    await train(base('full'));
    const run = JSON.parse(readFileSync(join(runs.dir, 'full', 'run.json'), 'utf8'));
    expect(run.seed).toBe(7);
    expect(run.backend.name).toBe('wasm');
    expect(run.code.tfjs).toBe('4.22.0');
    expect(run.data).toMatchObject({ name: 'mnist', trainCount: 96, valCount: 0, testCount: 40, evalSplit: 'test' });
    expect(run.data.normalize.mean).toHaveLength(1);
    expect(run.network).toMatchObject({ resolution: 16, inputChannels: 1, classes: 10 }); // mnist names 10 digit classes
    expect(run.recipe.optimizer).toBe('sgd');
    expect(run.budget).toMatchObject({ totalSteps: 12, horizon: 12 });
    const final = JSON.parse(readFileSync(join(runs.dir, 'full', 'final.json'), 'utf8'));
    expect(final.run.seed).toBe(7);
    expect(final.status).toBe('completed');
    expect(JSON.parse(readFileSync(join(runs.dir, 'full', 'class_indices.json'), 'utf8'))).toMatchObject({ 0: '0', 9: '9' });
    expect(readFileSync(join(runs.dir, 'full', 'metrics.csv'), 'utf8').split('\n')[0]).toContain('testTop1');
  });

  it('refuses to overwrite a checkpoint, and to resume with different settings', async () => {
    await expect(train(base('full'))).rejects.toThrow(/already holds a checkpoint: resume it/);
    await expect(train({ ...base('full'), resume: true, batchSize: 8 })).rejects.toThrow(/different settings/);
    await expect(train({ ...base('x'), epochs: 1, steps: 3 })).rejects.toThrow(/epochs or steps, not both/);
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
