import {
  backend_util, Mean, Sum, util,
  type KernelConfig, type KernelFunc, type SumAttrs, type TensorInfo,
} from '@tensorflow/tfjs-core';
import { asWasmBackend, bytePtr, disposeInfos, f32Offset, heapF32, type WasmBackend } from './heap.js';
import { simdKernels } from './simd.js';

type ReduceKind = typeof Sum | typeof Mean;

/** [outer, reduced, inner] when the reduced axes are contiguous; null otherwise. */
export function reductionSplit(shape: readonly number[], axes: readonly number[]): [number, number, number] | null {
  const sorted = [...axes].sort((a, b) => a - b);
  for (let i = 1; i < sorted.length; i++) if (sorted[i] !== sorted[i - 1] + 1) return null;
  const first = sorted[0];
  const last = sorted[sorted.length - 1];
  const prod = (from: number, to: number) => shape.slice(from, to).reduce((a, b) => a * b, 1);
  return [prod(0, first), prod(first, last + 1), prod(last + 1, shape.length)];
}

/**
 * Sum / Mean over contiguous axes that are not innermost (batchnorm statistics and gradients over
 * [N, H, W], global pooling over [H, W]): the stock kernels transpose the whole input first.
 */
export function makeReduceConfig(kind: ReduceKind, stock: KernelConfig | undefined): KernelConfig {
  const reduce = (args: Parameters<KernelFunc>[0]) => {
    const { x } = args.inputs as { x: TensorInfo };
    const { axis, keepDims } = args.attrs as unknown as SumAttrs;
    const axes = util.parseAxisParam(axis, x.shape);
    const split = axes.length > 0 && x.dtype === 'float32' ? reductionSplit(x.shape, axes) : null;
    if (split === null || split[2] === 1) {
      if (stock === undefined) throw new Error(`${kind} on wasm: no stock kernel for axes [${axes.join(', ')}] of a ${x.dtype} tensor`);
      return stock.kernelFunc(args);
    }
    const [outShape] = backend_util.computeOutAndReduceShapes(x.shape, axes);
    const shape = keepDims ? backend_util.expandShapeToKeepDim(outShape, axes) : outShape;
    return reduceMiddle(asWasmBackend(args.backend), x, shape, split, kind === Mean);
  };
  return {
    kernelName: kind, backendName: 'wasm', kernelFunc: reduce as KernelFunc,
    ...(stock?.setupFunc ? { setupFunc: stock.setupFunc } : {}),
  };
}


function reduceMiddle(backend: WasmBackend, x: TensorInfo, shape: number[], split: [number, number, number], mean: boolean): TensorInfo {
  const [outer, mid, inner] = split;
  const out = backend.makeOutput(shape, 'float32');
  const simd = simdKernels(backend);
  if (simd !== undefined) {
    const scratch = backend.makeOutput([inner], 'float32');
    simd.reduceMiddle(bytePtr(backend, x), bytePtr(backend, out), bytePtr(backend, scratch), outer, mid, inner, mean ? 1 / mid : 1);
    disposeInfos(backend, scratch);
    return out;
  }
  const heap = heapF32(backend);
  const src = f32Offset(backend, x);
  const dst = f32Offset(backend, out);
  const acc = new Float64Array(inner);
  const scale = mean ? 1 / mid : 1;
  for (let o = 0; o < outer; o++) {
    acc.fill(0);
    let p = src + o * mid * inner;
    for (let m = 0; m < mid; m++) {
      for (let i = 0; i < inner; i++) acc[i] += heap[p + i];
      p += inner;
    }
    const q = dst + o * inner;
    for (let i = 0; i < inner; i++) heap[q + i] = acc[i] * scale;
  }
  return out;
}
