import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { FusedBatchNormalization } from './batch-norm-layer.js';
import { excite } from './excite.js';
import { FusedSwish } from './swish.js';

/** One layer of the plan: the ids of the symbolic tensors it reads and writes, and how it runs. */
interface Step {
  layer: tfl.layers.Layer;
  inputs: number[];
  output: number;
  run: (inputs: tf.Tensor[]) => tf.Tensor;
}

type Plan = { input: number; output: number; steps: Step[] } | null;

const plans = new WeakMap<tfl.LayersModel, Plan>();

/**
 * model.apply(x, { training: true }) for a training step: the same layers, weights, results and gradients, run
 * layer by layer on concrete tensors from a plan made once per model, without tf.layers' per-call symbolic
 * bookkeeping, and with changes that only save work:
 * - a Conv2D without bias or activation runs tf.conv2d, not tfjs-layers' fused.conv2d, whose custom gradient computes
 *   the input gradient even where nothing reads it (the stem's, of the images: 7 ms of a 128-px step) and copies
 *   its inputs for the tape;
 * - a FusedBatchNormalization whose only reader is a FusedSwish runs with it as batchNormSwishTraining (on wasm one
 *   kernel each way that never stores the normalized tensor; the same values);
 * - a Multiply of [N, H, W, C] by [N, 1, 1, C] (squeeze-and-excitation) runs excite(), whose gradient is one pass on
 *   wasm.
 * Every other layer runs its own call(). Models this plan does not cover (several inputs or outputs, a layer
 * called more than once, nested models) run model.apply.
 */
export function trainingForward(model: tfl.LayersModel, x: tf.Tensor): tf.Tensor {
  let plan = plans.get(model);
  if (plan === undefined) {
    plan = makePlan(model);
    plans.set(model, plan);
  }
  if (plan === null) return model.apply(x, { training: true }) as tf.Tensor;
  const values = new Map<number, tf.Tensor>([[plan.input, x]]);
  for (const step of plan.steps) {
    const inputs = step.inputs.map((id) => values.get(id) as tf.Tensor);
    values.set(step.output, step.run(inputs));
  }
  return values.get(plan.output) as tf.Tensor;
}

function makePlan(model: tfl.LayersModel): Plan {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) return null;
  const readers = new Map<number, tfl.layers.Layer[]>();
  for (const layer of model.layers) {
    if (layer.inboundNodes.length !== 1) return null;
    for (const t of layer.inboundNodes[0].inputTensors) readers.set(t.id, [...(readers.get(t.id) ?? []), layer]);
  }
  const output = model.outputs[0].id;
  const fusedInto = new Set<tfl.layers.Layer>(); // swish layers run by the batchnorm before them
  const steps: Step[] = [];
  for (const layer of model.layers) {
    const node = layer.inboundNodes[0];
    if (node.inboundLayers.length === 0) continue; // the input layer
    if (node.outputTensors.length !== 1 || 'layers' in layer) return null; // several outputs, a nested model
    const out = node.outputTensors[0].id;
    const inputs = node.inputTensors.map((t) => t.id);
    if (fusedInto.has(layer)) {
      steps.push({ layer, inputs, output: out, run: ([t]) => t }); // already swish(batchnorm(x))
      continue;
    }
    const next = readers.get(out);
    if (layer instanceof FusedBatchNormalization && out !== output && next?.length === 1 && next[0] instanceof FusedSwish) {
      fusedInto.add(next[0]);
      steps.push({ layer, inputs, output: out, run: ([t]) => layer.trainingCallWithSwish(t) });
      continue;
    }
    const run = plainConv2d(layer) ?? exciteMultiply(layer, node.inputTensors) ?? ((ts) => layer.call(ts.length === 1 ? ts[0] : ts, { training: true }) as tf.Tensor);
    steps.push({ layer, inputs, output: out, run });
  }
  return { input: model.inputs[0].id, output, steps };
}

/** tf.conv2d for a channels-last Conv2D without bias, activation or dilation; undefined for any other layer. */
function plainConv2d(layer: tfl.layers.Layer): Step['run'] | undefined {
  if (layer.getClassName() !== 'Conv2D') return undefined;
  const c = layer.getConfig() as { useBias?: boolean; activation?: string; dataFormat?: string; dilationRate?: number | number[]; strides?: number | number[]; padding?: string };
  const dilation = [c.dilationRate ?? 1].flat();
  if (c.useBias !== false || (c.activation ?? 'linear') !== 'linear' || (c.dataFormat ?? 'channelsLast') !== 'channelsLast' || dilation.some((d) => d !== 1)) return undefined;
  if (c.padding !== 'same' && c.padding !== 'valid') return undefined;
  const strides = [c.strides ?? 1].flat() as number[];
  const stride: [number, number] = strides.length === 1 ? [strides[0], strides[0]] : [strides[0], strides[1]];
  const pad = c.padding;
  const kernel = layer.weights[0];
  return ([t]) => tf.conv2d(t as tf.Tensor4D, kernel.read() as tf.Tensor4D, stride, pad);
}

/** excite() for a Multiply of a [N, H, W, C] tensor by a [N, 1, 1, C] one (either order); undefined otherwise. */
function exciteMultiply(layer: tfl.layers.Layer, inputs: tfl.SymbolicTensor[]): Step['run'] | undefined {
  if (layer.getClassName() !== 'Multiply' || inputs.length !== 2) return undefined;
  const isGate = (s: (number | null)[]) => s.length === 4 && s[1] === 1 && s[2] === 1;
  const [a, b] = inputs.map((t) => t.shape);
  if (a.length !== 4 || b.length !== 4 || a[3] !== b[3] || a[3] == null) return undefined;
  if (isGate(b) && !isGate(a)) return ([x, se]) => excite(x, se);
  if (isGate(a) && !isGate(b)) return ([se, x]) => excite(x, se);
  return undefined;
}
