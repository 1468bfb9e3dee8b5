import {
  backend_util, DepthwiseConv2dNativeBackpropInput,
  type DepthwiseConv2dNativeBackpropInputAttrs, type KernelConfig, type KernelFunc, type TensorInfo,
} from '@tensorflow/tfjs-core';
import { inputGradPadding, patchGeometry, requireNoDilation, type Conv2DInfo } from './conv-geometry.js';
import { asWasmBackend, bytePtr, disposeInfos, f32Offset, heapF32, runWasmKernel, withShape, type WasmBackend } from './heap.js';
import { dilateAndPad } from './layout.js';
import { simdKernels, type SimdKernels } from './simd.js';

const NAME = DepthwiseConv2dNativeBackpropInput;

function depthwiseBackpropInput(args: Parameters<KernelFunc>[0]): TensorInfo {
  const backend = asWasmBackend(args.backend);
  const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
  const { strides, dilations, pad, dimRoundingMode, inputShape } = args.attrs as unknown as DepthwiseConv2dNativeBackpropInputAttrs;
  const info = backend_util.computeConv2DInfo(
    inputShape, filter.shape as [number, number, number, number], strides, dilations, pad, dimRoundingMode, true,
  );
  requireNoDilation(info, NAME);
  const simd = simdKernels(backend);
  if (simd !== undefined && info.outChannels === info.inChannels) return direct(backend, simd, dy, filter, info);
  return viaReversedFilter(backend, dy, filter, info);
}

function direct(backend: WasmBackend, simd: SimdKernels, dy: TensorInfo, filter: TensorInfo, info: Conv2DInfo): TensorInfo {
  const out = backend.makeOutput([info.batchSize, info.inHeight, info.inWidth, info.inChannels], 'float32');
  // The gather writes each dx pixel once (the scatter clears dx and adds into it per tap): 7.5 -> 2.5 ms for the
  // stride-2 3x3 gradient of a 128-px B0 step at batch 16 (16 x 32 x 32 x 96 -> 64 x 64).
  simd.depthwiseInputGradGather(
    bytePtr(backend, dy), bytePtr(backend, filter), bytePtr(backend, out), ...patchGeometry(info),
  );
  return out;
}

// dx = stride-1 'valid' depthwise correlation of the zero-inserted, padded output gradient with
// the spatially reversed filter (one channel per output channel), summed over the depth multiplier.
function viaReversedFilter(backend: WasmBackend, dy: TensorInfo, filter: TensorInfo, info: Conv2DInfo): TensorInfo {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c } = info;
  const m = info.outChannels / c;
  const g = inputGradPadding(info);
  const rev = reverseDepthwiseFilter(backend, filter);
  let corr: TensorInfo;
  if (info.strideHeight === 1 && info.strideWidth === 1) {
    corr = runWasmKernel(backend, 'DepthwiseConv2dNative', { x: dy, filter: rev }, {
      strides: [1, 1], dilations: [1, 1],
      pad: [[0, 0], [g.top, g.height - g.top - info.outHeight], [g.left, g.width - g.left - info.outWidth], [0, 0]],
    });
  } else {
    const spread = dilateAndPad(backend, dy, [info.strideHeight, info.strideWidth], g.top, g.left, g.height, g.width);
    corr = runWasmKernel(backend, 'DepthwiseConv2dNative', { x: spread, filter: rev }, {
      strides: [1, 1], dilations: [1, 1], pad: 'valid',
    });
    disposeInfos(backend, spread);
  }
  disposeInfos(backend, rev);
  if (m === 1) return corr;
  const out = runWasmKernel(backend, 'Sum', { x: withShape(corr, [n, h, w, c, m]) }, { axis: [4], keepDims: false });
  disposeInfos(backend, corr);
  return out;
}

// [kh, kw, C, m] -> [kh, kw, C*m, 1] flipped in both spatial axes.
function reverseDepthwiseFilter(backend: WasmBackend, filter: TensorInfo): TensorInfo {
  const [kh, kw, c, m] = filter.shape;
  const cm = c * m;
  const out = backend.makeOutput([kh, kw, cm, 1], 'float32');
  const heap = heapF32(backend);
  const src = f32Offset(backend, filter);
  const dst = f32Offset(backend, out);
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const s = src + ((kh - 1 - i) * kw + (kw - 1 - j)) * cm;
      heap.copyWithin(dst + (i * kw + j) * cm, s, s + cm);
    }
  }
  return out;
}

export const depthwiseConv2dNativeBackpropInputConfig: KernelConfig = {
  kernelName: NAME,
  backendName: 'wasm',
  kernelFunc: depthwiseBackpropInput as KernelFunc,
};
