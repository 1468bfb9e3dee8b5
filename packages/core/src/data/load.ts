import { DataError } from './errors.js';
import { existsSync } from 'node:fs';
import { Rng } from '../util/rng.js';
import { findCifarDir, loadCifar } from './cifar.js';
import { findFile } from './files.js';
import { loadFolder } from './folder.js';
import { emnistSpec, fashionMnistSpec, loadIdxDataset, mnistSpec } from './mnist.js';
import { computeStats } from './stats.js';
import { stratifiedIndices, stratifiedSubset, takeIndices } from './subset.js';
import type { Dataset, RawSplit } from './types.js';

export const KNOWN_DATASETS = ['fashion-mnist', 'mnist', 'emnist', 'cifar10', 'cifar100', 'folder'] as const;

export interface LoadOptions {
  /** A known name (emnist-<split> selects an EMNIST split), or any name with `dir`: the format is then detected. */
  name: string;
  dir?: string;
  /** Stratified subsets, deterministic given seed (a smaller limit picks a subset of a larger one). */
  trainLimit?: number;
  testLimit?: number;
  /** Folders without their own train/ and test/ (or val/) sub-folders: the test fraction per class (default 0.2). */
  testFraction?: number;
  /**
   * A validation split carved from the training images (after trainLimit), stratified and seeded: a fraction of
   * them, or a count. Off by default; model selection (the search) should use it and leave test for reporting.
   */
  valFraction?: number;
  valCount?: number;
  seed?: number;
  /** Folders only: side length images are stored at (default 64). */
  imageSize?: number;
}

type Loaded = { classes: string[]; train: RawSplit; test: RawSplit; source: string; files?: Dataset['files'] };

function detectFormat(dir: string): 'idx' | 'cifar10' | 'cifar100' | 'folder' {
  if (findFile(dir, ['train-images-idx3-ubyte.gz', 'train-images-idx3-ubyte', 'train-images.idx3-ubyte'])) return 'idx';
  if (findCifarDir('cifar10', dir)) return 'cifar10';
  if (findCifarDir('cifar100', dir)) return 'cifar100';
  return 'folder';
}

export function describeIdxDir(dir: string): string {
  return `'${dir}' holds IDX files (MNIST format): say which set they are with --data fashion-mnist, mnist or emnist-<split>`;
}

function checkLimit(name: string, v: number | undefined): void {
  if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new DataError(`${name} must be a positive integer, got ${v}`);
}

