import * as vega from 'vega';
import { describe, expect, it } from 'vitest';
import { compileSpec, FONT_FAMILY, registerFonts, toSvg } from '../src/render/index.js';
import { barSpec, lineSpec } from './render-fixture.js';

const texts = (svg: string): string[] => [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);

describe('toSvg', () => {
  it('draws the chart title and both axis titles as <text>', async () => {
    const svg = await toSvg(lineSpec());
    expect(svg.startsWith('<svg')).toBe(true);
    expect(texts(svg)).toEqual(expect.arrayContaining(['Width saturates', 'width multiplier', 'val top-1 (%)']));
    expect(svg).toContain(`font-family="${FONT_FAMILY}"`);
  });

  it('measures text with a real canvas in Node (vega-canvas gets @napi-rs/canvas), not the 0.8 x chars estimate', () => {
    registerFonts();
    type Measure = (item: object, text: string) => number;
    // vega's typings leave textMetrics out.
    const m = (vega as unknown as { textMetrics: { width: Measure; measureWidth: Measure; estimateWidth: Measure } }).textMetrics;
    expect(m.width).toBe(m.measureWidth);
    const item = { fontSize: 11, font: FONT_FAMILY };
    // The estimate gives equal widths for equal lengths; DejaVu Sans' 'W' is far wider than its 'i'.
    expect(m.estimateWidth(item, 'iiiiiiii')).toBe(m.estimateWidth(item, 'WWWWWWWW'));
    expect(m.measureWidth(item, 'iiiiiiii')).toBeGreaterThan(0);
    expect(m.measureWidth(item, 'WWWWWWWW')).toBeGreaterThan(2.5 * m.measureWidth(item, 'iiiiiiii'));
  });

  it('lays long labels out with their measured width', async () => {
    const long = 'W'.repeat(12);
    const svgOf = async (label: string) => toSvg(barSpec([label, 'b']));
    const width = (svg: string) => Number(/<svg[^>]* width="([\d.]+)"/.exec(svg)![1]);
    // Same number of characters, so the estimate would give both the same axis width.
    expect(width(await svgOf(long)) - width(await svgOf('i'.repeat(12)))).toBeGreaterThan(40);
  });

  it("leaves the caller's spec and data objects as they were, so a spec renders the same twice", async () => {
    const spec = lineSpec();
    const before = JSON.stringify(spec);
    const first = await toSvg(spec);
    const values = (spec.data as { values: object[] }).values;
    expect(values.every((v) => Object.getOwnPropertySymbols(v).length === 0)).toBe(true);
    expect(JSON.stringify(spec)).toBe(before);
    expect(await toSvg(spec)).toBe(first);
  });

  it('refuses a spec vega-lite cannot compile, naming it', () => {
    expect(() => compileSpec({ title: 'Broken', mark: 'nope', data: { values: [] } } as never)).toThrow(/invalid Vega-Lite spec 'Broken'/);
  });
});
