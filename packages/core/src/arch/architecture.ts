import { decodeBlockString, type BlockArgs } from './blocks.js';
import { approx, bytesText, MAX_BLOCKS, MAX_IMAGE_ACTIVATION_BYTES, SizeLimitError } from './limits.js';
import { roundFilters, roundRepeats } from './scaling.js';
import { BN_EPSILON, fmt, scaleSpec, type NetworkSpec, type ScaledSpec } from './spec.js';
import { SpecError } from '../errors.js';

export { MAX_BLOCKS, MAX_IMAGE_ACTIVATION_BYTES, SizeLimitError, approx, type SizeLimit } from './limits.js';

/** [height, width, channels] of one sample; [channels] after global pooling. */
export type Shape = readonly number[];

export type LayerOp =
  | 'conv2d'
  | 'depthwise_conv2d'
  | 'batch_norm'
  | 'swish'
  | 'sigmoid'
  | 'global_avg_pool'
  | 'reshape'
  | 'multiply'
  | 'add'
  | 'dropout'
  | 'stochastic_depth'
  | 'dense'
  | 'softmax';

/** Which part of the network a layer belongs to, for totals by module. */
export type LayerRole = 'stem' | 'expand' | 'depthwise' | 'se' | 'project' | 'skip' | 'head' | 'classifier';

export interface Layer {
  /** Keras Applications name, e.g. block2a_expand_conv. */
  name: string;
  op: LayerOp;
  role: LayerRole;
  /** Keras block name (block2a) or 'stem' / 'top'. */
  block: string;
  inputShape: Shape;
  outputShape: Shape;
  kernel?: number;
  stride?: number;
  /** Convolution groups: 1 for a regular conv, the channel count for a depthwise conv. */
  groups?: number;
  bias?: boolean;
  /** Dropout / stochastic depth rate. */
  rate?: number;
  /** Batch norm: moving-average momentum and epsilon. */
  momentum?: number;
  epsilon?: number;
  /** Activation folded into a conv (Keras puts swish/sigmoid inside the SE convs). */
  activation?: 'swish' | 'sigmoid' | 'softmax';
}

/** A layer of one op, for tables keyed by op ({ [K in LayerOp]: (layer: LayerOf<K>) => ... }). */
export type LayerOf<K extends LayerOp> = Layer & { readonly op: K };

export interface Block {
  name: string;
  /** 1-based stage, as Keras' block{stage}{letter}. */
  stage: number;
  /** 0-based index over all blocks. */
  index: number;
  kernel: number;
  stride: number;
  expandRatio: number;
  inputFilters: number;
  outputFilters: number;
  expandedFilters: number;
  seFilters: number;
  skip: boolean;
  dropRate: number;
  inputShape: Shape;
  outputShape: Shape;
}

export interface Architecture extends ScaledSpec {
  inputShape: Shape;
  stemChannels: number;
  headChannels: number;
  stageRepeats: number[];
  stageChannels: number[];
  blockArgs: BlockArgs[];
  blockList: Block[];
  layers: Layer[];
}

/** Consecutive layers and how many times the network has them (a stage's repeats after its first block share costs). */
export interface LayerRun {
  layers: readonly Layer[];
  times: number;
}

/**
 * A network with each stage's repeated blocks folded into one: the stem, per stage the first block and (when the
 * stage repeats) its second block standing for all repeats after the first, and the head. Every repeat after the
 * first has the same shapes, filters and ops, so totals over `runs` weighted by `times` equal totals over the full
 * layer list; it costs at most 2 blocks per stage to build, whatever the depth.
 */
export interface ArchitectureOutline extends ScaledSpec {
  inputShape: Shape;
  stemChannels: number;
  headChannels: number;
  stageRepeats: number[];
  stageChannels: number[];
  blockArgs: BlockArgs[];
  /** Blocks of the full network. */
  totalBlocks: number;
  runs: LayerRun[];
}

/** TensorFlow 'same' padding: output side = ceil(input / stride). */
export function sameOutput(size: number, stride: number): number {
  return Math.ceil(size / stride);
}

