import * as tfl from '@tensorflow/tfjs-layers';
import type { Architecture, Layer } from '../arch/architecture.js';
import { checkSeed, layerSeed } from './init.js';
import { OP_BUILDERS, type OpContext, type SymbolicTensor } from './ops.js';

export interface BuildOptions {
  /** Seeds every initializer, so two builds with the same seed have identical weights. */
  seed?: number;
  /** Model name; the architecture's name unless given. */
  name?: string;
}

function sameShape(actual: readonly (number | null)[], expected: readonly number[]): boolean {
  return actual.length === expected.length + 1 && expected.every((d, i) => actual[i + 1] === d);
}

function buildLayer(layer: Layer, x: SymbolicTensor, ctx: OpContext): SymbolicTensor {
  const op = OP_BUILDERS[layer.op];
  if (op === undefined) {
    throw new Error(`layer '${layer.name}': unknown op '${layer.op}' (allowed: ${Object.keys(OP_BUILDERS).join(', ')})`);
  }
  const out = op(layer, x, ctx);
  // The architecture is the source of truth: a mismatch means the data and the builder disagree.
  if (!sameShape(out.shape, layer.outputShape)) {
    throw new Error(
      `layer '${layer.name}': built output shape [${out.shape.slice(1).join(', ')}] differs from the architecture's [${layer.outputShape.join(', ')}]`,
    );
  }
  return out;
}

/** A tf.layers functional model with exactly the layers (and Keras names) of a resolved architecture. */
export function buildModel(arch: Architecture, opts: BuildOptions = {}): tfl.LayersModel {
  const seed = opts.seed === undefined ? undefined : checkSeed(opts.seed);
  if (arch.inputShape.length !== 3) {
    throw new Error(`input shape [${arch.inputShape.join(', ')}] must be [height, width, channels]`);
  }
  if (arch.layers.length === 0) throw new Error(`architecture '${arch.name}' has no layers`);

  const input = tfl.input({ shape: [...arch.inputShape], name: 'input_1' });
  const ctx: OpContext = { blockInput: null, seInput: null, seed: undefined };
  let x: SymbolicTensor = input;
  let block: string | null = null;
  arch.layers.forEach((layer, i) => {
    if (layer.block !== block) {
      block = layer.block;
      ctx.blockInput = x;
      ctx.seInput = null;
    }
    ctx.seed = seed === undefined ? undefined : layerSeed(seed, i);
    x = buildLayer(layer, x, ctx);
  });
  return tfl.model({ inputs: input, outputs: x, name: opts.name ?? arch.name });
}
