// AssemblyScript SIMD kernels for training on tfjs-backend-wasm. The module imports the backend's
// memory: every pointer is a byte offset of a tensor (or scratch tensor) in that heap. No data
// segments, no allocation: the module never writes outside the ranges it is given.


// a * b + c, fused (one rounding) in the relaxed-SIMD build where the CPU has FMA, else multiply then add
// (the plain build: the same bits as c + a * b). Used by the convolution kernels only: the batchnorm,
// swish and Adam kernels keep tfjs-core's operation order exactly.
// @ts-ignore: decorator
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

// 1 when madd rounds once (a relaxed-SIMD build on a CPU with FMA), 0 when it rounds twice: with
// a = b = 1 + 2^-23 and c = -(1 + 2^-22), a * b rounds to -c, so only a fused madd leaves 2^-46.
export function maddIsFused(): i32 {
  const a = f32x4.splat(reinterpret<f32>(0x3f800001));
  const c = f32x4.splat(-reinterpret<f32>(0x3f800002));
  return f32x4.extract_lane(madd(a, a, c), 0) != 0 ? 1 : 0;
}

// dst[o, i] = scale * sum over m of src[o, m, i]; rows are summed in blocks of 64 into `scratch`
// (inner floats) to keep float32 rounding error low.
export function reduceMiddle(src: usize, dst: usize, scratch: usize, outer: i32, mid: i32, inner: i32, scale: f32): void {
  const row = <usize>inner << 2;
  for (let o = 0; o < outer; o++) {
    const d = dst + <usize>o * row;
    let s = src + <usize>o * <usize>mid * row;
    memory.fill(d, 0, row);
    for (let m0 = 0; m0 < mid; m0 += 64) {
      const m1 = min(m0 + 64, mid);
      memory.copy(scratch, s, row);
      s += row;
      for (let m = m0 + 1; m < m1; m++) {
        addInto(scratch, s, inner);
        s += row;
      }
      addInto(d, scratch, inner);
    }
    if (scale != 1) scaleInPlace(d, inner, scale);
  }
}

// a[i] += b[i]
function addInto(a: usize, b: usize, n: i32): void {
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const off = <usize>i << 2;
    v128.store(a + off, f32x4.add(v128.load(a + off), v128.load(b + off)));
  }
  for (; i < n; i++) {
    const off = <usize>i << 2;
    store<f32>(a + off, load<f32>(a + off) + load<f32>(b + off));
  }
}

// a[i] += b[i] * c[i]
function fmaInto(a: usize, b: usize, c: usize, n: i32): void {
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const off = <usize>i << 2;
    v128.store(a + off, madd(v128.load(b + off), v128.load(c + off), v128.load(a + off)));
  }
  for (; i < n; i++) {
    const off = <usize>i << 2;
    store<f32>(a + off, load<f32>(a + off) + load<f32>(b + off) * load<f32>(c + off));
  }
}

function scaleInPlace(a: usize, n: i32, s: f32): void {
  const n4 = n & ~3;
  const sv = f32x4.splat(s);
  let i = 0;
  for (; i < n4; i += 4) {
    const off = <usize>i << 2;
    v128.store(a + off, f32x4.mul(v128.load(a + off), sv));
  }
  for (; i < n; i++) {
    const off = <usize>i << 2;
    store<f32>(a + off, load<f32>(a + off) * s);
  }
}

// Depthwise filter gradient, depth multiplier 1:
// df[u, v, c] = sum over b, i, j of x[b, i*sh + u - pt, j*sw + v - pl, c] * dy[b, i, j, c].
// Each batch item accumulates into `scratch` (kh*kw*c floats) before being added to df.
export function depthwiseFilterGrad(
  x: usize, dy: usize, df: usize, scratch: usize,
  n: i32, h: i32, w: i32, c: i32, oh: i32, ow: i32, kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32,
): void {
  const taps = <usize>(kh * kw * c) << 2;
  const cb = <usize>c << 2;
  memory.fill(df, 0, taps);
  for (let b = 0; b < n; b++) {
    memory.fill(scratch, 0, taps);
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        const g = dy + <usize>((b * oh + i) * ow + j) * cb;
        for (let u = 0; u < kh; u++) {
          const ih = i * sh + u - pt;
          if (ih < 0 || ih >= h) continue;
          for (let v = 0; v < kw; v++) {
            const iw = j * sw + v - pl;
            if (iw < 0 || iw >= w) continue;
            fmaInto(scratch + <usize>(u * kw + v) * cb, x + <usize>((b * h + ih) * w + iw) * cb, g, c);
          }
        }
      }
    }
    addInto(df, scratch, kh * kw * c);
  }
}

// [rows, cols] -> [cols, rows] in 32x32 tiles.
export function transpose2d(src: usize, dst: usize, rows: i32, cols: i32): void {
  const T = 32;
  for (let r0 = 0; r0 < rows; r0 += T) {
    const r1 = min(r0 + T, rows);
    for (let c0 = 0; c0 < cols; c0 += T) {
      const c1 = min(c0 + T, cols);
      for (let r = r0; r < r1; r++) {
        const s = src + (<usize>r * <usize>cols) * 4;
        for (let c = c0; c < c1; c++) {
          store<f32>(dst + (<usize>c * <usize>rows + <usize>r) * 4, load<f32>(s + (<usize>c << 2)));
        }
      }
    }
  }
}

