import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { batches, encodeIdx, FASHION_MNIST_DIR, loadDataset, parseIdx } from '../src/data/index.js';
import { tempDir, writeIdxSet } from './fixtures/data/helpers.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir('idx')));
afterEach(() => tmp.cleanup());

describe('parseIdx', () => {
  it('round-trips encodeIdx', () => {
    const data = Uint8Array.from({ length: 2 * 3 * 4 }, (_, i) => i);
    const parsed = parseIdx(encodeIdx([2, 3, 4], data), 'x');
    expect(parsed.dims).toEqual([2, 3, 4]);
    expect([...parsed.data]).toEqual([...data]);
  });

  it('rejects bad magic, naming the file', () => {
    const buf = encodeIdx([2], new Uint8Array(2));
    buf[2] = 0x0d; // float32 element type
    expect(() => parseIdx(buf, '/d/train-labels-idx1-ubyte')).toThrow(
      /\/d\/train-labels-idx1-ubyte: bad IDX magic 0x00000d01/,
    );
    expect(() => parseIdx(new Uint8Array([0x50, 0x4b, 3, 4, 0, 0]), 'f.zip')).toThrow(/f\.zip: bad IDX magic 0x504b0304/);
  });

  it('rejects a length that disagrees with the header', () => {
    const full = encodeIdx([3, 2, 2], new Uint8Array(12));
    expect(() => parseIdx(full.subarray(0, full.length - 5), 'imgs')).toThrow(
      /imgs: header says 3x2x2 = 12 bytes of data but the file has 7 \(truncated/,
    );
    const long = new Uint8Array(full.length + 1);
    long.set(full);
    expect(() => parseIdx(long, 'imgs')).toThrow(/has 13 \(trailing garbage/);
  });
});

describe('loadDataset (IDX family)', () => {
  it('loads gzipped and raw MNIST-layout files with the official test set', async () => {
    writeIdxSet(tmp.dir, { train: 50, test: 20, gzip: true });
    const ds = await loadDataset({ name: 'mnist', dir: tmp.dir });
    expect(ds.classes).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(ds.train).toMatchObject({ count: 50, height: 8, width: 8, channels: 1 });
    expect(ds.test.count).toBe(20);
    expect([...ds.train.labels.slice(0, 12)]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
    // image 13: label 3, fill 3*20 + 13%7 = 66
    expect(ds.train.images[13 * 64 + 5]).toBe(66);
    expect(ds.source).toContain('train-images-idx3-ubyte.gz');

    const raw = tempDir('idx-raw');
    try {
      writeIdxSet(raw.dir, { train: 50, test: 20, gzip: false });
      const ds2 = await loadDataset({ name: 'fashion-mnist', dir: raw.dir });
      expect(ds2.classes[9]).toBe('Ankle boot');
      expect([...ds2.train.images]).toEqual([...ds.train.images]);
    } finally {
      raw.cleanup();
    }
  });

  it('computes normalization statistics from the train split and shares them with the test split', async () => {
    writeIdxSet(tmp.dir, { train: 30, test: 10 });
    const ds = await loadDataset({ name: 'mnist', dir: tmp.dir });
    let s = 0;
    for (const v of ds.train.images) s += v / 255;
    expect(ds.train.stats[1].mean[0]).toBeCloseTo(s / ds.train.images.length, 6);
    expect(ds.test.stats).toBe(ds.train.stats);
    expect(ds.train.stats[3].mean).toEqual([0, 1, 2].map(() => ds.train.stats[1].mean[0]));
  });

  it('stratified limits keep class balance and are deterministic per seed', async () => {
    writeIdxSet(tmp.dir, { train: 200, test: 100 });
    const a = await loadDataset({ name: 'mnist', dir: tmp.dir, trainLimit: 50, testLimit: 20, seed: 1 });
    const b = await loadDataset({ name: 'mnist', dir: tmp.dir, trainLimit: 50, testLimit: 20, seed: 1 });
    const c = await loadDataset({ name: 'mnist', dir: tmp.dir, trainLimit: 50, testLimit: 20, seed: 2 });
    expect(a.train.count).toBe(50);
    expect(a.test.count).toBe(20);
    const perClass = new Array(10).fill(0);
    a.train.labels.forEach((l) => perClass[l]++);
    expect(perClass).toEqual(new Array(10).fill(5));
    expect([...a.train.images]).toEqual([...b.train.images]);
    expect([...a.train.images]).not.toEqual([...c.train.images]);
    // A sample's first pixel tags its original index: labels must still match the images they came with.
    for (let k = 0; k < a.train.count; k++) expect(a.train.images[k * 64] % 10).toBe(a.train.labels[k]);
  });

  it('EMNIST: transposes images, shifts letters labels to 0-based, reads the mapping file', async () => {
    writeIdxSet(tmp.dir, { prefix: 'emnist-letters-', train: 26, test: 26, classes: 26, labelOffset: 1, gzip: true, testName: 'test' });
    // Make train image 0 asymmetric: a single bright pixel at stored (row 0, col 3).
    const p = join(tmp.dir, 'emnist-letters-train-images-idx3-ubyte.gz');
    const imgs = new Uint8Array(26 * 64);
    imgs[3] = 255;
    writeFileSync(p, gzipSync(encodeIdx([26, 8, 8], imgs)));
    writeFileSync(
      join(tmp.dir, 'emnist-letters-mapping.txt'),
      Array.from({ length: 26 }, (_, i) => `${i + 1} ${65 + i} ${97 + i}`).join('\n') + '\n',
    );
    const ds = await loadDataset({ name: 'emnist-letters', dir: tmp.dir });
    expect(ds.classes.length).toBe(26);
    expect(ds.classes[0]).toBe('Aa');
    expect(ds.train.labels[0]).toBe(0);
    expect(ds.train.labels[25]).toBe(25);
    expect(ds.train.images[3 * 8 + 0]).toBe(255); // now at (row 3, col 0)
    expect(ds.train.images[3]).toBe(0);
  });

  it('explains how to get a missing dataset', async () => {
    await expect(loadDataset({ name: 'fashion-mnist', dir: tmp.dir })).rejects.toThrow(
      /fashion-mnist not found: .* lacks some files \(need train-images-idx3-ubyte\.gz, .*t10k-labels-idx1-ubyte\.gz/,
    );
    await expect(loadDataset({ name: 'mnist' })).rejects.toThrow(/mnist needs --data-dir <dir> holding train-images-idx3-ubyte\.gz/);
    await expect(loadDataset({ name: 'fashion-mnist', dir: join(tmp.dir, 'nope') })).rejects.toThrow(/Data directory .*nope does not exist/);
    await expect(loadDataset({ name: 'imagenet' })).rejects.toThrow(/Unknown dataset 'imagenet': expected one of fashion-mnist, mnist/);
    if (!existsSync(FASHION_MNIST_DIR)) {
      await expect(loadDataset({ name: 'fashion-mnist' })).rejects.toThrow(/apt-get install -y dataset-fashion-mnist/);
    }
  });

  it('rejects label/image count mismatch, out-of-range labels and truncated gzip', async () => {
    writeIdxSet(tmp.dir, { train: 20, test: 10 });
    const lab = join(tmp.dir, 'train-labels-idx1-ubyte');
    writeFileSync(lab, encodeIdx([19], new Uint8Array(19)));
    await expect(loadDataset({ name: 'mnist', dir: tmp.dir })).rejects.toThrow(
      /train-labels-idx1-ubyte: 19 labels but .*train-images-idx3-ubyte has 20 images/,
    );
    writeFileSync(lab, encodeIdx([20], new Uint8Array(20).fill(12)));
    await expect(loadDataset({ name: 'mnist', dir: tmp.dir })).rejects.toThrow(/label 12 at index 0 is outside 0\.\.9/);

    const gz = tempDir('idx-gz');
    try {
      writeIdxSet(gz.dir, { train: 20, test: 10, gzip: true });
      const img = join(gz.dir, 'train-images-idx3-ubyte.gz');
      const bytes = readFileSync(img);
      writeFileSync(img, bytes.subarray(0, bytes.length - 30));
      await expect(loadDataset({ name: 'mnist', dir: gz.dir })).rejects.toThrow(
        /train-images-idx3-ubyte\.gz: corrupt or truncated gzip data/,
      );
    } finally {
      gz.cleanup();
    }
  });
});

// Skipped without Debian's dataset-fashion-mnist, except where EFFSCALE_REQUIRE_DATA is set (CI): there it must run.
const haveFashion = existsSync(join(FASHION_MNIST_DIR, 'train-images-idx3-ubyte.gz'));
if (!haveFashion && process.env.EFFSCALE_REQUIRE_DATA) {
  throw new Error(`EFFSCALE_REQUIRE_DATA is set but ${FASHION_MNIST_DIR} is missing: install dataset-fashion-mnist`);
}
describe.skipIf(!haveFashion)('real Fashion-MNIST', () => {
  it('loads 60k/10k 28x28 images with the known statistics and batches one epoch quickly', async () => {
    const ds = await loadDataset({ name: 'fashion-mnist' });
    expect(ds.train).toMatchObject({ count: 60000, height: 28, width: 28, channels: 1 });
    expect(ds.test.count).toBe(10000);
    const perClass = new Array(10).fill(0);
    ds.train.labels.forEach((l) => perClass[l]++);
    expect(perClass).toEqual(new Array(10).fill(6000));
    expect(ds.train.stats[1].mean[0]).toBeCloseTo(0.286, 3);
    expect(ds.train.stats[1].std[0]).toBeCloseTo(0.353, 3);

    const t0 = process.cpuUsage();
    let n = 0;
    for (const b of batches(ds.train, {
      batchSize: 128, resolution: 32, channels: 1, augment: true, normalize: 'standardize', shuffle: true, seed: 0, epoch: 0,
    })) n += b.size;
    const cpu = process.cpuUsage(t0);
    const ms = (cpu.user + cpu.system) / 1000;
    console.log(`fashion-mnist epoch batch prep 28->32 (augment): ${ms.toFixed(0)} ms CPU`);
    expect(n).toBe(60000);
    expect(ms).toBeLessThan(6000); // generous: shared 2-core machine; typically ~1 s
  });
});
