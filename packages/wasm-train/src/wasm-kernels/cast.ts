import { Cast, type CastAttrs, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import { asWasmBackend } from './heap.js';

/** Cast to the tensor's own dtype shares the buffer (the stock kernel copies it; tf.moments does this per batchnorm). */
export function makeCastConfig(stock: KernelConfig | undefined): KernelConfig {
  const cast = (args: Parameters<KernelFunc>[0]) => {
    const { x } = args.inputs as { x: TensorInfo };
    const { dtype } = args.attrs as unknown as CastAttrs;
    if (x.dtype === dtype) {
      asWasmBackend(args.backend).incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype };
    }
    if (stock === undefined) throw new Error(`Cast on wasm: no stock kernel to cast ${x.dtype} to ${dtype}`);
    return stock.kernelFunc(args);
  };
  return { kernelName: Cast, backendName: 'wasm', kernelFunc: cast as KernelFunc, ...(stock?.setupFunc ? { setupFunc: stock.setupFunc } : {}) };
}
