// AssemblyScript SIMD kernels for training on tfjs-backend-wasm. The module imports the backend's
// memory: every pointer is a byte offset of a tensor (or scratch tensor) in that heap. No data
// segments, no allocation: the module never writes outside the ranges it is given.

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
    v128.store(a + off, f32x4.add(v128.load(a + off), f32x4.mul(v128.load(b + off), v128.load(c + off))));
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

// Depthwise input gradient, depth multiplier 1 (scatter form):
// dx[b, i*sh + u - pt, j*sw + v - pl, c] += f[u, v, c] * dy[b, i, j, c].
export function depthwiseInputGrad(
  dy: usize, f: usize, dx: usize,
  n: i32, h: i32, w: i32, c: i32, oh: i32, ow: i32, kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32,
): void {
  const cb = <usize>c << 2;
  memory.fill(dx, 0, <usize>(n * h * w) * cb);
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        const g = dy + <usize>((b * oh + i) * ow + j) * cb;
        for (let u = 0; u < kh; u++) {
          const ih = i * sh + u - pt;
          if (ih < 0 || ih >= h) continue;
          for (let v = 0; v < kw; v++) {
            const iw = j * sw + v - pl;
            if (iw < 0 || iw >= w) continue;
            fmaInto(dx + <usize>((b * h + ih) * w + iw) * cb, f + <usize>(u * kw + v) * cb, g, c);
          }
        }
      }
    }
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
// for rows m of N*H*W pixels. Four pixels per pass keep each df vector in a register for 16
// multiply-adds; blocks of 256 pixels accumulate in `scratch` (ci*co floats) before df.
export function pointwiseFilterGrad(x: usize, dy: usize, df: usize, scratch: usize, m: i32, ci: i32, co: i32): void {
  const total = <usize>(ci * co) << 2;
  const xr = <usize>ci << 2;
  const yr = <usize>co << 2;
  const co4 = co & ~3;
  memory.fill(df, 0, total);
  for (let m0 = 0; m0 < m; m0 += 256) {
    const m1 = min(m0 + 256, m);
    memory.fill(scratch, 0, total);
    let p = m0;
    for (; p + 4 <= m1; p += 4) {
      const x0 = x + <usize>p * xr;
      const y0 = dy + <usize>p * yr;
      const y1 = y0 + yr;
      const y2 = y1 + yr;
      const y3 = y2 + yr;
      for (let a = 0; a < ci; a++) {
        const xa = x0 + (<usize>a << 2);
        const s0 = load<f32>(xa);
        const s1 = load<f32>(xa + xr);
        const s2 = load<f32>(xa + 2 * xr);
        const s3 = load<f32>(xa + 3 * xr);
        const v0 = f32x4.splat(s0);
        const v1 = f32x4.splat(s1);
        const v2 = f32x4.splat(s2);
        const v3 = f32x4.splat(s3);
        const row = scratch + <usize>a * yr;
        let b = 0;
        for (; b < co4; b += 4) {
          const off = <usize>b << 2;
          let acc = v128.load(row + off);
          acc = f32x4.add(acc, f32x4.mul(v0, v128.load(y0 + off)));
          acc = f32x4.add(acc, f32x4.mul(v1, v128.load(y1 + off)));
          acc = f32x4.add(acc, f32x4.mul(v2, v128.load(y2 + off)));
          acc = f32x4.add(acc, f32x4.mul(v3, v128.load(y3 + off)));
          v128.store(row + off, acc);
        }
        for (; b < co; b++) {
          const off = <usize>b << 2;
          store<f32>(row + off, load<f32>(row + off) + s0 * load<f32>(y0 + off) + s1 * load<f32>(y1 + off) +
            s2 * load<f32>(y2 + off) + s3 * load<f32>(y3 + off));
        }
      }
    }
    for (; p < m1; p++) {
      const x0 = x + <usize>p * xr;
      const y0 = dy + <usize>p * yr;
      for (let a = 0; a < ci; a++) {
        const s = load<f32>(x0 + (<usize>a << 2));
        const row = scratch + <usize>a * yr;
        const v = f32x4.splat(s);
        let b = 0;
        for (; b < co4; b += 4) {
          const off = <usize>b << 2;
          v128.store(row + off, f32x4.add(v128.load(row + off), f32x4.mul(v, v128.load(y0 + off))));
        }
        for (; b < co; b++) {
          const off = <usize>b << 2;
          store<f32>(row + off, load<f32>(row + off) + s * load<f32>(y0 + off));
        }
      }
    }
    addInto(df, scratch, ci * co);
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
