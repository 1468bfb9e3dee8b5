import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointError, StorageError } from '../src/errors.js';
import { carveValidation, loadDataset } from '../src/data/load.js';
import { LOCK_FILE, train, type TrainOptions } from '../src/train/index.js';
import { Rng } from '../src/util/rng.js';
import { tempDir, writeIdxSet } from './fixtures/data/helpers.js';

const data = tempDir('faults-data');
writeIdxSet(data.dir, { train: 96, test: 40, size: 8, classes: 4 });
const runs = tempDir('faults-runs');
afterAll(() => {
  data.cleanup();
  runs.cleanup();
});

const base = (out: string): TrainOptions => ({
  network: { selector: { kind: 'multipliers', depth: 1, width: 0.25, resolution: 16 } },
  data: { name: 'mnist', dir: data.dir },
  steps: 6,
  batchSize: 16,
  seed: 3,
  outDir: join(runs.dir, out),
  backend: 'wasm',
});

describe('the run-directory lock', () => {
  it('refuses a second training while the owner lives, and takes over once it is gone', async () => {
    const out = join(runs.dir, 'locked');
    const owner = spawn('sleep', ['30'], { stdio: 'ignore' });
    await new Promise((r) => owner.once('spawn', r));
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, LOCK_FILE), JSON.stringify({ pid: owner.pid, host: hostname(), started: null, since: '2026-12-01T00:00:00Z' }));
    await expect(train(base('locked'))).rejects.toThrow(new RegExp(`in use by process ${owner.pid} on ${hostname()}`));
    await expect(train(base('locked'))).rejects.toBeInstanceOf(CheckpointError);
    owner.kill('SIGKILL');
    await new Promise((r) => owner.once('exit', r));
    const r = await train(base('locked'));
    expect(r.status).toBe('completed');
    expect(existsSync(join(out, LOCK_FILE))).toBe(false); // released at the end
  });

  it('refuses a lock held on another host (its liveness cannot be checked) and says how to clear it', async () => {
    const out = join(runs.dir, 'remote');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, LOCK_FILE), JSON.stringify({ pid: 1, host: 'elsewhere', started: null, since: '2026-12-01T00:00:00Z' }));
    await expect(train(base('remote'))).rejects.toThrow(/in use by process 1 on elsewhere .*if that process is gone, delete/);
  });
});

