import * as tfl from '@tensorflow/tfjs-layers';
import type { Layer, LayerOp } from '../arch/architecture.js';
import { BN_EPSILON, DEFAULT_BN_MOMENTUM } from '../arch/spec.js';
import { convKernelInitializer, denseKernelInitializer } from './init.js';
import { fusedBatchNormalization, fusedSwish } from '@effscale/wasm-train';

export type SymbolicTensor = tfl.SymbolicTensor;

/** What an op needs besides its own input: the tensors a branch merges back with, and the layer's seed. */
export interface OpContext {
  /** Input of the current block, for the residual add. */
  blockInput: SymbolicTensor | null;
  /** Input of the current squeeze-and-excitation branch, for the excite multiply. */
  seInput: SymbolicTensor | null;
  /** Initializer seed for this layer, when the build is seeded. */
  seed: number | undefined;
}

type OpBuilder = (layer: Layer, x: SymbolicTensor, ctx: OpContext) => SymbolicTensor;

function apply(layer: tfl.layers.Layer, x: SymbolicTensor | SymbolicTensor[]): SymbolicTensor {
  return layer.apply(x) as SymbolicTensor;
}

function need<T>(value: T | undefined, layer: Layer, field: string): T {
  if (value === undefined) throw new Error(`layer '${layer.name}' (${layer.op}) has no ${field}`);
  return value;
}

function filtersOf(layer: Layer): number {
  return need(layer.outputShape[layer.outputShape.length - 1], layer, 'output channels');
}

function conv2d(layer: Layer, x: SymbolicTensor, ctx: OpContext): SymbolicTensor {
  const groups = layer.groups ?? 1;
  if (groups !== 1) throw new Error(`layer '${layer.name}': grouped conv2d (groups ${groups}) is not supported; allowed: 1`);
  return apply(
    tfl.layers.conv2d({
      name: layer.name,
      filters: filtersOf(layer),
      kernelSize: need(layer.kernel, layer, 'kernel'),
      strides: layer.stride ?? 1,
      padding: 'same',
      useBias: layer.bias ?? false,
      ...(layer.activation ? { activation: layer.activation } : {}),
      kernelInitializer: convKernelInitializer(ctx.seed),
    }),
    x,
  );
}

function depthwiseConv2d(layer: Layer, x: SymbolicTensor, ctx: OpContext): SymbolicTensor {
  return apply(
    tfl.layers.depthwiseConv2d({
      name: layer.name,
      kernelSize: need(layer.kernel, layer, 'kernel'),
      strides: layer.stride ?? 1,
      padding: 'same',
      useBias: layer.bias ?? false,
      depthwiseInitializer: convKernelInitializer(ctx.seed),
    }),
    x,
  );
}

// Same weights and results as tf.layers.batchNormalization / activation('swish'), with a fused gradient that
// trains 1.5-2x faster on the wasm backend (see @effscale/wasm-train).
function batchNorm(layer: Layer, x: SymbolicTensor): SymbolicTensor {
  // The defaults only serve hand-written layer lists: resolved layers carry their momentum and epsilon.
  return apply(fusedBatchNormalization({ name: layer.name, momentum: layer.momentum ?? DEFAULT_BN_MOMENTUM, epsilon: layer.epsilon ?? BN_EPSILON }), x);
}

function activation(layer: Layer, x: SymbolicTensor): SymbolicTensor {
  const fn = layer.op as 'swish' | 'sigmoid' | 'softmax';
  if (fn === 'swish') return apply(fusedSwish({ name: layer.name }), x);
  return apply(tfl.layers.activation({ name: layer.name, activation: fn }), x);
}

function globalAvgPool(layer: Layer, x: SymbolicTensor, ctx: OpContext): SymbolicTensor {
  if (layer.role === 'se') ctx.seInput = x;
  return apply(tfl.layers.globalAveragePooling2d({ name: layer.name }), x);
}

function reshape(layer: Layer, x: SymbolicTensor): SymbolicTensor {
  return apply(tfl.layers.reshape({ name: layer.name, targetShape: [...layer.outputShape] }), x);
}

function multiply(layer: Layer, x: SymbolicTensor, ctx: OpContext): SymbolicTensor {
  if (ctx.seInput === null) throw new Error(`layer '${layer.name}': multiply without a preceding SE squeeze in its block`);
  const out = apply(tfl.layers.multiply({ name: layer.name }), [ctx.seInput, x]);
  ctx.seInput = null;
  return out;
}

function add(layer: Layer, x: SymbolicTensor, ctx: OpContext): SymbolicTensor {
  if (ctx.blockInput === null) throw new Error(`layer '${layer.name}': residual add outside a block`);
  return apply(tfl.layers.add({ name: layer.name }), [x, ctx.blockInput]);
}

function dropout(layer: Layer, x: SymbolicTensor): SymbolicTensor {
  return apply(tfl.layers.dropout({ name: layer.name, rate: need(layer.rate, layer, 'rate') }), x);
}

/** Drops the whole residual branch per sample: Keras' Dropout(rate, noise_shape=(None, 1, 1, 1)). */
function stochasticDepth(layer: Layer, x: SymbolicTensor): SymbolicTensor {
  const noiseShape = [null, 1, 1, 1] as unknown as number[];
  return apply(tfl.layers.dropout({ name: layer.name, rate: need(layer.rate, layer, 'rate'), noiseShape }), x);
}

function dense(layer: Layer, x: SymbolicTensor, ctx: OpContext): SymbolicTensor {
  return apply(
    tfl.layers.dense({
      name: layer.name,
      units: filtersOf(layer),
      useBias: layer.bias ?? true,
      ...(layer.activation ? { activation: layer.activation } : {}),
      kernelInitializer: denseKernelInitializer(ctx.seed),
      biasInitializer: 'zeros',
    }),
    x,
  );
}

export const OP_BUILDERS: Readonly<Record<LayerOp, OpBuilder>> = Object.freeze({
  conv2d,
  depthwise_conv2d: depthwiseConv2d,
  batch_norm: batchNorm,
  swish: activation,
  sigmoid: activation,
  softmax: activation,
  global_avg_pool: globalAvgPool,
  reshape,
  multiply,
  add,
  dropout,
  stochastic_depth: stochasticDepth,
  dense,
});
