import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import * as core from '@effscale/core';
import { loadImageFile } from '@effscale/core/data';
import { loadModel } from '@effscale/core/train';
import { UsageError } from '../src/errors.js';
import { cli } from './run-cli.js';
import { tempDir, writeIdxSet } from '../../core/test/fixtures/data/helpers.js';

const data = tempDir('cli-train-data');
writeIdxSet(data.dir, { train: 64, test: 32, size: 8, classes: 4 });
const runs = tempDir('cli-train-runs');
afterAll(() => {
  data.cleanup();
  runs.cleanup();
});


const out = join(runs.dir, 'run');
const tiny = ['--depth', '1', '--width', '0.25', '--resolution', '16', '--data', 'mnist', '--data-dir', data.dir, '--batch-size', '16',
  '--backend', 'wasm', '--seed', '3'];

describe('effscale train / eval / predict', () => {
  it('trains, checkpoints, then eval and predict read the checkpoint back', async () => {
    const t = await cli('train', ...tiny, '--steps', '6', '--out', out, '--json');
    expect(t.code, t.err).toBe(0);
    const result = JSON.parse(t.out);
    expect(result).toMatchObject({ completed: true, step: 6 });
    expect(t.err).toMatch(/backend wasm \(tfjs 4\.22\.0, 1 thread; kernels (relaxed-simd, (un)?fused multiply-add|simd)\)/);
    expect(t.err).toMatch(/step 6\/6/); // plain progress lines when stderr is not a terminal
    for (const f of ['run.json', 'final.json', 'metrics.jsonl', 'metrics.csv', 'class_indices.json', 'checkpoint/model.json']) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }

    const e = await cli('eval', '--checkpoint', out, '--json', '--backend', 'wasm');
    expect(e.code).toBe(0);
    const ev = JSON.parse(e.out);
    expect(ev.count).toBe(32);
    expect(ev.split).toBe('test');
    expect(ev.top1).toBe(result.test.top1);
    expect(ev.top5).toBe(result.test.top5);
    expect(ev.loss).toBeCloseTo(result.test.loss, 6);

    const img = join(runs.dir, 'digit.png');
    await sharp(Buffer.alloc(8 * 8, 60), { raw: { width: 8, height: 8, channels: 1 } }).png().toFile(img);
    const p = await cli('predict', '--checkpoint', out, img, '--top-k', '3', '--json', '--backend', 'wasm');
    expect(p.code).toBe(0);
    const [pred] = JSON.parse(p.out);
    expect(pred.image).toBe(img);
    expect(pred.top).toHaveLength(3);
    expect(pred.top[0].probability).toBeGreaterThanOrEqual(pred.top[1].probability);
    expect(pred.top.every((t: { name: string }) => /^[0-9]$/.test(t.name))).toBe(true);
    const sum = pred.top.reduce((s: number, t: { probability: number }) => s + t.probability, 0);
    expect(sum).toBeLessThanOrEqual(1 + 1e-5);
    // The checkpoint's own output for that image, normalized as the run recorded: predict must report exactly it.
    const model = await loadModel(join(out, 'checkpoint'));
    const run = JSON.parse((await import('node:fs')).readFileSync(join(out, 'run.json'), 'utf8'));
    const x = await loadImageFile(img, 16, 1, run.data.normalize);
    const probs = (model.predict(tf.tensor4d(x, [1, 16, 16, 1])) as tf.Tensor).dataSync();
    const order = Array.from(probs, (p, i) => [p, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]).slice(0, 3);
    expect(pred.top.map((t: { name: string; probability: number }) => [t.probability, Number(t.name)])).toEqual(order.map(([p, i]) => [p, i]));
  });

  it('with a validation split: evaluates on val, reports test at the end with --eval-test, and eval --split val agrees', async () => {
    const dir = join(runs.dir, 'val-run');
    const t = await cli('train', ...tiny, '--steps', '4', '--val-count', '16', '--eval-test', '--out', dir, '--json');
    expect(t.code, t.err).toBe(0);
    expect(t.err).toMatch(/48 train \/ 16 val \/ 32 test .*evaluating on val/);
    expect(t.err).toMatch(/done: val top-1 [\d.]+%, top-5 [\d.]+% on 16 images; test top-1 [\d.]+%, top-5 [\d.]+% on 32 images/);
    const result = JSON.parse(t.out);
    const ev = JSON.parse((await cli('eval', '--checkpoint', dir, '--split', 'val', '--json', '--backend', 'wasm')).out);
    expect([ev.count, ev.top1, ev.top5]).toEqual([16, result.val.top1, result.val.top5]);
  });

  it('a diverging run prints one line and exits 3, with status diverged in final.json', async () => {
    const dir = join(runs.dir, 'blown');
    const t = await cli('train', ...tiny, '--steps', '30', '--recipe', 'seed', '--lr', '1e30', '--momentum', '0', '--out', dir, '--json');
    expect(t.code, t.err).toBe(3);
    expect(t.err).toMatch(/diverged at step \d+: (non-finite (loss|weights)|loss far above chance)/);
    expect(JSON.parse(t.out).status).toBe('diverged');
  });

  const bad: [string[], RegExp][] = [
    [['train', '--recipe', 'fast'], /--recipe 'fast' is not a recipe \(allowed: paper, seed, proxy\)/],
    [['train', '--epochs', '1', '--steps', '2'], /--epochs or --steps, not both/],
    [['train', '--backend', 'gpu', '--data', 'mnist', '--data-dir', data.dir, '--steps', '1'], /--backend 'gpu' is not a backend \(allowed: auto, tensorflow, webgpu, wasm, cpu\)/],
    [['train', '--data', 'imagenet'], /imagenet/],
    [['train', '--data', 'mnist', '--data-dir', '/nonexistent/dir'], /\/nonexistent\/dir/],
    [['train', '--data-dir', data.dir], /holds IDX files \(MNIST format\): say which set they are with --data fashion-mnist, mnist or emnist-<split>/],
    [['train', ...tiny, '--steps', '4', '--horizon', '2', '--out', join(runs.dir, 'h')], /4 steps runs past the horizon of 2 steps; raise the horizon or stop earlier \(--horizon\)/],
    [['train', ...tiny, '--val-count', '64', '--out', join(runs.dir, 'v')], /validation split of 64 images out of 64 training images leaves no training images/],
    [['train', '--val-fraction', '0.1', '--val-count', '5'], /--val-fraction or --val-count, not both/],
    [['train', '--max-memory', 'lots'], /--max-memory 'lots' is not a size/],
    [['train', ...tiny, '--resolution', '512', '--batch-size', '64', '--max-memory', '64MiB', '--out', join(runs.dir, 'big')],
      /needs about [\d.]+ GiB, over the 0\.06 GiB limit; what fits: --resolution \d+ at batch 64/],
    [['eval', '--checkpoint', '/nonexistent'], /not a training run/],
    [['predict', '--checkpoint', out], /at least one image/],
  ];
  for (const [argv, message] of bad) {
    it(`exit 2 with one line: ${argv.slice(0, 4).join(' ')}`, async () => {
      const { code, err } = await cli(...argv);
      expect(err).toMatch(message);
      expect(code).toBe(2);
      expect(err.trim().split('\n')).toHaveLength(1);
    });
  }
});