// Pointwise (1x1) convolution filter gradient: df[ci, co] = sum over m of x[m, ci] * dy[m, co]
// for rows m of N*H*W pixels. A 4 x 8 tile of df lives in eight registers while a chunk of 256
// pixels streams through it (3 vector loads and 16 multiply-adds of 4 lanes per pixel); each
// chunk's partial sums are then added to df, which also keeps float32 rounding error low. Rows and
// columns outside whole tiles accumulate per chunk in `scratch` (ci*co floats).
export function pointwiseFilterGrad(x: usize, dy: usize, df: usize, scratch: usize, m: i32, ci: i32, co: i32): void {
  const xr = <usize>ci << 2;
  const yr = <usize>co << 2;
  const ci4 = ci & ~3;
  const co8 = co & ~7;
  memory.fill(df, 0, <usize>(ci * co) << 2);
  for (let m0 = 0; m0 < m; m0 += 256) {
    const m1 = min(m0 + 256, m);
    for (let a = 0; a < ci4; a += 4) {
      for (let b = 0; b < co8; b += 8) {
        let c00 = f32x4.splat(0); let c01 = f32x4.splat(0);
        let c10 = f32x4.splat(0); let c11 = f32x4.splat(0);
        let c20 = f32x4.splat(0); let c21 = f32x4.splat(0);
        let c30 = f32x4.splat(0); let c31 = f32x4.splat(0);
        let xp = x + <usize>m0 * xr + (<usize>a << 2);
        let yp = dy + <usize>m0 * yr + (<usize>b << 2);
        for (let p = m0; p < m1; p++) {
          const y0 = v128.load(yp);
          const y1 = v128.load(yp, 16);
          let s = v128.load32_splat(xp);
          c00 = madd(s, y0, c00); c01 = madd(s, y1, c01);
          s = v128.load32_splat(xp, 4);
          c10 = madd(s, y0, c10); c11 = madd(s, y1, c11);
          s = v128.load32_splat(xp, 8);
          c20 = madd(s, y0, c20); c21 = madd(s, y1, c21);
          s = v128.load32_splat(xp, 12);
          c30 = madd(s, y0, c30); c31 = madd(s, y1, c31);
          xp += xr;
          yp += yr;
        }
        let d = df + (<usize>(a * co + b) << 2);
        v128.store(d, f32x4.add(v128.load(d), c00)); v128.store(d, f32x4.add(v128.load(d, 16), c01), 16);
        d += yr;
        v128.store(d, f32x4.add(v128.load(d), c10)); v128.store(d, f32x4.add(v128.load(d, 16), c11), 16);
        d += yr;
        v128.store(d, f32x4.add(v128.load(d), c20)); v128.store(d, f32x4.add(v128.load(d, 16), c21), 16);
        d += yr;
        v128.store(d, f32x4.add(v128.load(d), c30)); v128.store(d, f32x4.add(v128.load(d, 16), c31), 16);
      }
    }
    // Columns past the last full tile of 8, then rows past the last full tile of 4.
    if (co8 < co) {
      for (let a = 0; a < ci4; a++) memory.fill(scratch + (<usize>(a * co + co8) << 2), 0, <usize>(co - co8) << 2);
      pointwiseEdge(x, dy, scratch, m0, m1, ci, co, 0, ci4, co8);
      for (let a = 0; a < ci4; a++) {
        const off = <usize>(a * co + co8) << 2;
        addInto(df + off, scratch + off, co - co8);
      }
    }
    if (ci4 < ci) {
      const off = <usize>(ci4 * co) << 2;
      memory.fill(scratch + off, 0, <usize>((ci - ci4) * co) << 2);
      pointwiseEdge(x, dy, scratch, m0, m1, ci, co, ci4, ci, 0);
      addInto(df + off, scratch + off, (ci - ci4) * co);
    }
  }
}

// df[a, b] += sum over pixels m0..m1 of x[p, a] * dy[p, b] for rows a0..a1 and columns b0..co.
function pointwiseEdge(x: usize, dy: usize, df: usize, m0: i32, m1: i32, ci: i32, co: i32, a0: i32, a1: i32, b0: i32): void {
  const xr = <usize>ci << 2;
  const yr = <usize>co << 2;
  for (let p = m0; p < m1; p++) {
    const xp = x + <usize>p * xr;
    const yp = dy + <usize>p * yr;
    for (let a = a0; a < a1; a++) {
      const s = load<f32>(xp + (<usize>a << 2));
      const sv = f32x4.splat(s);
      const row = df + <usize>a * yr;
      let b = b0;
      for (; b + 4 <= co; b += 4) {
        const off = <usize>b << 2;
        v128.store(row + off, madd(sv, v128.load(yp + off), v128.load(row + off)));
      }
      for (; b < co; b++) {
        const off = <usize>b << 2;
        store<f32>(row + off, load<f32>(row + off) + s * load<f32>(yp + off));
      }
    }
  }
}

// Broadcast binary op: out[o, m, i] = full[o, m, i] (op) small[o, i]; `swap` computes
// small (op) full instead. op: 0 multiply, 1 add, 2 subtract, 3 divide.
export function broadcastBinary(full: usize, small: usize, out: usize, outer: i32, mid: i32, inner: i32, op: i32, swap: i32): void {
  const code = op * 2 + (swap != 0 ? 1 : 0);
  switch (code) {
    case 0: case 1: broadcastLoop(full, small, out, outer, mid, inner, 0); break;
    case 2: case 3: broadcastLoop(full, small, out, outer, mid, inner, 1); break;
    case 4: broadcastLoop(full, small, out, outer, mid, inner, 2); break;
    case 5: broadcastLoop(full, small, out, outer, mid, inner, 3); break;
    case 6: broadcastLoop(full, small, out, outer, mid, inner, 4); break;
    case 7: broadcastLoop(full, small, out, outer, mid, inner, 5); break;
  }
}

// kind: 0 f*s, 1 f+s, 2 f-s, 3 s-f, 4 f/s, 5 s/f
@inline function vop(kind: i32, f: v128, s: v128): v128 {
  if (kind == 0) return f32x4.mul(f, s);
  if (kind == 1) return f32x4.add(f, s);
  if (kind == 2) return f32x4.sub(f, s);
  if (kind == 3) return f32x4.sub(s, f);
  if (kind == 4) return f32x4.div(f, s);
  return f32x4.div(s, f);
}

@inline function sop(kind: i32, f: f32, s: f32): f32 {
  if (kind == 0) return f * s;
  if (kind == 1) return f + s;
  if (kind == 2) return f - s;
  if (kind == 3) return s - f;
  if (kind == 4) return f / s;
  return s / f;
}

