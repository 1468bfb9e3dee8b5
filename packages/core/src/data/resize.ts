import { DataError } from './errors.js';
/**
 * Bilinear resampling as tf.image.resize(method='bilinear', antialias=false) does it: half-pixel centres,
 * align_corners=false, source coordinates clamped to the edge.
 *
 * Each output row/column reads two source taps (i0, i1: offsets already multiplied by the axis stride) with
 * weights (w0, w1). Augmentation remaps the taps; a tap that falls outside the image gets weight 0, which is
 * exactly zero padding, so the kernels never branch and read the uint8 pixels in place.
 */

export interface AxisTaps {
  i0: Int32Array;
  i1: Int32Array;
  w0: Float32Array;
  w1: Float32Array;
}

export function allocTaps(outSize: number): AxisTaps {
  return { i0: new Int32Array(outSize), i1: new Int32Array(outSize), w0: new Float32Array(outSize), w1: new Float32Array(outSize) };
}

/**
 * Taps for resizing an axis of `inSize` to `outSize` after mirroring it (flip) and translating it by `shift`
 * pixels with zero fill (= a random crop of the zero-padded image).
 */
export function axisTaps(
  inSize: number,
  outSize: number,
  stride: number,
  shift = 0,
  flip = false,
  into: AxisTaps = allocTaps(outSize),
): AxisTaps {
  const scale = inSize / outSize;
  const { i0, i1, w0, w1 } = into;
  for (let o = 0; o < outSize; o++) {
    const src = (o + 0.5) * scale - 0.5;
    const f = Math.floor(src);
    const frac = src - f;
    let a = Math.max(f, 0) - shift;
    let b = Math.min(Math.ceil(src), inSize - 1) - shift;
    let wa = 1 - frac;
    let wb = frac;
    if (a < 0 || a >= inSize) (a = 0), (wa = 0);
    else if (flip) a = inSize - 1 - a;
    if (b < 0 || b >= inSize) (b = 0), (wb = 0);
    else if (flip) b = inSize - 1 - b;
    i0[o] = a * stride;
    i1[o] = b * stride;
    w0[o] = wa;
    w1[o] = wb;
  }
  return into;
}

type Pixels = Uint8Array | Float32Array;

/** One channel in, `outC` (1 or 3) out; value v is written as v * scale[k] + bias[k]. */
export function resample1(
  src: Pixels, base: number, rows: AxisTaps, cols: AxisTaps,
  out: Float32Array, p: number, outC: number, scale: Float32Array, bias: Float32Array,
): void {
  const { i0: ri0, i1: ri1, w0: rw0, w1: rw1 } = rows;
  const { i0: ci0, i1: ci1, w0: cw0, w1: cw1 } = cols;
  const outH = ri0.length, outW = ci0.length;
  if (outC === 1) {
    const s0 = scale[0], b0 = bias[0];
    for (let oy = 0; oy < outH; oy++) {
      const r0 = base + ri0[oy], r1 = base + ri1[oy], wy0 = rw0[oy] * s0, wy1 = rw1[oy] * s0;
      for (let ox = 0; ox < outW; ox++) {
        const c0 = ci0[ox], c1 = ci1[ox], wx0 = cw0[ox], wx1 = cw1[ox];
        out[p++] = (src[r0 + c0] * wx0 + src[r0 + c1] * wx1) * wy0 + (src[r1 + c0] * wx0 + src[r1 + c1] * wx1) * wy1 + b0;
      }
    }
    return;
  }
  const s0 = scale[0], s1 = scale[1], s2 = scale[2], b0 = bias[0], b1 = bias[1], b2 = bias[2];
  for (let oy = 0; oy < outH; oy++) {
    const r0 = base + ri0[oy], r1 = base + ri1[oy], wy0 = rw0[oy], wy1 = rw1[oy];
    for (let ox = 0; ox < outW; ox++) {
      const c0 = ci0[ox], c1 = ci1[ox], wx0 = cw0[ox], wx1 = cw1[ox];
      const v = (src[r0 + c0] * wx0 + src[r0 + c1] * wx1) * wy0 + (src[r1 + c0] * wx0 + src[r1 + c1] * wx1) * wy1;
      out[p++] = v * s0 + b0;
      out[p++] = v * s1 + b1;
      out[p++] = v * s2 + b2;
    }
  }
}