/** One real way to cause each kind of user error through the CLI; each ends as one line and exit code 2. */
describe('every user error is one line and exit code 2', () => {
  const notDir = join(runs.dir, 'not-a-dir');
  writeFileSync(notDir, 'x');
  const brokenRun = join(runs.dir, 'broken-run');
  mkdirSync(brokenRun, { recursive: true });
  writeFileSync(join(brokenRun, 'run.json'), '{"kind": "eff');
  const cases: [string, string[], RegExp][] = [
    ['UsageError', ['train', '--recipe', 'fast'], /--recipe 'fast' is not a recipe/],
    ['SpecError', ['flops', '--depth=-1'], /depth -1 must be > 0/],
    ['SizeLimitError', ['flops', '--phi', '100'], /makes [\d,]+ blocks .* over the limit of 10,000/],
    ['BlockStringError', ['flops', '--blocks', 'r1_k3_x9'], /block string 'r1_k3_x9'/],
    ['DataError', ['train', '--data', 'imagenet'], /Unknown dataset 'imagenet'/],
    ['CheckpointError', ['eval', '--checkpoint', brokenRun], /run\.json' is corrupt or truncated/],
    ['MemoryGuardError', ['train', ...tiny, '--resolution', '512', '--batch-size', '64', '--max-memory', '64MiB', '--out', join(runs.dir, 'big2')], /over the 0\.06 GiB limit/],
    ['BackendError', ['train', ...tiny, '--backend', 'tensorflow', '--steps', '1', '--out', join(runs.dir, 'tf')], /backend 'tensorflow' is unavailable/],
    ['StorageError', ['train', ...tiny, '--steps', '1', '--out', notDir], /the out directory '.*not-a-dir' is a file, not a directory/],
    ['ConfigError', ['train', ...tiny, '--steps', '1', '--batch-size', '500', '--out', join(runs.dir, 'bs')], /batch size 500 is larger than the 64 training images; choose a batch size <= 64 \(--batch-size\)/],
  ];
  it('the cases cover every UserError subclass core and the CLI export', () => {
    const classes = [...Object.values(core), UsageError].filter((v): v is typeof core.UserError => typeof v === 'function' && v.prototype instanceof core.UserError);
    expect(cases.map(([name]) => name).sort()).toEqual(classes.map((c) => c.name).sort());
  });
  for (const [name, argv, message] of cases) {
    it(`${name}: ${argv.slice(0, 3).join(' ')}`, async () => {
      const { code, err } = await cli(...argv);
      expect(err).toMatch(message);
      expect(err.trim().split('\n')).toHaveLength(1);
      expect(code).toBe(2);
    });
  }
});
