import {
  Add, backend_util, Multiply, RealDiv, Sub,
  type KernelConfig, type KernelFunc, type TensorInfo,
} from '@tensorflow/tfjs-core';
import { asWasmBackend, bytePtr, f32Offset, heapF32, sizeOf, type WasmBackend } from './heap.js';
import { simdKernels } from './simd.js';

const OPS = { [Multiply]: 0, [Add]: 1, [Sub]: 2, [RealDiv]: 3 } as const;
export type BroadcastOp = keyof typeof OPS;
export const BROADCAST_OPS = Object.keys(OPS) as BroadcastOp[];

/**
 * [outer, mid, inner] when `small` broadcasts against `full` as small[outer, 1, inner] (leading
 * or middle axes of size 1: a per-channel vector, a per-sample-and-channel SE scale, a scalar);
 * null for equal shapes and other patterns.
 */
export function broadcastSplit(full: readonly number[], small: readonly number[]): [number, number, number] | null {
  if (small.length > full.length) return null;
  const padded = [...new Array<number>(full.length - small.length).fill(1), ...small];
  const runs: { kind: 'F' | 'B'; size: number }[] = [];
  for (let d = 0; d < full.length; d++) {
    if (full[d] === 1) {
      if (padded[d] !== 1) return null;
      continue;
    }
    const kind = padded[d] === full[d] ? 'F' : padded[d] === 1 ? 'B' : null;
    if (kind === null) return null;
    const last = runs[runs.length - 1];
    if (last?.kind === kind) last.size *= full[d];
    else runs.push({ kind, size: full[d] });
  }
  const pattern = runs.map((r) => r.kind).join('');
  const s = runs.map((r) => r.size);
  switch (pattern) {
    case 'B': return [1, s[0], 1];
    case 'BF': return [1, s[0], s[1]];
    case 'FB': return [s[0], s[1], 1];
    case 'FBF': return [s[0], s[1], s[2]];
    default: return null;
  }
}

// tfjs-layers' swish computes sigmoid(x * 1) * x; multiplying by exactly 1 returns x bit for bit.
function isScalarOne(backend: WasmBackend, t: TensorInfo): boolean {
  return sizeOf(t.shape) === 1 && heapF32(backend)[f32Offset(backend, t)] === 1;
}

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * Multiply / Add / Sub / RealDiv where one float32 operand broadcasts along leading or middle axes:
 * the stock kernels index every element through a generic broadcast loop (5-10 ns per element).
 */
export function makeBroadcastConfig(op: BroadcastOp, stock: KernelConfig | undefined): KernelConfig {
  const code = OPS[op];
  const binary = (args: Parameters<KernelFunc>[0]) => {
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const backend = asWasmBackend(args.backend);
    const simd = a.dtype === 'float32' && b.dtype === 'float32' && !sameShape(a.shape, b.shape) ? simdKernels(backend) : undefined;
    if (simd !== undefined) {
      const outShape = backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
      const aFull = sameShape(a.shape, outShape);
      const full = aFull ? a : sameShape(b.shape, outShape) ? b : undefined;
      const small = aFull ? b : a;
      const split = full === undefined ? null : broadcastSplit(outShape, small.shape);
      if (full !== undefined && code === OPS[Multiply] && isScalarOne(backend, small)) {
        backend.incRef(full.dataId);
        return { dataId: full.dataId, shape: full.shape, dtype: full.dtype };
      }
      if (full !== undefined && split !== null && sizeOf(outShape) > 0) {
        const out = backend.makeOutput(outShape, 'float32');
        simd.broadcastBinary(bytePtr(backend, full), bytePtr(backend, small), bytePtr(backend, out), split[0], split[1], split[2], code, aFull ? 0 : 1);
        return out;
      }
    }
    if (stock === undefined) throw new Error(`${op} on wasm: no stock kernel for shapes [${a.shape}] and [${b.shape}]`);
    return stock.kernelFunc(args);
  };
  return {
    kernelName: op, backendName: 'wasm', kernelFunc: binary as KernelFunc,
    ...(stock?.setupFunc ? { setupFunc: stock.setupFunc } : {}),
  };
}

