// Importing the backend registers its stock kernels, which some replacements fall back to.
import '@tensorflow/tfjs-backend-wasm';
import { Cast, Conv2D, FusedBatchNorm, FusedConv2D, getKernel, Mean, registerKernel, Sum, Tile, unregisterKernel, type KernelConfig } from '@tensorflow/tfjs-core';
import { makeBatchNormConfig } from './batch-norm.js';
import { BROADCAST_OPS, makeBroadcastConfig } from './binary.js';
import { makeCastConfig } from './cast.js';
import { conv2DBackpropFilterConfig } from './conv2d-backprop-filter.js';
import { conv2DBackpropInputConfig } from './conv2d-backprop-input.js';
import { makePointwiseConvConfig } from './conv2d-pointwise.js';
import { depthwiseConv2dNativeBackpropFilterConfig } from './depthwise-backprop-filter.js';
import { depthwiseConv2dNativeBackpropInputConfig } from './depthwise-backprop-input.js';
import { identityConfig } from './identity.js';
import { makeReduceConfig } from './reduce.js';
import { makeTileConfig } from './tile.js';

/** Kernels the wasm backend lacks for training, and stock kernels replaced because they are slow. */
function trainingKernels(): KernelConfig[] {
  const stock = (name: string) => getKernel(name, 'wasm');
  return [
    conv2DBackpropFilterConfig,
    conv2DBackpropInputConfig,
    depthwiseConv2dNativeBackpropFilterConfig,
    depthwiseConv2dNativeBackpropInputConfig,
    identityConfig,
    makePointwiseConvConfig(Conv2D, stock(Conv2D)),
    makePointwiseConvConfig(FusedConv2D, stock(FusedConv2D)),
    makeCastConfig(stock(Cast)),
    makeBatchNormConfig(stock(FusedBatchNorm)),
    makeTileConfig(stock(Tile)),
    makeReduceConfig(Sum, stock(Sum)),
    makeReduceConfig(Mean, stock(Mean)),
    ...BROADCAST_OPS.map((op) => makeBroadcastConfig(op, stock(op))),
  ];
}

let registered: string[] | undefined;

/** Registers the training kernels for the 'wasm' backend once; later calls do nothing. Returns the kernel names. */
export function registerWasmTrainingKernels(): string[] {
  if (registered === undefined) {
    const configs = trainingKernels();
    for (const config of configs) {
      if (getKernel(config.kernelName, 'wasm') !== undefined) unregisterKernel(config.kernelName, 'wasm');
      registerKernel(config);
    }
    registered = configs.map((k) => k.kernelName);
  }
  return [...registered];
}
