import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { leanGradientSaves, trainingForward } from '@effscale/wasm-train';

/** Probabilities are clipped to [EPS, 1 - EPS] before the log, as evaluate() does for the held-out loss. */
const EPS = 1e-7;

function crossEntropy(labels: tf.Tensor, probs: tf.Tensor): tf.Scalar {
  return tf.neg(tf.mean(tf.sum(tf.mul(labels, tf.log(tf.clipByValue(probs, EPS, 1 - EPS))), -1))) as tf.Scalar;
}

export interface StepGradients {
  /** The clipped categorical cross-entropy of the batch. */
  loss: tf.Scalar;
  /** Its gradient for every variable passed, by variable name. */
  grads: tf.NamedTensorMap;
  /** The sum of the output probabilities, off the loss's path (no gradient): the trainer's check for a blown-up network. */
  probsSum: tf.Scalar;
}

/**
 * The gradient computation of one training step, the trainer's and the benchmark's: the training forward
 * (wasm-train's trainingForward), the clipped cross-entropy against the (possibly smoothed) one-hot labels y, and its
 * gradients for vars, with the tensors the gradients need shared, not cloned (leanGradientSaves). The caller disposes
 * what it gets (inside a tf.tidy, as a step runs).
 */
export function stepGradients(model: tfl.LayersModel, optimizer: tf.Optimizer, vars: tf.Variable[], x: tf.Tensor, y: tf.Tensor): StepGradients {
  let probsSum: tf.Scalar | undefined;
  const { value, grads } = leanGradientSaves(() => optimizer.computeGradients(() => {
    const probs = trainingForward(model, x);
    probsSum = tf.keep(tf.sum(probs)) as tf.Scalar; // survives the gradient scope
    return crossEntropy(y, probs);
  }, vars));
  return { loss: value, grads, probsSum: probsSum! };
}
