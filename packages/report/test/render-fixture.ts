/** Small pages for the rendering tests; the real chart specs live in src/specs and are tested there. */
import type { TopLevelSpec } from 'vega-lite';
import type { Chart, Page } from '../src/page.js';
import { FONT_FAMILY } from '../src/render/index.js';

export function lineSpec(title = 'Width saturates'): TopLevelSpec {
  return {
    title,
    width: 240,
    height: 140,
    config: { font: FONT_FAMILY },
    data: { values: [{ w: 1, acc: 70.1 }, { w: 2, acc: 74.8 }, { w: 4, acc: 76.0 }] },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'w', type: 'quantitative', title: 'width multiplier' },
      y: { field: 'acc', type: 'quantitative', title: 'val top-1 (%)', scale: { zero: false } },
    },
  };
}

export function barSpec(labels: string[]): TopLevelSpec {
  return {
    title: 'Cost by network',
    width: 200,
    config: { font: FONT_FAMILY },
    data: { values: labels.map((name, i) => ({ name, macs: (i + 1) * 10 })) },
    mark: 'bar',
    encoding: {
      y: { field: 'name', type: 'nominal', title: 'network' },
      x: { field: 'macs', type: 'quantitative', title: 'MMACs' },
    },
  };
}

export function chart(name: string, spec: TopLevelSpec, title = `Chart ${name}`): Chart {
  return { name, title, caption: `What ${name} shows.`, spec };
}

export function page(charts: Chart[], over: Partial<Page> = {}): Page {
  return {
    title: 'Study report',
    charts,
    findings: [
      { claim: 'width saturates', verdict: 'held', text: 'gain from w 2 to 4 was +1.2 pt, from 1 to 2 +4.7 pt' },
      { claim: 'compound beats single dimensions', verdict: 'not distinguishable', text: 'within the seed spread' },
    ],
    tables: [
      {
        name: 'networks',
        title: 'Trained networks',
        columns: ['id', 'MACs', 'top-1'],
        rows: [
          ['b', 9, 74.8],
          ['a', 10, null],
          ['c', 100, 70.1],
        ],
      },
    ],
    provenance: {
      kind: 'search study',
      source: '/tmp/study',
      code: { version: 'abc123' },
      backend: 'cpu',
      data: { name: 'fashion-mnist' },
      seeds: [1, 2],
      settings: { grid: 'paper', budget: 100 },
      createdAt: '2025-01-01T00:00:00.000Z',
    },
    live: false,
    refreshSeconds: 30,
    ...over,
  };
}
