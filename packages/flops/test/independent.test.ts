import { describe, expect, it } from 'vitest';
import { count } from '../src/index.js';

/*
 * An independent count written straight from the rules (REFERENCE-COUNTS.md sections 1-2), per block, without the
 * resolved layer list: if the two implementations agree on random scalings, both follow the rules.
 */
const B0 = [
  // repeats, kernel, stride, expand, in, out
  [1, 3, 1, 1, 32, 16], [2, 3, 2, 6, 16, 24], [2, 5, 2, 6, 24, 40], [3, 3, 2, 6, 40, 80],
  [3, 5, 1, 6, 80, 112], [4, 5, 2, 6, 112, 192], [1, 3, 1, 6, 192, 320],
];
function rf(c: number, w: number): number {
  const x = c * w;
  let n = Math.max(8, Math.floor((x + 4) / 8) * 8);
  if (n < 0.9 * x) n += 8;
  return n;
}
function independent(d: number, w: number, res: number, channels: number, classes: number) {
  let params = 0;
  let macs = 0;
  let h = Math.ceil(res / 2);
  const stem = rf(32, w);
  params += 9 * channels * stem + 2 * stem;
  macs += 9 * channels * stem * h * h;
  let bnStats = 2 * stem;
  for (const [r, k, s, e, i0, o0] of B0) {
    const o = rf(o0, w);
    for (let j = 0; j < Math.ceil(r * d); j++) {
      const i = j === 0 ? rf(i0, w) : o;
      const stride = j === 0 ? s : 1;
      const x = i * e;
      if (e !== 1) {
        params += i * x + 2 * x;
        bnStats += 2 * x;
        macs += i * x * h * h;
      }
      const h2 = Math.ceil(h / stride);
      params += k * k * x + 2 * x;
      bnStats += 2 * x;
      macs += k * k * x * h2 * h2;
      const se = Math.max(1, Math.floor(i * 0.25));
      params += x * se + se + se * x + x;
      macs += 2 * x * se;
      params += x * o + 2 * o;
      bnStats += 2 * o;
      macs += x * o * h2 * h2;
      h = h2;
    }
  }
  const head = rf(1280, w);
  const last = rf(320, w);
  params += last * head + 2 * head + head * classes + classes;
  bnStats += 2 * head;
  macs += last * head * h * h + head * classes;
  return { params, bnStats, macs };
}

function lcg(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

describe('any scaling is exact by the same rules', () => {
  it('agrees with an independent per-block count on 40 random (d, w, r, channels, classes)', () => {
    const rand = lcg(7);
    for (let t = 0; t < 40; t++) {
      const d = 0.25 + rand() * 4;
      const w = 0.2 + rand() * 4;
      const res = 8 + Math.floor(rand() * 600);
      const channels = 1 + Math.floor(rand() * 4);
      const classes = 1 + Math.floor(rand() * 2000);
      const c = count({ selector: { kind: 'multipliers', depth: d, width: w, resolution: res }, inputChannels: channels, classes });
      const ref = independent(d, w, res, channels, classes);
      expect([c.params, c.bnMovingStats, c.macs], `d=${d} w=${w} r=${res}`).toEqual([ref.params, ref.bnStats, ref.macs]);
    }
  });

  it('compound phi uses depth alpha^phi, width beta^phi, resolution round(224 gamma^phi)', () => {
    for (const phi of [0, 0.5, 1, 2.5, 3, 7]) {
      const c = count({ selector: { kind: 'compound', phi } });
      const ref = independent(1.2 ** phi, 1.1 ** phi, Math.round(224 * 1.15 ** phi), 3, 1000);
      expect(c.resolution).toBe(Math.round(224 * 1.15 ** phi));
      expect([c.params, c.macs]).toEqual([ref.params, ref.macs]);
    }
  });

  it('an odd resolution costs as much as the next even one (TF same padding: stride 2 maps H to ceil(H/2))', () => {
    const m = (resolution: number) => count({ selector: { kind: 'multipliers', depth: 1, width: 1, resolution } }).macs;
    expect(m(225)).toBe(m(226));
    expect(m(225)).toBeGreaterThan(m(224));
  });
});
