export { FONT_FAMILY, DEFAULT_FONT_DIR, fontDir, fontFiles, registerFonts } from './fonts.js';
export { compileSpec, toSvg } from './svg.js';
export { toPng } from './png.js';
export { htmlPage, esc, scriptJson, scriptCode, formatNumber, type HtmlOptions } from './html.js';
export { writeReport, assertWritable, type WriteOptions } from './write.js';
