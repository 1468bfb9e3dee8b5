import { loadImage, createCanvas } from '@napi-rs/canvas';
import { describe, expect, it } from 'vitest';
import type { TopLevelSpec } from 'vega-lite';
import { FONT_FAMILY, toPng, toSvg } from '../src/render/index.js';
import { lineSpec } from './render-fixture.js';

function pngSize(png: Buffer): { width: number; height: number } {
  expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
  expect(png.subarray(12, 16).toString('latin1')).toBe('IHDR');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

const svgSize = (svg: string) => {
  const m = /<svg[^>]* width="([\d.]+)" height="([\d.]+)"/.exec(svg)!;
  return { width: Number(m[1]), height: Number(m[2]) };
};

async function darkPixels(png: Buffer): Promise<{ count: number; x0: number; x1: number; y0: number; y1: number }> {
  const img = await loadImage(png);
  const canvas = createCanvas(img.width, img.height);
  const ctx = canvas.getContext('2d');
  ctx.drawImage(img, 0, 0);
  const { data, width, height } = ctx.getImageData(0, 0, img.width, img.height);
  let count = 0;
  let [x0, x1, y0, y1] = [width, -1, height, -1];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      if (data[i] < 128 && data[i + 1] < 128 && data[i + 2] < 128) {
        count++;
        [x0, x1, y0, y1] = [Math.min(x0, x), Math.max(x1, x), Math.min(y0, y), Math.max(y1, y)];
      }
    }
  }
  return { count, x0, x1, y0, y1 };
}

describe('toPng', () => {
  it('is the SVG size times the scale', async () => {
    const svg = await toSvg(lineSpec());
    const { width, height } = svgSize(svg);
    expect(pngSize(toPng(svg))).toEqual({ width: width * 2, height: height * 2 });
    expect(pngSize(toPng(svg, 1))).toEqual({ width, height });
    expect(pngSize(toPng(svg, 3))).toEqual({ width: width * 3, height: height * 3 });
  });

  it('draws text: a chart whose only visible content is its title has dark pixels where the title is', async () => {
    const title = 'Compound scaling wins';
    const spec: TopLevelSpec = {
      title: { text: title, fontSize: 20, color: 'black' },
      width: 300,
      height: 20,
      config: { font: FONT_FAMILY, view: { stroke: null } },
      data: { values: [{ a: 1 }] },
      mark: { type: 'point', opacity: 0 },
    };
    const svg = await toSvg(spec);
    const { width } = svgSize(svg);
    const dark = await darkPixels(toPng(svg, 2));
    expect(dark.count).toBeGreaterThan(200);
    // The title is centred over the plot and has the measured width of the text (at 2x).
    const m = /<text[^>]*>Compound scaling wins<\/text>/.exec(svg);
    expect(m).not.toBeNull();
    const drawn = (dark.x1 - dark.x0) / 2;
    expect(drawn).toBeGreaterThan(title.length * 20 * 0.4);
    expect(drawn).toBeLessThan(width);
    expect(Math.abs((dark.x0 + dark.x1) / 4 - width / 2)).toBeLessThan(width * 0.15);
  });

  it('refuses a scale that is not positive', () => {
    expect(() => toPng('<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>', 0)).toThrow(RangeError);
  });
});
