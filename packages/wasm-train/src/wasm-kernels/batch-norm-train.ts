import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { asWasmBackend, bytePtr, disposeInfos, f32Offset, heapF32, sizeOf, type WasmBackend } from './heap.js';
import { simdKernels, type SimdKernels } from './simd.js';

/** Training-mode batchnorm over all axes but the last: outputs y, mean, variance (biased). */
export const BATCH_NORM_TRAIN = 'EffscaleBatchNormTrain';
/** Its gradient: outputs dx, dgamma, dbeta. */
export const BATCH_NORM_TRAIN_GRAD = 'EffscaleBatchNormTrainGrad';
/** Training-mode batchnorm then swish: outputs swish(y), mean, variance; writes sigmoid(y) into its input s (for the gradient). */
export const BATCH_NORM_SWISH_TRAIN = 'EffscaleBatchNormSwishTrain';
/** Its gradient: outputs dx, dgamma, dbeta. */
export const BATCH_NORM_SWISH_TRAIN_GRAD = 'EffscaleBatchNormSwishTrainGrad';

function requireSimd(backend: WasmBackend, kernel: string): SimdKernels {
  const simd = simdKernels(backend);
  if (simd === undefined) throw new Error(`${kernel} needs the SIMD kernels (they are off or cannot attach)`);
  return simd;
}

/** Batch statistics of x and the per-channel transform [a = gamma / sqrt(variance + eps), offset = beta] in `scratch`. */
function statistics(backend: WasmBackend, simd: SimdKernels, args: Parameters<KernelFunc>[0]) {
  const { x, gamma, beta } = args.inputs as { x: TensorInfo; gamma: TensorInfo; beta: TensorInfo };
  const epsilon = (args.attrs as NamedAttrMap).epsilon as number;
  const c = x.shape[x.shape.length - 1];
  const rows = sizeOf(x.shape) / c;
  const mean = backend.makeOutput([c], 'float32');
  const variance = backend.makeOutput([c], 'float32');
  const scratch = backend.makeOutput([2, c], 'float32');
  simd.reduceMiddle(bytePtr(backend, x), bytePtr(backend, mean), bytePtr(backend, scratch), 1, rows, c, 1 / rows);
  simd.sumSquaredDeviation(bytePtr(backend, x), bytePtr(backend, mean), bytePtr(backend, variance), bytePtr(backend, scratch), rows, c);
  const heap = heapF32(backend);
  const v = f32Offset(backend, variance);
  for (let k = 0; k < c; k++) heap[v + k] /= rows;
  transform(backend, variance, gamma, beta, epsilon, f32Offset(backend, scratch));
  return { x, c, rows, mean, variance, scratch };
}

/**
 * [a, offset] = [gamma / sqrt(variance + eps), beta] per channel, 2 x C floats from heap float offset `p`: the forward's
 * transform, recomputed bit for bit by the swish gradient.
 */
function transform(backend: WasmBackend, variance: TensorInfo, gamma: TensorInfo, beta: TensorInfo, epsilon: number, p: number): void {
  const c = variance.shape[0];
  const heap = heapF32(backend);
  const [v, g, b] = [variance, gamma, beta].map((t) => f32Offset(backend, t));
  for (let k = 0; k < c; k++) {
    heap[p + k] = heap[g + k] / Math.sqrt(heap[v + k] + epsilon);
    heap[p + c + k] = heap[b + k];
  }
}

function forward(args: Parameters<KernelFunc>[0]): TensorInfo[] {
  const backend = asWasmBackend(args.backend);
  const simd = requireSimd(backend, BATCH_NORM_TRAIN);
  const { x, c, rows, mean, variance, scratch } = statistics(backend, simd, args);
  const y = backend.makeOutput(x.shape, 'float32');
  const pb = bytePtr(backend, scratch);
  simd.batchNormApply(bytePtr(backend, x), bytePtr(backend, mean), pb, pb + 4 * c, bytePtr(backend, y), rows, c);
  disposeInfos(backend, scratch);
  return [y, mean, variance];
}

/**
 * Batchnorm then swish: outputs swish(y), mean, variance; y is never stored. sigmoid(y), which the gradient needs, is
 * written into the input `s`, an uninitialised tensor made for this call that only the gradient reads: as a fourth
 * output it would cost a step a zero tensor of its size built in JS, which tfjs' tape makes for every output that no
 * gradient reaches.
 */
