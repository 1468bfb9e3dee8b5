import type { TensorInfo } from '@tensorflow/tfjs-core';
import { f32Offset, heapF32, sizeOf, type WasmBackend } from './heap.js';
import { simdKernels } from './simd.js';

/** Drops size-1 axes and merges axes that stay adjacent and in order, so a permutation runs at the lowest rank. */
export function collapsePermutation(shape: readonly number[], perm: readonly number[]): { shape: number[]; perm: number[] } {
  const kept: number[] = [];
  const newIndex = new Map<number, number>();
  shape.forEach((d, a) => {
    if (d !== 1) {
      newIndex.set(a, kept.length);
      kept.push(d);
    }
  });
  const p = perm.filter((a) => shape[a] !== 1).map((a) => newIndex.get(a) as number);
  const groups: number[][] = [];
  for (const a of p) {
    const last = groups[groups.length - 1];
    if (last !== undefined && last[last.length - 1] === a - 1) last.push(a);
    else groups.push([a]);
  }
  const order = groups.map((g, outPos) => ({ first: g[0], size: g.reduce((s, a) => s * kept[a], 1), outPos }));
  const sorted = [...order].sort((u, v) => u.first - v.first);
  const inPos = new Map(sorted.map((g, i) => [g.outPos, i]));
  return { shape: sorted.map((g) => g.size), perm: order.map((g) => inPos.get(g.outPos) as number) };
}

/** out = transpose(x, perm) computed in place on the wasm heap (float32). */
export function permute(backend: WasmBackend, x: TensorInfo, perm: readonly number[]): TensorInfo {
  const outShape = perm.map((a) => x.shape[a]);
  const out = backend.makeOutput(outShape, 'float32');
  permuteInto(backend, x, perm, f32Offset(backend, out));
  return out;
}

function permuteInto(backend: WasmBackend, x: TensorInfo, perm: readonly number[], dst: number): void {
  const heap = heapF32(backend);
  const src = f32Offset(backend, x);
  const n = sizeOf(x.shape);
  const c = collapsePermutation(x.shape, perm);
  const rank = c.shape.length;
  if (rank <= 1) {
    heap.copyWithin(dst, src, src + n);
    return;
  }
  if (rank === 2) {
    const simd = simdKernels(backend);
    if (simd !== undefined) simd.transpose2d(src * 4, dst * 4, c.shape[0], c.shape[1]);
    else transpose2d(heap, src, dst, c.shape[0], c.shape[1]);
    return;
  }
  if (c.perm[rank - 1] === rank - 1) {
    copyBlocks(heap, src, dst, c.shape, c.perm);
    return;
  }
  gather(heap, src, dst, c.shape, c.perm);
}

/** [rows, cols] -> [cols, rows] in cache-sized tiles. */
export function transpose2d(heap: Float32Array, src: number, dst: number, rows: number, cols: number): void {
  const T = 32;
  for (let r0 = 0; r0 < rows; r0 += T) {
    const r1 = Math.min(r0 + T, rows);
    for (let c0 = 0; c0 < cols; c0 += T) {
      const c1 = Math.min(c0 + T, cols);
      for (let c = c0; c < c1; c++) {
        let o = dst + c * rows + r0;
        let i = src + r0 * cols + c;
        for (let r = r0; r < r1; r++) {
          heap[o++] = heap[i];
          i += cols;
        }
      }
    }
  }
}

function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

// The innermost axis stays innermost: copy contiguous runs.
function copyBlocks(heap: Float32Array, src: number, dst: number, shape: number[], perm: number[]): void {
  const rank = shape.length;
  const block = shape[rank - 1];
  const inStr = stridesOf(shape);
  const outShape = perm.map((a) => shape[a]);
  const outer = outShape.slice(0, rank - 1);
  const srcStr = perm.slice(0, rank - 1).map((a) => inStr[a]);
  const idx = new Array<number>(outer.length).fill(0);
  const total = sizeOf(outer);
  let o = dst;
  let i = src;
  for (let k = 0; k < total; k++) {
    if (block >= 16) heap.copyWithin(o, i, i + block);
    else for (let j = 0; j < block; j++) heap[o + j] = heap[i + j];
    o += block;
    i += advance(idx, outer, srcStr);
  }
}

/** Step a row-major index over `outer` by one; returns how far the source offset moves. */
function advance(idx: number[], outer: number[], srcStr: number[]): number {
  let delta = 0;
  for (let d = outer.length - 1; d >= 0; d--) {
    idx[d]++;
    delta += srcStr[d];
    if (idx[d] < outer[d]) break;
    delta -= srcStr[d] * outer[d];
    idx[d] = 0;
  }
  return delta;
}

// General case: walk the output in order, reading the input with strides.
function gather(heap: Float32Array, src: number, dst: number, shape: number[], perm: number[]): void {
  const rank = shape.length;
  const inStr = stridesOf(shape);
  const outShape = perm.map((a) => shape[a]);
  const srcStr = perm.map((a) => inStr[a]);
  const inner = outShape[rank - 1];
  const innerStr = srcStr[rank - 1];
  const outer = outShape.slice(0, rank - 1);
  const idx = new Array<number>(outer.length).fill(0);
  const total = sizeOf(outer);
  let o = dst;
  let i = src;
  for (let k = 0; k < total; k++) {
    let p = i;
    for (let j = 0; j < inner; j++) {
      heap[o++] = heap[p];
      p += innerStr;
    }
    i += advance(idx, outer, srcStr);
  }
}

/**
 * Spreads x [N, H, W, C] into a zeroed [N, outH, outW, C] buffer at rows top + h * stride and
 * columns left + w * stride: the zero-inserted, padded gradient of a strided convolution.
 */
export function dilateAndPad(
  backend: WasmBackend,
  x: TensorInfo,
  stride: [number, number],
  top: number,
  left: number,
  outH: number,
  outW: number,
): TensorInfo {
  const [n, h, w, c] = x.shape;
  const out = backend.makeOutput([n, outH, outW, c], 'float32');
  const heap = heapF32(backend);
  const dst = f32Offset(backend, out);
  let src = f32Offset(backend, x);
  heap.fill(0, dst, dst + n * outH * outW * c);
  const [sh, sw] = stride;
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < h; i++) {
      let o = dst + ((b * outH + top + i * sh) * outW + left) * c;
      for (let j = 0; j < w; j++) {
        if (c >= 16) heap.copyWithin(o, src, src + c);
        else for (let k = 0; k < c; k++) heap[o + k] = heap[src + k];
        src += c;
        o += sw * c;
      }
    }
  }
  return out;
}
