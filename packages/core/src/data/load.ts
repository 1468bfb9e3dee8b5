import { DataError } from './errors.js';
import { existsSync } from 'node:fs';
import { Rng } from '../util/rng.js';
import { findCifarDir, loadCifar } from './cifar.js';
import { findFile } from './files.js';
import { loadFolder } from './folder.js';
import { emnistSpec, fashionMnistSpec, loadIdxDataset, mnistSpec } from './mnist.js';
import { withStats } from './stats.js';
import { stratifiedSubset } from './subset.js';
import type { Dataset, RawSplit } from './types.js';

export const KNOWN_DATASETS = ['fashion-mnist', 'mnist', 'emnist', 'cifar10', 'cifar100', 'folder'] as const;

export interface LoadOptions {
  /** A known name (emnist-<split> selects an EMNIST split), or any name with `dir`: the format is then detected. */
  name: string;
  dir?: string;
  /** Stratified subsets, deterministic given seed (a smaller limit picks a subset of a larger one). */
  trainLimit?: number;
  valLimit?: number;
  /** Folders only: held-out fraction per class (default 0.2). */
  valFraction?: number;
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

function checkLimit(name: string, v: number | undefined): void {
  if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new DataError(`${name} must be a positive integer, got ${v}`);
}

export async function loadDataset(opts: LoadOptions): Promise<Dataset> {
  const { name, dir } = opts;
  checkLimit('trainLimit', opts.trainLimit);
  checkLimit('valLimit', opts.valLimit);
  const seed = opts.seed ?? 0;
  if (!Number.isSafeInteger(seed)) throw new DataError(`seed must be a safe integer, got ${seed}`);
  if (dir !== undefined && !existsSync(dir)) throw new DataError(`Data directory ${dir} does not exist`);

  let loaded: Loaded;
  let limitsApplied = false;
  if (name === 'fashion-mnist') loaded = await loadIdxDataset(fashionMnistSpec(dir));
  else if (name === 'mnist') loaded = await loadIdxDataset(mnistSpec(dir));
  else if (name === 'emnist' || name.startsWith('emnist-')) loaded = await loadIdxDataset(emnistSpec(name, dir));
  else if (name === 'cifar10' || name === 'cifar100') loaded = await loadCifar(name, dir);
  else if (name === 'folder' || (dir !== undefined && detectFormat(dir) === 'folder')) {
    if (!dir) throw new DataError(`folder needs --data-dir <dir> with one sub-folder of JPEG/PNG images per class`);
    loaded = await loadFolder({ ...opts, dir, seed });
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
  if (!limitsApplied) {
    const rng = new Rng(seed);
    train = stratifiedSubset(train, loaded.classes.length, opts.trainLimit, rng.fork('train-limit'));
    test = stratifiedSubset(test, loaded.classes.length, opts.valLimit, rng.fork('val-limit'));
  }
  const withS = withStats(train, test);
  const ds: Dataset = { name, classes: loaded.classes, train: withS.train, test: withS.test, source: loaded.source };
  if (loaded.files) ds.files = loaded.files;
  return ds;
}

/** Unknown IDX sets: classes are the label values 0..max seen. */
function trimClasses(l: Loaded): Loaded {
  let max = 0;
  for (const s of [l.train, l.test]) for (let i = 0; i < s.count; i++) max = Math.max(max, s.labels[i]);
  return { ...l, classes: l.classes.slice(0, max + 1) };
}
