import type { ChannelStats, RawSplit } from './types.js';

/** ITU-R BT.601 luma weights, as PIL 'L' and tf.image.rgb_to_grayscale use. */
export const LUMA = [0.299, 0.587, 0.114] as const;

function finish(sum: number, sumSq: number, n: number): { mean: number; std: number } {
  const mean = n > 0 ? sum / n : 0;
  const variance = n > 0 ? Math.max(0, sumSq / n - mean * mean) : 0;
  // A constant channel would divide by zero; 1 leaves it merely centred.
  const std = variance > 1e-12 ? Math.sqrt(variance) : 1;
  return { mean, std };
}

/** Statistics of a split's pixels in [0, 1] units, for 1- and 3-channel output. */
export function computeStats(split: RawSplit): { 1: ChannelStats; 3: ChannelStats } {
  const { images, channels } = split;
  const pixels = images.length / channels;
  if (channels === 1) {
    const hist = new Float64Array(256);
    for (let i = 0; i < images.length; i++) hist[images[i]]++;
    let s = 0, s2 = 0;
    for (let v = 0; v < 256; v++) {
      const x = v / 255;
      s += hist[v] * x;
      s2 += hist[v] * x * x;
    }
    const g = finish(s, s2, pixels);
    return { 1: { mean: [g.mean], std: [g.std] }, 3: { mean: [g.mean, g.mean, g.mean], std: [g.std, g.std, g.std] } };
  }
  const sum = [0, 0, 0], sq = [0, 0, 0];
  let ls = 0, ls2 = 0;
  for (let p = 0; p < images.length; p += 3) {
    const r = images[p] / 255, g = images[p + 1] / 255, b = images[p + 2] / 255;
    sum[0] += r; sum[1] += g; sum[2] += b;
    sq[0] += r * r; sq[1] += g * g; sq[2] += b * b;
    const l = LUMA[0] * r + LUMA[1] * g + LUMA[2] * b;
    ls += l;
    ls2 += l * l;
  }
  const c = [0, 1, 2].map((k) => finish(sum[k], sq[k], pixels));
  const l = finish(ls, ls2, pixels);
  return { 1: { mean: [l.mean], std: [l.std] }, 3: { mean: c.map((x) => x.mean), std: c.map((x) => x.std) } };
}
