import { existsSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
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
    expect(t.err).toMatch(/backend wasm \(tfjs 4\.22\.0, 1 thread\)/);
    expect(t.err).toMatch(/step 6\/6/); // plain progress lines when stderr is not a terminal
    for (const f of ['run.json', 'final.json', 'metrics.jsonl', 'metrics.csv', 'class_indices.json', 'checkpoint/model.json']) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }

    const e = await cli('eval', '--checkpoint', out, '--json', '--backend', 'wasm');
    expect(e.code).toBe(0);
    const ev = JSON.parse(e.out);
    expect(ev.count).toBe(32);
    expect(ev.top1).toBeCloseTo(result.final.top1, 6);
    expect(ev.top5).toBeCloseTo(result.final.top5, 6);

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
  });

  const bad: [string[], RegExp][] = [
    [['train', '--recipe', 'fast'], /--recipe 'fast' is not a recipe \(allowed: paper, seed, proxy\)/],
    [['train', '--epochs', '1', '--steps', '2'], /--epochs or --steps, not both/],
    [['train', '--backend', 'gpu', '--data', 'mnist', '--data-dir', data.dir, '--steps', '1'], /--backend 'gpu' is not a backend \(allowed: auto, tensorflow, wasm, cpu\)/],
    [['train', '--data', 'imagenet'], /imagenet/],
    [['train', '--data', 'mnist', '--data-dir', '/nonexistent/dir'], /\/nonexistent\/dir/],
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
