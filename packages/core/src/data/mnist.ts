import { DataError } from './errors.js';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { findFile } from './files.js';
import { readIdx } from './idx.js';
import type { RawSplit } from './types.js';

export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';
export const FASHION_MNIST_CLASSES = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
];
const DIGITS = Array.from({ length: 10 }, (_, i) => String(i));
const UPPER = Array.from({ length: 26 }, (_, i) => String.fromCharCode(65 + i));
const LOWER = Array.from({ length: 26 }, (_, i) => String.fromCharCode(97 + i));
const MERGED_LOWER = ['a', 'b', 'd', 'e', 'f', 'g', 'h', 'n', 'q', 'r', 't'];

export const EMNIST_SPLITS = ['balanced', 'byclass', 'bymerge', 'digits', 'letters', 'mnist'] as const;
export type EmnistSplit = (typeof EMNIST_SPLITS)[number];

const EMNIST_CLASSES: Record<EmnistSplit, string[]> = {
  balanced: [...DIGITS, ...UPPER, ...MERGED_LOWER],
  bymerge: [...DIGITS, ...UPPER, ...MERGED_LOWER],
  byclass: [...DIGITS, ...UPPER, ...LOWER],
  digits: DIGITS,
  mnist: DIGITS,
  letters: UPPER,
};

export interface IdxSpec {
  name: string;
  dir: string;
  /** File-name prefix, e.g. 'emnist-balanced-'. */
  prefix: string;
  classes: string[];
  /** EMNIST stores images transposed relative to MNIST. */
  transpose: boolean;
  /** EMNIST letters labels are 1..26. */
  labelOffset: number;
  /** Optional mapping file with the real class names (EMNIST). */
  mappingFile?: string;
  /** Test-file prefix in the official release: 't10k' (MNIST, Fashion-MNIST) or 'test' (EMNIST); both are accepted. */
  testKind: 't10k' | 'test';
  /** How to obtain the files, for the not-found error. */
  howToGet: string;
}

function candidates(prefix: string, kind: 'train' | 't10k' | 'test', what: 'images-idx3' | 'labels-idx1'): string[] {
  const base = `${prefix}${kind}-${what}-ubyte`;
  // Some mirrors extract to 'train-images.idx3-ubyte'.
  const dotted = `${prefix}${kind}-${what.replace('-', '.')}-ubyte`;
  return [`${base}.gz`, base, `${dotted}.gz`, dotted];
}

function locate(spec: IdxSpec): { trainImages: string; trainLabels: string; testImages: string; testLabels: string } {
  const find = (kind: 'train' | 'test', what: 'images-idx3' | 'labels-idx1'): string | undefined =>
    kind === 'train'
      ? findFile(spec.dir, candidates(spec.prefix, 'train', what))
      : findFile(spec.dir, [...candidates(spec.prefix, 't10k', what), ...candidates(spec.prefix, 'test', what)]);
  const found = {
    trainImages: find('train', 'images-idx3'),
    trainLabels: find('train', 'labels-idx1'),
    testImages: find('test', 'images-idx3'),
    testLabels: find('test', 'labels-idx1'),
  };
  const missing = Object.entries(found).filter(([, v]) => v === undefined);
  if (missing.length > 0) {
    const t = spec.testKind;
    const wanted = ['train-images-idx3', 'train-labels-idx1', `${t}-images-idx3`, `${t}-labels-idx1`]
      .map((w) => `${spec.prefix}${w}-ubyte.gz`)
      .join(', ');
    const where = existsSync(spec.dir) ? `${spec.dir} lacks some files` : `${spec.dir} does not exist`;
    throw new DataError(`${spec.name} not found: ${where} (need ${wanted}; raw or .gz). ${spec.howToGet}`);
  }
  return found as { trainImages: string; trainLabels: string; testImages: string; testLabels: string };
}

async function readPair(imagesPath: string, labelsPath: string, spec: IdxSpec, numClasses: number): Promise<RawSplit> {
  const [img, lab] = await Promise.all([readIdx(imagesPath), readIdx(labelsPath)]);
  if (img.dims.length !== 3 && !(img.dims.length === 4 && (img.dims[3] === 1 || img.dims[3] === 3))) {
    throw new DataError(`${imagesPath}: expected image dims N x H x W (or N x H x W x 1|3), got ${img.dims.join('x')}`);
  }
  if (lab.dims.length !== 1) throw new DataError(`${labelsPath}: expected 1-D labels, got dims ${lab.dims.join('x')}`);
  const [count, height, width] = img.dims;
  const channels = (img.dims[3] ?? 1) as 1 | 3;
  if (lab.dims[0] !== count) {
    throw new DataError(`${labelsPath}: ${lab.dims[0]} labels but ${imagesPath} has ${count} images`);
  }
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const l = lab.data[i] - spec.labelOffset;
    if (l < 0 || l >= numClasses) {
      throw new DataError(`${labelsPath}: label ${lab.data[i]} at index ${i} is outside 0..${numClasses - 1 + spec.labelOffset}`);
    }
    labels[i] = l;
  }
  let images = img.data;
  if (spec.transpose) {
    if (height !== width || channels !== 1) throw new DataError(`${imagesPath}: EMNIST images must be square grayscale`);
    images = transposeSquare(images, count, height);
  }
  return { images, labels, count, height, width, channels };
}

