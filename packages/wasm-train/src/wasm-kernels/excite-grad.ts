import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { asWasmBackend, bytePtr, disposeInfos, sizeOf } from './heap.js';
import { simdKernels } from './simd.js';

/** A wasm-only kernel: the gradient of x [N, H, W, C] * se [N, 1, 1, C], outputs dx and dse, one pass. */
export const EXCITE_GRAD = 'EffscaleExciteGrad';

export const exciteGradKernelConfig: KernelConfig = {
  kernelName: EXCITE_GRAD,
  backendName: 'wasm',
  kernelFunc: ((args: Parameters<KernelFunc>[0]) => {
    const backend = asWasmBackend(args.backend);
    const { dy, x, se } = args.inputs as { dy: TensorInfo; x: TensorInfo; se: TensorInfo };
    const simd = simdKernels(backend);
    if (simd === undefined) throw new Error(`${EXCITE_GRAD} needs the SIMD kernels (they are off or cannot attach)`);
    const [n, , , c] = x.shape;
    const hw = sizeOf(x.shape) / (n * c);
    const dx = backend.makeOutput(x.shape, 'float32');
    const dse = backend.makeOutput(se.shape, 'float32');
    const scratch = backend.makeOutput([c], 'float32');
    simd.exciteGrad(bytePtr(backend, dy), bytePtr(backend, x), bytePtr(backend, se), bytePtr(backend, dx), bytePtr(backend, dse), bytePtr(backend, scratch), n, hw, c);
    disposeInfos(backend, scratch);
    return [dx, dse];
  }) as KernelFunc,
};