@inline function broadcastLoop(full: usize, small: usize, out: usize, outer: i32, mid: i32, inner: i32, kind: i32): void {
  const row = <usize>inner << 2;
  const inner4 = inner & ~3;
  let f = full;
  let o = out;
  if (inner == 1) {
    // One small value per (outer) row: splat it across the mid axis.
    const mid4 = mid & ~3;
    for (let a = 0; a < outer; a++) {
      const s = load<f32>(small + (<usize>a << 2));
      const sv = f32x4.splat(s);
      let m = 0;
      for (; m < mid4; m += 4) {
        v128.store(o, vop(kind, v128.load(f), sv));
        f += 16;
        o += 16;
      }
      for (; m < mid; m++) {
        store<f32>(o, sop(kind, load<f32>(f), s));
        f += 4;
        o += 4;
      }
    }
    return;
  }
  for (let a = 0; a < outer; a++) {
    const s0 = small + <usize>a * row;
    for (let m = 0; m < mid; m++) {
      let i = 0;
      for (; i < inner4; i += 4) {
        const off = <usize>i << 2;
        v128.store(o + off, vop(kind, v128.load(f + off), v128.load(s0 + off)));
      }
      for (; i < inner; i++) {
        const off = <usize>i << 2;
        store<f32>(o + off, sop(kind, load<f32>(f + off), load<f32>(s0 + off)));
      }
      f += row;
      o += row;
    }
  }
}

// Patches of x [n, h, w, c] for a kh x kw convolution: cols[(b*oh + i)*ow + j, (u*kw + v)*c + k]
// = x[b, i*sh + u - pt, j*sw + v - pl, k], zero outside the input.
export function im2col(
  x: usize, cols: usize, n: i32, h: i32, w: i32, c: i32, oh: i32, ow: i32, kh: i32, kw: i32,
  sh: i32, sw: i32, pt: i32, pl: i32,
): void {
  const cb = <usize>c << 2;
  let o = cols;
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        for (let u = 0; u < kh; u++) {
          const ih = i * sh + u - pt;
          for (let v = 0; v < kw; v++) {
            const iw = j * sw + v - pl;
            if (ih < 0 || ih >= h || iw < 0 || iw >= w) memory.fill(o, 0, cb);
            else memory.copy(o, x + <usize>((b * h + ih) * w + iw) * cb, cb);
            o += cb;
          }
        }
      }
    }
  }
}

// The adjoint of im2col: dx[b, i*sh + u - pt, j*sw + v - pl, k] += cols[(b*oh + i)*ow + j, (u*kw + v)*c + k].
export function col2im(
  cols: usize, dx: usize, n: i32, h: i32, w: i32, c: i32, oh: i32, ow: i32, kh: i32, kw: i32,
  sh: i32, sw: i32, pt: i32, pl: i32,
): void {
  const cb = <usize>c << 2;
  memory.fill(dx, 0, <usize>(n * h * w) * cb);
  let s = cols;
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        for (let u = 0; u < kh; u++) {
          const ih = i * sh + u - pt;
          for (let v = 0; v < kw; v++) {
            const iw = j * sw + v - pl;
            if (ih >= 0 && ih < h && iw >= 0 && iw < w) addInto(dx + <usize>((b * h + ih) * w + iw) * cb, s, c);
            s += cb;
          }
        }
      }
    }
  }
}

// Batchnorm inference transform per channel (last axis): y = (x - mean[k]) * a[k] + offset[k]
// with a[k] = scale[k] / sqrt(variance[k] + eps) precomputed by the caller in `a`.
export function batchNormApply(x: usize, mean: usize, a: usize, offset: usize, y: usize, rows: i32, c: i32): void {
  const row = <usize>c << 2;
  const c4 = c & ~3;
  let xs = x;
  let ys = y;
  for (let r = 0; r < rows; r++) {
    let k = 0;
    for (; k < c4; k += 4) {
      const off = <usize>k << 2;
      const d = f32x4.sub(v128.load(xs + off), v128.load(mean + off));
      v128.store(ys + off, f32x4.add(f32x4.mul(d, v128.load(a + off)), v128.load(offset + off)));
    }
    for (; k < c; k++) {
      const off = <usize>k << 2;
      store<f32>(ys + off, (load<f32>(xs + off) - load<f32>(mean + off)) * load<f32>(a + off) + load<f32>(offset + off));
    }
    xs += row;
    ys += row;
  }
}

// Row-major matrix product C[m, n] = A[m, k] * B[k, n] (1x1 convolutions and their input
// gradients). 4 x 8 tiles of C live in registers; k runs in blocks of 256 and n in panels of 256
// so a B panel (256 x 256 floats) stays in cache while every row tile streams over it.
export function gemm(a: usize, b: usize, c: usize, m: i32, k: i32, n: i32): void {
  const ar = <usize>k << 2;
  const br = <usize>n << 2;
  const m4 = m & ~3;
  const n8 = n & ~7;
  for (let n0 = 0; n0 < n8; n0 += 256) {
    const n1 = min(n0 + 256, n8);
    for (let k0 = 0; k0 < k; k0 += 256) {
      const k1 = min(k0 + 256, k);
      for (let i = 0; i < m4; i += 4) {
        for (let j = n0; j < n1; j += 8) {
          let c00 = f32x4.splat(0); let c01 = f32x4.splat(0);
          let c10 = f32x4.splat(0); let c11 = f32x4.splat(0);
          let c20 = f32x4.splat(0); let c21 = f32x4.splat(0);
          let c30 = f32x4.splat(0); let c31 = f32x4.splat(0);
          let ap = a + <usize>i * ar + (<usize>k0 << 2);
          let bp = b + <usize>k0 * br + (<usize>j << 2);
          for (let p = k0; p < k1; p++) {
            const b0 = v128.load(bp);
            const b1 = v128.load(bp, 16);
            let s = v128.load32_splat(ap);
            c00 = madd(s, b0, c00); c01 = madd(s, b1, c01);
            s = v128.load32_splat(ap + ar);
            c10 = madd(s, b0, c10); c11 = madd(s, b1, c11);
            s = v128.load32_splat(ap + 2 * ar);
            c20 = madd(s, b0, c20); c21 = madd(s, b1, c21);
            s = v128.load32_splat(ap + 3 * ar);
            c30 = madd(s, b0, c30); c31 = madd(s, b1, c31);
            ap += 4;
            bp += br;
          }
          let d = c + <usize>i * br + (<usize>j << 2);
          if (k0 > 0) {
            c00 = f32x4.add(c00, v128.load(d)); c01 = f32x4.add(c01, v128.load(d, 16));
            c10 = f32x4.add(c10, v128.load(d + br)); c11 = f32x4.add(c11, v128.load(d + br, 16));
            c20 = f32x4.add(c20, v128.load(d + 2 * br)); c21 = f32x4.add(c21, v128.load(d + 2 * br, 16));
            c30 = f32x4.add(c30, v128.load(d + 3 * br)); c31 = f32x4.add(c31, v128.load(d + 3 * br, 16));
          }
          v128.store(d, c00); v128.store(d, c01, 16);
          d += br;
          v128.store(d, c10); v128.store(d, c11, 16);
          d += br;
          v128.store(d, c20); v128.store(d, c21, 16);
          d += br;
          v128.store(d, c30); v128.store(d, c31, 16);
        }
      }
    }
  }
  // Rows past the last tile of 4 (all columns), then columns past the last tile of 8.
  gemmEdge(a, b, c, k, n, m4, m, 0, n);
  gemmEdge(a, b, c, k, n, 0, m4, n8, n);
}

