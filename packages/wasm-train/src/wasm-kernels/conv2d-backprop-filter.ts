import {
  backend_util, Conv2DBackpropFilter,
  type Conv2DBackpropFilterAttrs, type KernelConfig, type KernelFunc, type TensorInfo,
} from '@tensorflow/tfjs-core';
import { filterGradPadding, hasSmallPatch, isPointwise, patchGeometry, requireChannelsLast, type Conv2DInfo } from './conv-geometry.js';
import { asWasmBackend, bytePtr, disposeInfos, f32Offset, heapF32, runWasmKernel, withShape, type WasmBackend } from './heap.js';
import { permute } from './layout.js';
import { simdKernels, type SimdKernels } from './simd.js';

function conv2DBackpropFilter(args: Parameters<KernelFunc>[0]): TensorInfo {
  const backend = asWasmBackend(args.backend);
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = args.attrs as unknown as Conv2DBackpropFilterAttrs;
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode, false,
    backend_util.convertConv2DDataFormat(dataFormat),
  );
  requireChannelsLast(info, Conv2DBackpropFilter);
  if (isPointwise(info)) return pointwise(backend, x, dy, info);
  const simd = simdKernels(backend);
  if (simd !== undefined && hasSmallPatch(info)) return viaPatches(backend, simd, x, dy, info);
  return spatial(backend, x, dy, info);
}

// dW [kh*kw*ci, co] = patches(x)^T dy: the pointwise case on the im2col matrix.
function viaPatches(backend: WasmBackend, simd: SimdKernels, x: TensorInfo, dy: TensorInfo, info: Conv2DInfo): TensorInfo {
  const rows = info.batchSize * info.outHeight * info.outWidth;
  const taps = info.filterHeight * info.filterWidth * info.inChannels;
  const co = info.outChannels;
  const cols = backend.makeOutput([rows, taps], 'float32');
  simd.im2col(bytePtr(backend, x), bytePtr(backend, cols), ...patchGeometry(info));
  const out = backend.makeOutput([info.filterHeight, info.filterWidth, info.inChannels, co], 'float32');
  const scratch = backend.makeOutput([taps, co], 'float32');
  simd.pointwiseFilterGrad(bytePtr(backend, cols), bytePtr(backend, dy), bytePtr(backend, out), bytePtr(backend, scratch), rows, taps, co);
  disposeInfos(backend, cols, scratch);
  return out;
}

// dW[ci, co] = sum over rows of x[row, ci] * dy[row, co]: the SIMD x^T dy kernel (no transposes), else
// one BatchMatMul with the smaller operand transposed first.
function pointwise(backend: WasmBackend, x: TensorInfo, dy: TensorInfo, info: Conv2DInfo): TensorInfo {
  const rows = info.batchSize * info.inHeight * info.inWidth;
  const ci = info.inChannels;
  const co = info.outChannels;
  const filterShape = [1, 1, ci, co];
  const simd = simdKernels(backend);
  if (simd !== undefined && rows <= 512 && ci * co >= 65536) {
    // Few pixels, many channels (the last stages): x^T as one transpose, then the forward GEMM, which streams both
    // operands along contiguous rows (21-23 GMAC/s against 14-16 for the x^T dy kernel at 256 rows x 1152 x 192, on
    // a Xeon). Both sum the pixels in blocks of 256 in the same order: the same bits.
    const out = backend.makeOutput(filterShape, 'float32');
    const xT = backend.makeOutput([ci, rows], 'float32');
    simd.transpose2d(bytePtr(backend, x), bytePtr(backend, xT), rows, ci);
    simd.gemm(bytePtr(backend, xT), bytePtr(backend, dy), bytePtr(backend, out), ci, rows, co);
    disposeInfos(backend, xT);
    return out;
  }
  if (simd !== undefined) {
    const out = backend.makeOutput(filterShape, 'float32');
    const scratch = backend.makeOutput([ci, co], 'float32');
    simd.pointwiseFilterGrad(bytePtr(backend, x), bytePtr(backend, dy), bytePtr(backend, out), bytePtr(backend, scratch), rows, ci, co);
    disposeInfos(backend, scratch);
    return out;
  }
  if (ci <= co) {
    const xT = permute(backend, withShape(x, [rows, ci]), [1, 0]);
    const out = runWasmKernel(backend, 'BatchMatMul', { a: withShape(xT, [1, ci, rows]), b: withShape(dy, [1, rows, co]) }, {
      transposeA: false, transposeB: false,
    });
    disposeInfos(backend, xT);
    return withShape(out, filterShape);
  }
  const dyT = permute(backend, withShape(dy, [rows, co]), [1, 0]);
  const prod = runWasmKernel(backend, 'BatchMatMul', { a: withShape(dyT, [1, co, rows]), b: withShape(x, [1, rows, ci]) }, {
    transposeA: false, transposeB: false,
  });
  const out = permute(backend, withShape(prod, [co, ci]), [1, 0]);
  disposeInfos(backend, dyT, prod);
  return withShape(out, filterShape);
}

// Correlate the input (batch and channel axes swapped) with the output gradient used as a filter
// dilated by the stride: the result is [ci, kh', kw', co]; crop and reorder it to [kh, kw, ci, co].
function spatial(backend: WasmBackend, x: TensorInfo, dy: TensorInfo, info: Conv2DInfo): TensorInfo {
  const { pad, outH, outW } = filterGradPadding(info);
  const xT = permute(backend, x, [3, 1, 2, 0]);
  const dyT = permute(backend, dy, [1, 2, 0, 3]);
  const corr = runWasmKernel(backend, 'Conv2D', { x: xT, filter: dyT }, {
    strides: [1, 1],
    pad: [[0, 0], [pad[0], pad[1]], [pad[2], pad[3]], [0, 0]],
    dilations: [info.strideHeight, info.strideWidth],
    dataFormat: 'NHWC',
  });
  disposeInfos(backend, xT, dyT);
  const kh = info.filterHeight;
  const kw = info.filterWidth;
  const ci = info.inChannels;
  const co = info.outChannels;
  const out = backend.makeOutput([kh, kw, ci, co], 'float32');
  const heap = heapF32(backend);
  const src = f32Offset(backend, corr);
  let o = f32Offset(backend, out);
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      for (let c = 0; c < ci; c++) {
        const s = src + ((c * outH + i) * outW + j) * co;
        heap.copyWithin(o, s, s + co);
        o += co;
      }
    }
  }
  disposeInfos(backend, corr);
  return out;
}

export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter as KernelFunc,
};
