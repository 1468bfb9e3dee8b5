import * as tf from '@tensorflow/tfjs-core';
import { Sigmoid, type GradConfig, type KernelConfig, type KernelFunc, type Tensor, type TensorInfo } from '@tensorflow/tfjs-core';
import { asWasmBackend, bytePtr, sizeOf, wasmKernelRuns } from './heap.js';
import { simdKernels } from './simd.js';

/** A wasm-only kernel: dx = dy * y * (1 - y) in one pass instead of three kernels. */
export const SIGMOID_GRAD = 'EffscaleSigmoidGrad';

export const sigmoidGradKernelConfig: KernelConfig = {
  kernelName: SIGMOID_GRAD,
  backendName: 'wasm',
  kernelFunc: ((args: Parameters<KernelFunc>[0]) => {
    const backend = asWasmBackend(args.backend);
    const { dy, y } = args.inputs as { dy: TensorInfo; y: TensorInfo };
    const simd = simdKernels(backend);
    if (simd === undefined) throw new Error(`${SIGMOID_GRAD} needs the SIMD kernels (they are off or cannot attach)`);
    const out = backend.makeOutput(y.shape, 'float32');
    simd.sigmoidGrad(bytePtr(backend, dy), bytePtr(backend, y), bytePtr(backend, out), sizeOf(y.shape));
    return out;
  }) as KernelFunc,
};

/**
 * The Sigmoid gradient (every swish and SE gate): the fused kernel on wasm with float32 tensors,
 * tfjs-core's own formula otherwise.
 */
export function makeSigmoidGradConfig(stock: GradConfig | undefined): GradConfig {
  return {
    kernelName: Sigmoid,
    outputsToSave: [true],
    gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: tf.NamedAttrMap) => {
      const g = dy as Tensor;
      const [y] = saved;
      if (wasmKernelRuns(SIGMOID_GRAD, g, y)) return { x: () => tf.engine().runKernel(SIGMOID_GRAD, { dy: g, y }) as Tensor };
      if (stock !== undefined) return stock.gradFunc(dy, saved, attrs);
      return { x: () => tf.mul(g, tf.mul(y, tf.sub(tf.scalar(1), y))) };
    },
  };
}
