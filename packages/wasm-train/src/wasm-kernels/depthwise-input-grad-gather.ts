import {
  backend_util, DepthwiseConv2dNativeBackpropInput,
  type DepthwiseConv2dNativeBackpropInputAttrs, type KernelConfig, type KernelFunc, type TensorInfo,
} from '@tensorflow/tfjs-core';
import type { Conv2DInfo } from './conv-geometry.js';
import { asWasmBackend, bytePtr, disposeInfos, f32Offset, heapF32, type WasmBackend } from './heap.js';
import { simdKernels, type SimdKernels } from './simd.js';


/**
 * The depthwise input gradient with stride 1 as a forward depthwise correlation of dy with the
 * spatially reversed filter, padded by k - 1 - pad (a gather: each dx pixel is summed in registers,
 * where the scatter kernel reads and writes dx once per tap). Other cases go to `inner`.
 */
export function makeDepthwiseInputGradGatherConfig(inner: KernelConfig): KernelConfig {
  const grad = (args: Parameters<KernelFunc>[0]) => {
    const backend = asWasmBackend(args.backend);
    const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
    const simd = simdKernels(backend);
    if (simd !== undefined && dy.dtype === 'float32' && filter.dtype === 'float32' && filter.shape[3] === 1) {
      const { strides, dilations, pad, dimRoundingMode, inputShape } = args.attrs as unknown as DepthwiseConv2dNativeBackpropInputAttrs;
      const info = backend_util.computeConv2DInfo(
        inputShape, filter.shape as [number, number, number, number], strides, dilations, pad, dimRoundingMode, true,
      );
      if (info.strideHeight === 1 && info.strideWidth === 1 && info.dilationHeight === 1 && info.dilationWidth === 1) {
        return gather(backend, simd, dy, filter, info);
      }
    }
    return inner.kernelFunc(args);
  };
  return { ...inner, kernelName: DepthwiseConv2dNativeBackpropInput, backendName: 'wasm', kernelFunc: grad as KernelFunc };
}

function gather(backend: WasmBackend, simd: SimdKernels, dy: TensorInfo, filter: TensorInfo, info: Conv2DInfo): TensorInfo {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow, filterHeight: kh, filterWidth: kw } = info;
  const rev = backend.makeOutput([kh, kw, c, 1], 'float32');
  const heap = heapF32(backend);
  const src = f32Offset(backend, filter);
  const dst = f32Offset(backend, rev);
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const s = src + ((kh - 1 - i) * kw + (kw - 1 - j)) * c;
      heap.copyWithin(dst + (i * kw + j) * c, s, s + c);
    }
  }
  const out = backend.makeOutput([n, h, w, c], 'float32');
  simd.depthwiseConv(
    bytePtr(backend, dy), bytePtr(backend, rev), bytePtr(backend, out),
    n, oh, ow, c, h, w, kh, kw, 1, 1, kh - 1 - info.padInfo.top, kw - 1 - info.padInfo.left,
  );
  disposeInfos(backend, rev);
  return out;
}
