import type { TensorInfo } from '@tensorflow/tfjs-core';
import { bytePtr, runWasmKernel, withShape, type WasmBackend } from './heap.js';
import { simdKernels } from './simd.js';

/**
 * [m, k] x [k, n] -> [m, n] (row-major, float32). The SIMD kernel needs no packing; XNNPACK (via
 * BatchMatMul) packs the right operand on every call, which dominates when the weights are new
 * tensors each training step.
 */
export function matmul(backend: WasmBackend, a: TensorInfo, b: TensorInfo, m: number, k: number, n: number): TensorInfo {
  const simd = simdKernels(backend);
  if (simd === undefined) {
    const out = runWasmKernel(backend, 'BatchMatMul', { a: withShape(a, [1, m, k]), b: withShape(b, [1, k, n]) }, {
      transposeA: false, transposeB: false,
    });
    return withShape(out, [m, n]);
  }
  const out = backend.makeOutput([m, n], 'float32');
  simd.gemm(bytePtr(backend, a), bytePtr(backend, b), bytePtr(backend, out), m, k, n);
  return out;
}