/** `c` interleaved channels in and out. */
export function resampleC(
  src: Pixels, base: number, c: number, rows: AxisTaps, cols: AxisTaps,
  out: Float32Array, p: number, scale: Float32Array, bias: Float32Array,
): void {
  const { i0: ri0, i1: ri1, w0: rw0, w1: rw1 } = rows;
  const { i0: ci0, i1: ci1, w0: cw0, w1: cw1 } = cols;
  const outH = ri0.length, outW = ci0.length;
  if (c === 3) {
    const s0 = scale[0], s1 = scale[1], s2 = scale[2], b0 = bias[0], b1 = bias[1], b2 = bias[2];
    for (let oy = 0; oy < outH; oy++) {
      const r0 = base + ri0[oy], r1 = base + ri1[oy], wy0 = rw0[oy], wy1 = rw1[oy];
      for (let ox = 0; ox < outW; ox++) {
        const c0 = ci0[ox], c1 = ci1[ox];
        const w00 = cw0[ox] * wy0, w01 = cw1[ox] * wy0, w10 = cw0[ox] * wy1, w11 = cw1[ox] * wy1;
        const a = r0 + c0, b = r0 + c1, d = r1 + c0, e = r1 + c1;
        out[p++] = (src[a] * w00 + src[b] * w01 + src[d] * w10 + src[e] * w11) * s0 + b0;
        out[p++] = (src[a + 1] * w00 + src[b + 1] * w01 + src[d + 1] * w10 + src[e + 1] * w11) * s1 + b1;
        out[p++] = (src[a + 2] * w00 + src[b + 2] * w01 + src[d + 2] * w10 + src[e + 2] * w11) * s2 + b2;
      }
    }
    return;
  }
  for (let oy = 0; oy < outH; oy++) {
    const r0 = base + ri0[oy], r1 = base + ri1[oy], wy0 = rw0[oy], wy1 = rw1[oy];
    for (let ox = 0; ox < outW; ox++) {
      const c0 = ci0[ox], c1 = ci1[ox], wx0 = cw0[ox], wx1 = cw1[ox];
      for (let k = 0; k < c; k++) {
        const v = (src[r0 + c0 + k] * wx0 + src[r0 + c1 + k] * wx1) * wy0 + (src[r1 + c0 + k] * wx0 + src[r1 + c1 + k] * wx1) * wy1;
        out[p++] = v * scale[k] + bias[k];
      }
    }
  }
}

/** Resize one HWC image to outH x outW, values unchanged in scale. */
export function resizeBilinear(
  src: Uint8Array | Float32Array,
  height: number,
  width: number,
  channels: number,
  outH: number,
  outW: number,
): Float32Array {
  if (src.length !== height * width * channels) {
    throw new DataError(`resizeBilinear: ${src.length} values do not make a ${height}x${width}x${channels} image`);
  }
  for (const [n, v] of [['height', height], ['width', width], ['channels', channels], ['outH', outH], ['outW', outW]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new DataError(`resizeBilinear: ${n} must be a positive integer, got ${v}`);
  }
  const rows = axisTaps(height, outH, width * channels);
  const cols = axisTaps(width, outW, channels);
  const out = new Float32Array(outH * outW * channels);
  const ones = new Float32Array(channels).fill(1);
  const zeros = new Float32Array(channels);
  if (channels === 1) resample1(src, 0, rows, cols, out, 0, 1, ones, zeros);
  else resampleC(src, 0, channels, rows, cols, out, 0, ones, zeros);
  return out;
}