function gemmEdge(a: usize, b: usize, c: usize, k: i32, n: i32, i0: i32, i1: i32, j0: i32, j1: i32): void {
  const ar = <usize>k << 2;
  const br = <usize>n << 2;
  for (let i = i0; i < i1; i++) {
    for (let j = j0; j < j1; j++) {
      let s: f32 = 0;
      let ap = a + <usize>i * ar;
      let bp = b + (<usize>j << 2);
      for (let p = 0; p < k; p++) {
        s += load<f32>(ap) * load<f32>(bp);
        ap += 4;
        bp += br;
      }
      store<f32>(c + <usize>i * br + (<usize>j << 2), s);
    }
  }
}

// Sigmoid gradient dx = dy * (y * (1 - y)), in tfjs-core's operation order (bit-identical to its
// three-op composition).
export function sigmoidGrad(dy: usize, y: usize, dx: usize, n: i32): void {
  const one = f32x4.splat(1);
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const off = <usize>i << 2;
    const s = v128.load(y + off);
    v128.store(dx + off, f32x4.mul(v128.load(dy + off), f32x4.mul(s, f32x4.sub(one, s))));
  }
  for (; i < n; i++) {
    const off = <usize>i << 2;
    const s = load<f32>(y + off);
    store<f32>(dx + off, load<f32>(dy + off) * (s * (1 - s)));
  }
}

// Swish forward: s = sigmoid(x) and y = x * s in one pass (s is kept for the gradient). exp(-|x|)
// is Cephes' expf (range reduction by ln 2 in two parts, degree-5 polynomial; ~1 ulp), so s is
// within a few ulp of 1 / (1 + exp(-x)) and never overflows: s = 1 / (1 + e) for x >= 0 and
// e / (1 + e) for x < 0, with e = exp(-|x|) in (0, 1].
export function swishForward(x: usize, y: usize, s: usize, n: i32): void {
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const off = <usize>i << 2;
    const xv = v128.load(x + off);
    const sv = sigmoid4(xv);
    v128.store(s + off, sv);
    v128.store(y + off, f32x4.mul(xv, sv));
  }
  for (; i < n; i++) {
    const off = <usize>i << 2;
    const xv = f32x4.splat(load<f32>(x + off));
    const sv = sigmoid4(xv);
    store<f32>(s + off, f32x4.extract_lane(sv, 0));
    store<f32>(y + off, f32x4.extract_lane(f32x4.mul(xv, sv), 0));
  }
}

// @ts-ignore: decorator
@inline function sigmoid4(xv: v128): v128 {
  const one = f32x4.splat(1);
  const magic = f32x4.splat(12582912.0); // 1.5 * 2^23: adding it rounds to an integer, kept in the low mantissa bits
  // z = -|x| (the sign bit set), clamped where exp(z) would leave the normal range (sigmoid is 0 or 1 there in
  // float32); pmax is one instruction, and NaN still comes through (it is the first operand of the comparison).
  // 87.33654 = -ln(2^-126).
  const z = f32x4.pmax(v128.or(xv, f32x4.splat(-0.0)), f32x4.splat(-87.33654));
  const kb = madd(z, f32x4.splat(1.44269504), magic);
  const k = f32x4.sub(kb, magic);
  const r = madd(k, f32x4.splat(2.12194440e-4), madd(k, f32x4.splat(-0.693359375), z));
  let p = madd(f32x4.splat(1.9875691500e-4), r, f32x4.splat(1.3981999507e-3));
  p = madd(p, r, f32x4.splat(8.3334519073e-3));
  p = madd(p, r, f32x4.splat(4.1665795894e-2));
  p = madd(p, r, f32x4.splat(1.6666665459e-1));
  p = madd(p, r, f32x4.splat(5.0000001201e-1));
  p = f32x4.add(madd(p, f32x4.mul(r, r), r), one);
  // p * 2^k, k in [-126, 0]: k + 127 in the exponent field (the magic number's bits above vanish in the shift).
  const e = f32x4.mul(p, i32x4.shl(i32x4.add(kb, i32x4.splat(127)), 23));
  const num = v128.bitselect(e, one, f32x4.lt(xv, f32x4.splat(0)));
  // Below the clamp the sigmoid is under float32's smallest normal: 0, as 1 / (1 + exp(-x)) gives in float32.
  return v128.andnot(f32x4.div(num, f32x4.add(one, e)), f32x4.lt(xv, f32x4.splat(-87.33654)));
}

// Per-channel sum of squared deviations: out[i] = sum over rows of (x[row, i] - mean[i])^2, rows in
// blocks of 64 through `scratch` (c floats).
export function sumSquaredDeviation(x: usize, mean: usize, out: usize, scratch: usize, rows: i32, c: i32): void {
  const row = <usize>c << 2;
  const c4 = c & ~3;
  memory.fill(out, 0, row);
  let s = x;
  for (let r0 = 0; r0 < rows; r0 += 64) {
    const r1 = min(r0 + 64, rows);
    memory.fill(scratch, 0, row);
    for (let r = r0; r < r1; r++) {
      let i = 0;
      for (; i < c4; i += 4) {
        const off = <usize>i << 2;
        const d = f32x4.sub(v128.load(s + off), v128.load(mean + off));
        v128.store(scratch + off, f32x4.add(v128.load(scratch + off), f32x4.mul(d, d)));
      }
      for (; i < c; i++) {
        const off = <usize>i << 2;
        const d = load<f32>(s + off) - load<f32>(mean + off);
        store<f32>(scratch + off, load<f32>(scratch + off) + d * d);
      }
      s += row;
    }
    addInto(out, scratch, c);
  }
}