class LayerList {
  readonly layers: Layer[] = [];
  constructor(private readonly bnMomentum: number) {}
  add(l: Layer): Shape {
    this.layers.push(l);
    return l.outputShape;
  }
  conv(name: string, role: LayerRole, block: string, input: Shape, filters: number, kernel: number, stride: number): Shape {
    const [h, w] = input;
    return this.add({
      name, op: 'conv2d', role, block, inputShape: input,
      outputShape: [sameOutput(h, stride), sameOutput(w, stride), filters],
      kernel, stride, groups: 1, bias: false,
    });
  }
  bnAct(prefix: string, role: LayerRole, block: string, input: Shape, bnName: string, actName: string | null): Shape {
    this.add({ name: prefix + bnName, op: 'batch_norm', role, block, inputShape: input, outputShape: input, momentum: this.bnMomentum, epsilon: BN_EPSILON });
    if (actName !== null) this.add({ name: prefix + actName, op: 'swish', role, block, inputShape: input, outputShape: input });
    return input;
  }
}

export function blockName(stage: number, repeat: number): string {
  // Keras: block{i+1}{chr(j + 97)}; beyond 'z' it keeps counting characters, which stays unique.
  return `block${stage}${String.fromCharCode(97 + repeat)}`;
}

/** The scaled spec, its block arguments and block count: everything before the first layer. */
interface Plan {
  spec: ScaledSpec;
  blockArgs: BlockArgs[];
  totalBlocks: number;
  stemChannels: number;
  headChannels: number;
}

function plan(input: NetworkSpec | ScaledSpec): Plan {
  const spec: ScaledSpec = 'selector' in input ? scaleSpec(input) : input;
  const base = spec.blocks.map(decodeBlockString);
  checkChannelsChain(spec, base);
  const blockArgs = base.map((b) => ({
    ...b,
    inputFilters: roundFilters(b.inputFilters, spec.width),
    outputFilters: roundFilters(b.outputFilters, spec.width),
    repeats: roundRepeats(b.repeats, spec.depth),
  }));
  const totalBlocks = blockArgs.reduce((s, b) => s + b.repeats, 0);
  if (!(totalBlocks <= MAX_BLOCKS)) {
    const baseRepeats = base.reduce((s, b) => s + b.repeats, 0);
    const maxDepth = Math.floor(MAX_BLOCKS / baseRepeats);
    const fix =
      maxDepth < 1 ? 'use block strings with fewer repeats'
      : `use a depth of at most ${maxDepth}${spec.compound ? ` (phi at most ${floorTo(Math.log(maxDepth) / Math.log(spec.compound.alpha), 4)} with alpha ${spec.compound.alpha})` : ''}`;
    throw new SizeLimitError(
      'blocks',
      `${spec.name}: depth ${fmt(spec.depth)} makes ${approx(totalBlocks)} blocks (the block strings' ${approx(baseRepeats)} repeats times the depth, rounded up per stage), ` +
        `over the limit of ${MAX_BLOCKS.toLocaleString('en-US')} (625x B0's 16 blocks, 180x B7's 55; at 10-17 layers a block, already some 150,000 layers to build and train); ${fix}.`,
    );
  }
  return {
    spec, blockArgs, totalBlocks,
    stemChannels: roundFilters(spec.stemFilters, spec.width),
    headChannels: roundFilters(spec.headFilters, spec.width),
  };
}

const floorTo = (x: number, digits: number): number => Math.floor(x * 10 ** digits) / 10 ** digits;

/** Each block string's input filters must be the previous one's output filters (the stem's filters for the first). */
function checkChannelsChain(spec: ScaledSpec, base: readonly BlockArgs[]): void {
  let previous = { filters: spec.stemFilters, what: `the stem's ${spec.stemFilters} output filters` };
  base.forEach((b, s) => {
    if (b.inputFilters !== previous.filters) {
      throw new SpecError(
        `block string ${s + 1} '${spec.blocks[s]}' takes ${b.inputFilters} input filters, but it follows ${previous.what}; ` +
          `set its i to ${previous.filters} so the channels chain (or change the previous block's o).`,
      );
    }
    previous = { filters: b.outputFilters, what: `block string ${s + 1}'s ${b.outputFilters} output filters` };
  });
}

function emitStem(L: LayerList, p: Plan, inputShape: Shape): Shape {
  const x = L.conv('stem_conv', 'stem', 'stem', inputShape, p.stemChannels, 3, 2);
  return L.bnAct('stem_', 'stem', 'stem', x, 'bn', 'activation');
}