function transposeSquare(src: Uint8Array, count: number, size: number): Uint8Array {
  const out = new Uint8Array(src.length);
  const plane = size * size;
  for (let n = 0; n < count; n++) {
    const o = n * plane;
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) out[o + y * size + x] = src[o + x * size + y];
  }
  return out;
}

/** Class names from an EMNIST mapping file: lines 'label ascii [ascii...]'. */
async function readMapping(path: string, labelOffset: number): Promise<string[]> {
  const text = await readFile(path, 'utf8');
  const names: string[] = [];
  for (const [lineNo, line] of text.split(/\r?\n/).entries()) {
    if (line.trim() === '') continue;
    const parts = line.trim().split(/\s+/).map(Number);
    if (parts.length < 2 || parts.some((p) => !Number.isInteger(p) || p < 0)) {
      throw new DataError(`${path}:${lineNo + 1}: expected 'label ascii-code', got '${line}'`);
    }
    names[parts[0] - labelOffset] = parts.slice(1).map((c) => String.fromCharCode(c)).join('');
  }
  if (names.length === 0 || names.some((n) => n === undefined)) {
    throw new DataError(`${path}: class labels must be contiguous from ${labelOffset}`);
  }
  return names;
}

export async function loadIdxDataset(spec: IdxSpec): Promise<{ classes: string[]; train: RawSplit; test: RawSplit; source: string }> {
  const files = locate(spec);
  let classes = spec.classes;
  if (spec.mappingFile && existsSync(spec.mappingFile)) classes = await readMapping(spec.mappingFile, spec.labelOffset);
  const [train, test] = await Promise.all([
    readPair(files.trainImages, files.trainLabels, spec, classes.length),
    readPair(files.testImages, files.testLabels, spec, classes.length),
  ]);
  if (train.height !== test.height || train.width !== test.width || train.channels !== test.channels) {
    throw new DataError(
      `${files.testImages}: test images are ${test.height}x${test.width}x${test.channels} but train images are ` +
        `${train.height}x${train.width}x${train.channels}`,
    );
  }
  return { classes, train, test, source: Object.values(files).join(', ') };
}

export function fashionMnistSpec(dir?: string): IdxSpec {
  return {
    name: 'fashion-mnist',
    dir: dir ?? FASHION_MNIST_DIR,
    prefix: '',
    classes: FASHION_MNIST_CLASSES,
    transpose: false,
    labelOffset: 0,
    testKind: 't10k',
    howToGet: dir
      ? `Put the four Fashion-MNIST files in ${dir}, or omit --data-dir to use ${FASHION_MNIST_DIR}.`
      : `Install it with 'apt-get install -y dataset-fashion-mnist' (as root), or pass --data-dir <dir> holding those files.`,
  };
}

export function mnistSpec(dir?: string): IdxSpec {
  if (!dir) {
    throw new DataError(
      `mnist needs --data-dir <dir> holding train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, ` +
        `t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz (raw or .gz; there is no Debian package for MNIST)`,
    );
  }
  return {
    name: 'mnist',
    dir,
    prefix: '',
    classes: DIGITS,
    transpose: false,
    labelOffset: 0,
    testKind: 't10k',
    howToGet: `Download the MNIST IDX files into ${dir}.`,
  };
}

/** 'emnist' means the balanced split; 'emnist-letters' etc. select others. */
export function emnistSpec(name: string, dir?: string): IdxSpec {
  const split = (name === 'emnist' ? 'balanced' : name.slice('emnist-'.length)) as EmnistSplit;
  if (!EMNIST_SPLITS.includes(split)) {
    throw new DataError(`Unknown EMNIST split '${name}': expected emnist or emnist-{${EMNIST_SPLITS.join(',')}}`);
  }
  const prefix = `emnist-${split}-`;
  if (!dir) {
    throw new DataError(
      `${name} needs --data-dir <dir> holding ${prefix}{train,test}-{images-idx3,labels-idx1}-ubyte(.gz) ` +
        `from the EMNIST 'gzip' archive`,
    );
  }
  return {
    name,
    dir,
    prefix,
    classes: EMNIST_CLASSES[split],
    transpose: true,
    testKind: 'test',
    labelOffset: split === 'letters' ? 1 : 0,
    mappingFile: `${dir}/${prefix}mapping.txt`,
    howToGet: `Extract the EMNIST 'gzip' archive into ${dir}.`,
  };
}