// Per-channel sums for the batchnorm gradient: sumDy[i] = sum of dy, sumDyXmu[i] = sum of
// dy * (x - mean), rows in blocks of 64 through `scratch` (2*c floats).
export function batchNormGradSums(dy: usize, x: usize, mean: usize, sumDy: usize, sumDyXmu: usize, scratch: usize, rows: i32, c: i32): void {
  const row = <usize>c << 2;
  const c4 = c & ~3;
  const s2 = scratch + row;
  memory.fill(sumDy, 0, row);
  memory.fill(sumDyXmu, 0, row);
  let g = dy;
  let s = x;
  for (let r0 = 0; r0 < rows; r0 += 64) {
    const r1 = min(r0 + 64, rows);
    memory.fill(scratch, 0, row << 1);
    for (let r = r0; r < r1; r++) {
      let i = 0;
      for (; i < c4; i += 4) {
        const off = <usize>i << 2;
        const gv = v128.load(g + off);
        const d = f32x4.sub(v128.load(s + off), v128.load(mean + off));
        v128.store(scratch + off, f32x4.add(v128.load(scratch + off), gv));
        v128.store(s2 + off, f32x4.add(v128.load(s2 + off), f32x4.mul(gv, d)));
      }
      for (; i < c; i++) {
        const off = <usize>i << 2;
        const gv = load<f32>(g + off);
        store<f32>(scratch + off, load<f32>(scratch + off) + gv);
        store<f32>(s2 + off, load<f32>(s2 + off) + gv * (load<f32>(s + off) - load<f32>(mean + off)));
      }
      g += row;
      s += row;
    }
    addInto(sumDy, scratch, c);
    addInto(sumDyXmu, s2, c);
  }
}

// dx = dy * a[i] + (x - mean[i]) * b[i] + k[i] per channel i (the batchnorm input gradient with
// the per-channel coefficients computed by the caller).
export function batchNormGradApply(dy: usize, x: usize, mean: usize, a: usize, b: usize, k: usize, dx: usize, rows: i32, c: i32): void {
  const row = <usize>c << 2;
  const c4 = c & ~3;
  let g = dy;
  let s = x;
  let o = dx;
  for (let r = 0; r < rows; r++) {
    let i = 0;
    for (; i < c4; i += 4) {
      const off = <usize>i << 2;
      const d = f32x4.sub(v128.load(s + off), v128.load(mean + off));
      const v = f32x4.add(f32x4.add(f32x4.mul(v128.load(g + off), v128.load(a + off)), f32x4.mul(d, v128.load(b + off))), v128.load(k + off));
      v128.store(o + off, v);
    }
    for (; i < c; i++) {
      const off = <usize>i << 2;
      const d = load<f32>(s + off) - load<f32>(mean + off);
      store<f32>(o + off, load<f32>(g + off) * load<f32>(a + off) + d * load<f32>(b + off) + load<f32>(k + off));
    }
    g += row;
    s += row;
    o += row;
  }
}

// Batchnorm followed by swish (one op in training): the normalized y is never stored. y = (x - mean[k])
// * a[k] + offset[k] (batchNormApply's arithmetic, so the same bits), its sigmoid s saved for the
// gradient, out = y * s. Tails of channels go through the same vector arithmetic, one lane used.
export function batchNormSwishApply(x: usize, mean: usize, a: usize, offset: usize, out: usize, s: usize, rows: i32, c: i32): void {
  const row = <usize>c << 2;
  const c4 = c & ~3;
  let p: usize = 0;
  for (let r = 0; r < rows; r++) {
    let k = 0;
    for (; k < c4; k += 4) {
      const off = <usize>k << 2;
      const y = bnY4(v128.load(x + p + off), v128.load(mean + off), v128.load(a + off), v128.load(offset + off));
      const sv = sigmoid4(y);
      v128.store(s + p + off, sv);
      v128.store(out + p + off, f32x4.mul(y, sv));
    }
    for (; k < c; k++) {
      const off = <usize>k << 2;
      const y = bnY4(f32x4.splat(load<f32>(x + p + off)), f32x4.splat(load<f32>(mean + off)), f32x4.splat(load<f32>(a + off)), f32x4.splat(load<f32>(offset + off)));
      const sv = sigmoid4(y);
      store<f32>(s + p + off, f32x4.extract_lane(sv, 0));
      store<f32>(out + p + off, f32x4.extract_lane(f32x4.mul(y, sv), 0));
    }
    p += row;
  }
}

// @ts-ignore: decorator
@inline function bnY4(x: v128, mean: v128, a: v128, offset: v128): v128 {
  return f32x4.add(f32x4.mul(f32x4.sub(x, mean), a), offset);
}

// The gradient reaching y through swish, dy * s * (1 + y * (1 - s)) (swishGrad's arithmetic).
// @ts-ignore: decorator
@inline function swishGrad4(dy: v128, y: v128, s: v128): v128 {
  const one = f32x4.splat(1);
  return f32x4.mul(f32x4.mul(dy, s), f32x4.add(one, f32x4.mul(y, f32x4.sub(one, s))));
}

