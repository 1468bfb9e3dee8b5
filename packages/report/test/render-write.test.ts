import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StorageError } from '@effscale/core';
import { describe, expect, it } from 'vitest';
import { writeReport } from '../src/render/index.js';
import { barSpec, chart, lineSpec, page } from './render-fixture.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'effscale-report-'));
const listAll = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((p) => p.replaceAll('\\', '/')).sort();

describe('writeReport', () => {
  it('writes each chart as .vl.json, .svg and .png, then index.html, leaving no temporaries', async () => {
    const out = join(tmp(), 'report');
    const p = page([chart('saturation', lineSpec()), chart('costs', barSpec(['b0', 'b1']))]);
    const { index, files } = await writeReport(out, p);
    expect(index).toBe(join(out, 'index.html'));
    expect(files.at(-1)).toBe(index);
    expect(listAll(out)).toEqual([
      'charts',
      'charts/costs.png',
      'charts/costs.svg',
      'charts/costs.vl.json',
      'charts/saturation.png',
      'charts/saturation.svg',
      'charts/saturation.vl.json',
      'index.html',
    ]);
    expect([...files].sort()).toEqual(listAll(out).filter((f) => f !== 'charts').map((f) => join(out, f)).sort());
    expect(JSON.parse(readFileSync(join(out, 'charts/costs.vl.json'), 'utf8'))).toEqual(p.charts[1].spec);
    expect(readFileSync(join(out, 'charts/costs.svg'), 'utf8')).toMatch(/^<svg/);
    expect(readFileSync(join(out, 'charts/costs.png')).subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(readFileSync(index, 'utf8')).toContain('<a href="charts/costs.png">PNG</a>');
  });

  it('removes the files of a chart that left the page, and nothing else', async () => {
    const out = tmp();
    writeFileSync(join(out, 'notes.txt'), 'mine');
    mkdirSync(join(out, 'charts'));
    writeFileSync(join(out, 'charts', 'README'), 'mine too');
    await writeReport(out, page([chart('saturation', lineSpec()), chart('costs', barSpec(['b0']))]));
    await writeReport(out, page([chart('saturation', lineSpec())]), { png: false });
    expect(listAll(out)).toEqual([
      'charts',
      'charts/README',
      'charts/saturation.svg',
      'charts/saturation.vl.json',
      'index.html',
      'notes.txt',
    ]);
    expect(readFileSync(join(out, 'index.html'), 'utf8')).not.toContain('.png"');
    expect(listAll(out).some((f) => f.includes('.tmp'))).toBe(false);
  });

  it('refuses an out directory it cannot create with one StorageError line', async () => {
    const file = join(tmp(), 'a-file');
    writeFileSync(file, '');
    for (const out of [join(file, 'x'), file]) {
      const err = await writeReport(out, page([chart('a', lineSpec())])).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StorageError);
      expect((err as Error).message).toMatch(new RegExp(`^cannot write the report to ${out}: .+; choose another --out$`));
    }
    expect(existsSync(join(file, 'x'))).toBe(false);
  });

  it('refuses chart names that are not file stems, or two charts with one name', async () => {
    await expect(writeReport(tmp(), page([chart('../x', lineSpec())]))).rejects.toThrow(/cannot be a file stem/);
    await expect(writeReport(tmp(), page([chart('a', lineSpec()), chart('a', lineSpec())]))).rejects.toThrow(/two charts are named 'a'/);
  });
});
