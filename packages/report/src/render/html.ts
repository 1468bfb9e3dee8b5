/**
 * One self-contained report page: the vega libraries, every chart's spec (data inline), findings, tables and
 * provenance in a single file that works offline and from file:// (which cannot fetch data files). Nothing on the
 * page loads anything from outside it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Chart, Finding, Page, Table } from '../page.js';

export interface HtmlOptions {
  /** Link each chart's files (charts/<name>.vl.json, .svg, .png) under it; off for a page that stands alone. */
  files?: { spec?: boolean; svg?: boolean; png?: boolean };
}

export function htmlPage(page: Page, opts: HtmlOptions = {}): string {
  const refresh = Math.max(1, Math.round(page.refreshSeconds));
  const head = [
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    page.live ? `<meta http-equiv="refresh" content="${refresh}">` : '',
    `<title>${esc(page.title)}</title>`,
    `<style>${CSS}</style>`,
  ].filter((s) => s !== '');
  const body = [
    `<header><h1>${esc(page.title)}</h1>`,
    page.live ? `<p class="live" role="status">This report is live: the study is still running; the page reloads every ${refresh} s</p>` : '',
    `<p class="meta">${esc(page.provenance.kind)}${page.provenance.source !== null ? ` · ${esc(page.provenance.source)}` : ''} · ${esc(page.provenance.createdAt)}</p>`,
    '</header>',
    findingsSection(page.findings),
    chartsSection(page.charts, opts.files ?? {}),
    tablesSection(page.tables),
    provenanceSection(page),
    ...libraries().map((code) => `<script>${code}</script>`),
    `<script>${PAGE_JS}</script>`,
  ].filter((s) => s !== '');
  return `<!doctype html>\n<html lang="en">\n<head>\n${head.join('\n')}\n</head>\n<body>\n${body.join('\n')}\n</body>\n</html>\n`;
}

function findingsSection(findings: Finding[]): string {
  if (findings.length === 0) return '';
  const items = findings.map(
    (f) =>
      `<li><span class="claim">${esc(f.claim)}</span> <span class="badge ${verdictClass(f.verdict)}">${esc(f.verdict)}</span>` +
      `<p>${esc(f.text)}</p></li>`,
  );
  return `<section id="findings"><h2>Findings</h2><ul class="findings">\n${items.join('\n')}\n</ul></section>`;
}

const verdictClass = (v: string): string => `verdict-${v.replace(/[^a-z]+/gi, '-').toLowerCase()}`;

function chartsSection(charts: Chart[], files: NonNullable<HtmlOptions['files']>): string {
  if (charts.length === 0) return '';
  const figures = charts.map((c, i) => {
    const links = [
      files.svg ? `<a href="charts/${encodeURIComponent(c.name)}.svg">SVG</a>` : '',
      files.png ? `<a href="charts/${encodeURIComponent(c.name)}.png">PNG</a>` : '',
      files.spec ? `<a href="charts/${encodeURIComponent(c.name)}.vl.json">Vega-Lite spec</a>` : '',
    ].filter((s) => s !== '');
    return (
      `<figure class="chart" id="chart-${i}" data-name="${esc(c.name)}">\n<h3>${esc(c.title)}</h3>\n` +
      `<div class="vis" id="vis-${i}"></div>\n<figcaption>${esc(c.caption)}` +
      (links.length > 0 ? ` <span class="files">${links.join(' · ')}</span>` : '') +
      `</figcaption>\n<script type="application/json" class="spec" data-target="vis-${i}">${scriptJson(c.spec)}</script>\n</figure>`
    );
  });
  return `<section id="charts"><h2>Charts</h2>\n${figures.join('\n')}\n</section>`;
}

function tablesSection(tables: Table[]): string {
  if (tables.length === 0) return '';
  return `<section id="tables"><h2>Data</h2>\n${tables.map(tableHtml).join('\n')}\n</section>`;
}

function tableHtml(t: Table): string {
  const head = t.columns.map((c, i) => `<th scope="col" aria-sort="none"><button type="button" data-col="${i}">${esc(c)}</button></th>`);
  const rows = t.rows.map((r) => `<tr>${r.map(cellHtml).join('')}</tr>`);
  return (
    `<div class="table-wrap"><table class="sortable" id="table-${esc(t.name)}">\n<caption>${esc(t.title)}</caption>\n` +
    `<thead><tr>${head.join('')}</tr></thead>\n<tbody>\n${rows.join('\n')}\n</tbody></table></div>`
  );
}

function cellHtml(v: string | number | null): string {
  if (v === null) return '<td class="empty">–</td>';
  if (typeof v === 'number') return `<td class="num" data-v="${Number.isNaN(v) ? '' : v}">${esc(formatNumber(v))}</td>`;
  return `<td>${esc(v)}</td>`;
}

/** Up to 5 significant digits for fractions (the full value stays in data-v for sorting); integers as they are. */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v) || Number.isInteger(v)) return String(v);
  return String(Number(v.toPrecision(5)));
}

