import { DataError } from './errors.js';
import type { ChannelStats, Split } from './types.js';

/**
 * 'zero-one': x / 255. 'standardize': (x / 255 - mean) / std with the TRAIN split's per-channel statistics
 * (Split.stats). Explicit {mean, std} are in [0, 1] pixel units, one entry per output channel
 * (e.g. ImageNet: mean [0.485, 0.456, 0.406], std [0.229, 0.224, 0.225]).
 */
export type Normalize = 'zero-one' | 'standardize' | ChannelStats;

/** Concrete per-channel mean/std for `normalize` (store these with a trained model for prediction). */
export function resolveNormalization(
  normalize: Normalize,
  channels: 1 | 3,
  stats?: Split['stats'],
): ChannelStats {
  if (normalize === 'zero-one') return { mean: new Array(channels).fill(0), std: new Array(channels).fill(1) };
  if (normalize === 'standardize') {
    if (!stats) throw new DataError(`normalize 'standardize' needs dataset statistics; pass explicit {mean, std} instead`);
    return { mean: [...stats[channels].mean], std: [...stats[channels].std] };
  }
  if (typeof normalize !== 'object' || normalize === null || !Array.isArray(normalize.mean) || !Array.isArray(normalize.std)) {
    throw new DataError(`Invalid normalize ${JSON.stringify(normalize)}: expected 'zero-one', 'standardize' or {mean, std}`);
  }
  const { mean, std } = normalize;
  if (mean.length !== channels || std.length !== channels) {
    throw new DataError(`normalize mean/std have ${mean.length}/${std.length} entries; the output has ${channels} channel(s)`);
  }
  if (!mean.every(Number.isFinite) || !std.every((s) => Number.isFinite(s) && s > 0)) {
    throw new DataError(`normalize needs finite means and positive stds, got ${JSON.stringify(normalize)}`);
  }
  return { mean: [...mean], std: [...std] };
}

/** Fold /255 and (x - mean) / std into one multiply-add per value. */
export function affineFor(norm: ChannelStats): { scale: Float32Array; bias: Float32Array } {
  const scale = Float32Array.from(norm.std, (s) => 1 / (255 * s));
  const bias = Float32Array.from(norm.mean, (m, k) => -m / norm.std[k]);
  return { scale, bias };
}