// Per-channel sums for the gradient of batchNormSwishApply: with g the gradient reaching y (y
// recomputed from x), sumG[i] = sum of g, sumGXmu[i] = sum of g * (x - mean), rows in blocks of 64
// through `scratch` (2*c floats), as batchNormGradSums sums dy.
export function batchNormSwishGradSums(
  dy: usize, x: usize, mean: usize, a: usize, offset: usize, s: usize, sumG: usize, sumGXmu: usize, scratch: usize, rows: i32, c: i32,
): void {
  const row = <usize>c << 2;
  const c4 = c & ~3;
  const s2 = scratch + row;
  memory.fill(sumG, 0, row);
  memory.fill(sumGXmu, 0, row);
  let p: usize = 0;
  for (let r0 = 0; r0 < rows; r0 += 64) {
    const r1 = min(r0 + 64, rows);
    memory.fill(scratch, 0, row << 1);
    for (let r = r0; r < r1; r++) {
      let i = 0;
      for (; i < c4; i += 4) {
        const off = <usize>i << 2;
        const mv = v128.load(mean + off);
        const xv = v128.load(x + p + off);
        const gv = swishGrad4(v128.load(dy + p + off), bnY4(xv, mv, v128.load(a + off), v128.load(offset + off)), v128.load(s + p + off));
        v128.store(scratch + off, f32x4.add(v128.load(scratch + off), gv));
        v128.store(s2 + off, f32x4.add(v128.load(s2 + off), f32x4.mul(gv, f32x4.sub(xv, mv))));
      }
      for (; i < c; i++) {
        const off = <usize>i << 2;
        const mv = f32x4.splat(load<f32>(mean + off));
        const xv = f32x4.splat(load<f32>(x + p + off));
        const y = bnY4(xv, mv, f32x4.splat(load<f32>(a + off)), f32x4.splat(load<f32>(offset + off)));
        const gv = f32x4.extract_lane(swishGrad4(f32x4.splat(load<f32>(dy + p + off)), y, f32x4.splat(load<f32>(s + p + off))), 0);
        store<f32>(scratch + off, load<f32>(scratch + off) + gv);
        store<f32>(s2 + off, load<f32>(s2 + off) + gv * (f32x4.extract_lane(xv, 0) - f32x4.extract_lane(mv, 0)));
      }
      p += row;
    }
    addInto(sumG, scratch, c);
    addInto(sumGXmu, s2, c);
  }
}

// dx = g * ga[i] + (x - mean[i]) * gb[i] + gk[i] per channel i, with g the gradient reaching y as in
// batchNormSwishGradSums (the batchnorm input gradient, coefficients computed by the caller).
export function batchNormSwishGradApply(
  dy: usize, x: usize, mean: usize, a: usize, offset: usize, s: usize, ga: usize, gb: usize, gk: usize, dx: usize, rows: i32, c: i32,
): void {
  const row = <usize>c << 2;
  const c4 = c & ~3;
  let p: usize = 0;
  for (let r = 0; r < rows; r++) {
    let i = 0;
    for (; i < c4; i += 4) {
      const off = <usize>i << 2;
      const mv = v128.load(mean + off);
      const xv = v128.load(x + p + off);
      const gv = swishGrad4(v128.load(dy + p + off), bnY4(xv, mv, v128.load(a + off), v128.load(offset + off)), v128.load(s + p + off));
      const d = f32x4.sub(xv, mv);
      v128.store(dx + p + off, f32x4.add(f32x4.add(f32x4.mul(gv, v128.load(ga + off)), f32x4.mul(d, v128.load(gb + off))), v128.load(gk + off)));
    }
    for (; i < c; i++) {
      const off = <usize>i << 2;
      const mv = f32x4.splat(load<f32>(mean + off));
      const xv = f32x4.splat(load<f32>(x + p + off));
      const y = bnY4(xv, mv, f32x4.splat(load<f32>(a + off)), f32x4.splat(load<f32>(offset + off)));
      const gv = swishGrad4(f32x4.splat(load<f32>(dy + p + off)), y, f32x4.splat(load<f32>(s + p + off)));
      const d = f32x4.sub(xv, mv);
      const v = f32x4.add(f32x4.add(f32x4.mul(gv, f32x4.splat(load<f32>(ga + off))), f32x4.mul(d, f32x4.splat(load<f32>(gb + off)))), f32x4.splat(load<f32>(gk + off)));
      store<f32>(dx + p + off, f32x4.extract_lane(v, 0));
    }
    p += row;
  }
}

// Gradient of the squeeze-and-excitation multiply out[b, p, c] = x[b, p, c] * se[b, c] over pixels p
// of each batch item, in one pass: dx = dy * se[b, c] and dse[b, c] = sum over p of dy * x (pixels in
// blocks of 64 through `scratch`, c floats, as reduceMiddle sums).
export function exciteGrad(dy: usize, x: usize, se: usize, dx: usize, dse: usize, scratch: usize, n: i32, hw: i32, c: i32): void {
  const row = <usize>c << 2;
  const c4 = c & ~3;
  let p: usize = 0;
  for (let b = 0; b < n; b++) {
    const sb = se + <usize>b * row;
    const db = dse + <usize>b * row;
    memory.fill(db, 0, row);
    for (let m0 = 0; m0 < hw; m0 += 64) {
      const m1 = min(m0 + 64, hw);
      memory.fill(scratch, 0, row);
      for (let m = m0; m < m1; m++) {
        let i = 0;
        for (; i < c4; i += 4) {
          const off = <usize>i << 2;
          const g = v128.load(dy + p + off);
          v128.store(dx + p + off, f32x4.mul(g, v128.load(sb + off)));
          v128.store(scratch + off, f32x4.add(v128.load(scratch + off), f32x4.mul(g, v128.load(x + p + off))));
        }
        for (; i < c; i++) {
          const off = <usize>i << 2;
          const g = load<f32>(dy + p + off);
          store<f32>(dx + p + off, g * load<f32>(sb + off));
          store<f32>(scratch + off, load<f32>(scratch + off) + g * load<f32>(x + p + off));
        }
        p += row;
      }
      addInto(db, scratch, c);
    }
  }
}

