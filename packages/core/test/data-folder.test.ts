import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDataset, loadImageFile, readClassIndices, resizeBilinear, writeClassIndices } from '../src/data/index.js';
import { tempDir } from './fixtures/data/helpers.js';

const COLORS: Record<string, [number, number, number]> = {
  daisy: [250, 240, 20],
  roses: [200, 10, 30],
  tulips: [20, 40, 220],
};
const PER_CLASS = 10;

async function solid(path: string, rgb: [number, number, number], w: number, h: number): Promise<void> {
  const img = sharp({ create: { width: w, height: h, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } });
  await (path.endsWith('.png') ? img.png() : img.jpeg({ quality: 95 })).toFile(path);
}

let tmp: ReturnType<typeof tempDir>;
let flowers: string;
beforeAll(async () => {
  tmp = tempDir('folder');
  flowers = join(tmp.dir, 'flower_photos');
  for (const [cls, rgb] of Object.entries(COLORS)) {
    mkdirSync(join(flowers, cls), { recursive: true });
    for (let i = 0; i < PER_CLASS; i++) {
      await solid(join(flowers, cls, `${cls}_${i}.${i % 2 ? 'png' : 'jpg'}`), rgb, 20 + i, 15 + 2 * i);
    }
  }
  writeFileSync(join(flowers, 'LICENSE.txt'), 'not an image');
  writeFileSync(join(flowers, 'daisy', 'notes.txt'), 'ignored');
});
afterAll(() => tmp.cleanup());

describe('ImageFolder', () => {
  it('loads sorted classes with a seeded, stratified 20% validation split', async () => {
    const ds = await loadDataset({ name: 'folder', dir: flowers, imageSize: 8, seed: 1 });
    expect(ds.classes).toEqual(['daisy', 'roses', 'tulips']);
    expect(ds.train).toMatchObject({ count: 24, height: 8, width: 8, channels: 3 });
    expect(ds.test.count).toBe(6);
    for (const split of [ds.train, ds.test]) {
      const per = [0, 0, 0];
      split.labels.forEach((l) => per[l]++);
      expect(per).toEqual(split === ds.train ? [8, 8, 8] : [2, 2, 2]);
      // Pixels carry their class's colour (JPEG is lossy).
      for (let n = 0; n < split.count; n++) {
        const rgb = COLORS[ds.classes[split.labels[n]]];
        for (let c = 0; c < 3; c++) expect(Math.abs(split.images[n * 192 + 27 * 3 + c] - rgb[c])).toBeLessThan(8);
      }
    }
    const again = await loadDataset({ name: 'folder', dir: flowers, imageSize: 8, seed: 1 });
    expect(again.test.images).toEqual(ds.test.images);
    const other = await loadDataset({ name: 'folder', dir: flowers, imageSize: 8, seed: 2 });
    expect(again.files).toEqual(ds.files);
    expect(ds.files!.test.length).toBe(6);
    expect(ds.files!.test.filter((f) => f.includes('/roses/')).length).toBe(2);
    expect(new Set([...ds.files!.train, ...ds.files!.test]).size).toBe(30);
    expect(other.files!.test).not.toEqual(ds.files!.test);
  });

  it('honours testFraction and limits (stratified, before decoding)', async () => {
    const ds = await loadDataset({ name: 'folder', dir: flowers, imageSize: 4, testFraction: 0.5, trainLimit: 6, testLimit: 3 });
    expect(ds.train.count).toBe(6);
    expect(ds.test.count).toBe(3);
    expect([...ds.test.labels]).toEqual([0, 1, 2]);
    await expect(loadDataset({ name: 'folder', dir: flowers, testFraction: 1 })).rejects.toThrow(/testFraction must be in \[0, 1\), got 1/);
    // A validation split comes out of the folder's training images, never out of its test images.
    const withVal = await loadDataset({ name: 'folder', dir: flowers, imageSize: 4, testFraction: 0.5, trainLimit: 6, testLimit: 3, valCount: 3 });
    expect([withVal.train.count, withVal.val!.count, withVal.test.count]).toEqual([3, 3, 3]);
    expect([...withVal.test.images]).toEqual([...ds.test.images]);
  });

  it('uses train/ and val/ sub-folders when the split is given on disk', async () => {
    const root = join(tmp.dir, 'presplit');
    for (const [part, n] of [['train', 3], ['val', 1]] as const) {
      for (const cls of ['cat', 'dog']) {
        mkdirSync(join(root, part, cls), { recursive: true });
        for (let i = 0; i < n; i++) await solid(join(root, part, cls, `${i}.png`), cls === 'cat' ? [0, 0, 0] : [255, 255, 255], 6, 6);
      }
    }
    const ds = await loadDataset({ name: 'pets', dir: root, imageSize: 6 });
    expect(ds.classes).toEqual(['cat', 'dog']);
    expect(ds.train.count).toBe(6);
    expect(ds.test.count).toBe(2);
    expect(ds.test.images[0]).toBe(0);
    expect(ds.test.images[6 * 6 * 3]).toBe(255);
  });

  it('fails on an unreadable image, naming it', async () => {
    const root = join(tmp.dir, 'broken');
    mkdirSync(join(root, 'a'), { recursive: true });
    mkdirSync(join(root, 'b'), { recursive: true });
    await solid(join(root, 'a', 'ok.png'), [1, 2, 3], 5, 5);
    const good = readFileSync(join(root, 'a', 'ok.png'));
    writeFileSync(join(root, 'b', 'cut.png'), good.subarray(0, good.length / 2));
    await expect(loadDataset({ name: 'folder', dir: root, testFraction: 0 })).rejects.toThrow(/Cannot decode image .*b\/cut\.png/);
    writeFileSync(join(root, 'b', 'cut.png'), 'hello');
    await expect(loadDataset({ name: 'folder', dir: root, testFraction: 0 })).rejects.toThrow(/Cannot decode image .*b\/cut\.png/);
  });

  it('rejects folders without class sub-folders or with empty classes', async () => {
    const root = join(tmp.dir, 'flat');
    mkdirSync(join(root, 'only'), { recursive: true });
    await expect(loadDataset({ name: 'folder', dir: root })).rejects.toThrow(/found 1 class sub-folder\(s\); an image folder needs at least 2/);
    mkdirSync(join(root, 'empty'));
    await solid(join(root, 'only', 'x.png'), [0, 0, 0], 3, 3);
    await expect(loadDataset({ name: 'folder', dir: root })).rejects.toThrow(/empty: class folder has no \.jpg\/\.jpeg\/\.png images/);
    await expect(loadDataset({ name: 'folder' })).rejects.toThrow(/folder needs --data-dir/);
  });
});

