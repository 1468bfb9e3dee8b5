import { resolveArchitecture, type Architecture, type Layer, type LayerOp, type NetworkSpec } from '@effscale/core';

/**
 * Units, named once and used everywhere:
 * - params: trainable parameters (conv kernels, SE/FC biases, BN gamma/beta).
 * - bnMovingStats: BN moving mean and variance (non-trainable; tfjs countParams includes them).
 * - macs: multiply-accumulates of every conv and the FC, biases excluded (the paper's "FLOPs"; true FLOPs ~ 2x).
 * - elementwiseOps: one op per element per elementwise layer output (pooling: per input element), see ELEMENTWISE_RULES.
 * - activationElements: per image, elements of every tensor a training step keeps for the backward pass.
 */
export const UNITS = Object.freeze({
  params: 'trainable parameters',
  bnMovingStats: 'BN moving mean/variance values (non-trainable)',
  macs: 'multiply-accumulates per image (convs + FC, biases excluded; the paper\'s "FLOPs")',
  elementwiseOps: 'element-ops per image (1 per output element of BN, swish, sigmoid, SE multiply, residual add, bias add, softmax; 1 per input element of pooling)',
  activationElements: 'float32 elements per image held for the backward pass (input + every layer output except reshapes)',
});

export const NOT_COUNTED: readonly string[] = Object.freeze([
  'bias additions are not MACs (counted as elementwise ops under bias_add)',
  'BN is one fused affine op per element at inference; its training-time mean/variance reductions are not counted',
  'swish and sigmoid count as one op per element, not the several FLOPs of exp/add/divide they take',
  'dropout and stochastic depth are identity at inference: zero ops (their training-time masks are not counted)',
  'input preprocessing (rescaling, normalization) is outside the network and not counted',
  'activation memory excludes gradients, optimizer state, workspace buffers and framework overhead',
  'the backward pass (about 2x the forward MACs) is not included in macs',
]);

export type MacsKind = 'conv' | 'depthwise' | 'se' | 'fc';
export type ElementwiseKind = 'batch_norm' | 'swish' | 'sigmoid' | 'multiply' | 'add' | 'pool' | 'bias_add' | 'softmax';

export interface LayerCost {
  name: string;
  op: LayerOp;
  block: string;
  role: Layer['role'];
  outputShape: readonly number[];
  params: number;
  bnMovingStats: number;
  macs: number;
  macsKind: MacsKind | null;
  elementwiseOps: number;
  activationElements: number;
}

export interface Totals {
  params: number;
  bnMovingStats: number;
  macs: number;
  elementwiseOps: number;
  activationElements: number;
}

export interface CostReport extends Totals {
  name: string;
  depth: number;
  width: number;
  resolution: number;
  inputChannels: number;
  classes: number;
  /** params + bnMovingStats: what tf.LayersModel.countParams() reports. */
  totalParams: number;
  macsBreakdown: Record<MacsKind, number>;
  elementwiseBreakdown: Record<ElementwiseKind, number>;
  blocks: number;
  stageRepeats: number[];
  stageChannels: number[];
  stemChannels: number;
  headChannels: number;
  byOperator: Record<string, Totals>;
  byModule: Record<string, Totals>;
  units: typeof UNITS;
  notCounted: readonly string[];
  layers: LayerCost[];
  compound?: Architecture['compound'];
  preset?: string;
}

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

function macsKindOf(l: Layer): MacsKind | null {
  if (l.op === 'dense') return 'fc';
  if (l.op === 'depthwise_conv2d') return 'depthwise';
  if (l.op === 'conv2d') return l.role === 'se' ? 'se' : 'conv';
  return null;
}

