import * as tf from '@tensorflow/tfjs-core';
import { backend_util, Mean, Sum, util, type GradConfig, type NamedAttrMap, type Tensor } from '@tensorflow/tfjs-core';

/**
 * Gradients of Mean and Sum that replicate dy (over the reduced axes) with one broadcastTo (a Tile kernel) instead of
 * tfjs-core's dy * ones(x.shape): that builds a JS array of ones the size of the input every step (for the
 * global average pools of EfficientNet's SE blocks and head, ~10% of a 128-px training step), copies it into the
 * backend and multiplies by it. Same values to the bit: dy * 1 = dy, and (dy * 1) / n = dy / n. For every backend;
 * tensors that are not float32 keep tfjs-core's formula.
 */
function replicated(kernelName: typeof Mean | typeof Sum, stock: GradConfig | undefined): GradConfig {
  return {
    kernelName,
    inputsToSave: ['x'],
    gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
      const g = dy as Tensor;
      const [x] = saved;
      if (g.dtype !== 'float32' || x.dtype !== 'float32') {
        if (stock === undefined) throw new Error(`${kernelName} gradient of ${x.dtype}: tfjs-core's gradient is not registered`);
        return stock.gradFunc(dy, saved, attrs);
      }
      const axes = util.parseAxisParam(attrs.axis as number | number[], x.shape);
      const expanded = x.shape.slice();
      for (const a of axes) expanded[a] = 1;
      const count = util.sizeFromShape(backend_util.computeOutAndReduceShapes(x.shape, axes)[1]);
      return {
        x: () => {
          const dyFull = tf.reshape(g, expanded);
          return tf.broadcastTo(kernelName === Mean ? tf.div(dyFull, count) : dyFull, x.shape);
        },
      };
    },
  };
}

export const makeMeanGradConfig = (stock: GradConfig | undefined): GradConfig => replicated(Mean, stock);
export const makeSumGradConfig = (stock: GradConfig | undefined): GradConfig => replicated(Sum, stock);