describe('class_indices.json', () => {
  it('is written atomically as {"0": name, ...} and reads back', async () => {
    const d = join(tmp.dir, 'run');
    mkdirSync(d);
    const path = await writeClassIndices(d, ['daisy', 'dandelion', 'roses']);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ 0: 'daisy', 1: 'dandelion', 2: 'roses' });
    expect(readdirSync(d)).toEqual(['class_indices.json']);
    expect(await readClassIndices(path)).toEqual(['daisy', 'dandelion', 'roses']);
    writeFileSync(path, '{"0": "a", "2": "b"}');
    await expect(readClassIndices(path)).rejects.toThrow(/bad entry "2"/);
  });
});

describe('loadImageFile', () => {
  it('matches the training pipeline for small images and normalizes', async () => {
    const p = join(tmp.dir, 'digit.png');
    const px = Uint8Array.from({ length: 28 * 28 }, (_, i) => (i * 7) % 256);
    await sharp(Buffer.from(px), { raw: { width: 28, height: 28, channels: 1 } }).png().toFile(p);
    const x = await loadImageFile(p, 32, 1, 'zero-one');
    const ref = resizeBilinear(px, 28, 28, 1, 32, 32);
    expect(x.length).toBe(32 * 32);
    for (let i = 0; i < x.length; i += 37) expect(x[i]).toBeCloseTo(ref[i] / 255, 4);
    const s = await loadImageFile(p, 28, 3, { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] });
    expect(s[3 * 5 + 1]).toBeCloseTo((px[5] / 255 - 0.5) / 0.5, 4);
    await expect(loadImageFile(p, 28, 1, 'standardize')).rejects.toThrow(/needs dataset statistics/);
  });

  it('downscales large photos to the resolution', async () => {
    const p = join(tmp.dir, 'big.jpg');
    await solid(p, [200, 10, 30], 300, 200);
    const x = await loadImageFile(p, 16, 3, 'zero-one');
    expect(x.length).toBe(16 * 16 * 3);
    expect(x[0]).toBeCloseTo(200 / 255, 1);
    await expect(loadImageFile(join(tmp.dir, 'missing.png'), 16, 3, 'zero-one')).rejects.toThrow(/Cannot decode image .*missing\.png/);
    expect(existsSync(p)).toBe(true);
  });
});
