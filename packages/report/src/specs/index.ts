/**
 * Every chart of a report, each a pure function from tidy rows to a Vega-Lite spec with its data inline (pages work
 * from file://). A chart the rows cannot draw is null and left out; the order follows the paper.
 */
import type { Chart } from '../page.js';
import type { ReportInput } from '../rows.js';
import { familyChart, roundingGapChart } from './costs.js';
import { trainingCurveChart } from './curves.js';
import { compoundVsSingleChart, saturationChart, widthSweepChart } from './saturation.js';
import { costAccuracyChart, halvingChart, searchHeatmapChart } from './search.js';

export { saturationChart, widthSweepChart, compoundVsSingleChart } from './saturation.js';
export { searchHeatmapChart, costAccuracyChart, halvingChart, type SearchInfo } from './search.js';
export { gridRows } from '../search-rows.js';
export { roundingGapChart, familyChart } from './costs.js';
export { trainingCurveChart } from './curves.js';
export { CONFIG, DIMENSION_COLOR, HEIGHT, WIDTH } from './theme.js';

/**
 * The charts `input` can draw: the single-dimension figures, the search (only with `input.search`), the exact costs,
 * and a training curve (only when the curves belong to one network).
 */
export function chartsFor(input: ReportInput): Chart[] {
  const { rows, costs, search } = input;
  return [
    saturationChart(rows),
    widthSweepChart(rows),
    compoundVsSingleChart(rows),
    search ? searchHeatmapChart(rows, search) : null,
    search ? costAccuracyChart(rows, search) : null,
    search ? halvingChart(rows, search) : null,
    roundingGapChart(costs),
    familyChart(costs),
    trainingCurveChart(rows),
  ].filter((c): c is Chart => c !== null);
}
