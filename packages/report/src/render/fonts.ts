/**
 * The one font the charts use, for measuring text (vega, through @napi-rs/canvas) and for rasterizing (resvg): the
 * same files for both, so labels are laid out with the widths they are drawn with.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { GlobalFonts } from '@napi-rs/canvas';
import { ConfigError } from '@effscale/core';

export const FONT_FAMILY = 'DejaVu Sans';

export const DEFAULT_FONT_DIR = '/usr/share/fonts/truetype/dejavu';
const FONT_FILES = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'] as const;

/** Where the TTFs are read from: $EFFSCALE_FONT_DIR, else Debian's fonts-dejavu-core place. */
export function fontDir(): string {
  const dir = process.env.EFFSCALE_FONT_DIR;
  return dir !== undefined && dir !== '' ? dir : DEFAULT_FONT_DIR;
}

/** The regular and bold font files; a missing one is a ConfigError naming it. */
export function fontFiles(): string[] {
  const files = FONT_FILES.map((name) => join(fontDir(), name));
  for (const file of files) {
    if (!existsSync(file)) {
      throw new ConfigError(
        `the chart font '${file}' is missing: run apt-get install fonts-dejavu-core (or set EFFSCALE_FONT_DIR to a directory with ${FONT_FILES.join(' and ')})`,
      );
    }
  }
  return files;
}

const registered = new Set<string>();

/** Make the font files known to the canvas vega measures text with (once per file). Returns the files. */
export function registerFonts(): string[] {
  const files = fontFiles();
  for (const file of files) {
    if (registered.has(file)) continue;
    if (GlobalFonts.registerFromPath(file) === null) {
      throw new ConfigError(`the chart font '${file}' could not be loaded: reinstall it with apt-get install --reinstall fonts-dejavu-core`);
    }
    registered.add(file);
  }
  return files;
}
