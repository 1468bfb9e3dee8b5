import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@effscale/core';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_FONT_DIR, fontFiles, registerFonts, toPng } from '../src/render/index.js';

describe('fonts', () => {
  afterEach(() => {
    delete process.env.EFFSCALE_FONT_DIR;
  });

  it("uses Debian's DejaVu Sans regular and bold", () => {
    expect(fontFiles()).toEqual([join(DEFAULT_FONT_DIR, 'DejaVuSans.ttf'), join(DEFAULT_FONT_DIR, 'DejaVuSans-Bold.ttf')]);
    expect(registerFonts()).toEqual(fontFiles());
  });

  it('a missing font file is a one-line ConfigError naming the file and the package to install', () => {
    process.env.EFFSCALE_FONT_DIR = mkdtempSync(join(tmpdir(), 'effscale-nofont-'));
    const file = join(process.env.EFFSCALE_FONT_DIR, 'DejaVuSans.ttf');
    for (const f of [fontFiles, () => toPng('<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>')]) {
      let err: unknown;
      try {
        f();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toContain(file);
      expect((err as Error).message).toContain('apt-get install fonts-dejavu-core');
      expect((err as Error).message).not.toContain('\n');
    }
  });
});