// Depthwise input gradient, depth multiplier 1, any stride, as a gather: each dx pixel (y, x) sums
// f[u, v, c] * dy[b, i, j, c] over the taps that reach it, u = (y + pt) mod sh + k * sh with
// i = (y + pt - u) / sh (the same for columns), for 16 channels in four registers, and is written
// once (the scatter form clears dx and adds into it per tap).
export function depthwiseInputGradGather(
  dy: usize, f: usize, dx: usize,
  n: i32, h: i32, w: i32, c: i32, oh: i32, ow: i32, kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32,
): void {
  const cb = <usize>c << 2;
  const c16 = c & ~15;
  const c4 = c & ~3;
  let out = dx;
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < h; y++) {
      const u0 = (y + pt) % sh;
      const i0 = (y + pt) / sh;
      for (let x = 0; x < w; x++) {
        const v0 = (x + pl) % sw;
        const j0 = (x + pl) / sw;
        let ch = 0;
        for (; ch < c16; ch += 16) {
          let a0 = f32x4.splat(0); let a1 = f32x4.splat(0);
          let a2 = f32x4.splat(0); let a3 = f32x4.splat(0);
          for (let u = u0, i = i0; u < kh && i >= 0; u += sh, i--) {
            if (i >= oh) continue;
            for (let v = v0, j = j0; v < kw && j >= 0; v += sw, j--) {
              if (j >= ow) continue;
              const gq = dy + <usize>((b * oh + i) * ow + j) * cb + (<usize>ch << 2);
              const fq = f + <usize>(u * kw + v) * cb + (<usize>ch << 2);
              a0 = madd(v128.load(gq), v128.load(fq), a0);
              a1 = madd(v128.load(gq, 16), v128.load(fq, 16), a1);
              a2 = madd(v128.load(gq, 32), v128.load(fq, 32), a2);
              a3 = madd(v128.load(gq, 48), v128.load(fq, 48), a3);
            }
          }
          const o = out + (<usize>ch << 2);
          v128.store(o, a0); v128.store(o, a1, 16); v128.store(o, a2, 32); v128.store(o, a3, 48);
        }
        for (; ch < c4; ch += 4) {
          let a0 = f32x4.splat(0);
          const off = <usize>ch << 2;
          for (let u = u0, i = i0; u < kh && i >= 0; u += sh, i--) {
            if (i >= oh) continue;
            for (let v = v0, j = j0; v < kw && j >= 0; v += sw, j--) {
              if (j >= ow) continue;
              a0 = madd(v128.load(dy + <usize>((b * oh + i) * ow + j) * cb + off), v128.load(f + <usize>(u * kw + v) * cb + off), a0);
            }
          }
          v128.store(out + off, a0);
        }
        for (; ch < c; ch++) {
          let a: f32 = 0;
          const off = <usize>ch << 2;
          for (let u = u0, i = i0; u < kh && i >= 0; u += sh, i--) {
            if (i >= oh) continue;
            for (let v = v0, j = j0; v < kw && j >= 0; v += sw, j--) {
              if (j >= ow) continue;
              a += load<f32>(dy + <usize>((b * oh + i) * ow + j) * cb + off) * load<f32>(f + <usize>(u * kw + v) * cb + off);
            }
          }
          store<f32>(out + off, a);
        }
        out += cb;
      }
    }
  }
}

// Swish gradient from the saved sigmoid s = sigmoid(x): dx = dy * s * (1 + x * (1 - s)).
export function swishGrad(dy: usize, x: usize, s: usize, dx: usize, n: i32): void {
  const one = f32x4.splat(1);
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const off = <usize>i << 2;
    const sv = v128.load(s + off);
    const t = f32x4.add(one, f32x4.mul(v128.load(x + off), f32x4.sub(one, sv)));
    v128.store(dx + off, f32x4.mul(f32x4.mul(v128.load(dy + off), sv), t));
  }
  for (; i < n; i++) {
    const off = <usize>i << 2;
    const sv = load<f32>(s + off);
    store<f32>(dx + off, load<f32>(dy + off) * sv * (1 + load<f32>(x + off) * (1 - sv)));
  }
}

// One Adam step over n floats, op for op as tfjs-core 4.22's AdamOptimizer computes it in float32
// (no reassociation, no reciprocal), so the result is bit-identical to its ~12-kernel chain:
//   m' = m*b1 + g*(1-b1);  v' = v*b2 + (g*g)*(1-b2)
//   w' = (((m'/(1-acc1)) / (sqrt(v'/(1-acc2)) + eps)) * -lr) + w
// Each output may alias its own input (m/v in place); wOut must not alias m or v.
export function adamUpdate(
  w: usize, g: usize, m: usize, v: usize, wOut: usize, mOut: usize, vOut: usize, n: i32,
  beta1: f32, oneMinusBeta1: f32, beta2: f32, oneMinusBeta2: f32,
  oneMinusAccBeta1: f32, oneMinusAccBeta2: f32, epsilon: f32, negLr: f32,
): void {
  const b1 = f32x4.splat(beta1);
  const c1 = f32x4.splat(oneMinusBeta1);
  const b2 = f32x4.splat(beta2);
  const c2 = f32x4.splat(oneMinusBeta2);
  const a1 = f32x4.splat(oneMinusAccBeta1);
  const a2 = f32x4.splat(oneMinusAccBeta2);
  const ev = f32x4.splat(epsilon);
  const lv = f32x4.splat(negLr);
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const off = <usize>i << 2;
    const gv = v128.load(g + off);
    const mn = f32x4.add(f32x4.mul(v128.load(m + off), b1), f32x4.mul(gv, c1));
    const vn = f32x4.add(f32x4.mul(v128.load(v + off), b2), f32x4.mul(f32x4.mul(gv, gv), c2));
    const wv = v128.load(w + off);
    v128.store(mOut + off, mn);
    v128.store(vOut + off, vn);
    const step = f32x4.div(f32x4.div(mn, a1), f32x4.add(f32x4.sqrt(f32x4.div(vn, a2)), ev));
    v128.store(wOut + off, f32x4.add(f32x4.mul(step, lv), wv));
  }
  for (; i < n; i++) {
    const off = <usize>i << 2;
    const gs = load<f32>(g + off);
    const mn = load<f32>(m + off) * beta1 + gs * oneMinusBeta1;
    const vn = load<f32>(v + off) * beta2 + (gs * gs) * oneMinusBeta2;
    const ws = load<f32>(w + off);
    store<f32>(mOut + off, mn);
    store<f32>(vOut + off, vn);
    const step = (mn / oneMinusAccBeta1) / (sqrt<f32>(vn / oneMinusAccBeta2) + epsilon);
    store<f32>(wOut + off, step * negLr + ws);
  }
}

