import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  batchCount, batches, computeStats, defaultAugment, Rng, resizeBilinear, type BatchOptions, type Split,
} from '../src/data/index.js';

function makeSplit(count: number, h: number, w: number, c: 1 | 3, seed = 1): Split {
  const r = new Rng(seed);
  const images = new Uint8Array(count * h * w * c);
  for (let i = 0; i < images.length; i++) images[i] = r.nextInt(256);
  const labels = Int32Array.from({ length: count }, (_, i) => i % 5);
  const raw = { images, labels, count, height: h, width: w, channels: c };
  return { ...raw, stats: computeStats(raw) };
}

const base: BatchOptions = {
  batchSize: 8, resolution: 12, channels: 1, augment: false, normalize: 'zero-one', shuffle: true, seed: 3, epoch: 0,
};
const all = (split: Split, o: Partial<BatchOptions>) => [...batches(split, { ...base, ...o })];
const concat = (bs: { x: Float32Array }[]) => Float32Array.from(bs.flatMap((b) => [...b.x]));

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function tfResize(img: Float32Array | Uint8Array, h: number, w: number, c: number, oh: number, ow: number): Float32Array {
  return tf.tidy(() =>
    tf.image.resizeBilinear(tf.tensor3d(Float32Array.from(img), [h, w, c]), [oh, ow], false, true).dataSync() as Float32Array,
  );
}

