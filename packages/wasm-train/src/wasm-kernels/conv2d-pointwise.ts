import {
  backend_util, Conv2D, FusedConv2D,
  type Conv2DAttrs, type FusedConv2DAttrs, type KernelConfig, type KernelFunc, type TensorInfo,
} from '@tensorflow/tfjs-core';
import { isPointwise } from './conv-geometry.js';
import { asWasmBackend, withShape } from './heap.js';
import { matmul } from './matmul.js';

/**
 * Forward 1x1 convolutions (stride 1, no bias, no activation: every expand, project and head conv
 * of EfficientNet) as one matrix product; everything else goes to the stock XNNPACK kernel.
 */
export function makePointwiseConvConfig(kernelName: typeof Conv2D | typeof FusedConv2D, stock: KernelConfig | undefined): KernelConfig {
  const conv = (args: Parameters<KernelFunc>[0]) => {
    const { x, filter, bias, preluActivationWeights } = args.inputs as Record<string, TensorInfo | undefined> & { x: TensorInfo; filter: TensorInfo };
    const attrs = args.attrs as unknown as FusedConv2DAttrs & Conv2DAttrs;
    const plain = bias === undefined && preluActivationWeights === undefined && (attrs.activation ?? 'linear') === 'linear';
    if (plain && x.dtype === 'float32' && x.shape.length === 4 && filter.shape[0] === 1 && filter.shape[1] === 1) {
      const info = backend_util.computeConv2DInfo(
        x.shape as [number, number, number, number], filter.shape as [number, number, number, number],
        attrs.strides, attrs.dilations ?? 1, attrs.pad, attrs.dimRoundingMode, false,
        backend_util.convertConv2DDataFormat(attrs.dataFormat ?? 'NHWC'),
      );
      if (info.dataFormat === 'channelsLast' && isPointwise(info) && info.dilationHeight === 1 && info.dilationWidth === 1) {
        const rows = info.batchSize * info.inHeight * info.inWidth;
        const out = matmul(asWasmBackend(args.backend), x, filter, rows, info.inChannels, info.outChannels);
        return withShape(out, info.outShape);
      }
    }
    if (stock === undefined) throw new Error(`${kernelName} on wasm: no stock kernel for a ${filter.shape.join('x')} filter`);
    return stock.kernelFunc(args);
  };
  return {
    kernelName, backendName: 'wasm', kernelFunc: conv as KernelFunc,
    ...(stock?.setupFunc ? { setupFunc: stock.setupFunc } : {}),
  };
}