/** Repeat j of stage s (0-based), block `index` over all blocks. */
function emitBlock(L: LayerList, p: Plan, s: number, j: number, index: number, blockInput: Shape): Block {
  const args = p.blockArgs[s];
  const name = blockName(s + 1, j);
  const pre = `${name}_`;
  const inF = j === 0 ? args.inputFilters : args.outputFilters;
  const stride = j === 0 ? args.stride : 1;
  const expanded = inF * args.expandRatio;
  if (blockInput[2] !== inF) {
    // checkChannelsChain makes this impossible; a bug if it happens.
    throw new Error(`${name}: block string says ${inF} input filters but the previous layer gives ${blockInput[2]}`);
  }
  let x = blockInput;
  if (args.expandRatio !== 1) {
    x = L.conv(pre + 'expand_conv', 'expand', name, x, expanded, 1, 1);
    x = L.bnAct(pre, 'expand', name, x, 'expand_bn', 'expand_activation');
  }
  const [h, w] = x;
  x = L.add({
    name: pre + 'dwconv', op: 'depthwise_conv2d', role: 'depthwise', block: name, inputShape: x,
    outputShape: [sameOutput(h, stride), sameOutput(w, stride), expanded],
    kernel: args.kernel, stride, groups: expanded, bias: false,
  });
  x = L.bnAct(pre, 'depthwise', name, x, 'bn', 'activation');
  let seFilters = 0;
  if (args.seRatio > 0 && args.seRatio <= 1) {
    seFilters = Math.max(1, Math.floor(inF * args.seRatio));
    const pooled = L.add({ name: pre + 'se_squeeze', op: 'global_avg_pool', role: 'se', block: name, inputShape: x, outputShape: [expanded] });
    const r = L.add({ name: pre + 'se_reshape', op: 'reshape', role: 'se', block: name, inputShape: pooled, outputShape: [1, 1, expanded] });
    const red = L.add({
      name: pre + 'se_reduce', op: 'conv2d', role: 'se', block: name, inputShape: r, outputShape: [1, 1, seFilters],
      kernel: 1, stride: 1, groups: 1, bias: true, activation: 'swish',
    });
    L.add({
      name: pre + 'se_expand', op: 'conv2d', role: 'se', block: name, inputShape: red, outputShape: [1, 1, expanded],
      kernel: 1, stride: 1, groups: 1, bias: true, activation: 'sigmoid',
    });
    x = L.add({ name: pre + 'se_excite', op: 'multiply', role: 'se', block: name, inputShape: x, outputShape: x });
  }
  x = L.conv(pre + 'project_conv', 'project', name, x, args.outputFilters, 1, 1);
  x = L.bnAct(pre, 'project', name, x, 'project_bn', null);
  const skip = args.idSkip && stride === 1 && inF === args.outputFilters;
  const dropRate = (p.spec.dropConnectRate * index) / p.totalBlocks;
  if (skip) {
    if (dropRate > 0) {
      x = L.add({ name: pre + 'drop', op: 'stochastic_depth', role: 'skip', block: name, inputShape: x, outputShape: x, rate: dropRate });
    }
    x = L.add({ name: pre + 'add', op: 'add', role: 'skip', block: name, inputShape: x, outputShape: x });
  }
  return {
    name, stage: s + 1, index, kernel: args.kernel, stride, expandRatio: args.expandRatio,
    inputFilters: inF, outputFilters: args.outputFilters, expandedFilters: expanded, seFilters,
    skip, dropRate, inputShape: blockInput, outputShape: x,
  };
}

function emitHead(L: LayerList, p: Plan, input: Shape): void {
  let x = L.conv('top_conv', 'head', 'top', input, p.headChannels, 1, 1);
  x = L.bnAct('top_', 'head', 'top', x, 'bn', 'activation');
  x = L.add({ name: 'avg_pool', op: 'global_avg_pool', role: 'head', block: 'top', inputShape: x, outputShape: [p.headChannels] });
  if (p.spec.dropout > 0) {
    x = L.add({ name: 'top_dropout', op: 'dropout', role: 'classifier', block: 'top', inputShape: x, outputShape: x, rate: p.spec.dropout });
  }
  L.add({
    name: 'predictions', op: 'dense', role: 'classifier', block: 'top', inputShape: x, outputShape: [p.spec.classes],
    bias: true, activation: 'softmax',
  });
}

const elements = (shape: Shape): number => shape.reduce((a, b) => a * b, 1);

/** Stem, first and second block of each stage, head; with the number of blocks each run stands for. */
function outlineRuns(p: Plan, inputShape: Shape): LayerRun[] {
  const run = (times: number, emit: (L: LayerList) => void): LayerRun => {
    const L = new LayerList(p.spec.bnMomentum);
    emit(L);
    return { layers: L.layers, times };
  };
  const runs: LayerRun[] = [];
  let x: Shape = inputShape;
  runs.push(run(1, (L) => (x = emitStem(L, p, x))));
  let index = 0;
  p.blockArgs.forEach((args, s) => {
    runs.push(run(1, (L) => (x = emitBlock(L, p, s, 0, index, x).outputShape)));
    if (args.repeats > 1) runs.push(run(args.repeats - 1, (L) => (x = emitBlock(L, p, s, 1, index + 1, x).outputShape)));
    index += args.repeats;
  });
  runs.push(run(1, (L) => emitHead(L, p, x)));
  return runs;
}

