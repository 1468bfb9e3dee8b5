import { setFlagsFromString } from 'node:v8';
import { TRAINING_KERNELS_RELAXED_WASM_BASE64, TRAINING_KERNELS_WASM_BASE64 } from './simd-binary.js';
import type { WasmBackend } from './heap.js';

/** [n, h, w, c, oh, ow, kh, kw, sh, sw, padTop, padLeft] of a convolution, as the kernels take it. */
export type PatchGeometry = [number, number, number, number, number, number, number, number, number, number, number, number];

/** The AssemblyScript kernels of kernels/assembly/training.ts; pointers are byte offsets in the backend's heap. */
export interface SimdKernels {
  reduceMiddle(src: number, dst: number, scratch: number, outer: number, mid: number, inner: number, scale: number): void;
  depthwiseFilterGrad(x: number, dy: number, df: number, scratch: number, ...g: PatchGeometry): void;
  depthwiseInputGradGather(dy: number, f: number, dx: number, ...g: PatchGeometry): void;
  transpose2d(src: number, dst: number, rows: number, cols: number): void;
  broadcastBinary(full: number, small: number, out: number, outer: number, mid: number, inner: number, op: number, swap: number): void;
  batchNormApply(x: number, mean: number, a: number, offset: number, y: number, rows: number, c: number): void;
  im2col(x: number, cols: number, ...g: PatchGeometry): void;
  col2im(cols: number, dx: number, ...g: PatchGeometry): void;
  pointwiseFilterGrad(x: number, dy: number, df: number, scratch: number, m: number, ci: number, co: number): void;
  gemm(a: number, b: number, c: number, m: number, k: number, n: number): void;
  sigmoidGrad(dy: number, y: number, dx: number, n: number): void;
  swishGrad(dy: number, x: number, s: number, dx: number, n: number): void;
  swishForward(x: number, y: number, s: number, n: number): void;
  exciteGrad(dy: number, x: number, se: number, dx: number, dse: number, scratch: number, n: number, hw: number, c: number): void;
  batchNormSwishApply(x: number, mean: number, a: number, offset: number, out: number, s: number, rows: number, c: number): void;
  batchNormSwishGradSums(
    dy: number, x: number, mean: number, a: number, offset: number, s: number, sumG: number, sumGXmu: number, scratch: number, rows: number, c: number,
  ): void;
  batchNormSwishGradApply(
    dy: number, x: number, mean: number, a: number, offset: number, s: number, ga: number, gb: number, gk: number, dx: number, rows: number, c: number,
  ): void;
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
  /** 1 when the convolution kernels' multiply-add rounds once (relaxed SIMD on a CPU with FMA), else 0. */
  maddIsFused(): number;
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
  depthwiseInputGradGather: 15,
  transpose2d: 4,
  broadcastBinary: 8,
  batchNormApply: 7,
  im2col: 14,
  col2im: 14,
  pointwiseFilterGrad: 7,
  gemm: 6,
  sigmoidGrad: 4,
  swishGrad: 5,
  swishForward: 4,
  exciteGrad: 9,
  batchNormSwishApply: 8,
  batchNormSwishGradSums: 11,
  batchNormSwishGradApply: 12,
  sumSquaredDeviation: 6,
  batchNormGradSums: 8,
  batchNormGradApply: 9,
  depthwiseConv: 15,
  depthwiseFilterGradRows: 15,
  adamUpdate: 16,
  maddIsFused: 0,
} as const satisfies { readonly [K in keyof SimdKernels]: Arity<K> };

/**
 * Which build of the kernels runs: 'relaxed-simd' accumulates the convolutions with f32x4.relaxed_madd (one hardware
 * fused multiply-add on x86 CPUs with FMA: 1x1 convolutions ~25% faster on an Intel Xeon), 'simd' with a multiply and
 * an add (the same bits on every CPU). 'auto' (the default) takes relaxed-simd where the runtime compiles it.
 */
export const SIMD_VARIANT_REQUESTS = ['auto', 'relaxed-simd', 'simd'] as const;
export type SimdVariantRequest = (typeof SIMD_VARIANT_REQUESTS)[number];

/** What runs, for run records: relaxed results differ from plain ones in the last bits (one rounding, not two). */
export interface SimdKernelsInfo {
  variant: 'relaxed-simd' | 'simd';
  /** True when the multiply-adds are fused on this CPU (relaxed SIMD may also lower to a multiply and an add). */
  fusedMultiplyAdd: boolean;
}

let request: SimdVariantRequest = 'auto';
let compiled: { variant: SimdKernelsInfo['variant']; module: WebAssembly.Module } | undefined;
let instances = new WeakMap<WebAssembly.Memory, SimdKernels | null>();
let enabled = true;

/** Turns the SIMD kernels off (true: back on); the kernels then use their tfjs-op compositions. For tests and comparisons. */
export function setSimdKernelsEnabled(on: boolean): void {
  enabled = on;
}

/**
 * Chooses the build of the SIMD kernels (see SimdVariantRequest); takes effect for kernels bound from now on.
 * 'relaxed-simd' where the runtime cannot compile it falls back to 'simd'.
 */
export function setSimdVariant(variant: SimdVariantRequest): void {
  if (variant === request) return;
  request = variant;
  compiled = undefined;
  instances = new WeakMap();
}

function relaxedSimdCompiles(bytes: Buffer<ArrayBuffer>): boolean {
  if (WebAssembly.validate(bytes)) return true;
  // Node 20 (V8 11.3) compiles relaxed SIMD behind a flag, which takes effect for modules compiled after it is set.
  try {
    setFlagsFromString('--experimental-wasm-relaxed-simd');
  } catch {
    return false;
  }
  return WebAssembly.validate(bytes);
}

function compile(): NonNullable<typeof compiled> {
  if (request !== 'simd') {
    const relaxed = Buffer.from(TRAINING_KERNELS_RELAXED_WASM_BASE64, 'base64');
    if (relaxedSimdCompiles(relaxed)) return { variant: 'relaxed-simd', module: new WebAssembly.Module(relaxed) };
  }
  return { variant: 'simd', module: new WebAssembly.Module(Buffer.from(TRAINING_KERNELS_WASM_BASE64, 'base64')) };
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
      compiled ??= compile();
      kernels = new WebAssembly.Instance(compiled.module, { env: { memory } }).exports as unknown as SimdKernels;
    } catch {
      kernels = null;
    }
    instances.set(memory, kernels);
  }
  return kernels ?? undefined;
}

/** The build of the SIMD kernels bound to this backend, or undefined when none is (disabled, or no memory to attach to). */
export function simdKernelsInfo(backend: WasmBackend): SimdKernelsInfo | undefined {
  const kernels = simdKernels(backend);
  if (kernels === undefined || compiled === undefined) return undefined;
  return { variant: compiled.variant, fusedMultiplyAdd: kernels.maddIsFused() === 1 };
}
