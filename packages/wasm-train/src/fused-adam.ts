import * as tf from '@tensorflow/tfjs-core';
import { asWasmBackend, bytePtr, f32Offset, heapF32, type WasmBackend } from './wasm-kernels/heap.js';
import { simdKernels, type SimdKernels } from './wasm-kernels/simd.js';

type AdamUpdate = SimdKernels['adamUpdate'];

/** AdamOptimizer's state, private in its typings. */
interface AdamSlots {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: Array<{ originalName: string; variable: tf.Variable }>;
  accumulatedSecondMoment: Array<{ originalName: string; variable: tf.Variable }>;
}

const f = Math.fround;

/**
 * tf.train.adam with the m / v / weight update of each float32 variable done in one SIMD pass over
 * the wasm heap instead of ~12 kernels. Results are bit-identical to tfjs-core 4.22's AdamOptimizer
 * (same float32 operations in the same order); on other backends, or with the SIMD kernels off, it
 * is that optimizer. State, getWeights/setWeights layout, config and class name ('Adam') are
 * inherited, so checkpoints written by either load into the other.
 */
export class FusedAdamOptimizer extends tf.AdamOptimizer {
  constructor(learningRate: number, beta1 = 0.9, beta2 = 0.999, epsilon: number | null = null) {
    super(learningRate, beta1, beta2, epsilon as number);
  }

  override applyGradients(variableGradients: Parameters<tf.AdamOptimizer['applyGradients']>[0]): void {
    const update = tf.getBackend() === 'wasm' ? adamKernel(asWasmBackend(tf.backend())) : undefined;
    if (update === undefined) {
      super.applyGradients(variableGradients);
      return;
    }
    const s = this as unknown as AdamSlots;
    const backend = asWasmBackend(tf.backend()) as WasmBackend & { refCount(dataId: object): number };
    const names = Array.isArray(variableGradients) ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
    tf.tidy(() => {
      // The stock chain's scalars, rounded to float32 as tf.scalar would. (Offsets first: finding one
      // may move the data in from another backend, growing the heap and detaching older views.)
      const acc1 = f32Offset(backend, s.accBeta1);
      const acc2 = f32Offset(backend, s.accBeta2);
      const heap = heapF32(backend);
      const oneMinusAcc1 = f(1 - heap[acc1]);
      const oneMinusAcc2 = f(1 - heap[acc2]);
      const scalars = [
        f(s.beta1), f(1 - s.beta1), f(s.beta2), f(1 - s.beta2), oneMinusAcc1, oneMinusAcc2, f(s.epsilon), f(-s.learningRate),
      ] as const;
      names.forEach((name, i) => {
        const value = tf.engine().registeredVariables[name];
        s.accumulatedFirstMoment[i] ??= { originalName: `${name}/m`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        s.accumulatedSecondMoment[i] ??= { originalName: `${name}/v`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        const gradient = Array.isArray(variableGradients) ? variableGradients[i].tensor : variableGradients[name];
        if (gradient == null) return;
        const m = s.accumulatedFirstMoment[i].variable;
        const v = s.accumulatedSecondMoment[i].variable;
        const fusable = [value, gradient, m, v].every((t) => t.dtype === 'float32' && t.size === value.size) && value.size > 0;
        if (!fusable) {
          this.stockUpdate(value, gradient, m, v, oneMinusAcc1, oneMinusAcc2);
          return;
        }
        // The weight always gets a new buffer: kernels such as the stock conv cache packed filters by
        // tensor id, so it must not change in place. m and v are updated in place when nothing else
        // shares their buffer (after setWeights, the restored tensors do, once).
        const shape = value.shape;
        const wOut = backend.makeOutput(shape, 'float32');
        const mOut = backend.refCount(m.dataId) === 1 ? m : backend.makeOutput(shape, 'float32');
        const vOut = backend.refCount(v.dataId) === 1 ? v : backend.makeOutput(shape, 'float32');
        update(
          bytePtr(backend, value), bytePtr(backend, gradient), bytePtr(backend, m), bytePtr(backend, v),
          bytePtr(backend, wOut), bytePtr(backend, mOut), bytePtr(backend, vOut), value.size, ...scalars,
        );
        const engine = tf.engine();
        if (mOut !== m) m.assign(engine.makeTensorFromTensorInfo(mOut));
        if (vOut !== v) v.assign(engine.makeTensorFromTensorInfo(vOut));
        value.assign(engine.makeTensorFromTensorInfo(wOut));
      });
      s.accBeta1.assign(tf.mul(s.accBeta1, s.beta1));
      s.accBeta2.assign(tf.mul(s.accBeta2, s.beta2));
    });
    this.incrementIterations();
  }

  /** AdamOptimizer's own ops for one variable (tensors the fused kernel does not take). */
  private stockUpdate(value: tf.Variable, gradient: tf.Tensor, m: tf.Variable, v: tf.Variable, oneMinusAcc1: number, oneMinusAcc2: number): void {
    const s = this as unknown as AdamSlots;
    const newM = tf.add(tf.mul(m, s.beta1), tf.mul(gradient, 1 - s.beta1));
    const newV = tf.add(tf.mul(v, s.beta2), tf.mul(tf.square(gradient), 1 - s.beta2));
    const correctedM = tf.div(newM, oneMinusAcc1);
    const correctedV = tf.div(newV, oneMinusAcc2);
    m.assign(newM);
    v.assign(newV);
    value.assign(tf.add(tf.mul(tf.div(correctedM, tf.add(tf.sqrt(correctedV), s.epsilon)), -s.learningRate), value));
  }
}

function adamKernel(backend: WasmBackend): AdamUpdate | undefined {
  const k = simdKernels(backend);
  return typeof k?.adamUpdate === 'function' ? k.adamUpdate : undefined;
}
