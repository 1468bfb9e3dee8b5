import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { batches, type BatchOptions } from '../data/batches.js';
import type { Split } from '../data/types.js';

export interface EvalResult {
  loss: number;
  top1: number;
  top5: number;
  count: number;
}

const EPS = 1e-7;

/** Top-1, top-5 and cross-entropy over a whole split, in inference mode. Reads asynchronously (webgpu has no sync read in Node). */
export async function evaluate(model: tfl.LayersModel, split: Split, opts: Omit<BatchOptions, 'shuffle' | 'augment' | 'epoch'>): Promise<EvalResult> {
  let loss = 0;
  let top1 = 0;
  let top5 = 0;
  let count = 0;
  for (const b of batches(split, { ...opts, shuffle: false, augment: false, epoch: 0, dropLast: false })) {
    const probsT = tf.tidy(() => model.predict(tf.tensor4d(b.x, [b.size, opts.resolution, opts.resolution, opts.channels])) as tf.Tensor);
    const probs = (await probsT.data()) as Float32Array;
    probsT.dispose();
    const k = probs.length / b.size;
    for (let i = 0; i < b.size; i++) {
      const row = probs.subarray(i * k, (i + 1) * k);
      const p = row[b.y[i]];
      let higher = 0;
      for (let j = 0; j < k; j++) if (row[j] > p || (row[j] === p && j < b.y[i])) higher++;
      if (higher < 1) top1++;
      if (higher < 5) top5++;
      loss -= Math.log(Math.min(1 - EPS, Math.max(EPS, p)));
    }
    count += b.size;
  }
  return { loss: loss / count, top1: top1 / count, top5: top5 / count, count };
}

/** The k most probable classes of each row of a probability matrix. */
export function topK(probs: Float32Array, classes: readonly string[], k: number): { index: number; name: string; probability: number }[][] {
  const n = classes.length;
  const out: { index: number; name: string; probability: number }[][] = [];
  for (let i = 0; i < probs.length / n; i++) {
    const row = Array.from(probs.subarray(i * n, (i + 1) * n), (p, j) => ({ index: j, name: classes[j], probability: p }));
    out.push(row.sort((a, b) => b.probability - a.probability || a.index - b.index).slice(0, Math.min(k, n)));
  }
  return out;
}
