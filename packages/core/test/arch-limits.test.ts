import { describe, expect, it } from 'vitest';
import {
  MAX_BLOCKS, MAX_IMAGE_ACTIVATION_BYTES, outlineArchitecture, resolveArchitecture, SizeLimitError, SpecError, type NetworkSpec,
} from '../src/index.js';

const mult = (depth: number, width: number, resolution?: number): NetworkSpec => ({ selector: { kind: 'multipliers', depth, width, resolution } });

/** What fn throws; fails if it returns. (How fast is a benchmark's question; a refusal that hangs fails the test timeout.) */
function thrown(fn: () => unknown): { error: unknown } {
  try {
    fn();
  } catch (error) {
    return { error };
  }
  throw new Error('expected a refusal');
}

describe('size limits, checked from the spec before any layer list is built', () => {
  it(`at most ${MAX_BLOCKS} blocks: depth 625 of B0's 16 repeats is the largest allowed`, () => {
    expect(outlineArchitecture(mult(625, 1)).totalBlocks).toBe(10_000);
    const { error } = thrown(() => resolveArchitecture(mult(625.001, 1)));
    expect(error).toBeInstanceOf(SizeLimitError);
    expect((error as SizeLimitError).limit).toBe('blocks');
    expect((error as Error).message).toMatch(/depth 625\.001 makes 10,007 blocks .* over the limit of 10,000 .*use a depth of at most 625\.$/);
  });

  it('refuses phi 100 and depth 1e5, naming the phi that fits', () => {
    for (const spec of [{ selector: { kind: 'compound', phi: 100 } } as const, mult(1e5, 1)]) {
      const { error } = thrown(() => resolveArchitecture(spec));
      expect(error).toBeInstanceOf(SpecError);
    }
    expect(() => resolveArchitecture({ selector: { kind: 'compound', phi: 100 } })).toThrow(/phi at most 35\.3098 with alpha 1\.2/);
  });

  it("refuses one image's activations over 1 TiB, naming the largest resolution that fits", () => {
    expect(MAX_IMAGE_ACTIVATION_BYTES).toBe(2 ** 40);
    const { error } = thrown(() => resolveArchitecture({ selector: { kind: 'preset', preset: 'b0' }, resolution: 1e6 }));
    expect((error as SizeLimitError).limit).toBe('activation memory');
    expect((error as Error).message).toMatch(/^b0@1000000px: one image's layer outputs at 1,000,000 px take 1,630 TiB .*largest resolution that fits is 24,750 px\.$/);
    expect(() => outlineArchitecture({ selector: { kind: 'preset', preset: 'b0' }, resolution: 24_750 })).not.toThrow();
    expect(() => outlineArchitecture({ selector: { kind: 'preset', preset: 'b0' }, resolution: 24_751 })).toThrow(SizeLimitError);
    expect(() => resolveArchitecture({ ...mult(1, 1, 32), classes: 1e15 })).toThrow(/no resolution fits: use a smaller width, fewer input channels or fewer classes/);
    expect(() => resolveArchitecture(mult(1, 1, 1e200))).toThrow(/more than 1\.8e308|e\+\d+ TiB/);
  });

  it('a block string whose input filters do not chain from the previous output is a SpecError naming both', () => {
    const blocks = ['r1_k3_s11_e1_i32_o16_se0.25', 'r2_k3_s22_e6_i40_o24_se0.25'];
    expect(() => resolveArchitecture({ ...mult(1, 1), blocks })).toThrow(SpecError);
    expect(() => resolveArchitecture({ ...mult(1, 1), blocks })).toThrow(
      "block string 2 'r2_k3_s22_e6_i40_o24_se0.25' takes 40 input filters, but it follows block string 1's 16 output filters; set its i to 16",
    );
    expect(() => resolveArchitecture({ ...mult(1, 1), blocks: ['r1_k3_s11_e1_i48_o16'] })).toThrow(/takes 48 input filters, but it follows the stem's 32 output filters/);
  });

  it('the outline folds repeats: totals over its runs equal the full layer list', () => {
    const spec: NetworkSpec = { selector: { kind: 'preset', preset: 'b4' }, resolution: 96 };
    const o = outlineArchitecture(spec);
    const a = resolveArchitecture(spec);
    const elements = (s: readonly number[]) => s.reduce((x, y) => x * y, 1);
    const byOp = (pairs: [string, number][]) => pairs.reduce<Record<string, number>>((m, [op, n]) => ((m[op] = (m[op] ?? 0) + n), m), {});
    expect(byOp(o.runs.flatMap((r) => r.layers.map((l): [string, number] => [l.op, r.times * elements(l.outputShape)]))))
      .toEqual(byOp(a.layers.map((l) => [l.op, elements(l.outputShape)])));
    expect(o.totalBlocks).toBe(a.blockList.length);
    expect(o.runs.reduce((n, r) => n + r.layers.length, 0)).toBeLessThan(a.layers.length);
  });
});
