import * as tfl from '@tensorflow/tfjs-layers';

type Initializer = ReturnType<typeof tfl.initializers.varianceScaling>;

/**
 * Keras' 'truncated_normal' divides the stddev by 0.8796 (the stddev of a unit normal truncated at 2 sigma) so
 * the kept samples have the requested variance. tfjs' 'normal' is a truncated normal without that correction,
 * and its 'truncatedNormal' option silently samples a uniform; so scale the variance by 1 / 0.8796^2 instead.
 */
const TRUNCATED_NORMAL_STDDEV = 0.87962566103423978;

/** Keras Applications' CONV_KERNEL_INITIALIZER: VarianceScaling(2.0, fan_out, truncated normal). */
export function convKernelInitializer(seed?: number): Initializer {
  return tfl.initializers.varianceScaling({
    scale: 2.0 / TRUNCATED_NORMAL_STDDEV ** 2,
    mode: 'fanOut',
    distribution: 'normal',
    ...(seed === undefined ? {} : { seed }),
  });
}

/** Keras Applications' DENSE_KERNEL_INITIALIZER: VarianceScaling(1/3, fan_out, uniform). */
export function denseKernelInitializer(seed?: number): Initializer {
  return tfl.initializers.varianceScaling({
    scale: 1 / 3,
    mode: 'fanOut',
    distribution: 'uniform',
    ...(seed === undefined ? {} : { seed }),
  });
}

/** A distinct, reproducible seed per layer, so equal-shaped layers do not get equal weights. */
export function layerSeed(seed: number, layerIndex: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(layerIndex + 1, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  return h >>> 0;
}

export function checkSeed(seed: unknown): number {
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed) || seed < 0) {
    throw new Error(`seed '${String(seed)}' must be a non-negative integer`);
  }
  return seed;
}
