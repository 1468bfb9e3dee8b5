import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CIFAR10_CLASSES, loadDataset, parseCifar } from '../src/data/index.js';
import { tempDir } from './fixtures/data/helpers.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir('cifar')));
afterEach(() => tmp.cleanup());

/** Records whose R/G/B planes are constant (label*10, label*10+1, label*10+2), CIFAR-100 with coarse byte 99. */
function records(labels: number[], labelBytes: 1 | 2): Uint8Array {
  const rec = labelBytes + 3072;
  const buf = new Uint8Array(labels.length * rec);
  labels.forEach((l, n) => {
    const o = n * rec;
    if (labelBytes === 2) buf[o] = 19; // coarse label, ignored
    buf[o + labelBytes - 1] = l;
    for (let c = 0; c < 3; c++) buf.fill((l * 10 + c) % 256, o + labelBytes + c * 1024, o + labelBytes + (c + 1) * 1024);
    buf[o + labelBytes + 1] = 250; // R of pixel (0,1): checks the plane -> HWC reordering
  });
  return buf;
}

describe('CIFAR binary', () => {
  it('parses planar records into HWC and keeps labels', () => {
    const s = parseCifar(records([3, 7], 1), 'x.bin', 1, 10);
    expect(s).toMatchObject({ count: 2, height: 32, width: 32, channels: 3 });
    expect([...s.labels]).toEqual([3, 7]);
    expect([...s.images.subarray(0, 6)]).toEqual([30, 31, 32, 250, 31, 32]);
    expect([...s.images.subarray(3072, 3075)]).toEqual([70, 71, 72]);
  });

  it('loads CIFAR-10 from the extracted archive folder with class names from batches.meta.txt', async () => {
    const d = join(tmp.dir, 'cifar-10-batches-bin');
    mkdirSync(d);
    for (let i = 1; i <= 5; i++) writeFileSync(join(d, `data_batch_${i}.bin`), records([i, i + 1], 1));
    writeFileSync(join(d, 'test_batch.bin'), records([0, 9, 4], 1));
    writeFileSync(join(d, 'batches.meta.txt'), CIFAR10_CLASSES.map((c) => c.toUpperCase()).join('\n') + '\n\n');
    const ds = await loadDataset({ name: 'cifar10', dir: tmp.dir });
    expect(ds.train.count).toBe(10);
    expect([...ds.train.labels]).toEqual([1, 2, 2, 3, 3, 4, 4, 5, 5, 6]);
    expect([...ds.test.labels]).toEqual([0, 9, 4]);
    expect(ds.classes[0]).toBe('AIRPLANE');
    // Auto-detection from an unknown name with a dir
    const auto = await loadDataset({ name: 'my-cifar', dir: d });
    expect(auto.train.count).toBe(10);
  });

  it('loads CIFAR-100 fine labels', async () => {
    writeFileSync(join(tmp.dir, 'train.bin'), records([42, 99, 0], 2));
    writeFileSync(join(tmp.dir, 'test.bin'), records([5], 2));
    writeFileSync(join(tmp.dir, 'fine_label_names.txt'), Array.from({ length: 100 }, (_, i) => `c${i}`).join('\n'));
    const ds = await loadDataset({ name: 'cifar100', dir: tmp.dir });
    expect([...ds.train.labels]).toEqual([42, 99, 0]);
    expect(ds.classes[42]).toBe('c42');
    expect(ds.train.images[0]).toBe((42 * 10) % 256);
  });

  it('rejects truncated files, bad labels and missing files, naming them', async () => {
    expect(() => parseCifar(records([1], 1).subarray(0, 3000), '/x/data_batch_1.bin', 1, 10)).toThrow(
      /\/x\/data_batch_1\.bin: size 3000 bytes is not a positive multiple of the 3073-byte CIFAR record/,
    );
    expect(() => parseCifar(records([12], 1), 'b.bin', 1, 10)).toThrow(/b\.bin: record 0 has label 12, expected 0\.\.9/);
    writeFileSync(join(tmp.dir, 'train.bin'), records([1], 2));
    await expect(loadDataset({ name: 'cifar100', dir: tmp.dir })).rejects.toThrow(
      /cifar100 not found in .* need train\.bin, test\.bin \(extract cifar-100-binary\.tar\.gz\)/,
    );
    writeFileSync(join(tmp.dir, 'test.bin'), records([1], 2).subarray(1));
    await expect(loadDataset({ name: 'cifar100', dir: tmp.dir })).rejects.toThrow(/test\.bin: size 3073 bytes is not a positive multiple of the 3074-byte/);
  });
});