function provenanceSection(page: Page): string {
  return (
    `<section id="provenance"><h2>Provenance</h2>\n<details><summary>Code, data, seeds and every setting behind these results</summary>\n` +
    `<pre>${esc(JSON.stringify(page.provenance, null, 2))}</pre>\n</details></section>`
  );
}

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** JSON for a <script> element: `<` only occurs inside JSON strings, where \u003c is the same character. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** JavaScript for an inline <script>: no source-map comment (nothing to fetch) and nothing that ends or escapes the element. */
export function scriptCode(code: string): string {
  return code
    .replace(/^\/\/# sourceMappingURL=.*$/gm, '')
    .replace(/<\/script/gi, '<\\/script')
    .replace(/<!--/g, '<\\!--');
}

const LIBRARIES = [
  ['vega', 'build/vega.min.js'],
  ['vega-lite', 'build/vega-lite.min.js'],
  ['vega-embed', 'build/vega-embed.min.js'],
] as const;

let libraryCode: string[] | null = null;

/** The browser builds of vega, vega-lite and vega-embed, from the installed packages (their exports hide package.json). */
function libraries(): string[] {
  if (libraryCode === null) {
    const require = createRequire(import.meta.url);
    libraryCode = LIBRARIES.map(([name, file]) => scriptCode(readFileSync(join(packageRoot(require.resolve(name), name), file), 'utf8')));
  }
  return libraryCode;
}

function packageRoot(entry: string, name: string): string {
  for (let dir = dirname(entry); dir !== dirname(dir); dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === name) return dir;
  }
  throw new Error(`cannot find the ${name} package above ${entry}`);
}

const CSS = `
:root { color-scheme: light; --fg: #1d232b; --muted: #5b6572; --line: #d9dee4; --bg-soft: #f5f7f9; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1100px; padding: 1.5rem 1.25rem 4rem; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
h2 { font-size: 1.2rem; margin: 2.25rem 0 .75rem; padding-bottom: .25rem; border-bottom: 1px solid var(--line); }
h3 { font-size: 1rem; margin: 0 0 .5rem; }
.meta { color: var(--muted); margin: 0; }
.live { display: inline-block; margin: .5rem 0; padding: .3rem .7rem; border-radius: 4px; background: #fff4d6; border: 1px solid #f0d58a; }
.findings { list-style: none; padding: 0; margin: 0; }
.findings li { padding: .6rem 0; border-bottom: 1px solid var(--line); }
.findings .claim { font-weight: 600; }
.findings p { margin: .2rem 0 0; }
.badge { display: inline-block; padding: 0 .5rem; border-radius: 999px; font-size: .8rem; font-weight: 600; vertical-align: .05rem; background: #e6e9ed; color: #3b4350; }
.verdict-held { background: #dcf3e1; color: #17622b; }
.verdict-not-held { background: #fbe0df; color: #8c1d18; }
.verdict-not-distinguishable { background: #fdf0d3; color: #7a5200; }
.verdict-measured { background: #dde9fb; color: #1a4a8a; }
.chart { margin: 0 0 2rem; }
.vis { overflow-x: auto; }
figcaption { color: var(--muted); max-width: 75ch; margin-top: .4rem; }
.files { white-space: nowrap; }
.table-wrap { overflow-x: auto; margin-bottom: 1.5rem; }
table { border-collapse: collapse; font-size: .9rem; }
caption { text-align: left; font-weight: 600; padding: .25rem 0 .5rem; }
th, td { padding: .3rem .7rem; border-bottom: 1px solid var(--line); text-align: left; white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.empty { color: var(--muted); text-align: center; }
th button { all: unset; cursor: pointer; font-weight: 600; }
th button:focus-visible { outline: 2px solid #4a78c2; }
th[aria-sort="ascending"] button::after { content: " ▲"; font-size: .7em; }
th[aria-sort="descending"] button::after { content: " ▼"; font-size: .7em; }
tbody tr:nth-child(even) { background: var(--bg-soft); }
pre { background: var(--bg-soft); padding: .75rem; overflow-x: auto; font-size: .85rem; }
summary { cursor: pointer; }
`.trim();

// Runs in the browser. vegaEmbed gets mode 'vega-lite' (without a $schema it would assume Vega) and only the export
// actions (no source, compiled or editor links, which open vega.github.io). body[data-charts] = 'done' when every
// chart has finished, drawn or not, for whoever waits on the page.
const PAGE_JS = `
(function () {
  var specs = document.querySelectorAll('script.spec');
  var pending = [];
  specs.forEach(function (el) {
    var target = document.getElementById(el.dataset.target);
    var spec = JSON.parse(el.textContent);
    // The chart font may not be installed where the page is opened: fall back to a sans-serif, not the browser's serif.
    if (spec.config && typeof spec.config.font === 'string' && spec.config.font.indexOf(',') < 0) spec.config.font += ', sans-serif';
    pending.push(vegaEmbed(target, spec, {
      mode: 'vega-lite', renderer: 'svg',
      actions: { export: true, source: false, compiled: false, editor: false }
    }).catch(function (err) {
      target.textContent = 'This chart could not be drawn: ' + err.message;
      console.error(err);
    }));
  });
  Promise.all(pending).then(function () { document.body.dataset.charts = 'done'; });

  function key(td) {
    if (!td) return null;
    if (td.dataset.v !== undefined && td.dataset.v !== '') return Number(td.dataset.v);
    return td.classList.contains('empty') ? null : td.textContent;
  }
  document.querySelectorAll('table.sortable th button').forEach(function (btn) {
    btn.addEventListener('click', function () {
      var th = btn.parentElement, table = th.closest('table'), col = Number(btn.dataset.col);
      var dir = th.getAttribute('aria-sort') === 'ascending' ? -1 : 1;
      table.querySelectorAll('th').forEach(function (h) { h.setAttribute('aria-sort', 'none'); });
      th.setAttribute('aria-sort', dir === 1 ? 'ascending' : 'descending');
      var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = key(a.cells[col]), y = key(b.cells[col]);
        if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1; // empty cells last either way
        if (typeof x === 'number' && typeof y === 'number') return (x - y) * dir;
        return String(x).localeCompare(String(y), undefined, { numeric: true }) * dir;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
})();
`.trim();