function imageActivationBytes(inputShape: Shape, runs: readonly LayerRun[]): number {
  let n = elements(inputShape);
  for (const r of runs) for (const l of r.layers) n += r.times * elements(l.outputShape);
  return n * 4;
}

/** The largest resolution at which one image's layer outputs fit the bound, at this width, channels and classes; 0 if none. */
function largestFittingResolution(p: Plan, bytesAtResolution: number): number {
  const fits = (r: number) => {
    const shape = [r, r, p.spec.inputChannels];
    return imageActivationBytes(shape, outlineRuns({ ...p, spec: { ...p.spec, resolution: r } }, shape)) <= MAX_IMAGE_ACTIVATION_BYTES;
  };
  if (!fits(1)) return 0;
  // Activations grow about as resolution^2: gallop from that guess to a bracket [lo fits, hi does not], then bisect.
  let lo = 1;
  let hi = Math.min(p.spec.resolution, 2 ** 40);
  const guess = Math.floor(p.spec.resolution * Math.sqrt(MAX_IMAGE_ACTIVATION_BYTES / bytesAtResolution));
  if (guess > lo && guess < hi) {
    for (let stepSize = Math.max(1, Math.ceil(guess / 100)), g = guess; ; stepSize *= 2) {
      if (fits(g)) {
        lo = g;
        g += stepSize;
        if (g >= hi) break;
      } else {
        hi = g;
        g -= stepSize;
        if (g <= lo) break;
      }
      if (hi - lo <= 1) break;
    }
  }
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

function outlinePlan(p: Plan): ArchitectureOutline {
  const { spec, blockArgs, totalBlocks, stemChannels, headChannels } = p;
  const inputShape: Shape = [spec.resolution, spec.resolution, spec.inputChannels];
  const runs = outlineRuns(p, inputShape);
  const bytes = imageActivationBytes(inputShape, runs);
  if (!(bytes <= MAX_IMAGE_ACTIVATION_BYTES)) {
    const r = largestFittingResolution(p, bytes);
    const fix =
      r === 0 ? 'no resolution fits: use a smaller width, fewer input channels or fewer classes'
      : `at this width, input channels and classes the largest resolution that fits is ${approx(r)} px`;
    throw new SizeLimitError(
      'activation memory',
      `${spec.name}: one image's layer outputs at ${approx(spec.resolution)} px take ${bytesText(bytes)} as float32, over the ` +
        `1 TiB no backend can hold (the wasm heap is 4 GiB, the largest accelerators under 0.2 TiB); ${fix}.`,
    );
  }
  return {
    ...spec,
    inputShape,
    stemChannels,
    headChannels,
    stageRepeats: blockArgs.map((b) => b.repeats),
    stageChannels: blockArgs.map((b) => b.outputFilters),
    blockArgs,
    totalBlocks,
    runs,
  };
}

/**
 * Check a network's size from its spec and fold its repeated blocks (see ArchitectureOutline): refuses, in well under
 * a millisecond, more than MAX_BLOCKS blocks and one image's activations over MAX_IMAGE_ACTIVATION_BYTES.
 */
export function outlineArchitecture(input: NetworkSpec | ScaledSpec): ArchitectureOutline {
  return outlinePlan(plan(input));
}

/** Resolve a network to every layer with its shapes. Pure: no tensors. Checks the size limits first (outlineArchitecture). */
export function resolveArchitecture(input: NetworkSpec | ScaledSpec): Architecture {
  const p = plan(input);
  const { inputShape, stemChannels, headChannels, stageRepeats, stageChannels, blockArgs } = outlinePlan(p);

  const L = new LayerList(p.spec.bnMomentum);
  let x = emitStem(L, p, inputShape);
  const blockList: Block[] = [];
  let index = 0;
  p.blockArgs.forEach((args, s) => {
    for (let j = 0; j < args.repeats; j++) {
      const block = emitBlock(L, p, s, j, index, x);
      blockList.push(block);
      x = block.outputShape;
      index++;
    }
  });
  emitHead(L, p, x);

  return { ...p.spec, inputShape, stemChannels, headChannels, stageRepeats, stageChannels, blockArgs, blockList, layers: L.layers };
}
