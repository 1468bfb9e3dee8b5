import {
  backend_util, DepthwiseConv2dNativeBackpropFilter,
  type DepthwiseConv2dNativeBackpropFilterAttrs, type KernelConfig, type KernelFunc, type TensorInfo,
} from '@tensorflow/tfjs-core';
import { filterGradPadding, patchGeometry, requireNoDilation, type Conv2DInfo } from './conv-geometry.js';
import { asWasmBackend, bytePtr, disposeInfos, f32Offset, heapF32, runWasmKernel, withShape, type WasmBackend } from './heap.js';
import { permute } from './layout.js';
import { simdKernels, type SimdKernels } from './simd.js';

const NAME = DepthwiseConv2dNativeBackpropFilter;

function depthwiseBackpropFilter(args: Parameters<KernelFunc>[0]): TensorInfo {
  const backend = asWasmBackend(args.backend);
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const { strides, dilations, pad, dimRoundingMode, filterShape } =
    args.attrs as unknown as DepthwiseConv2dNativeBackpropFilterAttrs;
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filterShape, strides, dilations, pad, dimRoundingMode, true,
  );
  requireNoDilation(info, NAME);
  const simd = simdKernels(backend);
  if (simd !== undefined && info.outChannels === info.inChannels) return direct(backend, simd, x, dy, info);
  return viaFoldedBatch(backend, x, dy, info);
}

function direct(backend: WasmBackend, simd: SimdKernels, x: TensorInfo, dy: TensorInfo, info: Conv2DInfo): TensorInfo {
  const { filterHeight: kh, filterWidth: kw, inChannels: c } = info;
  const out = backend.makeOutput([kh, kw, c, 1], 'float32');
  const scratch = backend.makeOutput([kh, kw, c], 'float32');
  simd.depthwiseFilterGrad(
    bytePtr(backend, x), bytePtr(backend, dy), bytePtr(backend, out), bytePtr(backend, scratch), ...patchGeometry(info),
  );
  disposeInfos(backend, scratch);
  return out;
}

// One depthwise correlation with the batch folded into the channels: input [1, H, W, N*C*m],
// filter = output gradient [OH, OW, N*C*m, 1] dilated by the stride; then sum over the batch.
function viaFoldedBatch(backend: WasmBackend, x: TensorInfo, dy: TensorInfo, info: Conv2DInfo): TensorInfo {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow } = info;
  const m = info.outChannels / c;
  const cm = c * m;
  const xr = m === 1 ? x : repeatChannels(backend, x, m);
  const xT = permute(backend, xr, [1, 2, 0, 3]);
  if (xr !== x) disposeInfos(backend, xr);
  const dyT = permute(backend, dy, [1, 2, 0, 3]);
  const { pad, outH, outW } = filterGradPadding(info);
  const corr = runWasmKernel(backend, 'DepthwiseConv2dNative',
    { x: withShape(xT, [1, h, w, n * cm]), filter: withShape(dyT, [oh, ow, n * cm, 1]) },
    { strides: [1, 1], pad: [[0, 0], [pad[0], pad[1]], [pad[2], pad[3]], [0, 0]], dilations: [info.strideHeight, info.strideWidth] },
  );
  disposeInfos(backend, xT, dyT);
  const kh = info.filterHeight;
  const kw = info.filterWidth;
  const out = backend.makeOutput([kh, kw, c, m], 'float32');
  const heap = heapF32(backend);
  const src = f32Offset(backend, corr);
  const dst = f32Offset(backend, out);
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const o = dst + (i * kw + j) * cm;
      const s0 = src + (i * outW + j) * n * cm;
      for (let k = 0; k < cm; k++) heap[o + k] = heap[s0 + k];
      for (let b = 1; b < n; b++) {
        const s = s0 + b * cm;
        for (let k = 0; k < cm; k++) heap[o + k] += heap[s + k];
      }
    }
  }
  disposeInfos(backend, corr);
  return out;
}

// [N, H, W, C] -> [N, H, W, C*m] with each channel repeated m times (depth multiplier m).
function repeatChannels(backend: WasmBackend, x: TensorInfo, m: number): TensorInfo {
  const [n, h, w, c] = x.shape;
  const out = backend.makeOutput([n, h, w, c * m], 'float32');
  const heap = heapF32(backend);
  let s = f32Offset(backend, x);
  let o = f32Offset(backend, out);
  const end = s + n * h * w * c;
  while (s < end) {
    const v = heap[s++];
    for (let q = 0; q < m; q++) heap[o++] = v;
  }
  return out;
}

export const depthwiseConv2dNativeBackpropFilterConfig: KernelConfig = {
  kernelName: NAME,
  backendName: 'wasm',
  kernelFunc: depthwiseBackpropFilter as KernelFunc,
};
