/** What a report page holds: charts (Vega-Lite specs), findings, tables and provenance. Rendering reads only this. */
import type { TopLevelSpec } from 'vega-lite';
import type { Provenance } from './rows.js';

export interface Chart {
  /** File stem: `saturation`, `search-heatmap`, ... (charts/<name>.vl.json, .svg, .png). */
  name: string;
  title: string;
  /** One or two sentences under the chart: what is drawn and how to read it. */
  caption: string;
  spec: TopLevelSpec;
}

/** held: the data support the paper's claim; not held: they contradict it beyond the seed spread. */
export type Verdict = 'held' | 'not held' | 'not distinguishable' | 'no verdict' | 'not enough data' | 'measured';

export interface Finding {
  /** The paper's claim being tested, in a few words ("width saturates", "compound beats single dimensions"). */
  claim: string;
  verdict: Verdict;
  /** One sentence with the numbers, e.g. "width: gain from w 3.8 to 5.0 was +0.2 pt, from 1.0 to 1.4 +2.1 pt: saturates". */
  text: string;
}

export interface Table {
  name: string;
  title: string;
  columns: string[];
  rows: (string | number | null)[][];
}

export interface Page {
  title: string;
  charts: Chart[];
  findings: Finding[];
  tables: Table[];
  provenance: Provenance;
  /** The producer is still running: the page reloads itself every `refreshSeconds` and says so. */
  live: boolean;
  refreshSeconds: number;
}
