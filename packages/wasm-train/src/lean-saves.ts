import * as tf from '@tensorflow/tfjs-core';

/** The parts of tfjs-core 4.22's Engine that leanGradientSaves replaces and uses. */
interface EngineInternals {
  saveTensorsForBackwardMode?: (tensors: tf.Tensor[]) => tf.Tensor[];
  keep<T extends tf.Tensor>(t: T): T;
  makeTensorFromTensorInfo(info: tf.TensorInfo): tf.Tensor;
  backend: { incRef?(dataId: object): void };
}

/**
 * Runs fn (a first-order gradient computation, e.g. optimizer.computeGradients) with tfjs' engine saving the tensors
 * each kernel's gradient needs as shared references to their data, not as clones. tfjs clones every saved tensor with
 * a full Identity kernel call and a tape node of its own, so that a second-order gradient could flow through it: at
 * effscale's 32-px proxy that is ~470 of a step's ~1,000 kernel calls and ~7% of its time. The saved data and every
 * result are the same; only gradients of gradients (tf.grad of a function that itself takes a gradient inside fn)
 * would lose the path through saved tensors. Applies on wasm only (whose backend shares data by reference counting,
 * as its Identity kernel does); elsewhere, or on a tfjs whose engine lacks the method, fn runs unchanged.
 */
export function leanGradientSaves<T>(fn: () => T): T {
  const engine = tf.engine() as unknown as EngineInternals;
  const original = engine.saveTensorsForBackwardMode;
  if (tf.getBackend() !== 'wasm' || typeof original !== 'function' || typeof engine.backend.incRef !== 'function') return fn();
  const own = Object.prototype.hasOwnProperty.call(engine, 'saveTensorsForBackwardMode');
  engine.saveTensorsForBackwardMode = (tensors: tf.Tensor[]) =>
    tensors.map((t) => {
      engine.backend.incRef!(t.dataId);
      return engine.keep(engine.makeTensorFromTensorInfo({ dataId: t.dataId, shape: t.shape, dtype: t.dtype }));
    });
  try {
    return fn();
  } finally {
    if (own) engine.saveTensorsForBackwardMode = original;
    else delete engine.saveTensorsForBackwardMode; // the prototype's again
  }
}
