import {
  backend_util, Conv2DBackpropInput,
  type Conv2DBackpropInputAttrs, type KernelConfig, type KernelFunc, type TensorInfo,
} from '@tensorflow/tfjs-core';
import { hasSmallPatch, inputGradPadding, isPointwise, patchGeometry, requireChannelsLast, type Conv2DInfo } from './conv-geometry.js';
import { asWasmBackend, bytePtr, disposeInfos, f32Offset, heapF32, runWasmKernel, withShape, type WasmBackend } from './heap.js';
import { dilateAndPad, permute } from './layout.js';
import { matmul } from './matmul.js';
import { simdKernels, type SimdKernels } from './simd.js';

function conv2DBackpropInput(args: Parameters<KernelFunc>[0]): TensorInfo {
  const backend = asWasmBackend(args.backend);
  const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = args.attrs as unknown as Conv2DBackpropInputAttrs;
  const info = backend_util.computeConv2DInfo(
    inputShape, filter.shape as [number, number, number, number], strides, 1, pad, dimRoundingMode, false,
    backend_util.convertConv2DDataFormat(dataFormat),
  );
  requireChannelsLast(info, Conv2DBackpropInput);
  if (isPointwise(info)) return pointwise(backend, dy, filter, info);
  const simd = simdKernels(backend);
  if (simd !== undefined && hasSmallPatch(info)) return viaPatches(backend, simd, dy, filter, info);
  return spatial(backend, dy, filter, info);
}

// dx = col2im(dy W^T) with W as [kh*kw*ci, co]: the adjoint of im2col.
function viaPatches(backend: WasmBackend, simd: SimdKernels, dy: TensorInfo, filter: TensorInfo, info: Conv2DInfo): TensorInfo {
  const rows = info.batchSize * info.outHeight * info.outWidth;
  const taps = info.filterHeight * info.filterWidth * info.inChannels;
  const co = info.outChannels;
  const wT = permute(backend, withShape(filter, [taps, co]), [1, 0]);
  const cols = matmul(backend, dy, wT, rows, co, taps);
  const out = backend.makeOutput([info.batchSize, info.inHeight, info.inWidth, info.inChannels], 'float32');
  simd.col2im(bytePtr(backend, cols), bytePtr(backend, out), ...patchGeometry(info));
  disposeInfos(backend, wT, cols);
  return out;
}

// dx[row, ci] = sum over co of dy[row, co] * W[ci, co]: a matrix product with W transposed.
function pointwise(backend: WasmBackend, dy: TensorInfo, filter: TensorInfo, info: Conv2DInfo): TensorInfo {
  const rows = info.batchSize * info.inHeight * info.inWidth;
  const ci = info.inChannels;
  const co = info.outChannels;
  const wT = permute(backend, withShape(filter, [ci, co]), [1, 0]);
  const out = matmul(backend, dy, wT, rows, co, ci);
  disposeInfos(backend, wT);
  return withShape(out, [info.batchSize, info.inHeight, info.inWidth, ci]);
}

// dx = stride-1 'valid' correlation of the zero-inserted, padded output gradient with the filter
// reversed in space and with its channel axes swapped ([kh, kw, co, ci]).
function spatial(backend: WasmBackend, dy: TensorInfo, filter: TensorInfo, info: Conv2DInfo): TensorInfo {
  const g = inputGradPadding(info);
  const rev = reverseAndSwapFilter(backend, filter);
  let out: TensorInfo;
  if (info.strideHeight === 1 && info.strideWidth === 1) {
    out = runWasmKernel(backend, 'Conv2D', { x: dy, filter: rev }, {
      strides: [1, 1], dilations: [1, 1], dataFormat: 'NHWC',
      pad: [[0, 0], [g.top, g.height - g.top - info.outHeight], [g.left, g.width - g.left - info.outWidth], [0, 0]],
    });
  } else {
    const spread = dilateAndPad(backend, dy, [info.strideHeight, info.strideWidth], g.top, g.left, g.height, g.width);
    out = runWasmKernel(backend, 'Conv2D', { x: spread, filter: rev }, {
      strides: [1, 1], dilations: [1, 1], dataFormat: 'NHWC', pad: 'valid',
    });
    disposeInfos(backend, spread);
  }
  disposeInfos(backend, rev);
  return out;
}

function reverseAndSwapFilter(backend: WasmBackend, filter: TensorInfo): TensorInfo {
  const [kh, kw, ci, co] = filter.shape;
  const out = backend.makeOutput([kh, kw, co, ci], 'float32');
  const heap = heapF32(backend);
  const src = f32Offset(backend, filter);
  const dst = f32Offset(backend, out);
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const s = src + ((kh - 1 - i) * kw + (kw - 1 - j)) * ci * co;
      const d = dst + (i * kw + j) * co * ci;
      for (let a = 0; a < ci; a++) {
        for (let b = 0; b < co; b++) heap[d + b * ci + a] = heap[s + a * co + b];
      }
    }
  }
  return out;
}

export const conv2DBackpropInputConfig: KernelConfig = {
  kernelName: Conv2DBackpropInput,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropInput as KernelFunc,
};