// Depthwise convolution forward, depth multiplier 1 (zero padding):
// y[b, i, j, c] = sum over u, v of x[b, i*sh + u - pt, j*sw + v - pl, c] * f[u, v, c].
// Each output pixel keeps 16 channels in four registers over its in-bounds taps (summed in u, v
// order, as the cpu backend does), so y is written once and x and f are only read.
export function depthwiseConv(
  x: usize, f: usize, y: usize,
  n: i32, h: i32, w: i32, c: i32, oh: i32, ow: i32, kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32,
): void {
  const cb = <usize>c << 2;
  const c16 = c & ~15;
  const c4 = c & ~3;
  let out = y;
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < oh; i++) {
      const i0 = i * sh - pt;
      const u0 = max(0, -i0);
      const u1 = min(kh, h - i0);
      for (let j = 0; j < ow; j++) {
        const j0 = j * sw - pl;
        const v0 = max(0, -j0);
        const v1 = min(kw, w - j0);
        let ch = 0;
        for (; ch < c16; ch += 16) {
          let a0 = f32x4.splat(0); let a1 = f32x4.splat(0);
          let a2 = f32x4.splat(0); let a3 = f32x4.splat(0);
          for (let u = u0; u < u1; u++) {
            let xq = x + <usize>((b * h + i0 + u) * w + j0 + v0) * cb + (<usize>ch << 2);
            let fq = f + <usize>(u * kw + v0) * cb + (<usize>ch << 2);
            for (let v = v0; v < v1; v++) {
              a0 = madd(v128.load(xq), v128.load(fq), a0);
              a1 = madd(v128.load(xq, 16), v128.load(fq, 16), a1);
              a2 = madd(v128.load(xq, 32), v128.load(fq, 32), a2);
              a3 = madd(v128.load(xq, 48), v128.load(fq, 48), a3);
              xq += cb;
              fq += cb;
            }
          }
          const o = out + (<usize>ch << 2);
          v128.store(o, a0); v128.store(o, a1, 16); v128.store(o, a2, 32); v128.store(o, a3, 48);
        }
        for (; ch < c4; ch += 4) {
          let a0 = f32x4.splat(0);
          for (let u = u0; u < u1; u++) {
            let xq = x + <usize>((b * h + i0 + u) * w + j0 + v0) * cb + (<usize>ch << 2);
            let fq = f + <usize>(u * kw + v0) * cb + (<usize>ch << 2);
            for (let v = v0; v < v1; v++) {
              a0 = madd(v128.load(xq), v128.load(fq), a0);
              xq += cb;
              fq += cb;
            }
          }
          v128.store(out + (<usize>ch << 2), a0);
        }
        for (; ch < c; ch++) {
          let a: f32 = 0;
          for (let u = u0; u < u1; u++) {
            let xq = x + <usize>((b * h + i0 + u) * w + j0 + v0) * cb + (<usize>ch << 2);
            let fq = f + <usize>(u * kw + v0) * cb + (<usize>ch << 2);
            for (let v = v0; v < v1; v++) {
              a += load<f32>(xq) * load<f32>(fq);
              xq += cb;
              fq += cb;
            }
          }
          store<f32>(out + (<usize>ch << 2), a);
        }
        out += cb;
      }
    }
  }
}

// Depthwise filter gradient, depth multiplier 1, as depthwiseFilterGrad computes it, but summed per
// output row in registers: for each row i, tap (u, v) and 16 channels, the in-bounds pixels j of the
// row accumulate in four registers (2 loads per 4 multiply-adds, where the scatter form also loads
// and stores the partial sums per pixel); the row's sums are then added to df.
export function depthwiseFilterGradRows(
  x: usize, dy: usize, df: usize,
  n: i32, h: i32, w: i32, c: i32, oh: i32, ow: i32, kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32,
): void {
  const cb = <usize>c << 2;
  const c16 = c & ~15;
  const c4 = c & ~3;
  const xstep = <usize>sw * cb;
  memory.fill(df, 0, <usize>(kh * kw) * cb);
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < oh; i++) {
      const g = dy + <usize>((b * oh + i) * ow) * cb;
      for (let u = 0; u < kh; u++) {
        const ih = i * sh + u - pt;
        if (ih < 0 || ih >= h) continue;
        const xrow = x + <usize>((b * h + ih) * w) * cb;
        for (let v = 0; v < kw; v++) {
          const lo = pl - v;
          const j0 = lo <= 0 ? 0 : (lo + sw - 1) / sw;
          const hi = w - 1 + pl - v;
          const j1 = hi < 0 ? 0 : min(ow, hi / sw + 1);
          if (j0 >= j1) continue;
          const d = df + <usize>(u * kw + v) * cb;
          const xs = xrow + <usize>(j0 * sw - lo) * cb;
          const gs = g + <usize>j0 * cb;
          let ch = 0;
          for (; ch < c16; ch += 16) {
            let a0 = f32x4.splat(0); let a1 = f32x4.splat(0);
            let a2 = f32x4.splat(0); let a3 = f32x4.splat(0);
            let xq = xs + (<usize>ch << 2);
            let gq = gs + (<usize>ch << 2);
            for (let j = j0; j < j1; j++) {
              a0 = madd(v128.load(xq), v128.load(gq), a0);
              a1 = madd(v128.load(xq, 16), v128.load(gq, 16), a1);
              a2 = madd(v128.load(xq, 32), v128.load(gq, 32), a2);
              a3 = madd(v128.load(xq, 48), v128.load(gq, 48), a3);
              xq += xstep;
              gq += cb;
            }
            const o = d + (<usize>ch << 2);
            v128.store(o, f32x4.add(v128.load(o), a0));
            v128.store(o, f32x4.add(v128.load(o, 16), a1), 16);
            v128.store(o, f32x4.add(v128.load(o, 32), a2), 32);
            v128.store(o, f32x4.add(v128.load(o, 48), a3), 48);
          }
          for (; ch < c4; ch += 4) {
            let a0 = f32x4.splat(0);
            let xq = xs + (<usize>ch << 2);
            let gq = gs + (<usize>ch << 2);
            for (let j = j0; j < j1; j++) {
              a0 = madd(v128.load(xq), v128.load(gq), a0);
              xq += xstep;
              gq += cb;
            }
            const o = d + (<usize>ch << 2);
            v128.store(o, f32x4.add(v128.load(o), a0));
          }
          for (; ch < c; ch++) {
            let a: f32 = 0;
            let xq = xs + (<usize>ch << 2);
            let gq = gs + (<usize>ch << 2);
            for (let j = j0; j < j1; j++) {
              a += load<f32>(xq) * load<f32>(gq);
              xq += xstep;
              gq += cb;
            }
            const o = d + (<usize>ch << 2);
            store<f32>(o, load<f32>(o) + a);
          }
        }
      }
    }
  }
}
