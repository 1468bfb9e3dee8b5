/**
 * The report page in a real browser (Debian's chromium, headless), opened from file:// the way a user opens it:
 * every chart draws, nothing is requested from anywhere but the file itself, no console errors.
 * Skips without /usr/bin/chromium, except where EFFSCALE_REQUIRE_BROWSER=1 (CI), where it fails instead.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import type { TopLevelSpec } from 'vega-lite';
import { FONT_FAMILY, writeReport } from '../src/render/index.js';
import { barSpec, chart, lineSpec, page } from './render-fixture.js';

const CHROMIUM = '/usr/bin/chromium';
const required = process.env.EFFSCALE_REQUIRE_BROWSER === '1';
const skip = !existsSync(CHROMIUM) && !required;

const heatmap: TopLevelSpec = {
  title: 'Search grid',
  config: { font: FONT_FAMILY },
  data: {
    values: [
      { alpha: 1.2, beta: 1.1, acc: 71 },
      { alpha: 1.2, beta: 1.2, acc: 72 },
      { alpha: 1.4, beta: 1.1, acc: 70 },
      { alpha: 1.4, beta: 1.2, acc: '</script><script>window.pwned = 1</script>' },
    ],
  },
  mark: 'rect',
  encoding: {
    x: { field: 'alpha', type: 'ordinal' },
    y: { field: 'beta', type: 'ordinal' },
    color: { field: 'acc', type: 'nominal' },
  },
};

describe('the report page in chromium', () => {
  let browser: Browser | undefined;
  afterAll(async () => {
    await browser?.close();
  });

  it.skipIf(skip)('draws every chart from file:// without any request outside the file and without console errors', async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium`).toBe(true);
    const out = mkdtempSync(join(tmpdir(), 'effscale-browser-'));
    const charts = [chart('saturation', lineSpec()), chart('costs', barSpec(['b0', 'b1', 'b2'])), chart('grid', heatmap)];
    const { index } = await writeReport(out, page(charts), { png: false, svg: false });

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    const context = await browser.newContext();
    const requests: string[] = [];
    const errors: string[] = [];
    context.on('request', (r) => requests.push(r.url()));
    const tab = await context.newPage();
    tab.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    tab.on('pageerror', (e) => errors.push(String(e)));

    await tab.goto(pathToFileURL(index).href);
    await tab.waitForFunction(() => document.body.dataset.charts === 'done');

    const drawn = await tab.$$eval('.vis', (els) =>
      els.map((el) => {
        const svg = el.querySelector('svg');
        const box = svg?.getBoundingClientRect();
        return {
          width: box?.width ?? 0,
          height: box?.height ?? 0,
          points: el.querySelectorAll('.mark-symbol path').length,
          bars: el.querySelectorAll('.mark-rect path').length,
          text: el.textContent ?? '',
        };
      }),
    );
    expect(drawn).toHaveLength(3);
    for (const d of drawn) {
      expect(d.width).toBeGreaterThan(50);
      expect(d.height).toBeGreaterThan(50);
    }
    expect(drawn[0].points).toBe(3);
    expect(drawn[1].bars).toBe(3);
    expect(drawn[2].bars).toBe(4);
    expect(await tab.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
    expect(await tab.locator('.vega-actions a', { hasText: /editor/i }).count()).toBe(0);

    // Sorting a table by a number column: numeric order (9 < 10 < 100), then reversed on a second click.
    const firstCells = () => tab.$$eval('table.sortable tbody tr', (rows) => rows.map((r) => (r as HTMLTableRowElement).cells[0].textContent));
    expect(await firstCells()).toEqual(['b', 'a', 'c']);
    await tab.click('table.sortable th button[data-col="1"]');
    expect(await firstCells()).toEqual(['b', 'a', 'c']);
    await tab.click('table.sortable th button[data-col="1"]');
    expect(await firstCells()).toEqual(['c', 'a', 'b']);
    await tab.click('table.sortable th button[data-col="2"]');
    expect(await firstCells()).toEqual(['c', 'b', 'a']); // the empty cell last
    await tab.click('table.sortable th button[data-col="0"]');
    expect(await firstCells()).toEqual(['a', 'b', 'c']);

    expect(errors).toEqual([]);
    const outside = requests.filter((u) => !/^(file|data|blob|about):/.test(u));
    expect(outside).toEqual([]);
    expect(requests).toContain(pathToFileURL(index).href);
  });
});
