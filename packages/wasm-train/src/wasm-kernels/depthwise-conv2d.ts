import {
  backend_util, DepthwiseConv2dNative,
  type DepthwiseConv2dNativeAttrs, type KernelConfig, type KernelFunc, type TensorInfo,
} from '@tensorflow/tfjs-core';
import { patchGeometry } from './conv-geometry.js';
import { asWasmBackend, bytePtr } from './heap.js';
import { simdKernels } from './simd.js';


/**
 * Forward depthwise convolution (depth multiplier 1, no dilation, NHWC float32: every depthwise
 * conv of EfficientNet) as one SIMD pass, about 3x the stock XNNPACK kernel on these shapes;
 * everything else, and SIMD kernels off, goes to the stock kernel.
 */
export function makeDepthwiseConvConfig(stock: KernelConfig | undefined): KernelConfig {
  const conv = (args: Parameters<KernelFunc>[0]) => {
    const backend = asWasmBackend(args.backend);
    const { x, filter } = args.inputs as { x: TensorInfo; filter: TensorInfo };
    const attrs = args.attrs as unknown as DepthwiseConv2dNativeAttrs;
    const simd = simdKernels(backend);
    if (simd !== undefined && x.dtype === 'float32' && filter.dtype === 'float32' && x.shape.length === 4 && filter.shape[3] === 1) {
      const info = backend_util.computeConv2DInfo(
        x.shape as [number, number, number, number], filter.shape as [number, number, number, number],
        attrs.strides, attrs.dilations ?? 1, attrs.pad, attrs.dimRoundingMode, true,
        backend_util.convertConv2DDataFormat(attrs.dataFormat ?? 'NHWC'),
      );
      if (info.dataFormat === 'channelsLast' && info.dilationHeight === 1 && info.dilationWidth === 1) {
        const out = backend.makeOutput(info.outShape, 'float32');
        simd.depthwiseConv(bytePtr(backend, x), bytePtr(backend, filter), bytePtr(backend, out), ...patchGeometry(info));
        return out;
      }
    }
    if (stock === undefined) throw new Error(`${DepthwiseConv2dNative} on wasm: no stock kernel`);
    return stock.kernelFunc(args);
  };
  return {
    kernelName: DepthwiseConv2dNative, backendName: 'wasm', kernelFunc: conv as KernelFunc,
    ...(stock?.setupFunc ? { setupFunc: stock.setupFunc } : {}),
  };
}
