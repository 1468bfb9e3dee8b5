import {
  approx, outlineArchitecture, resolveArchitecture, SizeLimitError, type Architecture, type Layer, type LayerOf, type LayerOp,
  type LayerRun, type NetworkSpec, type ScaledSpec, type Shape,
} from '@effscale/core';

/**
 * Units, named once and used everywhere:
 * - params: trainable parameters (conv kernels, SE/FC biases, BN gamma/beta).
 * - bnMovingStats: BN moving mean and variance (non-trainable; tfjs countParams includes them).
 * - macs: multiply-accumulates of every conv and the FC, biases excluded (the paper's "FLOPs"; true FLOPs ~ 2x).
 * - elementwiseOps: one op per element per elementwise layer output (pooling: per input element), see COST_RULES.
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

/** Network totals without the per-layer, per-operator and per-module detail. */
export interface CostTotals extends Totals {
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
}

export interface CostReport extends CostTotals {
  byOperator: Record<string, Totals>;
  byModule: Record<string, Totals>;
  units: typeof UNITS;
  notCounted: readonly string[];
  layers: LayerCost[];
  compound?: Architecture['compound'];
  preset?: string;
}

/** What one layer costs; its elementwise ops by kind, so that totals by kind come from the same traversal. */
interface Cost {
  params: number;
  bnMovingStats: number;
  macs: number;
  macsKind: MacsKind | null;
  elementwise: readonly (readonly [ElementwiseKind, number])[];
  /** Elements of the output a training step keeps for the backward pass. */
  activationElements: number;
}

type CostRule<K extends LayerOp> = (layer: LayerOf<K>) => Cost;
type CostRules = { readonly [K in LayerOp]: CostRule<K> };

const size = (shape: Shape): number => shape.reduce((a, b) => a * b, 1);
const channels = (shape: Shape): number => shape[shape.length - 1];

function make(l: Layer, params: number, bnMovingStats: number, macs: number, macsKind: MacsKind | null, elementwise: Cost['elementwise']): Cost {
  return { params, bnMovingStats, macs, macsKind, elementwise, activationElements: size(l.outputShape) };
}

/** A layer that computes nothing counted here; its output is kept for the backward pass. */
const free = (l: Layer): Cost => make(l, 0, 0, 0, null, []);

/** One op per output element (per input element for pooling). */
function elementwise(kind: ElementwiseKind, perInput = false) {
  return (l: Layer): Cost => make(l, 0, 0, 0, null, [[kind, size(perInput ? l.inputShape : l.outputShape)]]);
}

/** A conv or dense layer: weights, MACs, and the bias add and activation Keras folds into it (one op per output each). */
function weighted(l: Layer, macsKind: MacsKind, weightsPerOutput: number): Cost {
  const out = size(l.outputShape);
  const outC = channels(l.outputShape);
  const ew: [ElementwiseKind, number][] = [];
  if (l.bias) ew.push(['bias_add', out]);
  if (l.activation) ew.push([l.activation, out]);
  return make(l, weightsPerOutput * outC + (l.bias ? outC : 0), 0, weightsPerOutput * out, macsKind, ew);
}

/** k x k x (input channels / groups) weights per output channel. */
const conv = (l: Layer, kind: MacsKind): Cost => weighted(l, kind, (l.kernel ?? 1) ** 2 * (channels(l.inputShape) / (l.groups ?? 1)));

/**
 * The cost rule of every layer op: a new op in core's LayerOp without a rule here is a type error. One op per element
 * for elementwise layers, pooling per input element; see UNITS and NOT_COUNTED.
 */
const COST_RULES: CostRules = {
  conv2d: (l) => conv(l, l.role === 'se' ? 'se' : 'conv'),
  depthwise_conv2d: (l) => conv(l, 'depthwise'),
  dense: (l) => weighted(l, 'fc', channels(l.inputShape)),
  batch_norm: (l) => {
    const c = channels(l.outputShape);
    return make(l, 2 * c, 2 * c, 0, null, [['batch_norm', size(l.outputShape)]]);
  },
  swish: elementwise('swish'),
  sigmoid: elementwise('sigmoid'),
  softmax: elementwise('softmax'),
  multiply: elementwise('multiply'),
  add: elementwise('add'),
  global_avg_pool: elementwise('pool', true),
  // A view of its input: no new tensor to keep.
  reshape: (l) => ({ ...free(l), activationElements: 0 }),
  // Identity at inference (see NOT_COUNTED); the output is still a tensor a training step keeps.
  dropout: free,
  stochastic_depth: free,
};

function costOf<K extends LayerOp>(layer: LayerOf<K>): Cost {
  const rule: CostRule<K> = COST_RULES[layer.op];
  return rule(layer);
}

/** Running sums of the five totals; only its own fields are written. */
class Tally implements Totals {
  params = 0;
  bnMovingStats = 0;
  macs = 0;
  elementwiseOps = 0;
  activationElements = 0;
  add(c: Totals, times: number): void {
    this.params += c.params * times;
    this.bnMovingStats += c.bnMovingStats * times;
    this.macs += c.macs * times;
    this.elementwiseOps += c.elementwiseOps * times;
    this.activationElements += c.activationElements * times;
  }
  totals(): Totals {
    const { params, bnMovingStats, macs, elementwiseOps, activationElements } = this;
    return { params, bnMovingStats, macs, elementwiseOps, activationElements };
  }
}

