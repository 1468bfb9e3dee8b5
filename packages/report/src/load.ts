/**
 * The only module that reads result files: a search study, a training run, or (reading nothing) a cost sweep, each
 * turned into one ReportInput of tidy rows. Which kind a path holds is decided here, once.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError, PAPER_COEFFICIENTS, PRESET_NAMES, scaleSpec, type NetworkSpec } from '@effscale/core';
import { codeVersion, readRunRecord, runLockHeld, type EvalRow, type RunRecord } from '@effscale/core/train';
import { constraintProduct, countTotals } from '@effscale/flops';
import { checkStudyName, exportRows, isFinished, JOURNAL_FILE, openFileJournal, openPostgresJournal, replay, type StudyState } from '@effscale/search';
import { coefficientsText, type CostRow, type CurvePoint, type NetworkRow, type ReportInput, type RowStatus } from './rows.js';

export type ResultKind = 'study' | 'experiment' | 'run';

/** The file an experiment run directory holds next to its study journal: what each point stands for. */
export const EXPERIMENT_FILE = 'experiment.json';

/** What a path holds, or a one-line error naming what was expected there. */
export function resultKind(path: string): ResultKind {
  if (!existsSync(path)) throw new ConfigError(`'${path}' does not exist; give a study directory (effscale search run), an experiment run or a training run directory`);
  if (!statSync(path).isDirectory()) throw new ConfigError(`'${path}' is a file; give a study, experiment or training run directory`);
  if (existsSync(join(path, JOURNAL_FILE))) return existsSync(join(path, EXPERIMENT_FILE)) ? 'experiment' : 'study';
  if (existsSync(join(path, 'run.json'))) return 'run';
  throw new ConfigError(`'${path}' holds no effscale result (no ${JOURNAL_FILE} of a study or experiment, no run.json of a training run)`);
}

export async function loadInput(path: string, opts: { running?: boolean } = {}): Promise<ReportInput> {
  const kind = resultKind(path);
  return kind === 'study' ? loadStudy(path, opts) : kind === 'experiment' ? loadExperiment(path, opts) : loadRun(path);
}

// ---- Studies ------------------------------------------------------------------------------------------------------

/** Producers built on studies (experiments) say what each point stands for: its series, dimension and multipliers. */
export type Annotation = Partial<Pick<NetworkRow, 'series' | 'dimension' | 'depthMult' | 'widthMult' | 'resolutionMult' | 'alpha' | 'beta' | 'gamma' | 'phi'>>;
export type StudyAnnotator = (pointId: string) => Annotation | undefined;

export async function readStudy(dir: string): Promise<StudyState> {
  const backend = await openFileJournal(dir, { readOnly: true });
  try {
    const records = await backend.read(0);
    if (records.length === 0) throw new ConfigError(`the study in '${dir}' is empty (its journal has no records yet); start it with effscale search run`);
    return replay(records);
  } finally {
    await backend.close();
  }
}

export function studyRows(state: StudyState, annotate?: StudyAnnotator): NetworkRow[] {
  const grid = state.study.settings.grid as { phi?: string; base?: NetworkSpec };
  const phi = Number(grid.phi ?? 1);
  const base = grid.base ? scaleSpec(grid.base) : null;
  const points = new Map(state.study.points.map((p) => [p.id, p]));
  return exportRows(state).map((r): NetworkRow => {
    const p = points.get(r.id)!;
    const net = scaleSpec(p.network);
    // A search point by default; an experiment's annotation says what the point stands for instead.
    return {
      id: r.id, series: 'search', dimension: 'compound', alpha: r.alpha, beta: r.beta, gamma: r.gamma, phi,
      depthMult: base ? net.depth / base.depth : r.alpha ** phi,
      widthMult: base ? net.width / base.width : r.beta ** phi,
      resolutionMult: base ? net.resolution / base.resolution : r.gamma ** phi,
      depth: net.depth, width: net.width, resolution: net.resolution,
      params: r.params, macs: r.macs, costRatio: r.costRatio, constraintValue: r.constraintValue,
      seed: r.seed, status: r.state, rung: r.rung, step: r.step,
      valTop1: r.valTop1, valTop5: r.valTop5, valLoss: r.valLoss, testTop1: r.testTop1, testTop5: r.testTop5,
      wallSeconds: r.wallSeconds, sharedWith: r.sharedWith,
      curve: r.curve.map((c) => ({ step: c.step, epoch: null, trainLoss: c.trainLoss, valLoss: c.valLoss, valTop1: c.valTop1 })),
      ...annotate?.(r.id),
    };
  });
}

