import * as tf from '@tensorflow/tfjs-core';
import { asWasmBackend } from './heap.js';
import { simdKernelsInfo, type SimdKernelsInfo } from './simd.js';

/** The SIMD kernels' build on the current backend (for run records), or undefined when it is not wasm or they do not run. */
export function wasmTrainingKernelsInfo(): SimdKernelsInfo | undefined {
  if (tf.getBackend() !== 'wasm') return undefined;
  return simdKernelsInfo(asWasmBackend(tf.backend()));
}