const tallies = (m: Readonly<Record<string, Tally>>): Record<string, Totals> =>
  Object.fromEntries(Object.entries(m).map(([k, t]) => [k, t.totals()]));

/**
 * Counts must be exact: every total is a sum of products of non-negative integers, so it exceeds 2^53 - 1 in double
 * arithmetic exactly when it does in exact arithmetic (rounding is monotone), and below that every step is exact.
 */
function checkExact(name: string, t: Totals): void {
  for (const [key, what] of [['params', 'parameters'], ['macs', 'MACs'], ['bnMovingStats', 'BN statistics'], ['elementwiseOps', 'elementwise ops'],
    ['activationElements', 'activation elements']] as const) {
    if (!(t[key] <= Number.MAX_SAFE_INTEGER)) {
      throw new SizeLimitError(
        'exact counts',
        `${name} has about ${approx(t[key])} ${what}, beyond 2^53 - 1 (${approx(Number.MAX_SAFE_INTEGER)}), the largest count a ` +
          `JavaScript number holds exactly; use a smaller width, depth or resolution.`,
      );
    }
  }
}

/** One traversal: per-layer costs, totals, and totals by MACs kind, elementwise kind, operator and module. */
function traverse(name: string, inputShape: Shape, runs: readonly LayerRun[]) {
  const macsBreakdown: Record<MacsKind, number> = { conv: 0, depthwise: 0, se: 0, fc: 0 };
  const elementwiseBreakdown: Record<ElementwiseKind, number> = {
    batch_norm: 0, swish: 0, sigmoid: 0, multiply: 0, add: 0, pool: 0, bias_add: 0, softmax: 0,
  };
  const total = new Tally();
  total.add({ params: 0, bnMovingStats: 0, macs: 0, elementwiseOps: 0, activationElements: size(inputShape) }, 1);
  const byOperator: Record<string, Tally> = {};
  const byModule: Record<string, Tally> = {};
  const layers: LayerCost[] = [];
  for (const { layers: runLayers, times } of runs) {
    for (const l of runLayers) {
      const c = costOf(l);
      let elementwiseOps = 0;
      for (const [kind, n] of c.elementwise) {
        elementwiseOps += n;
        elementwiseBreakdown[kind] += n * times;
      }
      const lc: LayerCost = {
        name: l.name, op: l.op, block: l.block, role: l.role, outputShape: l.outputShape,
        params: c.params, bnMovingStats: c.bnMovingStats, macs: c.macs, macsKind: c.macsKind,
        elementwiseOps,
        activationElements: c.activationElements,
      };
      layers.push(lc);
      total.add(lc, times);
      if (c.macsKind) macsBreakdown[c.macsKind] += c.macs * times;
      (byOperator[l.op] ??= new Tally()).add(lc, times);
      (byModule[l.block] ??= new Tally()).add(lc, times);
    }
  }
  const totals = total.totals();
  checkExact(name, totals);
  return { totals, macsBreakdown, elementwiseBreakdown, byOperator: tallies(byOperator), byModule: tallies(byModule), layers };
}

type Resolved = Pick<Architecture, 'name' | 'depth' | 'width' | 'resolution' | 'inputChannels' | 'classes' | 'stageRepeats'
  | 'stageChannels' | 'stemChannels' | 'headChannels'>;

function totalsReport(a: Resolved, blocks: number, t: ReturnType<typeof traverse>): CostTotals {
  return {
    name: a.name,
    depth: a.depth,
    width: a.width,
    resolution: a.resolution,
    inputChannels: a.inputChannels,
    classes: a.classes,
    ...t.totals,
    totalParams: t.totals.params + t.totals.bnMovingStats,
    macsBreakdown: t.macsBreakdown,
    elementwiseBreakdown: t.elementwiseBreakdown,
    blocks,
    stageRepeats: a.stageRepeats,
    stageChannels: a.stageChannels,
    stemChannels: a.stemChannels,
    headChannels: a.headChannels,
  };
}

/** Per-layer costs and totals by operator and by module of a resolved architecture. */
export function countArchitecture(arch: Architecture): CostReport {
  const t = traverse(arch.name, arch.inputShape, [{ layers: arch.layers, times: 1 }]);
  return {
    ...totalsReport(arch, arch.blockList.length, t),
    byOperator: t.byOperator,
    byModule: t.byModule,
    units: UNITS,
    notCounted: NOT_COUNTED,
    layers: t.layers,
    ...(arch.compound ? { compound: arch.compound } : {}),
    ...(arch.preset ? { preset: arch.preset } : {}),
  };
}

/**
 * The same totals as count(spec), from the outline (each stage's repeats folded, see outlineArchitecture): no layer
 * list, microseconds at any depth. Refuses what cannot be counted exactly or held in memory, with a SizeLimitError.
 */
export function countTotals(spec: NetworkSpec | ScaledSpec): CostTotals {
  const o = outlineArchitecture(spec);
  return totalsReport(o, o.totalBlocks, traverse(o.name, o.inputShape, o.runs));
}

/** Every layer's cost; checks the size limits from the spec (countTotals) before the layer list is built. */
export function count(spec: NetworkSpec): CostReport {
  countTotals(spec);
  return countArchitecture(resolveArchitecture(spec));
}
