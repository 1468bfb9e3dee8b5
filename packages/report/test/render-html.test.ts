import { describe, expect, it } from 'vitest';
import { htmlPage, scriptCode } from '../src/render/index.js';
import { barSpec, chart, lineSpec, page } from './render-fixture.js';

const specScripts = (html: string): unknown[] =>
  [...html.matchAll(/<script type="application\/json" class="spec"[^>]*>([\s\S]*?)<\/script>/g)].map((m) => JSON.parse(m[1]));

describe('htmlPage', () => {
  it("holds every chart's spec, with its data inline, and each chart's title and caption", () => {
    const charts = [chart('saturation', lineSpec()), chart('costs', barSpec(['b0', 'b1']), 'Costs of B0 & B1')];
    const html = htmlPage(page(charts));
    expect(specScripts(html)).toEqual(charts.map((c) => c.spec));
    expect(html).toContain('<h3>Costs of B0 &amp; B1</h3>');
    expect(html).toContain('What saturation shows.');
  });

  it('escapes </script> and markup inside data, titles, findings and table cells', () => {
    const evil = '</script><script>alert(1)</script><b>x</b>';
    const spec = barSpec([evil, 'ok']);
    const p = page([chart('evil', spec, evil)], {
      title: evil,
      findings: [{ claim: evil, verdict: 'held', text: evil }],
      tables: [{ name: 't', title: evil, columns: [evil], rows: [[evil]] }],
      provenance: { ...page([]).provenance, settings: { note: evil } },
    });
    const html = htmlPage(p);
    expect(html).not.toContain('<script>alert(1)');
    expect(html).not.toContain('<b>x</b>');
    expect(specScripts(html)).toEqual([spec]);
    // Only the page's own elements: 3 libraries, the page script, one spec.
    expect(html.match(/<script/g)).toHaveLength(5);
    expect(html.match(/<\/script>/g)).toHaveLength(5);
  });

  it('inlines vega, vega-lite and vega-embed without source-map comments', () => {
    const html = htmlPage(page([chart('a', lineSpec())]));
    expect(html).toContain('vegaEmbed');
    expect(html).toContain('vegaLite');
    expect(html).not.toMatch(/sourceMappingURL/);
    expect(html.length).toBeGreaterThan(700_000);
    expect(scriptCode('a("</script>");b("<!--")\n//# sourceMappingURL=x.map')).toBe('a("<\\/script>");b("<\\!--")\n');
  });

  it('loads nothing from outside: no src or href to a URL, no stylesheet link, no editor action', () => {
    const html = htmlPage(page([chart('a', lineSpec())]), { files: { spec: true, svg: true, png: true } });
    expect(html).not.toMatch(/\b(src|href)\s*=\s*["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/<link\b/i);
    expect(html).not.toMatch(/@import|url\(\s*["']?https?:/i);
    expect(html).toContain('editor: false');
    expect(html).toContain('<a href="charts/a.svg">SVG</a>');
  });

  it('reloads itself and says so only when live', () => {
    const live = htmlPage(page([], { live: true, refreshSeconds: 15 }));
    expect(live).toContain('<meta http-equiv="refresh" content="15">');
    expect(live).toContain('This report is live: the study is still running; the page reloads every 15 s');
    const done = htmlPage(page([], { live: false, refreshSeconds: 15 }));
    expect(done).not.toMatch(/http-equiv="refresh"/i);
    expect(done).not.toContain('This report is live');
  });

  it('lists findings with a verdict badge and tables with sortable headers and numeric sort keys', () => {
    const html = htmlPage(page([]));
    expect(html).toContain('<span class="claim">width saturates</span> <span class="badge verdict-held">held</span>');
    expect(html).toContain('<span class="badge verdict-not-distinguishable">not distinguishable</span>');
    expect(html).toContain('<button type="button" data-col="1">MACs</button>');
    expect(html).toContain('<td class="num" data-v="100">100</td>');
    expect(html).toContain('<td class="empty">–</td>');
    expect(html).toContain('&quot;budget&quot;: 100');
  });
});
