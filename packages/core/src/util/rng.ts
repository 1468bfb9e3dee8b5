/**
 * Small seeded PRNG (sfc32: 128-bit state, passes PractRand, fast in JS).
 * Used for data order, augmentation and initialization seeds so that runs are reproducible.
 */

export type RngSeed = number | string;
/** Four unsigned 32-bit words; plain JSON. */
export type RngState = [number, number, number, number];

const TWO_POW_32 = 4294967296;

/** cyrb128-style string hash to four 32-bit words. */
function hashWords(text: string, salt: readonly number[] = [0, 0, 0, 0]): RngState {
  let h1 = 1779033703 ^ salt[0];
  let h2 = 3144134277 ^ salt[1];
  let h3 = 1013904242 ^ salt[2];
  let h4 = 2773480762 ^ salt[3];
  for (let i = 0; i < text.length; i++) {
    const k = text.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
}

function seedToState(seed: RngSeed): RngState {
  if (typeof seed === 'string') return hashWords(`s:${seed}`);
  if (!Number.isSafeInteger(seed)) {
    throw new Error(`Invalid RNG seed ${String(seed)}: expected a safe integer or a string`);
  }
  // Distinct integers (including negatives) map to distinct hash inputs.
  return hashWords(`n:${seed}`);
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: RngSeed = 0) {
    [this.a, this.b, this.c, this.d] = seedToState(seed);
    // Warm up so that nearby seeds diverge fully.
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  static fromState(state: RngState): Rng {
    const r = new Rng(0);
    r.setState(state);
    return r;
  }

  /** Uniform unsigned 32-bit integer. */
  nextUint32(): number {
    const a = this.a, b = this.b, c = this.c, d = this.d;
    const t = (((a + b) | 0) + d) | 0;
    this.d = (d + 1) | 0;
    this.a = b ^ (b >>> 9);
    this.b = (c + (c << 3)) | 0;
    const cr = (c << 21) | (c >>> 11);
    this.c = (cr + t) | 0;
    return t >>> 0;
  }

  /** Uniform float in [0, 1). */
  next(): number {
    return this.nextUint32() / TWO_POW_32;
  }

  /** Uniform integer in [0, n), unbiased (rejection sampling). */
  nextInt(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO_POW_32) {
      throw new Error(`Rng.nextInt: n must be an integer in [1, 2^32], got ${n}`);
    }
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    let r = this.nextUint32();
    while (r >= limit) r = this.nextUint32();
    return r % n;
  }

  /** Standard normal sample (Box-Muller; one uniform pair per call so the state stays 4 words). */
  normal(): number {
    let u = this.next();
    while (u === 0) u = this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Fisher-Yates shuffle in place; returns the same array. */
  shuffle<T extends { length: number; [i: number]: unknown }>(array: T): T {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const tmp = array[i];
      array[i] = array[j];
      array[j] = tmp;
    }
    return array;
  }

  /** A permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle(p);
  }

  getState(): RngState {
    return [this.a >>> 0, this.b >>> 0, this.c >>> 0, this.d >>> 0];
  }

  setState(state: RngState): void {
    if (
      !Array.isArray(state) ||
      state.length !== 4 ||
      !state.every((w) => Number.isInteger(w) && w >= 0 && w < TWO_POW_32)
    ) {
      throw new Error(`Invalid RNG state ${JSON.stringify(state)}: expected 4 unsigned 32-bit integers`);
    }
    [this.a, this.b, this.c, this.d] = state.map((w) => w | 0) as RngState;
  }

  /**
   * Independent stream derived from this generator's current state and a label.
   * Does not advance this generator, so fork('x') is stable no matter what other forks were taken.
   */
  fork(label: string | number): Rng {
    const child = new Rng(0);
    child.setState(hashWords(`f:${label}`, this.getState()));
    for (let i = 0; i < 12; i++) child.nextUint32();
    return child;
  }
}

export function createRng(seed: RngSeed = 0): Rng {
  return new Rng(seed);
}
