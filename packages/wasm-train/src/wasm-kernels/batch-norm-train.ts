import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { asWasmBackend, bytePtr, disposeInfos, f32Offset, heapF32, sizeOf, type WasmBackend } from './heap.js';
import { simdKernels, type SimdKernels } from './simd.js';

/** Training-mode batchnorm over all axes but the last: outputs y, mean, variance (biased). */
export const BATCH_NORM_TRAIN = 'EffscaleBatchNormTrain';
/** Its gradient: outputs dx, dgamma, dbeta. */
export const BATCH_NORM_TRAIN_GRAD = 'EffscaleBatchNormTrainGrad';

function requireSimd(backend: WasmBackend, kernel: string): SimdKernels {
  const simd = simdKernels(backend);
  if (simd === undefined) throw new Error(`${kernel} needs the SIMD kernels (they are off or cannot attach)`);
  return simd;
}

function forward(args: Parameters<KernelFunc>[0]): TensorInfo[] {
  const backend = asWasmBackend(args.backend);
  const simd = requireSimd(backend, BATCH_NORM_TRAIN);
  const { x, gamma, beta } = args.inputs as { x: TensorInfo; gamma: TensorInfo; beta: TensorInfo };
  const epsilon = (args.attrs as NamedAttrMap).epsilon as number;
  const c = x.shape[x.shape.length - 1];
  const rows = sizeOf(x.shape) / c;
  const mean = backend.makeOutput([c], 'float32');
  const variance = backend.makeOutput([c], 'float32');
  const y = backend.makeOutput(x.shape, 'float32');
  const scratch = backend.makeOutput([2, c], 'float32');
  simd.reduceMiddle(bytePtr(backend, x), bytePtr(backend, mean), bytePtr(backend, scratch), 1, rows, c, 1 / rows);
  simd.sumSquaredDeviation(bytePtr(backend, x), bytePtr(backend, mean), bytePtr(backend, variance), bytePtr(backend, scratch), rows, c);
  const heap = heapF32(backend);
  const v = f32Offset(backend, variance);
  const g = f32Offset(backend, gamma);
  const b = f32Offset(backend, beta);
  const p = f32Offset(backend, scratch);
  for (let k = 0; k < c; k++) {
    heap[v + k] /= rows;
    heap[p + k] = heap[g + k] / Math.sqrt(heap[v + k] + epsilon);
    heap[p + c + k] = heap[b + k];
  }
  const pb = bytePtr(backend, scratch);
  simd.batchNormApply(bytePtr(backend, x), bytePtr(backend, mean), pb, pb + 4 * c, bytePtr(backend, y), rows, c);
  disposeInfos(backend, scratch);
  return [y, mean, variance];
}

// dx = dy*A + (x - mean)*B + K per channel, with A = gamma*r, B = -gamma*r^3*sum(dy*(x-mean))/N + 2*dvar/N,
// K = -gamma*r*sum(dy)/N + dmean/N (dmean, dvar: gradients reaching the mean and variance outputs).
function backward(args: Parameters<KernelFunc>[0]): TensorInfo[] {
  const backend = asWasmBackend(args.backend);
  const simd = requireSimd(backend, BATCH_NORM_TRAIN_GRAD);
  const { dy, x, mean, variance, gamma, dmean, dvar } = args.inputs as Record<string, TensorInfo>;
  const epsilon = (args.attrs as NamedAttrMap).epsilon as number;
  const c = x.shape[x.shape.length - 1];
  const rows = sizeOf(x.shape) / c;
  const dbeta = backend.makeOutput([c], 'float32');
  const dgamma = backend.makeOutput([c], 'float32');
  const dx = backend.makeOutput(x.shape, 'float32');
  const work = backend.makeOutput([5, c], 'float32');
  const wb = bytePtr(backend, work);
  simd.batchNormGradSums(bytePtr(backend, dy), bytePtr(backend, x), bytePtr(backend, mean), bytePtr(backend, dbeta), bytePtr(backend, dgamma), wb, rows, c);
  const heap = heapF32(backend);
  const [w, v, g, sdy, sdx] = [work, variance, gamma, dbeta, dgamma].map((t) => f32Offset(backend, t));
  const dm = dmean === undefined ? -1 : f32Offset(backend, dmean);
  const dv = dvar === undefined ? -1 : f32Offset(backend, dvar);
  for (let k = 0; k < c; k++) {
    const r = 1 / Math.sqrt(heap[v + k] + epsilon);
    const gr = heap[g + k] * r;
    const sumDy = heap[sdy + k];
    const sumDyXmu = heap[sdx + k];
    heap[w + 2 * c + k] = gr;
    heap[w + 3 * c + k] = (-gr * r * r * sumDyXmu + (dv < 0 ? 0 : 2 * heap[dv + k])) / rows;
    heap[w + 4 * c + k] = (-gr * sumDy + (dm < 0 ? 0 : heap[dm + k])) / rows;
    heap[sdx + k] = r * sumDyXmu;
  }
  simd.batchNormGradApply(bytePtr(backend, dy), bytePtr(backend, x), bytePtr(backend, mean), wb + 8 * c, wb + 12 * c, wb + 16 * c, bytePtr(backend, dx), rows, c);
  disposeInfos(backend, work);
  return [dx, dgamma, dbeta];
}

export const batchNormTrainConfig: KernelConfig = { kernelName: BATCH_NORM_TRAIN, backendName: 'wasm', kernelFunc: forward as KernelFunc };
export const batchNormTrainGradConfig: KernelConfig = { kernelName: BATCH_NORM_TRAIN_GRAD, backendName: 'wasm', kernelFunc: backward as KernelFunc };
