import { Tile, type KernelConfig, type KernelFunc, type TensorInfo, type TileAttrs } from '@tensorflow/tfjs-core';
import { asWasmBackend, sizeOf, type WasmBackend } from './heap.js';

/**
 * Tile by block copies that double in size (memmove speed). The stock kernel walks every output
 * element; the batchnorm gradient tiles [1, 1, 1, C] to the full activation shape on every layer.
 */
export function makeTileConfig(stock: KernelConfig | undefined): KernelConfig {
  const fallback = stock?.kernelFunc;
  const tile = (args: Parameters<KernelFunc>[0]) => {
    const { x } = args.inputs as { x: TensorInfo };
    const { reps } = args.attrs as unknown as TileAttrs;
    if (x.dtype !== 'float32' && x.dtype !== 'int32') {
      if (fallback === undefined) throw new Error(`Tile on wasm: dtype '${x.dtype}' is not supported (allowed: float32, int32)`);
      return fallback(args);
    }
    return tileWords(asWasmBackend(args.backend), x, reps);
  };
  return { kernelName: Tile, backendName: 'wasm', kernelFunc: tile as KernelFunc, ...(stock?.setupFunc ? { setupFunc: stock.setupFunc } : {}) };
}


function tileWords(backend: WasmBackend, x: TensorInfo, reps: number[]): TensorInfo {
  const shape = x.shape;
  const rank = shape.length;
  if (reps.length !== rank) throw new Error(`Tile on wasm: ${reps.length} reps for a rank-${rank} tensor (allowed: one per axis)`);
  const outShape = shape.map((d, i) => d * reps[i]);
  const out = backend.makeOutput(outShape, x.dtype);
  if (sizeOf(outShape) === 0) return out;
  // Copy raw 32-bit words: float32 and int32 alike.
  const heap = new Int32Array(backend.wasm.HEAPU8.buffer);
  const src0 = backend.dataIdMap.get(x.dataId).memoryOffset >>> 2;
  const dst0 = backend.dataIdMap.get(out.dataId).memoryOffset >>> 2;
  const inStride = new Array<number>(rank);
  const outBlock = new Array<number>(rank + 1);
  inStride[rank - 1] = 1;
  outBlock[rank] = 1;
  for (let d = rank - 1; d >= 0; d--) {
    if (d < rank - 1) inStride[d] = inStride[d + 1] * shape[d + 1];
    outBlock[d] = outBlock[d + 1] * outShape[d];
  }
  // Writes the tile of x[...] at axis d into dst and returns; axes below d are already expanded.
  const fill = (d: number, src: number, dst: number): void => {
    const len = shape[d] * outBlock[d + 1];
    if (d === rank - 1) {
      heap.copyWithin(dst, src, src + shape[d]);
    } else {
      for (let i = 0; i < shape[d]; i++) fill(d + 1, src + i * inStride[d], dst + i * outBlock[d + 1]);
    }
    for (let done = 1; done < reps[d]; ) {
      const n = Math.min(done, reps[d] - done);
      heap.copyWithin(dst + done * len, dst, dst + n * len);
      done += n;
    }
  };
  fill(0, src0, dst0);
  return out;
}
