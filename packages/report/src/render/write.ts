/**
 * A report directory: charts/<name>.vl.json, .svg, .png and index.html, each written atomically (a browser that has
 * the page open, reloading it while the study runs, never reads a torn file); index.html is written after the chart
 * files it links to.
 */
import { accessSync, constants, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { StorageError } from '@effscale/core';
import { ensureDir, writeFileAtomic } from '@effscale/core/train';
import type { Page } from '../page.js';
import { htmlPage } from './html.js';
import { toPng } from './png.js';
import { toSvg } from './svg.js';

export interface WriteOptions {
  /** Write charts/<name>.png (default true). */
  png?: boolean;
  /** Write charts/<name>.svg (default true). */
  svg?: boolean;
}

/** The files a chart owns in charts/; anything else there (or in outDir) is left alone. */
const CHART_FILE = /^(.+)\.(vl\.json|svg|png)$/;
const CHART_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export async function writeReport(outDir: string, page: Page, opts: WriteOptions = {}): Promise<{ index: string; files: string[] }> {
  const png = opts.png ?? true;
  const svg = opts.svg ?? true;
  for (const c of page.charts) {
    if (!CHART_NAME.test(c.name)) throw new Error(`chart name '${c.name}' cannot be a file stem`);
  }
  const names = page.charts.map((c) => c.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) throw new Error(`two charts are named '${dup}'`);

  assertWritable(outDir);
  const chartsDir = join(outDir, 'charts');
  ensureDir(chartsDir, 'report directory');

  const files: string[] = [];
  const write = (path: string, data: string | Uint8Array): void => {
    writeFileAtomic(path, data);
    files.push(path);
  };
  for (const chart of page.charts) {
    const stem = join(chartsDir, chart.name);
    write(`${stem}.vl.json`, `${JSON.stringify(chart.spec, null, 2)}\n`);
    if (!svg && !png) continue;
    const image = await toSvg(chart.spec);
    if (svg) write(`${stem}.svg`, image);
    if (png) write(`${stem}.png`, toPng(image));
  }
  const index = join(outDir, 'index.html');
  write(index, htmlPage(page, { files: { spec: true, svg, png } }));

  // After the new page is in place, so no page on disk links to a removed file: charts gone from the page, and
  // formats not written this time (they would show older data than the rest).
  const written = new Set(files);
  for (const name of readdirSync(chartsDir)) {
    const path = join(chartsDir, name);
    if (CHART_FILE.test(name) && !written.has(path)) rmSync(path, { force: true });
  }
  return { index, files };
}

const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the file system is read-only',
  ENOTDIR: 'a part of the path is a file, not a directory',
  EEXIST: 'it is a file, not a directory',
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is exhausted',
};

/** outDir exists (created if not) and is writable, else one StorageError line. */
export function assertWritable(outDir: string): void {
  try {
    mkdirSync(outDir, { recursive: true });
    accessSync(outDir, constants.W_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === undefined || !(code in REASONS)) throw e;
    throw new StorageError(`cannot write the report to ${outDir}: ${REASONS[code]}; choose another --out`, { cause: e });
  }
}
