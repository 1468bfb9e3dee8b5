import { FusedBatchNorm, type FusedBatchNormAttrs, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import { asWasmBackend, bytePtr, disposeInfos, f32Offset, heapF32, sizeOf } from './heap.js';
import { simdKernels } from './simd.js';

/**
 * Batchnorm with per-channel (last axis) statistics as one SIMD pass; the stock kernel is scalar.
 * Other layouts (statistics broadcast over other axes) go to the stock kernel.
 */
export function makeBatchNormConfig(stock: KernelConfig | undefined): KernelConfig {
  const batchNorm = (args: Parameters<KernelFunc>[0]) => {
    const { x, mean, variance, offset, scale } = args.inputs as Record<string, TensorInfo | undefined> & { x: TensorInfo; mean: TensorInfo; variance: TensorInfo };
    const { varianceEpsilon } = args.attrs as unknown as FusedBatchNormAttrs;
    const backend = asWasmBackend(args.backend);
    const c = x.shape[x.shape.length - 1];
    const perChannel = (t: TensorInfo | undefined) => t === undefined || (t.dtype === 'float32' && sizeOf(t.shape) === c && t.shape[t.shape.length - 1] === c);
    const simd = x.dtype === 'float32' && x.shape.length >= 1 && [mean, variance, offset, scale].every(perChannel) ? simdKernels(backend) : undefined;
    if (simd === undefined || sizeOf(x.shape) === 0) {
      if (stock === undefined) throw new Error(`FusedBatchNorm on wasm: no stock kernel for statistics of shape [${mean.shape}]`);
      return stock.kernelFunc(args);
    }
    const out = backend.makeOutput(x.shape, 'float32');
    const params = backend.makeOutput([2, c], 'float32');
    const heap = heapF32(backend);
    const p = f32Offset(backend, params);
    const v = f32Offset(backend, variance);
    const s = scale === undefined ? -1 : f32Offset(backend, scale);
    const o = offset === undefined ? -1 : f32Offset(backend, offset);
    for (let k = 0; k < c; k++) {
      heap[p + k] = (s < 0 ? 1 : heap[s + k]) / Math.sqrt(heap[v + k] + varianceEpsilon);
      heap[p + c + k] = o < 0 ? 0 : heap[o + k];
    }
    const pb = bytePtr(backend, params);
    simd.batchNormApply(bytePtr(backend, x), bytePtr(backend, mean), pb, pb + 4 * c, bytePtr(backend, out), sizeOf(x.shape) / c, c);
    disposeInfos(backend, params);
    return out;
  };
  return {
    kernelName: FusedBatchNorm, backendName: 'wasm', kernelFunc: batchNorm as KernelFunc,
    ...(stock?.setupFunc ? { setupFunc: stock.setupFunc } : {}),
  };
}