/**
 * `running`: the caller is the study's own `search run`, so the page stays live until every trial ended; otherwise
 * live means some trial holds an unexpired lease (a run elsewhere), so an interrupted study's page stops reloading.
 */
export async function loadStudy(dir: string, opts: { annotate?: StudyAnnotator; kind?: string; title?: string; running?: boolean; storage?: string } = {}): Promise<ReportInput> {
  // With a storage URL the study is a name in that database, not a directory.
  if (opts.storage !== undefined) return loadStoredStudy(opts.storage, dir, opts);
  return studyInput(await readStudy(dir), resolve(dir), opts);
}

/**
 * A study stored in PostgreSQL (effscale search run NAME --storage URL): the same report as a study directory's. The
 * source names the server with its password masked, so no password reaches the page or its data.
 */
export async function loadStoredStudy(url: string, name: string, opts: { annotate?: StudyAnnotator; kind?: string; title?: string; running?: boolean } = {}): Promise<ReportInput> {
  const backend = await openPostgresJournal(url, checkStudyName(name), { readOnly: true });
  let records;
  try {
    records = await backend.read(0);
  } finally {
    await backend.close();
  }
  if (records.length === 0) throw new ConfigError(`no study '${name}' in ${backend.target}; create it with effscale search run ${name} --storage URL`);
  return studyInput(replay(records), backend.source, opts);
}

function studyInput(state: StudyState, source: string, opts: { annotate?: StudyAnnotator; kind?: string; title?: string; running?: boolean }): ReportInput {
  const { settings, code, createdAt } = state.study;
  const training = settings.training as { backend?: string; data?: Record<string, unknown> };
  const backends = new Set<string>();
  for (const t of state.trials.values()) for (const o of t.outcomes) if (o?.backend) backends.add(o.backend);
  const grid = settings.grid as { target?: string };
  return {
    title: opts.title ?? `Search study ${source}`,
    provenance: {
      kind: opts.kind ?? 'search study', source, code, createdAt,
      // What ran, from the trials' outcomes; the setting when nothing has run yet.
      backend: backends.size ? [...backends].sort().join(', ') : training.backend ?? null,
      data: training.data ?? null, seeds: settings.seeds,
      settings: { grid: settings.grid, training: settings.training, halving: settings.halving, maxRetries: settings.maxRetries },
    },
    rows: studyRows(state, opts.annotate),
    costs: [],
    search: opts.annotate ? null : { target: Number(grid.target ?? 2), paper: { ...PAPER_COEFFICIENTS }, rungs: settings.halving.rungs },
    live: !isFinished(state) && (opts.running ?? [...state.trials.values()].some((t) => t.state === 'running' && t.claim!.leaseUntil > Date.now())),
  };
}

// ---- Experiments -------------------------------------------------------------------------------------------------

/** experiment.json: written once when the experiment's study is created; the study's journal holds the results. */
export interface ExperimentManifest {
  kind: 'effscale-experiment';
  version: 1;
  name: string;
  title: string;
  /** The paper's figure or table it reproduces. */
  paper: string;
  budget: string;
  createdAt: string;
  /** Every setting that defines it (base, data, recipe, seeds, budget, coefficients). */
  settings: Record<string, unknown>;
  members: (Annotation & { id: string })[];
  /** Exact costs drawn next to the trained networks (the family experiment). */
  costs: CostRow[];
}

export function readManifest(dir: string): ExperimentManifest {
  const file = join(dir, EXPERIMENT_FILE);
  let m: ExperimentManifest;
  try {
    m = JSON.parse(readFileSync(file, 'utf8')) as ExperimentManifest;
  } catch (e) {
    throw new ConfigError(`cannot read '${file}' (${(e as Error).message.split('\n')[0]}); it is written when the experiment starts: run the experiment again into a new directory`);
  }
  if (m?.kind !== 'effscale-experiment' || !Array.isArray(m.members)) throw new ConfigError(`'${file}' is not an effscale experiment manifest`);
  return m;
}

export async function loadExperiment(dir: string, opts: { running?: boolean } = {}): Promise<ReportInput> {
  const m = readManifest(dir);
  const byId = new Map(m.members.map(({ id, ...a }) => [id, a]));
  const input = await loadStudy(dir, { ...opts, annotate: (id) => byId.get(id), kind: `experiment ${m.name}`, title: `${m.title} (${m.paper}, ${m.budget} budget)` });
  return { ...input, costs: m.costs, provenance: { ...input.provenance, settings: { experiment: m.settings, ...input.provenance.settings } } };
}

// ---- Training runs ------------------------------------------------------------------------------------------------

function readJsonl<T>(file: string): T[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).flatMap((l) => {
    try {
      return [JSON.parse(l) as T];
    } catch {
      return []; // a torn last line of a run being written: the next refresh has it
    }
  });
}

