import { DataError } from './errors.js';
import { Rng } from '../util/rng.js';
import { resolveAugment, type AugmentOptions } from './augment.js';
import { affineFor, resolveNormalization, type Normalize } from './normalize.js';
import { axisTaps, resample1, resampleC } from './resize.js';
import { LUMA } from './stats.js';
import type { Split } from './types.js';

export interface BatchOptions {
  batchSize: number;
  /** Output height = width. */
  resolution: number;
  channels: 1 | 3;
  augment: boolean | AugmentOptions;
  normalize: Normalize;
  shuffle: boolean;
  seed: number;
  epoch: number;
  /** Drop a final partial batch (default false). */
  dropLast?: boolean;
  /** Resume mid-epoch: start at this batch, with the same order and augmentation as an uninterrupted epoch. */
  startBatch?: number;
}

export interface Batch {
  /** NHWC, size x resolution x resolution x channels. */
  x: Float32Array;
  y: Int32Array;
  size: number;
  /** Index of this batch within the epoch. */
  index: number;
}

function checkInt(name: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new DataError(`${name} must be an integer >= ${min}, got ${String(v)}`);
  }
  return v;
}

export function batchCount(split: Pick<Split, 'count'>, opts: Pick<BatchOptions, 'batchSize' | 'dropLast'>): number {
  const bs = checkInt('batchSize', opts.batchSize, 1);
  return opts.dropLast ? Math.floor(split.count / bs) : Math.ceil(split.count / bs);
}

/** The example order of one epoch: a seeded permutation, or 0..n-1 without shuffling. */
export function epochOrder(count: number, seed: number, epoch: number, shuffle: boolean): Int32Array {
  if (!shuffle) return Int32Array.from({ length: count }, (_, i) => i);
  return new Rng(seed).fork(`order:${epoch}`).permutation(count);
}

/**
 * Batches of one epoch, resized (bilinear, half-pixel) to the network resolution, channel-converted,
 * augmented and normalized on the fly. Order and augmentation depend only on (seed, epoch, batch index),
 * so resuming with `startBatch` reproduces an uninterrupted run exactly.
 */
export function* batches(split: Split, opts: BatchOptions): Generator<Batch> {
  const bs = checkInt('batchSize', opts.batchSize, 1);
  const res = checkInt('resolution', opts.resolution, 1);
  checkInt('epoch', opts.epoch, 0);
  if (!Number.isSafeInteger(opts.seed)) throw new DataError(`seed must be a safe integer, got ${String(opts.seed)}`);
  if (opts.channels !== 1 && opts.channels !== 3) throw new DataError(`channels must be 1 or 3, got ${String(opts.channels)}`);
  const total = batchCount(split, opts);
  const start = checkInt('startBatch', opts.startBatch ?? 0, 0);
  if (start > total) throw new DataError(`startBatch ${start} is past the end of the epoch (${total} batches)`);

  const { height: H, width: W, channels: C, count } = split;
  const outC = opts.channels;
  const aug = resolveAugment(opts.augment, H, W);
  const { scale, bias } = affineFor(resolveNormalization(opts.normalize, outC, split.stats));

  // RGB -> 1 channel: reduce each sample to luminance first (both steps are linear, so the order is immaterial).
  const luma = C === 3 && outC === 1 ? new Float32Array(H * W) : null;
  const sc = luma ? 1 : C;
  const rows = axisTaps(H, res, W * sc);
  const cols = axisTaps(W, res, sc);

  const order = epochOrder(count, opts.seed, opts.epoch, opts.shuffle);
  const plane = H * W * C;
  const outPlane = res * res * outC;
  const root = new Rng(opts.seed);
  const { images, labels } = split;

  for (let b = start; b < total; b++) {
    const from = b * bs;
    const size = Math.min(bs, count - from);
    const x = new Float32Array(size * outPlane);
    const y = new Int32Array(size);
    const rng = aug ? root.fork(`augment:${opts.epoch}:${b}`) : null;
    for (let k = 0; k < size; k++) {
      const i = order[from + k];
      y[k] = labels[i];
      if (rng && aug) {
        const dy = aug.pad > 0 ? rng.nextInt(2 * aug.pad + 1) - aug.pad : 0;
        const dx = aug.pad > 0 ? rng.nextInt(2 * aug.pad + 1) - aug.pad : 0;
        const flip = aug.flip ? rng.next() < 0.5 : false;
        axisTaps(H, res, W * sc, dy, false, rows);
        axisTaps(W, res, sc, dx, flip, cols);
      }
      let src: Uint8Array | Float32Array = images;
      let base = i * plane;
      if (luma) {
        for (let q = 0, s = base; q < H * W; q++, s += 3) {
          luma[q] = LUMA[0] * images[s] + LUMA[1] * images[s + 1] + LUMA[2] * images[s + 2];
        }
        src = luma;
        base = 0;
      }
      if (sc === 1) resample1(src, base, rows, cols, x, k * outPlane, outC, scale, bias);
      else resampleC(src, base, sc, rows, cols, x, k * outPlane, scale, bias);
    }
    yield { x, y, size, index: b };
  }
}
