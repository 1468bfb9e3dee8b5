import { DataError } from './errors.js';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RawSplit } from './types.js';

const PIXELS = 32 * 32;
const IMAGE_BYTES = 3 * PIXELS;

export const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

interface CifarLayout {
  name: 'cifar10' | 'cifar100';
  subdir: string;
  train: string[];
  test: string[];
  /** Label bytes per record; the last one is used (CIFAR-100: coarse then fine). */
  labelBytes: number;
  numClasses: number;
  namesFile: string;
  archive: string;
}

const LAYOUTS: Record<'cifar10' | 'cifar100', CifarLayout> = {
  cifar10: {
    name: 'cifar10',
    subdir: 'cifar-10-batches-bin',
    train: [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`),
    test: ['test_batch.bin'],
    labelBytes: 1,
    numClasses: 10,
    namesFile: 'batches.meta.txt',
    archive: 'cifar-10-binary.tar.gz',
  },
  cifar100: {
    name: 'cifar100',
    subdir: 'cifar-100-binary',
    train: ['train.bin'],
    test: ['test.bin'],
    labelBytes: 2,
    numClasses: 100,
    namesFile: 'fine_label_names.txt',
    archive: 'cifar-100-binary.tar.gz',
  },
};

/** Decode CIFAR binary records (label byte(s), then 1024 R, 1024 G, 1024 B) into HWC uint8. */
export function parseCifar(buf: Uint8Array, file: string, labelBytes: number, numClasses: number): RawSplit {
  const record = labelBytes + IMAGE_BYTES;
  if (buf.length === 0 || buf.length % record !== 0) {
    throw new DataError(
      `${file}: size ${buf.length} bytes is not a positive multiple of the ${record}-byte CIFAR record ` +
        `(truncated, or not a ${labelBytes === 1 ? 'CIFAR-10' : 'CIFAR-100'} binary file)`,
    );
  }
  const count = buf.length / record;
  const images = new Uint8Array(count * IMAGE_BYTES);
  const labels = new Int32Array(count);
  for (let n = 0; n < count; n++) {
    const r = n * record;
    const label = buf[r + labelBytes - 1];
    if (label >= numClasses) throw new DataError(`${file}: record ${n} has label ${label}, expected 0..${numClasses - 1}`);
    labels[n] = label;
    const src = r + labelBytes, dst = n * IMAGE_BYTES;
    for (let p = 0; p < PIXELS; p++) {
      images[dst + 3 * p] = buf[src + p];
      images[dst + 3 * p + 1] = buf[src + PIXELS + p];
      images[dst + 3 * p + 2] = buf[src + 2 * PIXELS + p];
    }
  }
  return { images, labels, count, height: 32, width: 32, channels: 3 };
}

async function readSplit(dir: string, files: string[], layout: CifarLayout): Promise<RawSplit> {
  const parts = await Promise.all(
    files.map(async (f) => parseCifar(await readFile(join(dir, f)), join(dir, f), layout.labelBytes, layout.numClasses)),
  );
  if (parts.length === 1) return parts[0];
  const count = parts.reduce((a, p) => a + p.count, 0);
  const images = new Uint8Array(count * IMAGE_BYTES);
  const labels = new Int32Array(count);
  let at = 0;
  for (const p of parts) {
    images.set(p.images, at * IMAGE_BYTES);
    labels.set(p.labels, at);
    at += p.count;
  }
  return { images, labels, count, height: 32, width: 32, channels: 3 };
}

async function readNames(path: string, numClasses: number): Promise<string[] | undefined> {
  if (!existsSync(path)) return undefined;
  const names = (await readFile(path, 'utf8')).split(/\r?\n/).map((s) => s.trim()).filter((s) => s !== '');
  if (names.length !== numClasses) {
    throw new DataError(`${path}: expected ${numClasses} class names, found ${names.length}`);
  }
  return names;
}

/** True when `dir` (or its standard archive subfolder) holds the given CIFAR variant. */
export function findCifarDir(name: 'cifar10' | 'cifar100', dir: string): string | undefined {
  const layout = LAYOUTS[name];
  for (const d of [dir, join(dir, layout.subdir)]) {
    if ([...layout.train, ...layout.test].every((f) => existsSync(join(d, f)))) return d;
  }
  return undefined;
}

export async function loadCifar(
  name: 'cifar10' | 'cifar100',
  dir: string | undefined,
): Promise<{ classes: string[]; train: RawSplit; test: RawSplit; source: string }> {
  const layout = LAYOUTS[name];
  const wanted = [...layout.train, ...layout.test].join(', ');
  if (!dir) throw new DataError(`${name} needs --data-dir <dir> holding ${wanted} (extract ${layout.archive})`);
  const found = findCifarDir(name, dir);
  if (!found) {
    throw new DataError(`${name} not found in ${dir} or ${join(dir, layout.subdir)}: need ${wanted} (extract ${layout.archive})`);
  }
  const [train, test, names] = await Promise.all([
    readSplit(found, layout.train, layout),
    readSplit(found, layout.test, layout),
    readNames(join(found, layout.namesFile), layout.numClasses),
  ]);
  const classes =
    names ?? (name === 'cifar10' ? CIFAR10_CLASSES : Array.from({ length: 100 }, (_, i) => `class_${i}`));
  return { classes, train, test, source: [...layout.train, ...layout.test].map((f) => join(found, f)).join(', ') };
}
