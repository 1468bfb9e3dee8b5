import { TRAINING_KERNELS_WASM_BASE64 } from './simd-binary.js';
import type { WasmBackend } from './heap.js';

/** [n, h, w, c, oh, ow, kh, kw, sh, sw, padTop, padLeft] of a convolution, as the kernels take it. */
export type PatchGeometry = [number, number, number, number, number, number, number, number, number, number, number, number];

/** The AssemblyScript kernels of kernels/assembly/training.ts; pointers are byte offsets in the backend's heap. */
export interface SimdKernels {
  reduceMiddle(src: number, dst: number, scratch: number, outer: number, mid: number, inner: number, scale: number): void;
  depthwiseFilterGrad(x: number, dy: number, df: number, scratch: number, ...g: PatchGeometry): void;
  depthwiseInputGrad(dy: number, f: number, dx: number, ...g: PatchGeometry): void;
  transpose2d(src: number, dst: number, rows: number, cols: number): void;
  broadcastBinary(full: number, small: number, out: number, outer: number, mid: number, inner: number, op: number, swap: number): void;
  batchNormApply(x: number, mean: number, a: number, offset: number, y: number, rows: number, c: number): void;
  im2col(x: number, cols: number, ...g: PatchGeometry): void;
  col2im(cols: number, dx: number, ...g: PatchGeometry): void;
  pointwiseFilterGrad(x: number, dy: number, df: number, scratch: number, m: number, ci: number, co: number): void;
  gemm(a: number, b: number, c: number, m: number, k: number, n: number): void;
  sigmoidGrad(dy: number, y: number, dx: number, n: number): void;
  swishGrad(dy: number, x: number, s: number, dx: number, n: number): void;
  sumSquaredDeviation(x: number, mean: number, out: number, scratch: number, rows: number, c: number): void;
  batchNormGradSums(dy: number, x: number, mean: number, sumDy: number, sumDyXmu: number, scratch: number, rows: number, c: number): void;
  batchNormGradApply(dy: number, x: number, mean: number, a: number, b: number, k: number, dx: number, rows: number, c: number): void;
  depthwiseConv(x: number, f: number, y: number, ...g: PatchGeometry): void;
  depthwiseFilterGradRows(x: number, dy: number, df: number, ...g: PatchGeometry): void;
  adamUpdate(
    w: number, g: number, m: number, v: number, wOut: number, mOut: number, vOut: number, n: number,
    beta1: number, oneMinusBeta1: number, beta2: number, oneMinusBeta2: number,
    oneMinusAccBeta1: number, oneMinusAccBeta2: number, epsilon: number, negLr: number,
  ): void;
}

type Arity<K extends keyof SimdKernels> = Parameters<SimdKernels[K]>['length'];

/**
 * Every kernel's parameter count, checked against SimdKernels by the compiler (a missing or extra name, or a
 * count that differs from the signature above, is a type error) and against the compiled module's exports by
 * test/simd-exports.test.ts, so the interface cannot drift from the binary unnoticed.
 */
export const SIMD_KERNEL_ARITY = {
  reduceMiddle: 7,
  depthwiseFilterGrad: 16,
  depthwiseInputGrad: 15,
  transpose2d: 4,
  broadcastBinary: 8,
  batchNormApply: 7,
  im2col: 14,
  col2im: 14,
  pointwiseFilterGrad: 7,
  gemm: 6,
  sigmoidGrad: 4,
  swishGrad: 5,
  sumSquaredDeviation: 6,
  batchNormGradSums: 8,
  batchNormGradApply: 9,
  depthwiseConv: 15,
  depthwiseFilterGradRows: 15,
  adamUpdate: 16,
} as const satisfies { readonly [K in keyof SimdKernels]: Arity<K> };

let compiled: WebAssembly.Module | undefined;
const instances = new WeakMap<WebAssembly.Memory, SimdKernels | null>();
let enabled = true;

/** Turns the SIMD kernels off (true: back on); the kernels then use their tfjs-op compositions. For tests and comparisons. */
export function setSimdKernelsEnabled(on: boolean): void {
  enabled = on;
}

/**
 * The SIMD kernels bound to the backend's own memory (so they read and write tensors in place),
 * or undefined when they are disabled or cannot attach to it (no exported WebAssembly.Memory, or a
 * shared memory of the multi-threaded build, which this module does not import).
 */
export function simdKernels(backend: WasmBackend): SimdKernels | undefined {
  if (!enabled) return undefined;
  const memory = backend.wasm.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory)) return undefined;
  let kernels = instances.get(memory);
  if (kernels === undefined) {
    try {
      compiled ??= new WebAssembly.Module(Buffer.from(TRAINING_KERNELS_WASM_BASE64, 'base64'));
      kernels = new WebAssembly.Instance(compiled, { env: { memory } }).exports as unknown as SimdKernels;
    } catch {
      kernels = null;
    }
    instances.set(memory, kernels);
  }
  return kernels ?? undefined;
}
