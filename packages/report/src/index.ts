export type * from './rows.js';
export { seedStats, reportedMetric, isDone, METRIC_TITLE } from './rows.js';
export type * from './page.js';
export { saturationFindings, widthByDrFindings, compoundFindings, searchFindings, costFindings, runFindings, findingsFor } from './findings.js';
export {
  resultKind, loadInput, loadStudy, loadExperiment, readManifest, readStudy, studyRows, loadRun, costRows, costInput, EXPERIMENT_FILE,
  type StudyAnnotator, type Annotation, type ExperimentManifest, type CostSweep, type ResultKind,
} from './load.js';
export { buildPage, makeReport, mergeInputs, LIVE_REFRESH_SECONDS } from './report.js';
export { chartsFor } from './specs/index.js';
export * from './render/index.js';