function layerCost(l: Layer, ew: Record<ElementwiseKind, number>): LayerCost {
  const out = size(l.outputShape);
  const inC = l.inputShape[l.inputShape.length - 1];
  const outC = l.outputShape[l.outputShape.length - 1];
  let params = 0;
  let bnMovingStats = 0;
  let macs = 0;
  let elementwise = 0;
  const addEw = (kind: ElementwiseKind, n: number): void => {
    ew[kind] += n;
    elementwise += n;
  };
  switch (l.op) {
    case 'conv2d':
    case 'depthwise_conv2d': {
      const k = l.kernel ?? 1;
      const groups = l.groups ?? 1;
      const perOut = k * k * (inC / groups);
      params = perOut * outC + (l.bias ? outC : 0);
      macs = perOut * out;
      if (l.bias) addEw('bias_add', out);
      if (l.activation === 'swish') addEw('swish', out);
      if (l.activation === 'sigmoid') addEw('sigmoid', out);
      break;
    }
    case 'dense':
      params = inC * outC + (l.bias ? outC : 0);
      macs = inC * outC;
      if (l.bias) addEw('bias_add', out);
      if (l.activation === 'softmax') addEw('softmax', out);
      break;
    case 'batch_norm':
      params = 2 * outC;
      bnMovingStats = 2 * outC;
      addEw('batch_norm', out);
      break;
    case 'swish':
      addEw('swish', out);
      break;
    case 'sigmoid':
      addEw('sigmoid', out);
      break;
    case 'multiply':
      addEw('multiply', out);
      break;
    case 'add':
      addEw('add', out);
      break;
    case 'global_avg_pool':
      addEw('pool', size(l.inputShape));
      break;
    case 'softmax':
      addEw('softmax', out);
      break;
    case 'reshape':
    case 'dropout':
    case 'stochastic_depth':
      break;
  }
  return {
    name: l.name,
    op: l.op,
    block: l.block,
    role: l.role,
    outputShape: l.outputShape,
    params,
    bnMovingStats,
    macs,
    macsKind: macsKindOf(l),
    elementwiseOps: elementwise,
    activationElements: l.op === 'reshape' ? 0 : out,
  };
}

const zero = (): Totals => ({ params: 0, bnMovingStats: 0, macs: 0, elementwiseOps: 0, activationElements: 0 });
function accumulate(t: Totals, c: Totals): void {
  t.params += c.params;
  t.bnMovingStats += c.bnMovingStats;
  t.macs += c.macs;
  t.elementwiseOps += c.elementwiseOps;
  t.activationElements += c.activationElements;
}

/** One traversal of the resolved architecture: per-layer costs and totals by operator and by module. */
export function countArchitecture(arch: Architecture): CostReport {
  const ew: Record<ElementwiseKind, number> = {
    batch_norm: 0, swish: 0, sigmoid: 0, multiply: 0, add: 0, pool: 0, bias_add: 0, softmax: 0,
  };
  const macsBreakdown: Record<MacsKind, number> = { conv: 0, depthwise: 0, se: 0, fc: 0 };
  const totals = zero();
  totals.activationElements = size(arch.inputShape);
  const byOperator: Record<string, Totals> = {};
  const byModule: Record<string, Totals> = {};
  const layers = arch.layers.map((l) => {
    const c = layerCost(l, ew);
    accumulate(totals, c);
    if (c.macsKind) macsBreakdown[c.macsKind] += c.macs;
    accumulate((byOperator[c.op] ??= zero()), c);
    accumulate((byModule[c.block] ??= zero()), c);
    return c;
  });
  return {
    name: arch.name,
    depth: arch.depth,
    width: arch.width,
    resolution: arch.resolution,
    inputChannels: arch.inputChannels,
    classes: arch.classes,
    ...totals,
    totalParams: totals.params + totals.bnMovingStats,
    macsBreakdown,
    elementwiseBreakdown: ew,
    blocks: arch.blockList.length,
    stageRepeats: arch.stageRepeats,
    stageChannels: arch.stageChannels,
    stemChannels: arch.stemChannels,
    headChannels: arch.headChannels,
    byOperator,
    byModule,
    units: UNITS,
    notCounted: NOT_COUNTED,
    layers,
    ...(arch.compound ? { compound: arch.compound } : {}),
    ...(arch.preset ? { preset: arch.preset } : {}),
  };
}

export function count(spec: NetworkSpec): CostReport {
  return countArchitecture(resolveArchitecture(spec));
}

/**
 * Bytes a training step holds for activations: forward activations kept for backward, plus the same again for
 * their gradients at peak, float32. A deliberately simple upper-bound-ish model, documented in NOT_COUNTED.
 */
export function trainingActivationBytes(report: Pick<Totals, 'activationElements'>, batchSize: number): number {
  return report.activationElements * batchSize * 4 * 2;
}
