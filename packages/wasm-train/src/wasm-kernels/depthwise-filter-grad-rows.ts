import {
  backend_util, DepthwiseConv2dNativeBackpropFilter,
  type DepthwiseConv2dNativeBackpropFilterAttrs, type KernelConfig, type KernelFunc, type TensorInfo,
} from '@tensorflow/tfjs-core';
import { patchGeometry } from './conv-geometry.js';
import { asWasmBackend, bytePtr } from './heap.js';
import { simdKernels } from './simd.js';


/**
 * The depthwise filter gradient (depth multiplier 1, stride 1, no dilation) summed per output row in
 * registers (kernels/assembly/training.ts depthwiseFilterGradRows); other cases go to `inner`.
 */
export function makeDepthwiseFilterGradRowsConfig(inner: KernelConfig): KernelConfig {
  const grad = (args: Parameters<KernelFunc>[0]) => {
    const backend = asWasmBackend(args.backend);
    const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
    const { strides, dilations, pad, dimRoundingMode, filterShape } = args.attrs as unknown as DepthwiseConv2dNativeBackpropFilterAttrs;
    const simd = simdKernels(backend);
    if (simd !== undefined && x.dtype === 'float32' && dy.dtype === 'float32' && filterShape[3] === 1) {
      const info = backend_util.computeConv2DInfo(
        x.shape as [number, number, number, number], filterShape, strides, dilations, pad, dimRoundingMode, true,
      );
      // Stride 2 is slower this way (longer rows of x per pass fall out of L1); the scatter form stays.
      if (info.strideHeight === 1 && info.strideWidth === 1 && info.dilationHeight === 1 && info.dilationWidth === 1) {
        const out = backend.makeOutput(filterShape, 'float32');
        simd.depthwiseFilterGradRows(bytePtr(backend, x), bytePtr(backend, dy), bytePtr(backend, out), ...patchGeometry(info));
        return out;
      }
    }
    return inner.kernelFunc(args);
  };
  return { ...inner, kernelName: DepthwiseConv2dNativeBackpropFilter, backendName: 'wasm', kernelFunc: grad as KernelFunc };
}
