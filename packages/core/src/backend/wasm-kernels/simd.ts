import { TRAINING_KERNELS_WASM_BASE64 } from './simd-binary.js';
import type { WasmBackend } from './heap.js';

/** The AssemblyScript kernels of kernels/assembly/training.ts; every argument is a byte offset or a size. */
export interface SimdKernels {
  reduceMiddle(src: number, dst: number, scratch: number, outer: number, mid: number, inner: number, scale: number): void;
  depthwiseFilterGrad(
    x: number, dy: number, df: number, scratch: number,
    n: number, h: number, w: number, c: number, oh: number, ow: number, kh: number, kw: number,
    sh: number, sw: number, pt: number, pl: number,
  ): void;
  depthwiseInputGrad(
    dy: number, f: number, dx: number,
    n: number, h: number, w: number, c: number, oh: number, ow: number, kh: number, kw: number,
    sh: number, sw: number, pt: number, pl: number,
  ): void;
  transpose2d(src: number, dst: number, rows: number, cols: number): void;
  pointwiseFilterGrad(x: number, dy: number, df: number, scratch: number, m: number, ci: number, co: number): void;
}

let compiled: WebAssembly.Module | undefined;
const instances = new WeakMap<WebAssembly.Memory, SimdKernels>();

/**
 * The SIMD kernels bound to the backend's own memory (so they read and write tensors in place),
 * or undefined when the backend does not expose its WebAssembly.Memory.
 */
export function simdKernels(backend: WasmBackend): SimdKernels | undefined {
  const memory = backend.wasm.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory)) return undefined;
  let kernels = instances.get(memory);
  if (kernels === undefined) {
    compiled ??= new WebAssembly.Module(Buffer.from(TRAINING_KERNELS_WASM_BASE64, 'base64'));
    kernels = new WebAssembly.Instance(compiled, { env: { memory } }).exports as unknown as SimdKernels;
    instances.set(memory, kernels);
  }
  return kernels;
}
