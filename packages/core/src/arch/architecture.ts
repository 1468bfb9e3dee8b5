import { decodeBlockString, type BlockArgs } from './blocks.js';
import { roundFilters, roundRepeats } from './scaling.js';
import { BN_EPSILON, scaleSpec, type NetworkSpec, type ScaledSpec } from './spec.js';

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

/** Resolve a network to every layer with its shapes. Pure: no tensors. */
export function resolveArchitecture(input: NetworkSpec | ScaledSpec): Architecture {
  const spec: ScaledSpec = 'selector' in input ? scaleSpec(input) : input;
  const base = spec.blocks.map(decodeBlockString);
  const blockArgs = base.map((b) => ({
    ...b,
    inputFilters: roundFilters(b.inputFilters, spec.width),
    outputFilters: roundFilters(b.outputFilters, spec.width),
    repeats: roundRepeats(b.repeats, spec.depth),
  }));
  const totalBlocks = blockArgs.reduce((s, b) => s + b.repeats, 0);

  const L = new LayerList(spec.bnMomentum);
  const inputShape: Shape = [spec.resolution, spec.resolution, spec.inputChannels];
  const stemChannels = roundFilters(spec.stemFilters, spec.width);
  let x = L.conv('stem_conv', 'stem', 'stem', inputShape, stemChannels, 3, 2);
  x = L.bnAct('stem_', 'stem', 'stem', x, 'bn', 'activation');

  const blockList: Block[] = [];
  let index = 0;
  blockArgs.forEach((args, s) => {
    for (let j = 0; j < args.repeats; j++) {
      const name = blockName(s + 1, j);
      const p = `${name}_`;
      const inF = j === 0 ? args.inputFilters : args.outputFilters;
      const stride = j === 0 ? args.stride : 1;
      const expanded = inF * args.expandRatio;
      const blockInput = x;
      if (blockInput[2] !== inF) {
        throw new Error(`${name}: block string says ${inF} input filters but the previous layer gives ${blockInput[2]}`);
      }
      if (args.expandRatio !== 1) {
        x = L.conv(p + 'expand_conv', 'expand', name, x, expanded, 1, 1);
        x = L.bnAct(p, 'expand', name, x, 'expand_bn', 'expand_activation');
      }
      const [h, w] = x;
      x = L.add({
        name: p + 'dwconv', op: 'depthwise_conv2d', role: 'depthwise', block: name, inputShape: x,
        outputShape: [sameOutput(h, stride), sameOutput(w, stride), expanded],
        kernel: args.kernel, stride, groups: expanded, bias: false,
      });
      x = L.bnAct(p, 'depthwise', name, x, 'bn', 'activation');
      let seFilters = 0;
      if (args.seRatio > 0 && args.seRatio <= 1) {
        seFilters = Math.max(1, Math.floor(inF * args.seRatio));
        const pooled = L.add({ name: p + 'se_squeeze', op: 'global_avg_pool', role: 'se', block: name, inputShape: x, outputShape: [expanded] });
        const r = L.add({ name: p + 'se_reshape', op: 'reshape', role: 'se', block: name, inputShape: pooled, outputShape: [1, 1, expanded] });
        const red = L.add({
          name: p + 'se_reduce', op: 'conv2d', role: 'se', block: name, inputShape: r, outputShape: [1, 1, seFilters],
          kernel: 1, stride: 1, groups: 1, bias: true, activation: 'swish',
        });
        const exc = L.add({
          name: p + 'se_expand', op: 'conv2d', role: 'se', block: name, inputShape: red, outputShape: [1, 1, expanded],
          kernel: 1, stride: 1, groups: 1, bias: true, activation: 'sigmoid',
        });
        x = L.add({ name: p + 'se_excite', op: 'multiply', role: 'se', block: name, inputShape: x, outputShape: x });
        void exc;
      }
      x = L.conv(p + 'project_conv', 'project', name, x, args.outputFilters, 1, 1);
      x = L.bnAct(p, 'project', name, x, 'project_bn', null);
      const skip = args.idSkip && stride === 1 && inF === args.outputFilters;
      const dropRate = (spec.dropConnectRate * index) / totalBlocks;
      if (skip) {
        if (dropRate > 0) {
          x = L.add({ name: p + 'drop', op: 'stochastic_depth', role: 'skip', block: name, inputShape: x, outputShape: x, rate: dropRate });
        }
        x = L.add({ name: p + 'add', op: 'add', role: 'skip', block: name, inputShape: x, outputShape: x });
      }
      blockList.push({
        name, stage: s + 1, index, kernel: args.kernel, stride, expandRatio: args.expandRatio,
        inputFilters: inF, outputFilters: args.outputFilters, expandedFilters: expanded, seFilters,
        skip, dropRate, inputShape: blockInput, outputShape: x,
      });
      index++;
    }
  });

  const headChannels = roundFilters(spec.headFilters, spec.width);
  x = L.conv('top_conv', 'head', 'top', x, headChannels, 1, 1);
  x = L.bnAct('top_', 'head', 'top', x, 'bn', 'activation');
  x = L.add({ name: 'avg_pool', op: 'global_avg_pool', role: 'head', block: 'top', inputShape: x, outputShape: [headChannels] });
  if (spec.dropout > 0) {
    x = L.add({ name: 'top_dropout', op: 'dropout', role: 'classifier', block: 'top', inputShape: x, outputShape: x, rate: spec.dropout });
  }
  L.add({
    name: 'predictions', op: 'dense', role: 'classifier', block: 'top', inputShape: x, outputShape: [spec.classes],
    bias: true, activation: 'softmax',
  });

  return {
    ...spec,
    inputShape,
    stemChannels,
    headChannels,
    stageRepeats: blockArgs.map((b) => b.repeats),
    stageChannels: blockArgs.map((b) => b.outputFilters),
    blockArgs,
    blockList,
    layers: L.layers,
  };
}
