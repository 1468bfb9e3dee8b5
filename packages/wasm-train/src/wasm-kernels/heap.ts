import { backend as currentBackend, getBackend, getKernel, type DataType, type NamedAttrMap, type NamedTensorInfoMap, type TensorInfo } from '@tensorflow/tfjs-core';
import { simdKernels } from './simd.js';

/** The parts of tfjs-backend-wasm's BackendWasm (4.22) that the custom kernels use. */
export interface WasmBackend {
  wasm: {
    HEAPF32: Float32Array;
    HEAPU8: Uint8Array;
    asm?: { memory?: WebAssembly.Memory };
  };
  dataIdMap: { get(dataId: object): { id: number; memoryOffset: number } };
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
  incRef(dataId: object): void;
}

export function asWasmBackend(backend: unknown): WasmBackend {
  return backend as WasmBackend;
}

/**
 * Whether the wasm-only kernel `kernel` runs these tensors now: the wasm backend is current, every tensor is float32,
 * the kernel is registered and the SIMD module is attached. Ops take their tfjs composition otherwise.
 */
export function wasmKernelRuns(kernel: string, ...tensors: { dtype: DataType }[]): boolean {
  return getBackend() === 'wasm' && tensors.every((t) => t.dtype === 'float32') && getKernel(kernel, 'wasm') !== undefined &&
    simdKernels(asWasmBackend(currentBackend())) !== undefined;
}

/** Byte offset of a tensor in the wasm heap. */
export function bytePtr(backend: WasmBackend, t: TensorInfo): number {
  return backend.dataIdMap.get(t.dataId).memoryOffset >>> 0;
}

/** Float offset of a tensor in the wasm heap (HEAPF32 index). */
export function f32Offset(backend: WasmBackend, t: TensorInfo): number {
  return backend.dataIdMap.get(t.dataId).memoryOffset >>> 2;
}

/**
 * The current float view of the wasm heap. Any allocation may grow the memory and detach
 * earlier views, so fetch it again after every makeOutput or kernel call.
 */
export function heapF32(backend: WasmBackend): Float32Array {
  return backend.wasm.HEAPF32;
}

/** Runs a kernel registered for the wasm backend directly, without the engine's bookkeeping. */
export function runWasmKernel(
  backend: WasmBackend,
  kernelName: string,
  inputs: NamedTensorInfoMap,
  attrs: NamedAttrMap = {},
): TensorInfo {
  const kernel = getKernel(kernelName, 'wasm');
  if (kernel === undefined) throw new Error(`wasm backend has no ${kernelName} kernel`);
  const out = kernel.kernelFunc({ inputs, attrs, backend: backend as never });
  if (Array.isArray(out)) throw new Error(`${kernelName} returned several outputs; one was expected`);
  return out;
}

/** The same data seen with another shape (no copy, no reference count: dispose only the original). */
export function withShape(t: TensorInfo, shape: number[]): TensorInfo {
  return { dataId: t.dataId, shape, dtype: t.dtype };
}

export function disposeInfos(backend: WasmBackend, ...infos: TensorInfo[]): void {
  for (const t of infos) backend.disposeData(t.dataId);
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