export function loadRun(dir: string): ReportInput {
  const run: RunRecord = readRunRecord(join(dir, 'run.json'));
  const evals = readJsonl<EvalRow>(join(dir, 'metrics.jsonl'));
  const finalFile = join(dir, 'final.json');
  const final = existsSync(finalFile) ? (JSON.parse(readFileSync(finalFile, 'utf8')) as { status: string; step: number }) : null;
  const running = !final && runLockHeld(dir);
  const last = evals[evals.length - 1];
  const lastWith = <K extends keyof EvalRow>(k: K) => [...evals].reverse().find((e) => e[k] !== null)?.[k] ?? null;
  const costs = countTotals(run.network.spec);
  const curve: CurvePoint[] = evals.map((e) => ({ step: e.step, epoch: e.step / run.budget.stepsPerEpoch, trainLoss: e.trainLoss, valLoss: e.valLoss ?? e.testLoss, valTop1: e.valTop1 ?? e.testTop1 }));
  const status: RowStatus = final ? (final.status === 'diverged' ? 'diverged' : 'done') : running ? 'running' : 'stopped';
  const row: NetworkRow = {
    id: run.network.name, series: 'run', dimension: 'base', alpha: null, beta: null, gamma: null, phi: null,
    depthMult: 1, widthMult: 1, resolutionMult: 1,
    depth: run.network.depth, width: run.network.width, resolution: run.network.resolution,
    params: costs.params, macs: costs.macs, costRatio: 1, constraintValue: null,
    seed: run.seed, status, rung: 0, step: final?.step ?? last?.step ?? null,
    valTop1: lastWith('valTop1') as number | null, valTop5: lastWith('valTop5') as number | null, valLoss: lastWith('valLoss') as number | null,
    testTop1: lastWith('testTop1') as number | null, testTop5: lastWith('testTop5') as number | null,
    wallSeconds: last?.wallSeconds ?? null, sharedWith: [], curve,
  };
  return {
    title: `Training run ${resolve(dir)}`,
    provenance: {
      kind: 'training run', source: resolve(dir), code: run.code, createdAt: run.createdAt, backend: run.backend.name ?? null,
      data: run.data as unknown as Record<string, unknown>, seeds: [run.seed],
      settings: { network: run.network, recipe: run.recipe, budget: run.budget, divergence: run.divergence },
    },
    rows: [row], costs: [], search: null, live: running,
  };
}

// ---- Costs, no training -------------------------------------------------------------------------------------------

export interface CostSweep {
  phi: number[];
  alpha?: number;
  beta?: number;
  gamma?: number;
}

export function costRows(sweep: CostSweep): CostRow[] {
  const c = { alpha: sweep.alpha ?? PAPER_COEFFICIENTS.alpha, beta: sweep.beta ?? PAPER_COEFFICIENTS.beta, gamma: sweep.gamma ?? PAPER_COEFFICIENTS.gamma };
  const family = `compound ${coefficientsText(c)}`;
  const product = constraintProduct(c);
  const one = (spec: NetworkSpec) => ({ s: scaleSpec(spec), k: countTotals(spec) });
  const base = one({ selector: { kind: 'compound', phi: 0, ...c } });
  const rows: CostRow[] = sweep.phi.map((phi) => {
    const { s, k } = one({ selector: { kind: 'compound', phi, ...c } });
    return { family, name: `phi ${phi}`, phi, depth: s.depth, width: s.width, resolution: s.resolution, params: k.params, macs: k.macs,
      theoreticalRatio: product ** phi, realizedRatio: k.macs / base.k.macs };
  });
  const b0 = one({ selector: { kind: 'preset', preset: 'b0' } });
  for (const preset of PRESET_NAMES) {
    const { s, k } = one({ selector: { kind: 'preset', preset } });
    rows.push({ family: 'B0..B7 (paper presets)', name: preset.toUpperCase(), phi: null, depth: s.depth, width: s.width, resolution: s.resolution,
      params: k.params, macs: k.macs, theoreticalRatio: null, realizedRatio: k.macs / b0.k.macs });
  }
  return rows;
}

export function costInput(sweep: CostSweep): ReportInput {
  const costs = costRows(sweep);
  return {
    title: `Exact costs: ${costs[0].family}, phi ${sweep.phi[0]}..${sweep.phi[sweep.phi.length - 1]}, next to B0..B7`,
    provenance: { kind: 'costs', source: null, code: codeVersion(), backend: null, data: null, seeds: [], settings: { ...sweep, base: 'B0 (224 px, 1000 classes, 3 channels)' }, createdAt: new Date().toISOString() },
    rows: [], costs, search: null, live: false,
  };
}
