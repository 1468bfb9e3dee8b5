import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { asWasmBackend, bytePtr, sizeOf } from './heap.js';
import { simdKernels } from './simd.js';

/** A wasm-only kernel: the swish gradient dy * s * (1 + x * (1 - s)) from x and s = sigmoid(x), one pass. */
export const SWISH_GRAD = 'EffscaleSwishGrad';

export const swishGradKernelConfig: KernelConfig = {
  kernelName: SWISH_GRAD,
  backendName: 'wasm',
  kernelFunc: ((args: Parameters<KernelFunc>[0]) => {
    const backend = asWasmBackend(args.backend);
    const { dy, x, s } = args.inputs as { dy: TensorInfo; x: TensorInfo; s: TensorInfo };
    const simd = simdKernels(backend);
    if (simd === undefined) throw new Error(`${SWISH_GRAD} needs the SIMD kernels (they are off or cannot attach)`);
    const out = backend.makeOutput(x.shape, 'float32');
    simd.swishGrad(bytePtr(backend, dy), bytePtr(backend, x), bytePtr(backend, s), bytePtr(backend, out), sizeOf(x.shape));
    return out;
  }) as KernelFunc,
};

/** A wasm-only kernel: [y, s] with s = sigmoid(x) (SIMD, within a few ulp of tfjs' Sigmoid) and y = x * s, one pass. */
export const SWISH = 'EffscaleSwish';

export const swishKernelConfig: KernelConfig = {
  kernelName: SWISH,
  backendName: 'wasm',
  kernelFunc: ((args: Parameters<KernelFunc>[0]) => {
    const backend = asWasmBackend(args.backend);
    const { x } = args.inputs as { x: TensorInfo };
    const simd = simdKernels(backend);
    if (simd === undefined) throw new Error(`${SWISH} needs the SIMD kernels (they are off or cannot attach)`);
    const y = backend.makeOutput(x.shape, 'float32');
    const s = backend.makeOutput(x.shape, 'float32');
    simd.swishForward(bytePtr(backend, x), bytePtr(backend, y), bytePtr(backend, s), sizeOf(x.shape));
    return [y, s];
  }) as KernelFunc,
};