describe('faults end as one user error, and lose nothing', () => {
  let good: string;
  beforeAll(async () => {
    good = join(runs.dir, 'good');
    await train({ ...base('good'), steps: 4, horizon: 6 });
  });

  const corruptions: [string, (dir: string) => void, RegExp][] = [
    ['model.json', (d) => writeFileSync(join(d, 'checkpoint', 'model.json'), '{"modelTopology": '), /model\.json' is corrupt or truncated/],
    ['weights.bin', (d) => truncateSync(join(d, 'checkpoint', 'weights.bin'), 100), /weights\.bin' is corrupt or truncated \(100 bytes/],
    ['state.json', (d) => writeFileSync(join(d, 'checkpoint', 'state.json'), '{"step": 4}'), /state\.json' is corrupt or truncated \(missing/],
    ['optimizer.bin', (d) => truncateSync(join(d, 'checkpoint', 'optimizer.bin'), 8), /optimizer\.bin' is corrupt or truncated/],
    ['run.json', (d) => writeFileSync(join(d, 'run.json'), '{"kind": "effscale'), /run\.json' is corrupt or truncated/],
  ];
  for (const [file, corrupt, message] of corruptions) {
    it(`a corrupt or truncated ${file} is refused by name on resume`, async () => {
      const dir = join(runs.dir, `corrupt-${file}`);
      cpSync(good, dir, { recursive: true });
      corrupt(dir);
      const resumed = train({ ...base(`corrupt-${file}`), steps: 6, resume: true });
      await expect(resumed).rejects.toThrow(message);
      await expect(train({ ...base(`corrupt-${file}`), steps: 6, resume: true })).rejects.toBeInstanceOf(CheckpointError);
    });
  }

  it('an out directory that is a file, or under one, is refused by name', async () => {
    const file = join(runs.dir, 'a-file');
    writeFileSync(file, 'x');
    await expect(train({ ...base('x'), outDir: file })).rejects.toThrow(/the out directory '.*a-file' is a file, not a directory/);
    await expect(train({ ...base('x'), outDir: join(file, 'run') })).rejects.toThrow(StorageError);
  });

  it('a full disk fails the write with one line, leaves no temporary file, and the run resumes once there is space', async () => {
    const out = join(runs.dir, 'full-disk');
    // final.json's temporary points at /dev/full, which fails every write with ENOSPC, as a full disk does.
    const opts: TrainOptions = {
      ...base('full-disk'),
      onEvent: (e) => e.type === 'epoch' && symlinkSync('/dev/full', join(out, `final.json.${process.pid}.tmp`)),
    };
    const failed = train(opts);
    await expect(failed).rejects.toThrow(/cannot write '.*final\.json': the disk is full; free some space, then run again .*\(ENOSPC\)/);
    expect(readdirSync(out).filter((f) => f.includes('tmp'))).toEqual([]);
    expect(JSON.parse(readFileSync(join(out, 'checkpoint', 'state.json'), 'utf8')).step).toBe(6);
    const resumed = await train({ ...base('full-disk'), resume: true });
    expect(resumed.status).toBe('completed');
    expect(JSON.parse(readFileSync(join(out, 'final.json'), 'utf8')).status).toBe('completed');
  });

  it('a run checkpointed by the version before train/val/test splits and horizons resumes', async () => {
    const dir = join(runs.dir, 'old-format');
    cpSync(good, dir, { recursive: true });
    const run = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));
    const { valCount: _v, evalSplit: _e, limits: _l, ...oldData } = run.data;
    const { horizon: _h, ...oldBudget } = run.budget;
    const { divergence: _d, ...oldRun } = run;
    writeFileSync(join(dir, 'run.json'), JSON.stringify({ ...oldRun, data: { ...oldData, limits: {} }, budget: { ...oldBudget, totalSteps: 6 } }));
    const stateFile = join(dir, 'checkpoint', 'state.json');
    const { epochLossSum: _a, epochImages: _b, epochSeconds: _c, recentLosses: _r, ...oldState } = JSON.parse(readFileSync(stateFile, 'utf8'));
    writeFileSync(stateFile, JSON.stringify(oldState));
    const resumed = await train({ ...base('old-format'), resume: true });
    expect([resumed.status, resumed.step]).toEqual(['completed', 6]);
  });

  it('temporaries a killed writer left behind are removed when the run resumes', async () => {
    const dir = join(runs.dir, 'leftovers');
    cpSync(good, dir, { recursive: true });
    writeFileSync(join(dir, 'metrics.jsonl.99999.tmp'), 'x'.repeat(1000));
    cpSync(join(dir, 'checkpoint'), join(dir, 'checkpoint.tmp-99999'), { recursive: true });
    await train({ ...base('leftovers'), horizon: 6, resume: true });
    expect(readdirSync(dir).filter((f) => f.includes('tmp'))).toEqual([]);
  });
});

describe('the validation split', () => {
  it('is carved from the training images: disjoint from what is trained on, stratified, reproducible from the seed', async () => {
    const full = await loadDataset({ name: 'mnist', dir: data.dir, seed: 1 });
    const ds = await loadDataset({ name: 'mnist', dir: data.dir, seed: 1, valFraction: 0.25 });
    expect(ds.val!.count).toBe(24);
    expect(ds.train.count).toBe(72);
    expect(ds.test.count).toBe(full.test.count); // test untouched
    // The first pixel of each synthetic image tags its index: val and train together are the training set, once each.
    const tags = (s: { images: Uint8Array; count: number }) => Array.from({ length: s.count }, (_, i) => s.images[i * 64]);
    const valTags = tags(ds.val!), trainTags = tags(ds.train);
    expect(valTags.filter((t) => trainTags.includes(t))).toEqual([]);
    expect([...valTags, ...trainTags].sort((a, b) => a - b)).toEqual(tags(full.train).sort((a, b) => a - b));
    expect(Array.from(ds.valIndices!, (i) => full.train.images[i * 64])).toEqual(valTags);
    // Stratified: 4 classes of 24 images, 6 of each in val.
    const perClass = [0, 0, 0, 0];
    ds.val!.labels.forEach((l) => perClass[l]++);
    expect(perClass).toEqual([6, 6, 6, 6]);
    // Same seed, same split; another seed, another one. Statistics come from the images trained on only.
    expect(Array.from((await loadDataset({ name: 'mnist', dir: data.dir, seed: 1, valFraction: 0.25 })).valIndices!)).toEqual(Array.from(ds.valIndices!));
    expect(Array.from((await loadDataset({ name: 'mnist', dir: data.dir, seed: 2, valFraction: 0.25 })).valIndices!)).not.toEqual(Array.from(ds.valIndices!));
    expect(ds.train.stats).not.toEqual(full.train.stats);
  });

  it('a count works like a fraction, and a split that leaves nothing on one side is refused', () => {
    const split = { images: new Uint8Array(10), labels: Int32Array.from([0, 0, 0, 0, 0, 1, 1, 1, 1, 1]), count: 10, height: 1, width: 1, channels: 1 as const };
    expect(carveValidation(split, 2, { valCount: 4 }, new Rng(0)).val!.count).toBe(4);
    expect(() => carveValidation(split, 2, { valCount: 10 }, new Rng(0))).toThrow(/leaves no training images; choose a validation size between 1 and 9/);
    expect(() => carveValidation(split, 2, { valFraction: 0.01 }, new Rng(0))).toThrow(/leaves no validation images/);
  });
});
