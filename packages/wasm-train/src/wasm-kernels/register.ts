// Importing the backend registers its stock kernels, which some replacements fall back to;
// importing tfjs-layers registers tfjs-core's gradients, one of which is replaced here.
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-layers';
import {
  Cast, Conv2D, DepthwiseConv2dNative, FusedBatchNorm, FusedConv2D, getGradient, getKernel, Mean, registerGradient, registerKernel, Sigmoid, Sum, Tile,
  unregisterKernel, type KernelConfig,
} from '@tensorflow/tfjs-core';
import { makeBatchNormConfig } from './batch-norm.js';
import { makeBatchNormGradConfig } from './batch-norm-grad.js';
import { batchNormSwishTrainConfig, batchNormSwishTrainGradConfig, batchNormTrainConfig, batchNormTrainGradConfig } from './batch-norm-train.js';
import { BROADCAST_OPS, makeBroadcastConfig } from './binary.js';
import { makeCastConfig } from './cast.js';
import { conv2DBackpropFilterConfig } from './conv2d-backprop-filter.js';
import { conv2DBackpropInputConfig } from './conv2d-backprop-input.js';
import { makePointwiseConvConfig } from './conv2d-pointwise.js';
import { depthwiseConv2dNativeBackpropFilterConfig } from './depthwise-backprop-filter.js';
import { depthwiseConv2dNativeBackpropInputConfig } from './depthwise-backprop-input.js';
import { makeDepthwiseConvConfig } from './depthwise-conv2d.js';
import { makeDepthwiseFilterGradRowsConfig } from './depthwise-filter-grad-rows.js';
import { makeDepthwiseInputGradGatherConfig } from './depthwise-input-grad-gather.js';
import { identityConfig } from './identity.js';
import { makeReduceConfig } from './reduce.js';
import { makeMeanGradConfig, makeSumGradConfig } from './reduce-grad.js';
import { makeSigmoidGradConfig, sigmoidGradKernelConfig } from './sigmoid-grad.js';
import { swishGradKernelConfig, swishKernelConfig } from './swish-grad.js';
import { exciteGradKernelConfig } from './excite-grad.js';
import { makeTileConfig } from './tile.js';

/** Kernels the wasm backend lacks for training, and stock kernels replaced because they are slow. */
function trainingKernels(): KernelConfig[] {
  const stock = (name: string) => getKernel(name, 'wasm');
  return [
    conv2DBackpropFilterConfig,
    conv2DBackpropInputConfig,
    makeDepthwiseFilterGradRowsConfig(depthwiseConv2dNativeBackpropFilterConfig),
    makeDepthwiseInputGradGatherConfig(depthwiseConv2dNativeBackpropInputConfig),
    identityConfig,
    makePointwiseConvConfig(Conv2D, stock(Conv2D)),
    makePointwiseConvConfig(FusedConv2D, stock(FusedConv2D)),
    makeDepthwiseConvConfig(stock(DepthwiseConv2dNative)),
    makeCastConfig(stock(Cast)),
    makeBatchNormConfig(stock(FusedBatchNorm)),
    makeTileConfig(stock(Tile)),
    makeReduceConfig(Sum, stock(Sum)),
    makeReduceConfig(Mean, stock(Mean)),
    ...BROADCAST_OPS.map((op) => makeBroadcastConfig(op, stock(op))),
    sigmoidGradKernelConfig,
    swishGradKernelConfig,
    swishKernelConfig,
    exciteGradKernelConfig,
    batchNormTrainConfig,
    batchNormTrainGradConfig,
    batchNormSwishTrainConfig,
    batchNormSwishTrainGradConfig,
  ];
}

let registered: string[] | undefined;

/**
 * Registers the training kernels for the 'wasm' backend once; later calls do nothing. Returns the kernel names.
 * Also replaces the FusedBatchNorm gradient (for every backend: same formulas, fewer passes), the
 * Sigmoid gradient (a fused kernel on wasm, tfjs-core's formula elsewhere) and the Mean and Sum gradients (for every
 * backend: dy replicated with one Tile instead of a multiply by a JS-built tensor of ones; the same values).
 */
export function registerWasmTrainingKernels(): string[] {
  if (registered === undefined) {
    const configs = trainingKernels();
    for (const config of configs) {
      if (getKernel(config.kernelName, 'wasm') !== undefined) unregisterKernel(config.kernelName, 'wasm');
      registerKernel(config);
    }
    registerGradient(makeBatchNormGradConfig(getGradient(FusedBatchNorm)));
    registerGradient(makeSigmoidGradConfig(getGradient(Sigmoid)));
    registerGradient(makeMeanGradConfig(getGradient(Mean)));
    registerGradient(makeSumGradConfig(getGradient(Sum)));
    registered = configs.map((k) => k.kernelName);
  }
  return [...registered];
}
