import { getKernel, registerKernel, unregisterKernel, type KernelConfig } from '@tensorflow/tfjs-core';
import { conv2DBackpropFilterConfig } from './conv2d-backprop-filter.js';
import { conv2DBackpropInputConfig } from './conv2d-backprop-input.js';
import { depthwiseConv2dNativeBackpropFilterConfig } from './depthwise-backprop-filter.js';
import { depthwiseConv2dNativeBackpropInputConfig } from './depthwise-backprop-input.js';
import { identityConfig } from './identity.js';
import { makeTileConfig, stockTile } from './tile.js';
import { makeReduceConfig, stockReduce } from './reduce.js';

/** Kernels the wasm backend lacks for training, and stock kernels replaced because they are slow. */
export const WASM_TRAINING_KERNELS: readonly KernelConfig[] = Object.freeze([
  conv2DBackpropFilterConfig,
  conv2DBackpropInputConfig,
  depthwiseConv2dNativeBackpropFilterConfig,
  depthwiseConv2dNativeBackpropInputConfig,
  identityConfig,
  makeTileConfig(stockTile()),
  makeReduceConfig('Sum', stockReduce('Sum')),
  makeReduceConfig('Mean', stockReduce('Mean')),
]);

let registered = false;

/** Registers the training kernels for the 'wasm' backend; later calls do nothing. Returns the kernel names. */
export function registerWasmTrainingKernels(): string[] {
  if (!registered) {
    for (const config of WASM_TRAINING_KERNELS) {
      if (getKernel(config.kernelName, 'wasm') !== undefined) unregisterKernel(config.kernelName, 'wasm');
      registerKernel(config);
    }
    registered = true;
  }
  return WASM_TRAINING_KERNELS.map((k) => k.kernelName);
}