export async function loadDataset(opts: LoadOptions): Promise<Dataset> {
  const { name, dir } = opts;
  checkLimit('trainLimit', opts.trainLimit);
  checkLimit('testLimit', opts.testLimit);
  checkLimit('valCount', opts.valCount);
  if (opts.valFraction !== undefined && !(opts.valFraction > 0 && opts.valFraction < 1)) {
    throw new DataError(`valFraction must be in (0, 1), got ${opts.valFraction}`);
  }
  if (opts.testFraction !== undefined && !(opts.testFraction >= 0 && opts.testFraction < 1)) {
    throw new DataError(`testFraction must be in [0, 1), got ${opts.testFraction}`);
  }
  if (opts.valFraction !== undefined && opts.valCount !== undefined) throw new DataError('give a validation split as valFraction or valCount, not both');
  const seed = opts.seed ?? 0;
  if (!Number.isSafeInteger(seed)) throw new DataError(`seed must be a safe integer, got ${seed}`);
  if (dir !== undefined && !existsSync(dir)) throw new DataError(`Data directory ${dir} does not exist`);

  let loaded: Loaded;
  let limitsApplied = false;
  if (name === 'fashion-mnist') loaded = await loadIdxDataset(fashionMnistSpec(dir));
  else if (name === 'mnist') loaded = await loadIdxDataset(mnistSpec(dir));
  else if (name === 'emnist' || name.startsWith('emnist-')) loaded = await loadIdxDataset(emnistSpec(name, dir));
  else if (name === 'cifar10' || name === 'cifar100') loaded = await loadCifar(name, dir);
  else if (name === 'auto' && dir !== undefined && detectFormat(dir) === 'idx') throw new DataError(describeIdxDir(dir));
  else if (name === 'folder' || (dir !== undefined && detectFormat(dir) === 'folder')) {
    if (!dir) throw new DataError(`folder needs --data-dir <dir> with one sub-folder of JPEG/PNG images per class`);
    loaded = await loadFolder({ trainLimit: opts.trainLimit, valLimit: opts.testLimit, valFraction: opts.testFraction, imageSize: opts.imageSize, dir, seed });
    limitsApplied = true;
  } else if (dir !== undefined) {
    const format = detectFormat(dir);
    loaded =
      format === 'idx'
        ? await loadIdxDataset({ ...mnistSpec(dir), name, classes: Array.from({ length: 256 }, (_, i) => String(i)) })
        : await loadCifar(format as 'cifar10' | 'cifar100', dir);
    if (format === 'idx') loaded = trimClasses(loaded);
  } else {
    throw new DataError(`Unknown dataset '${name}': expected one of ${KNOWN_DATASETS.join(', ')}, emnist-<split>, or any name with --data-dir`);
  }

  let { train, test } = loaded;
  const rng = new Rng(seed);
  if (!limitsApplied) {
    train = stratifiedSubset(train, loaded.classes.length, opts.trainLimit, rng.fork('train-limit'));
    test = stratifiedSubset(test, loaded.classes.length, opts.testLimit, rng.fork('val-limit'));
  }
  const carved = carveValidation(train, loaded.classes.length, opts, rng.fork('val-split'));
  // Normalization statistics come from the images trained on only: never from val or test.
  const stats = computeStats(carved.train);
  const ds: Dataset = { name: name === 'auto' ? detectFormat(dir!) : name, classes: loaded.classes, train: { ...carved.train, stats },
    test: { ...test, stats }, source: loaded.source };
  if (carved.val) {
    ds.val = { ...carved.val, stats };
    ds.valIndices = carved.valIndices;
  }
  if (loaded.files) ds.files = loaded.files;
  return ds;
}

/**
 * Split the training images into train and val: a stratified, seeded sample of round(count * fraction) (or
 * valCount) images goes to val, the rest (in their original order) stays train. `valIndices` are positions in
 * the training split as loaded, so which images were held out can be checked and reproduced.
 */
export function carveValidation(train: RawSplit, numClasses: number, opts: Pick<LoadOptions, 'valFraction' | 'valCount'>, rng: Rng):
  { train: RawSplit; val?: RawSplit; valIndices?: Int32Array } {
  if (opts.valFraction === undefined && opts.valCount === undefined) return { train };
  const n = opts.valCount ?? Math.round(train.count * opts.valFraction!);
  if (n < 1 || n >= train.count) {
    throw new DataError(`a validation split of ${n} images out of ${train.count} training images leaves no ${n < 1 ? 'validation' : 'training'} images; ` +
      `choose a validation size between 1 and ${train.count - 1}`);
  }
  const valIndices = stratifiedIndices(train.labels, numClasses, n, rng);
  const isVal = new Uint8Array(train.count);
  for (const i of valIndices) isVal[i] = 1;
  const rest = new Int32Array(train.count - n);
  for (let i = 0, k = 0; i < train.count; i++) if (!isVal[i]) rest[k++] = i;
  return { train: takeIndices(train, rest), val: takeIndices(train, valIndices), valIndices };
}

/** Unknown IDX sets: classes are the label values 0..max seen. */
function trimClasses(l: Loaded): Loaded {
  let max = 0;
  for (const s of [l.train, l.test]) for (let i = 0; i < s.count; i++) max = Math.max(max, s.labels[i]);
  return { ...l, classes: l.classes.slice(0, max + 1) };
}