function forwardSwish(args: Parameters<KernelFunc>[0]): TensorInfo[] {
  const backend = asWasmBackend(args.backend);
  const simd = requireSimd(backend, BATCH_NORM_SWISH_TRAIN);
  const { x, c, rows, mean, variance, scratch } = statistics(backend, simd, args);
  const { s } = args.inputs as { s: TensorInfo };
  if (sizeOf(s.shape) !== sizeOf(x.shape) || s.dtype !== 'float32') throw new Error(`${BATCH_NORM_SWISH_TRAIN}: s must be a float32 tensor of x's shape`);
  const out = backend.makeOutput(x.shape, 'float32');
  const pb = bytePtr(backend, scratch);
  simd.batchNormSwishApply(bytePtr(backend, x), bytePtr(backend, mean), pb, pb + 4 * c, bytePtr(backend, out), bytePtr(backend, s), rows, c);
  disposeInfos(backend, scratch);
  return [out, mean, variance];
}

// dx = g*A + (x - mean)*B + K per channel, with A = gamma*r, B = -gamma*r^3*sum(g*(x-mean))/N + 2*dvar/N,
// K = -gamma*r*sum(g)/N + dmean/N (dmean, dvar: gradients reaching the mean and variance outputs), where g is the
// gradient reaching y: dy, or with swish after the batchnorm, dy through swish (y recomputed from x).
function backwardOf(kernel: string, swish: boolean) {
  return (args: Parameters<KernelFunc>[0]): TensorInfo[] => {
    const backend = asWasmBackend(args.backend);
    const simd = requireSimd(backend, kernel);
    const { dy, x, mean, variance, gamma, beta, s, dmean, dvar } = args.inputs as Record<string, TensorInfo>;
    const epsilon = (args.attrs as NamedAttrMap).epsilon as number;
    const c = x.shape[x.shape.length - 1];
    const rows = sizeOf(x.shape) / c;
    const dbeta = backend.makeOutput([c], 'float32');
    const dgamma = backend.makeOutput([c], 'float32');
    const dx = backend.makeOutput(x.shape, 'float32');
    const work = backend.makeOutput([7, c], 'float32'); // scratch (2c), A, B, K, a, offset
    const wb = bytePtr(backend, work);
    const [pdy, px, pmean] = [dy, x, mean].map((t) => bytePtr(backend, t));
    if (swish) {
      transform(backend, variance, gamma, beta, epsilon, f32Offset(backend, work) + 5 * c);
      simd.batchNormSwishGradSums(pdy, px, pmean, wb + 20 * c, wb + 24 * c, bytePtr(backend, s), bytePtr(backend, dbeta), bytePtr(backend, dgamma), wb, rows, c);
    } else {
      simd.batchNormGradSums(pdy, px, pmean, bytePtr(backend, dbeta), bytePtr(backend, dgamma), wb, rows, c);
    }
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
    if (swish) {
      simd.batchNormSwishGradApply(pdy, px, pmean, wb + 20 * c, wb + 24 * c, bytePtr(backend, s), wb + 8 * c, wb + 12 * c, wb + 16 * c, bytePtr(backend, dx), rows, c);
    } else {
      simd.batchNormGradApply(pdy, px, pmean, wb + 8 * c, wb + 12 * c, wb + 16 * c, bytePtr(backend, dx), rows, c);
    }
    disposeInfos(backend, work);
    return [dx, dgamma, dbeta];
  };
}

export const batchNormTrainConfig: KernelConfig = { kernelName: BATCH_NORM_TRAIN, backendName: 'wasm', kernelFunc: forward as KernelFunc };
export const batchNormTrainGradConfig: KernelConfig = {
  kernelName: BATCH_NORM_TRAIN_GRAD, backendName: 'wasm', kernelFunc: backwardOf(BATCH_NORM_TRAIN_GRAD, false) as KernelFunc,
};
export const batchNormSwishTrainConfig: KernelConfig = { kernelName: BATCH_NORM_SWISH_TRAIN, backendName: 'wasm', kernelFunc: forwardSwish as KernelFunc };
export const batchNormSwishTrainGradConfig: KernelConfig = {
  kernelName: BATCH_NORM_SWISH_TRAIN_GRAD, backendName: 'wasm', kernelFunc: backwardOf(BATCH_NORM_SWISH_TRAIN_GRAD, true) as KernelFunc,
};