describe('resizeBilinear', () => {
  it('matches hand-computed half-pixel values', () => {
    // in=2 -> out=4: source coords -0.25, 0.25, 0.75, 1.25 (clamped at the edges)
    expect([...resizeBilinear(Uint8Array.from([0, 255]), 1, 2, 1, 1, 4)]).toEqual([0, 63.75, 191.25, 255]);
    // Identity size is exact.
    const img = Uint8Array.from([1, 2, 3, 4, 5, 6]);
    expect([...resizeBilinear(img, 2, 3, 1, 2, 3)]).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it.each([
    [28, 28, 1, 32, 32],
    [32, 32, 3, 20, 20],
    [5, 7, 3, 9, 4],
    [7, 5, 1, 3, 11],
    [6, 6, 4, 9, 9],
  ])('matches tf.image.resizeBilinear(halfPixelCenters) for %ix%ix%i -> %ix%i', (h, w, c, oh, ow) => {
    const r = new Rng(h * 100 + w);
    const img = Uint8Array.from({ length: h * w * c }, () => r.nextInt(256));
    const ours = resizeBilinear(img, h, w, c, oh, ow);
    const ref = tfResize(img, h, w, c, oh, ow);
    expect(ours.length).toBe(ref.length);
    let maxErr = 0;
    for (let i = 0; i < ref.length; i++) maxErr = Math.max(maxErr, Math.abs(ours[i] - ref[i]));
    expect(maxErr).toBeLessThan(1e-3);
  });

  it('batches() without augmentation resizes exactly like resizeBilinear', () => {
    const split = makeSplit(3, 10, 10, 3);
    const [b] = all(split, { resolution: 14, channels: 3, shuffle: false, batchSize: 3 });
    const one = resizeBilinear(split.images.subarray(300, 600), 10, 10, 3, 14, 14);
    const got = b.x.subarray(14 * 14 * 3, 2 * 14 * 14 * 3);
    for (let i = 0; i < one.length; i++) expect(got[i]).toBeCloseTo(one[i] / 255, 5);
  });
});

describe('batches', () => {
  const split = makeSplit(37, 10, 10, 1);

  it('yields NHWC float batches covering every example once per epoch, labels aligned', () => {
    const bs = all(split, {});
    expect(bs.map((b) => b.size)).toEqual([8, 8, 8, 8, 5]);
    expect(bs.map((b) => b.index)).toEqual([0, 1, 2, 3, 4]);
    expect(bs[0].x.length).toBe(8 * 12 * 12);
    expect(bs[4].x.length).toBe(5 * 12 * 12);
    // Identify each output by resizing every source image and matching.
    const plane = 100;
    const refs = Array.from({ length: split.count }, (_, i) =>
      resizeBilinear(split.images.subarray(i * plane, (i + 1) * plane), 10, 10, 1, 12, 12));
    const seen: number[] = [];
    for (const b of bs) {
      for (let k = 0; k < b.size; k++) {
        const out = b.x.subarray(k * 144, (k + 1) * 144);
        const i = refs.findIndex((ref) => ref.every((v, j) => Math.abs(v / 255 - out[j]) < 1e-5));
        expect(i).toBeGreaterThanOrEqual(0);
        expect(b.y[k]).toBe(split.labels[i]);
        seen.push(i);
      }
    }
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 37 }, (_, i) => i));
  });

  it('is deterministic per (seed, epoch) and differs across epochs and seeds', () => {
    const o = { augment: true };
    const a = concat(all(split, o));
    expect(concat(all(split, o))).toEqual(a);
    expect(concat(all(split, { ...o, epoch: 1 }))).not.toEqual(a);
    expect(concat(all(split, { ...o, seed: 4 }))).not.toEqual(a);
    const ya = all(split, {}).flatMap((b) => [...b.y]);
    const y1 = all(split, { epoch: 1 }).flatMap((b) => [...b.y]);
    expect(y1).not.toEqual(ya);
  });

  it('resuming at startBatch reproduces the rest of an uninterrupted epoch exactly', () => {
    const o = { augment: true, epoch: 2 };
    const full = all(split, o);
    const resumed = all(split, { ...o, startBatch: 2 });
    expect(resumed.map((b) => b.index)).toEqual([2, 3, 4]);
    resumed.forEach((b, k) => {
      expect(b.x).toEqual(full[k + 2].x);
      expect(b.y).toEqual(full[k + 2].y);
    });
    expect(all(split, { startBatch: 5 })).toEqual([]);
    expect(() => all(split, { startBatch: 6 })).toThrow(/startBatch 6 is past the end of the epoch \(5 batches\)/);
  });

  it('without shuffle keeps dataset order', () => {
    const ys = all(split, { shuffle: false }).flatMap((b) => [...b.y]);
    expect(ys).toEqual([...split.labels]);
  });

  it('dropLast drops the partial batch; batchCount agrees', () => {
    expect(batchCount(split, { batchSize: 8 })).toBe(5);
    expect(batchCount(split, { batchSize: 8, dropLast: true })).toBe(4);
    expect(all(split, { dropLast: true }).map((b) => b.size)).toEqual([8, 8, 8, 8]);
  });

  it('augmentation is a zero-padded shift within pad pixels plus an optional mirror', () => {
    const s = makeSplit(20, 10, 10, 1, 9);
    const pad = 2;
    const out = all(s, { resolution: 10, augment: { pad, flip: true }, shuffle: false, batchSize: 20 })[0];
    let flips = 0, shifted = 0;
    for (let n = 0; n < 20; n++) {
      const src = s.images.subarray(n * 100, (n + 1) * 100);
      const got = out.x.subarray(n * 100, (n + 1) * 100);
      let match: [number, number, boolean] | null = null;
      for (let dy = -pad; dy <= pad && !match; dy++) for (let dx = -pad; dx <= pad && !match; dx++) for (const flip of [false, true]) {
        let ok = true;
        for (let y = 0; y < 10 && ok; y++) for (let x = 0; x < 10 && ok; x++) {
          const sy = y - dy, sx0 = x - dx;
          const sx = flip ? 9 - sx0 : sx0;
          const want = sy < 0 || sy > 9 || sx0 < 0 || sx0 > 9 ? 0 : src[sy * 10 + sx] / 255;
          ok = Math.abs(got[y * 10 + x] - want) < 1e-6;
        }
        if (ok) { match = [dy, dx, flip]; break; }
      }
      expect(match, `sample ${n}`).not.toBeNull();
      if (match![2]) flips++;
      if (match![0] !== 0 || match![1] !== 0) shifted++;
    }
    expect(flips).toBeGreaterThan(2);
    expect(flips).toBeLessThan(18);
    expect(shifted).toBeGreaterThan(10);
  });

  it('converts channels: gray -> 3 replicates, RGB -> 1 uses BT.601 luminance', () => {
    const g = makeSplit(2, 6, 6, 1);
    const [g3] = all(g, { channels: 3, resolution: 6, shuffle: false });
    for (let p = 0; p < 72; p++) {
      expect(g3.x[3 * p]).toBeCloseTo(g.images[p] / 255, 6);
      expect(g3.x[3 * p + 2]).toBe(g3.x[3 * p]);
    }
    const rgb = makeSplit(2, 6, 6, 3);
    const [l] = all(rgb, { channels: 1, resolution: 6, shuffle: false });
    const px = rgb.images;
    expect(l.x[7]).toBeCloseTo((0.299 * px[21] + 0.587 * px[22] + 0.114 * px[23]) / 255, 5);
  });

  it("normalizes: 'standardize' uses the split statistics; explicit mean/std per channel", () => {
    const s = makeSplit(64, 8, 8, 3);
    const x = concat(all(s, { channels: 3, resolution: 8, normalize: 'standardize', shuffle: false, batchSize: 64 }));
    for (let k = 0; k < 3; k++) {
      let sum = 0, sq = 0, n = 0;
      for (let i = k; i < x.length; i += 3) (sum += x[i]), (sq += x[i] * x[i]), n++;
      expect(sum / n).toBeCloseTo(0, 4);
      expect(Math.sqrt(sq / n - (sum / n) ** 2)).toBeCloseTo(1, 3);
    }
    const [b] = all(s, { channels: 3, resolution: 8, normalize: { mean: [0.5, 0.5, 0.5], std: [0.5, 0.25, 1] }, shuffle: false });
    expect(b.x[1]).toBeCloseTo((s.images[1] / 255 - 0.5) / 0.25, 5);
    expect(() => all(s, { channels: 3, normalize: { mean: [0.5], std: [0.5] } })).toThrow(/1\/1 entries; the output has 3 channel/);
    expect(() => all(s, { channels: 3, normalize: { mean: [0, 0, 0], std: [1, 0, 1] } })).toThrow(/positive stds/);
  });

  it('rejects bad options with the offending value', () => {
    expect(() => all(split, { batchSize: 0 })).toThrow(/batchSize must be an integer >= 1, got 0/);
    expect(() => all(split, { resolution: 3.5 })).toThrow(/resolution must be an integer >= 1, got 3.5/);
    expect(() => all(split, { channels: 2 as 1 })).toThrow(/channels must be 1 or 3, got 2/);
    expect(() => all(split, { augment: { pad: 10 } })).toThrow(/augment.pad must be an integer in 0..9, got 10/);
  });
});

describe('defaultAugment', () => {
  it('is off for digits and letters, on for natural images and garments', () => {
    expect(defaultAugment('mnist')).toBe(false);
    expect(defaultAugment('emnist-letters')).toBe(false);
    expect(defaultAugment('fashion-mnist')).toBe(true);
    expect(defaultAugment('cifar10')).toBe(true);
    expect(defaultAugment('folder')).toBe(true);
  });
});
