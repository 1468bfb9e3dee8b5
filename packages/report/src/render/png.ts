/** SVG -> PNG with the chart font given explicitly: resvg without a font draws no text at all, silently. */
import { Resvg } from '@resvg/resvg-js';
import { FONT_FAMILY, fontFiles } from './fonts.js';

export function toPng(svg: string, scale = 2): Buffer {
  if (!(scale > 0) || !Number.isFinite(scale)) throw new RangeError(`toPng: scale must be a positive number, got ${scale}`);
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    background: 'white',
    font: {
      fontFiles: fontFiles(),
      loadSystemFonts: false,
      defaultFontFamily: FONT_FAMILY,
      sansSerifFamily: FONT_FAMILY,
      serifFamily: FONT_FAMILY,
      monospaceFamily: FONT_FAMILY,
    },
  });
  return resvg.render().asPng();
}
