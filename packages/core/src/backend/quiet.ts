import { env } from '@tensorflow/tfjs-core';

/**
 * Silences TensorFlow.js's advice and warnings ("install the node backend for speed", platform
 * overrides, deprecations) and libtensorflow's C++ info logs. PROD only gates tfjs warn/log calls.
 */
export function silenceTfjsNoise(): void {
  env().set('PROD', true);
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
}

/** Verbose runs show TensorFlow.js's warnings again. */
export function restoreTfjsWarnings(): void {
  env().set('PROD', false);
}

/** The pure-JS cpu backend prints its banner on first write; mark it as already used. */
export function silenceCpuBanner(backend: unknown): void {
  const b = backend as { firstUse?: boolean };
  if (typeof b.firstUse === 'boolean') b.firstUse = false;
}
