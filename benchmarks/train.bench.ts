/**
 * pnpm bench:train [--backends tensorflow,wasm] [--res 32,64,128] [--steps N] [--warmup N] [--warmup-seconds S] [--budget SECONDS]
 *                  [--timeout SECONDS] [--no-torch] [--python PATH] [--torch-threads 1,N] [--json]
 *
 * --backends: tensorflow and wasm by default; cpu (pure JS: minutes per step at 128 px) and webgpu are opt-in.
 * --warmup, --warmup-seconds: warm-up steps run until both are reached (defaults 2 steps and 5 s), for tfjs and
 *   PyTorch alike: V8 is still tiering up the tfjs JavaScript after two 70-ms steps (the next steps ran 229 -> 90 ms),
 *   which is not the speed of a training run of thousands of steps.
 * --budget: each phase (training, forward) stops once its warm-up and measured steps took this long (one step
 *   minimum; default 60 s), and a tfjs worker is stopped after 2 x budget + 60 s (--timeout overrides), so a backend
 *   whose single step outlasts the budget is reported as such instead of holding the run.
 * --torch-threads: the PyTorch thread counts to run (default 1 and the machine's core count: per core, as a search
 *   runs one trial process per core, and all cores). Each (threads, layout) runs in its own process.
 *
 * Images/s of training steps (the trainer's: trainingForward, Adam, categorical cross-entropy) and of forward passes of the effscale
 * model, median over several steps after warm-up on fresh inputs, per tfjs backend and per configuration; and the
 * same for the PyTorch twin (benchmarks/torch_effnet.py) built from the same resolved architecture, when
 * /usr/bin/python3 has torch. Every (backend, config) runs in its own process: the wasm heap never shrinks, and an
 * out-of-memory there must not spoil the other measurements. Progress goes to stderr; the table (or --json) to
 * stdout; the last results to benchmarks/results/train-latest.json.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs as parseCommandLine } from 'node:util';
import { resolveArchitecture, type Architecture } from '@effscale/core';
import { writeFileAtomic } from '@effscale/core/train';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const RESULTS = path.join(HERE, 'results', 'train-latest.json');
const TORCH_SCRIPT = path.join(HERE, 'torch_effnet.py');
// Load tfjs where @effscale/core gets it, so the model and the timing code share one tfjs-core.
const coreRequire = createRequire(fileURLToPath(import.meta.resolve('@effscale/core')));

const BACKENDS = ['tensorflow', 'wasm', 'cpu', 'webgpu'] as const;
type Backend = (typeof BACKENDS)[number];
/** What runs without --backends: the pure-JS cpu backend takes minutes per step at 128 px, webgpu needs an adapter. */
const DEFAULT_BACKENDS: readonly Backend[] = ['tensorflow', 'wasm'];
const LAYOUTS = ['nchw', 'channels_last'] as const;
type Layout = (typeof LAYOUTS)[number];

interface BenchConfig {
  id: string;
  resolution: number;
  width: number;
  depth: number;
  batch: number;
}

const CONFIGS: readonly BenchConfig[] = [
  { id: 'r32-w0.5-b32', resolution: 32, width: 0.5, depth: 1, batch: 32 },
  { id: 'r64-w1-b32', resolution: 64, width: 1.0, depth: 1, batch: 32 },
  { id: 'r128-w1-b16', resolution: 128, width: 1.0, depth: 1, batch: 16 },
];
const CLASSES = 10;
const CHANNELS = 1;

function architectureOf(c: BenchConfig): Architecture {
  return resolveArchitecture({
    selector: { kind: 'multipliers', depth: c.depth, width: c.width, resolution: c.resolution },
    classes: CLASSES,
    inputChannels: CHANNELS,
  });
}

// ---------------------------------------------------------------------------------------------- options

interface Options {
  backends: Backend[];
  resolutions: number[] | null;
  steps: number;
  warmup: number;
  /** Warm-up also lasts at least this long (seconds). */
  warmupSeconds: number;
  budgetSeconds: number;
  /** Stop a tfjs worker after this long (default 2 x budget + 60 s); what it finished is kept. */
  timeoutSeconds: number;
  torch: boolean;
  python: string;
  /** PyTorch thread counts, e.g. [1, 2]: per core and all cores. */
  torchThreads: number[];
  json: boolean;
  seed: number;
}

const USAGE =
  'usage: bench:train [--backends tensorflow,wasm,cpu,webgpu] [--res 32,64,128] [--steps N] [--warmup N] [--warmup-seconds S] [--budget SECONDS] [--timeout SECONDS] ' +
  '[--no-torch] [--python PATH] [--torch-threads 1,N] [--json]';

function intArg(name: string, v: string | undefined, min: number): number {
  const n = Number(v);
  if (v === undefined || !Number.isInteger(n) || n < min) throw new Error(`${name} '${v}' must be an integer >= ${min}`);
  return n;
}

const OPTION_SPEC = {
  backends: { type: 'string' },
  res: { type: 'string' },
  steps: { type: 'string' },
  warmup: { type: 'string' },
  'warmup-seconds': { type: 'string' },
  budget: { type: 'string' },
  timeout: { type: 'string' },
  'torch-threads': { type: 'string' },
  seed: { type: 'string' },
  'no-torch': { type: 'boolean' },
  python: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function optionValues(argv: string[]) {
  try {
    return parseCommandLine({ args: argv, options: OPTION_SPEC, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new Error(`${errorLine(err)}\n${USAGE}`);
  }
}

function parseArgs(argv: string[]): Options {
  const v = optionValues(argv);
  if (v.help) {
    process.stdout.write(USAGE + '\n');
    process.exit(0);
  }
  const o: Options = {
    backends: [...DEFAULT_BACKENDS],
    resolutions: null,
    steps: 5,
    warmup: 2,
    warmupSeconds: 5,
    budgetSeconds: 60,
    timeoutSeconds: 0,
    torch: v['no-torch'] !== true,
    python: v.python ?? '/usr/bin/python3',
    torchThreads: [...new Set([1, os.cpus().length])],
    json: v.json === true,
    seed: 0,
  };
  if (v.backends !== undefined) {
    const list = v.backends.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
    for (const b of list) {
      if (!(BACKENDS as readonly string[]).includes(b)) throw new Error(`--backends: unknown backend '${b}' (allowed: ${BACKENDS.join(', ')})`);
    }
    if (list.length === 0) throw new Error(`--backends needs a list (allowed: ${BACKENDS.join(', ')})`);
    o.backends = list as Backend[];
  }
  if (v.res !== undefined) {
    const allowed = CONFIGS.map((c) => c.resolution);
    o.resolutions = v.res.split(',').map((s) => {
      const r = Number(s);
      if (!allowed.includes(r)) throw new Error(`--res: unknown resolution '${s}' (allowed: ${allowed.join(', ')})`);
      return r;
    });
  }
  if (v.steps !== undefined) o.steps = intArg('--steps', v.steps, 1);
  if (v.warmup !== undefined) o.warmup = intArg('--warmup', v.warmup, 0);
  if (v['warmup-seconds'] !== undefined) o.warmupSeconds = intArg('--warmup-seconds', v['warmup-seconds'], 0);
  if (v.budget !== undefined) o.budgetSeconds = intArg('--budget', v.budget, 1);
  o.timeoutSeconds = v.timeout !== undefined ? intArg('--timeout', v.timeout, 1) : 2 * o.budgetSeconds + 60;
  if (v['torch-threads'] !== undefined) {
    o.torchThreads = [...new Set(v['torch-threads'].split(',').map((t) => intArg('--torch-threads', t.trim(), 1)))];
  }
  if (v.seed !== undefined) o.seed = intArg('--seed', v.seed, 0);
  return o;
}

const log = (msg: string): void => void process.stderr.write(msg + '\n');

// ---------------------------------------------------------------------------------------------- timing

interface Timing {
  /** Median images/s over the measured steps. */
  imagesPerSec: number;
  stepSeconds: number[];
  /** True when one step exceeded the time budget, so the warm-up step is the only sample. */
  warmupOnly: boolean;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * Runs `step` warm-up + measured times; `step` returns the seconds of its timed part (the training step or forward pass,
 * not the making of its random inputs, for tfjs and PyTorch alike). Stops early once the phase (warm-up included) took
 * longer than the budget, keeping at least one sample; if the warm-up already exceeds it, its last step is the sample.
 */
async function timeSteps(
  step: () => Promise<number>,
  o: { steps: number; warmup: number; warmupSeconds: number; budgetSeconds: number; batch: number; label: string },
): Promise<Timing> {
  const samples: number[] = [];
  let warmupOnly = false;
  let spent = 0;
  for (let i = 0; i < o.warmup || (o.warmup > 0 && spent < o.warmupSeconds); i++) {
    const dt = await step();
    spent += dt;
    log(`  ${o.label} warm-up ${i + 1} (${o.warmup}+ steps, ${o.warmupSeconds}+ s): ${dt.toFixed(2)} s`);
    if (spent > o.budgetSeconds) {
      samples.push(dt);
      warmupOnly = true;
      break;
    }
  }
  for (let i = 0; !warmupOnly && i < o.steps; i++) {
    const dt = await step();
    samples.push(dt);
    spent += dt;
    log(`  ${o.label} step ${i + 1}/${o.steps}: ${dt.toFixed(3)} s (${(o.batch / dt).toFixed(1)} img/s)`);
    if (spent > o.budgetSeconds) break;
  }
  return { imagesPerSec: o.batch / median(samples), stepSeconds: samples, warmupOnly };
}

// ---------------------------------------------------------------------------------------------- tfjs worker

interface WorkerJob {
  backend: Backend;
  config: BenchConfig;
  steps: number;
  warmup: number;
  warmupSeconds: number;
  budgetSeconds: number;
  seed: number;
  /** When set, write the trained weights, a fixed input and the model's predictions there for the twin to check. */
  dumpDir?: string;
}

/** Layout of a weight dump: float32 little-endian tensors concatenated in dump.bin, described here. */
interface DumpManifest {
  input: { shape: number[]; offset: number };
  output: { shape: number[]; offset: number };
  /** Output of the last layer before pooling (NHWC): far more sensitive to a wiring or padding difference. */
  features: { layer: string; shape: number[]; offset: number };
  weights: Array<{ layer: string; name: string; shape: number[]; offset: number }>;
}

interface BackendInfo {
  name: string;
  version?: string;
  threads?: number;
  fallbacks?: unknown[];
}

interface TfjsResult {
  backend: Backend;
  config: string;
  status: 'ok' | 'unavailable' | 'error';
  message?: string;
  backendInfo?: BackendInfo;
  tfjsVersion?: string;
  params?: number;
  train?: Timing | { error: string };
  forward?: Timing | { error: string };
  /** Peak RSS of the process after its training steps (model, optimizer state, wasm heap at its high-water mark). */
  trainMaxRssMB?: number;
  maxRssMB?: number;
}

type TF = typeof import('@tensorflow/tfjs-core');

async function importFromCore<T>(specifier: string): Promise<T> {
  return (await import(pathToFileURL(coreRequire.resolve(specifier)).href)) as T;
}

/** Selects a backend with @effscale/core/backend's initBackend; null with a reason when it is not this backend. */
async function selectBackend(backend: Backend): Promise<BackendInfo | string> {
  const { initBackend } = (await import('@effscale/core/backend')) as {
    initBackend: (r: Backend) => Promise<BackendInfo>;
  };
  try {
    const info = await initBackend(backend);
    if (!info.name.startsWith(backend)) {
      return `asked for '${backend}', got '${info.name}'${info.fallbacks?.length ? `: ${JSON.stringify(info.fallbacks)}` : ''}`;
    }
    return info;
  } catch (err) {
    return String((err as Error).message ?? err).split('\n')[0];
  }
}

function errorLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0];
}

/** Measures one (backend, config); `save` receives the result after each phase, so a timeout keeps what finished. */
async function runWorker(job: WorkerJob, save: (partial: TfjsResult) => void): Promise<TfjsResult> {
  const { backend, config: c } = job;
  const base: TfjsResult = { backend, config: c.id, status: 'ok' };
  const info = await selectBackend(backend);
  if (typeof info === 'string') return { ...base, status: 'unavailable', message: info };
  const tf = await importFromCore<TF>('@tensorflow/tfjs-core');
  const { buildModel } = await import('@effscale/core/model');
  const { FusedAdamOptimizer } = await import('@effscale/wasm-train');
  const { stepGradients } = await import('@effscale/core/train');

  const model = buildModel(architectureOf(c), { seed: job.seed });
  const optimizer = new FusedAdamOptimizer(1e-3);
  const vars = model.trainableWeights.map((w) => w.read() as import('@tensorflow/tfjs-core').Variable);
  // The trainer's step (packages/core/src/train): stepGradients, then the fused Adam update.
  const trainStep = async (x: import('@tensorflow/tfjs-core').Tensor, y: import('@tensorflow/tfjs-core').Tensor): Promise<void> => {
    const loss = tf.tidy(() => {
      const { loss, grads, probsSum } = stepGradients(model, optimizer, vars, x, y);
      probsSum.dispose();
      optimizer.applyGradients(grads);
      return loss;
    });
    await loss.data();
    loss.dispose();
  };
  const shape: [number, number, number, number] = [c.batch, c.resolution, c.resolution, CHANNELS];
  const fresh = (): { x: import('@tensorflow/tfjs-core').Tensor; y: import('@tensorflow/tfjs-core').Tensor } =>
    tf.tidy(() => ({
      x: tf.randomNormal(shape),
      y: tf.oneHot(tf.randomUniform([c.batch], 0, CLASSES, 'int32') as import('@tensorflow/tfjs-core').Tensor1D, CLASSES),
    }));
  const timing = { steps: job.steps, warmup: job.warmup, warmupSeconds: job.warmupSeconds, budgetSeconds: job.budgetSeconds, batch: c.batch };
  const result: TfjsResult = {
    ...base,
    backendInfo: info,
    tfjsVersion: tf.version_core,
    params: model.countParams(),
  };
  save(result);

  try {
    result.train = await timeSteps(async () => {
      const { x, y } = fresh();
      try {
        const t0 = performance.now();
        await trainStep(x, y);
        return (performance.now() - t0) / 1000;
      } finally {
        tf.dispose([x, y]);
      }
    }, { ...timing, label: `${backend} ${c.id} train` });
  } catch (err) {
    result.train = { error: errorLine(err) };
    log(`  ${backend} ${c.id} train failed: ${errorLine(err)}`);
  }
  result.trainMaxRssMB = Math.round(process.resourceUsage().maxRSS / 1024);
  save(result);
  try {
    result.forward = await timeSteps(async () => {
      const { x, y } = fresh();
      try {
        const t0 = performance.now();
        const p = model.predict(x) as import('@tensorflow/tfjs-core').Tensor;
        await p.data();
        p.dispose();
        return (performance.now() - t0) / 1000;
      } finally {
        tf.dispose([x, y]);
      }
    }, { ...timing, label: `${backend} ${c.id} forward` });
  } catch (err) {
    result.forward = { error: errorLine(err) };
    log(`  ${backend} ${c.id} forward failed: ${errorLine(err)}`);
  }
  if ('error' in result.train! || 'error' in result.forward!) result.status = 'error';
  if (job.dumpDir !== undefined) {
    try {
      await dumpForTwin(tf, model, shape, job.seed, job.dumpDir);
    } catch (err) {
      log(`  ${backend} ${c.id}: weight dump failed: ${errorLine(err)}`);
    }
  }
  result.maxRssMB = Math.round(process.resourceUsage().maxRSS / 1024);
  model.dispose();
  return result;
}

/** Weights after training (so BN moving statistics are not trivial), a seeded input of 2 samples and the predictions. */
async function dumpForTwin(tf: TF, model: import('@tensorflow/tfjs-layers').LayersModel, shape: number[], seed: number, dir: string): Promise<void> {
  const chunks: Float32Array[] = [];
  let offset = 0;
  const push = (data: Float32Array): number => {
    chunks.push(data);
    offset += data.length;
    return offset - data.length;
  };
  const inputShape = [2, ...shape.slice(1)];
  const x = tf.randomNormal(inputShape, 0, 1, 'float32', seed + 1);
  const y = model.predict(x) as import('@tensorflow/tfjs-core').Tensor;
  const featureLayer = model.getLayer('top_activation');
  const { model: subModel } = await importFromCore<typeof import('@tensorflow/tfjs-layers')>('@tensorflow/tfjs-layers');
  const f = subModel({ inputs: model.inputs, outputs: featureLayer.output as import('@tensorflow/tfjs-layers').SymbolicTensor }).predict(x) as import('@tensorflow/tfjs-core').Tensor;
  const manifest: DumpManifest = {
    input: { shape: inputShape, offset: push(x.dataSync() as Float32Array) },
    output: { shape: y.shape, offset: push(y.dataSync() as Float32Array) },
    features: { layer: featureLayer.name, shape: f.shape, offset: push(f.dataSync() as Float32Array) },
    weights: [],
  };
  tf.dispose([x, y, f]);
  for (const layer of model.layers) {
    for (const w of layer.weights) {
      const data = w.read().dataSync() as Float32Array;
      // originalName is '<layer>/<weight>', e.g. block2a_expand_bn/moving_mean.
      manifest.weights.push({ layer: layer.name, name: w.originalName.split('/').pop() ?? '', shape: w.shape.map(Number), offset: push(data) });
    }
  }
  const bin = new Float32Array(offset);
  let at = 0;
  for (const c of chunks) {
    bin.set(c, at);
    at += c.length;
  }
  writeFileSync(path.join(dir, 'dump.bin'), new Uint8Array(bin.buffer));
  writeFileSync(path.join(dir, 'dump.json'), JSON.stringify(manifest));
}

/** Runs one (backend, config) measurement in a fresh node process with the same loader flags. */
function spawnWorker(job: WorkerJob, timeoutSeconds: number): Promise<TfjsResult> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'effscale-bench-'));
  const out = path.join(dir, 'result.json');
  const script = fileURLToPath(import.meta.url);
  return new Promise((resolve) => {
    // tfjs prints its "install the node backend" banner on stdout: keep the worker's stdout off ours.
    const child = spawn(process.execPath, [...process.execArgv, script, '--worker', JSON.stringify(job), out], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child.stdout.on('data', (d: Buffer) => process.stderr.write(d));
    let timedOut = false;
    const timer =
      timeoutSeconds > 0
        ? setTimeout(() => {
            timedOut = true;
            log(`  ${job.backend} ${job.config.id}: still running after ${timeoutSeconds} s, stopping the worker`);
            child.kill('SIGKILL');
          }, timeoutSeconds * 1000)
        : undefined;
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      let partial: TfjsResult | undefined;
      try {
        partial = JSON.parse(readFileSync(out, 'utf8')) as TfjsResult;
      } catch {
        partial = undefined;
      }
      try {
        if (timedOut) {
          const phase = partial?.train === undefined ? 'training' : 'forward';
          resolve({
            backend: job.backend, config: job.config.id, ...partial, status: 'error',
            message: `stopped after ${timeoutSeconds} s (2 x budget + 60 s) in the ${phase} phase: a step outlasts the budget`,
          });
        } else if (partial !== undefined && code === 0) {
          resolve(partial);
        } else {
          resolve({
            backend: job.backend,
            config: job.config.id,
            ...partial,
            status: 'error',
            message: `worker exited with ${signal ?? `code ${code}`} before finishing`,
          });
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------- torch twin

interface TorchLayout {
  trainImagesPerSec: number;
  forwardImagesPerSec: number;
  trainStepSeconds: number[];
  forwardSeconds: number[];
  /** Peak RSS of the process (one per layout) after its training steps. */
  trainMaxRssMB?: number;
}

/** One PyTorch thread count at one config; each layout ran in its own process. */
interface TorchResult {
  config: string;
  status: 'ok' | 'error';
  message?: string;
  torchVersion?: string;
  threads: number;
  params?: number;
  trainableParams?: number;
  layouts?: Partial<Record<Layout, TorchLayout>>;
  /** The twin run with the tfjs model's trained weights on the same input. */
  check?: { weightsLoaded: number; maxAbsDiff: number; argmaxEqual: boolean; featureLayer: string; featureRelDiff: number };
}

/**
 * The twin loaded with tfjs' weights must agree to float32 rounding (measured ~3e-7 relative). Softmax outputs
 * alone are too forgiving; the pre-pooling features expose e.g. symmetric instead of TF 'same' padding (2e-2)
 * or a BN epsilon of 1e-5 (1e-3).
 */
const MAX_PREDICTION_DIFF = 1e-4;
const MAX_FEATURE_REL_DIFF = 1e-4;

function torchVersion(python: string): string | { unavailable: string } {
  const r = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  if (r.error) return { unavailable: `${python}: ${r.error.message}` };
  if (r.status !== 0) return { unavailable: `${python} cannot import torch: ${r.stderr.trim().split('\n').pop()}` };
  return r.stdout.trim();
}

type TorchRun = Omit<TorchResult, 'config' | 'status'>;

function runTorchProcess(c: BenchConfig, o: Options, archFile: string, checkDir: string | null, threads: number, layout: Layout): Promise<TorchRun> {
  const args = [TORCH_SCRIPT, archFile, '--batch', String(c.batch), '--steps', String(o.steps), '--warmup', String(Math.max(1, o.warmup)), '--warmup-seconds', String(o.warmupSeconds),
    '--threads', String(threads), '--layouts', layout, '--seed', String(o.seed)];
  if (checkDir !== null) args.push('--check', checkDir);
  return new Promise((resolve, reject) => {
    const child = spawn(o.python, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('close', (code) => {
      try {
        if (code !== 0) throw new Error(`torch_effnet.py exited with code ${code}`);
        resolve(JSON.parse(stdout.trim().split('\n').pop() ?? '') as TorchRun);
      } catch (err) {
        reject(err);
      }
    });
  });
}

/** Both layouts at one thread count, one process each (so each layout's peak RSS is its own). */
async function runTorch(c: BenchConfig, o: Options, archFile: string, checkDir: string | null, threads: number): Promise<TorchResult> {
  const result: TorchResult = { config: c.id, status: 'ok', threads, layouts: {} };
  try {
    for (const layout of LAYOUTS) {
      const r = await runTorchProcess(c, o, archFile, layout === LAYOUTS[0] ? checkDir : null, threads, layout);
      const { layouts, ...rest } = r;
      Object.assign(result, rest, { threads: r.threads });
      result.layouts![layout] = layouts?.[layout];
    }
    return result;
  } catch (err) {
    return { ...result, status: 'error', message: errorLine(err) };
  }
}

// ---------------------------------------------------------------------------------------------- report

interface Report {
  date: string;
  machine: {
    cpu: string;
    cores: number;
    /** SIMD features of the CPU that the engines can use (from /proc/cpuinfo where readable). */
    cpuFlags: string[];
    memoryGB: number;
    os: string;
    node: string;
    tfjs: string;
    torch: string | null;
    /** 1-minute load average before and after: other processes on the machine skew the numbers. */
    loadAverage: [number, number];
  };
  options: Omit<Options, 'json' | 'python'>;
  configs: Array<BenchConfig & { params: number }>;
  tfjs: TfjsResult[];
  torch: TorchResult[];
  torchUnavailable?: string;
  ratios: Ratio[];
}

/**
 * tfjs images/s over PyTorch's at one config. perCore: against PyTorch with 1 thread in its faster layout (a search
 * runs one single-threaded trial per core, so this decides its throughput); allCores: against PyTorch with every core
 * in its faster layout; byRun: against each (threads, layout), keyed like '1t nchw'.
 */
interface Ratio {
  config: string;
  backend: Backend;
  train: { perCore: number | null; allCores: number | null; byRun: Record<string, number | null> };
  forward: { perCore: number | null; allCores: number | null; byRun: Record<string, number | null> };
}

const isTiming = (t: TfjsResult['train']): t is Timing => t !== undefined && !('error' in t);

type Rate = 'trainImagesPerSec' | 'forwardImagesPerSec';

/** PyTorch's faster layout at a thread count: [images/s, layout]. */
function bestLayout(t: TorchResult | undefined, key: Rate): [number, Layout] | null {
  let best: [number, Layout] | null = null;
  for (const lay of LAYOUTS) {
    const v = t?.layouts?.[lay]?.[key];
    if (v && (best === null || v > best[0])) best = [v, lay];
  }
  return best;
}

function ratios(tfjs: TfjsResult[], torch: TorchResult[], cores: number): Ratio[] {
  const out: Ratio[] = [];
  for (const r of tfjs) {
    const runs = torch.filter((x) => x.config === r.config && x.status === 'ok');
    if (runs.length === 0 || r.status === 'unavailable') continue;
    const single = runs.find((x) => x.threads === 1);
    const all = runs.find((x) => x.threads === cores) ?? runs.reduce((a, b) => (b.threads > a.threads ? b : a));
    const of = (mine: TfjsResult['train'], key: Rate): Ratio['train'] => {
      const rate = isTiming(mine) ? mine.imagesPerSec : null;
      const vs = (theirs: number | null | undefined): number | null => (rate !== null && theirs ? rate / theirs : null);
      const byRun: Record<string, number | null> = {};
      for (const t of runs) for (const lay of LAYOUTS) byRun[`${t.threads}t ${lay}`] = vs(t.layouts?.[lay]?.[key]);
      return { perCore: vs(bestLayout(single, key)?.[0]), allCores: all === single ? null : vs(bestLayout(all, key)?.[0]), byRun };
    };
    out.push({ config: r.config, backend: r.backend, train: of(r.train, 'trainImagesPerSec'), forward: of(r.forward, 'forwardImagesPerSec') });
  }
  return out;
}

const num = (x: number | null | undefined, digits = 1): string =>
  x === null || x === undefined ? '-' : x >= 100 ? x.toFixed(0) : x.toFixed(x < 1 ? 3 : digits);

/** Aligns columns: the first two and the last to the left, numbers to the right. */
function table(rows: string[][]): string {
  const last = rows[0].length - 1;
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r: string[]): string =>
    r.map((c, i) => (i === last ? c : i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

function renderReport(rep: Report): string {
  const rows: string[][] = [['config', 'engine', 'params', 'train img/s', 'fwd img/s', 'steps', 'train peak RSS MB', 'note']];
  const unavailable = new Map<string, string>();
  let anyWarmupOnly = false;
  for (const c of rep.configs) {
    for (const r of rep.tfjs.filter((x) => x.config === c.id)) {
      if (r.status === 'unavailable') {
        unavailable.set(r.backend, r.message ?? '');
        continue;
      }
      const cell = (t: TfjsResult['train']): string => {
        if (!isTiming(t)) return t ? 'error' : '-';
        anyWarmupOnly ||= t.warmupOnly;
        return num(t.imagesPerSec) + (t.warmupOnly ? '*' : '');
      };
      const errors = [r.train, r.forward].filter((t) => t && 'error' in t).map((t) => (t as { error: string }).error);
      const steps = isTiming(r.train) ? String(r.train.stepSeconds.length) : '-';
      const threads = r.backendInfo?.threads !== undefined ? `, ${r.backendInfo.threads} thread${r.backendInfo.threads === 1 ? '' : 's'}` : '';
      rows.push([c.id, `tfjs ${r.backend}${threads}`, r.params?.toLocaleString('en-US') ?? '-', cell(r.train), cell(r.forward), steps,
        r.trainMaxRssMB !== undefined ? String(r.trainMaxRssMB) : '-', [r.message, ...errors].filter(Boolean).join('; ')]);
    }
    for (const t of rep.torch.filter((x) => x.config === c.id)) {
      if (t.status !== 'ok' || !t.layouts) {
        rows.push([c.id, `torch ${t.threads}t`, t.params?.toLocaleString('en-US') ?? '-', '-', '-', '-', '-', t.message ?? 'error']);
        continue;
      }
      for (const lay of LAYOUTS) {
        const l = t.layouts[lay];
        if (!l) continue;
        const same = t.check && lay === 'nchw' ? `same outputs as tfjs with its weights (softmax ${t.check.maxAbsDiff.toExponential(0)}, features ${t.check.featureRelDiff.toExponential(0)} rel.)` : '';
        rows.push([c.id, `torch ${lay}, ${t.threads} thread${t.threads === 1 ? '' : 's'}`, t.params?.toLocaleString('en-US') ?? '-', num(l.trainImagesPerSec), num(l.forwardImagesPerSec),
          String(l.trainStepSeconds.length), l.trainMaxRssMB !== undefined ? String(l.trainMaxRssMB) : '-', same]);
      }
    }
  }
  const parts = [table(rows)];
  if (rep.ratios.length > 0) {
    const keys = [...new Set(rep.ratios.flatMap((r) => Object.keys(r.train.byRun)))];
    const rr: string[][] = [['config', 'backend', 'train per core', 'train all cores', ...keys.map((k) => `train/${k}`), 'fwd per core', 'fwd all cores']];
    for (const r of rep.ratios) {
      rr.push([r.config, r.backend, num(r.train.perCore, 2), num(r.train.allCores, 2), ...keys.map((k) => num(r.train.byRun[k], 2)), num(r.forward.perCore, 2), num(r.forward.allCores, 2)]);
    }
    parts.push(
      'tfjs / PyTorch images/s (1.0 = as fast as PyTorch). per core: against PyTorch with 1 thread in its faster layout (tfjs wasm runs on\n' +
        'one thread; a search runs one trial process per core); all cores: PyTorch with every core, faster layout; Nt LAYOUT: each run.\n' +
        table(rr),
    );
  }
  const notes: string[] = [];
  for (const [backend, why] of unavailable) notes.push(`tfjs ${backend} not measured: ${why}`);
  if (rep.torchUnavailable) notes.push(`PyTorch twin not run: ${rep.torchUnavailable}`);
  if (anyWarmupOnly) notes.push(`* the warm-up alone took longer than the ${rep.options.budgetSeconds} s budget: its last step is the only sample.`);
  const m = rep.machine;
  notes.push(
    `${m.cpu}, ${m.cores} cores${m.cpuFlags.length ? ` (${m.cpuFlags.join(' ')})` : ''}, ${m.memoryGB} GB, ${m.os}, node ${m.node}, tfjs ${m.tfjs}, torch ${m.torch ?? '-'}, ${rep.date}, ` +
      `load average ${m.loadAverage[0]} -> ${m.loadAverage[1]}. ` +
      `Median over up to ${rep.options.steps} steps after ${rep.options.warmup}+ warm-up steps lasting ${rep.options.warmupSeconds}+ s, fresh random inputs, ${rep.options.budgetSeconds} s budget per phase.`,
  );
  parts.push(notes.join('\n'));
  return parts.join('\n\n');
}

/** The SIMD-related flags of the first CPU in /proc/cpuinfo (empty where it cannot be read). */
function cpuFlags(): string[] {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('flags')) ?? '';
    const have = new Set(line.split(':')[1]?.trim().split(/\s+/) ?? []);
    return ['sse4_2', 'avx', 'avx2', 'fma', 'avx512f', 'avx512_bf16', 'amx_tile'].filter((f) => have.has(f));
  } catch {
    return [];
  }
}

// ---------------------------------------------------------------------------------------------- main

async function main(argv: string[]): Promise<number> {
  if (argv[0] === '--worker') {
    const job = JSON.parse(argv[1]) as WorkerJob;
    const save = (r: TfjsResult): void => writeFileAtomic(argv[2], JSON.stringify(r));
    const result = await runWorker(job, save).catch((err: unknown): TfjsResult => ({
      backend: job.backend,
      config: job.config.id,
      status: 'error',
      message: errorLine(err),
    }));
    save(result);
    return 0;
  }

  const o = parseArgs(argv);
  const loadBefore = os.loadavg()[0];
  const configs = CONFIGS.filter((c) => o.resolutions === null || o.resolutions.includes(c.resolution));
  const tv = o.torch ? torchVersion(o.python) : { unavailable: 'disabled with --no-torch' };
  const torchOk = typeof tv === 'string';
  if (!torchOk) log(`PyTorch twin skipped: ${tv.unavailable}`);

  const tmp = mkdtempSync(path.join(os.tmpdir(), 'effscale-arch-'));
  const tfjs: TfjsResult[] = [];
  const torch: TorchResult[] = [];
  const withParams: Report['configs'] = [];
  let failed = false;
  try {
    for (const c of configs) {
      const arch = architectureOf(c);
      let params: number | undefined;
      const dumpDir = mkdtempSync(path.join(tmp, `${c.id}-`));
      let dumped = false;
      for (const backend of o.backends) {
        log(`tfjs ${backend} ${c.id}: ${o.warmup} warm-up + up to ${o.steps} steps, batch ${c.batch}`);
        const job: WorkerJob = { backend, config: c, steps: o.steps, warmup: o.warmup, warmupSeconds: o.warmupSeconds, budgetSeconds: o.budgetSeconds, seed: o.seed };
        const r = await spawnWorker(torchOk && !dumped ? { ...job, dumpDir } : job, o.timeoutSeconds);
        dumped ||= existsSync(path.join(dumpDir, 'dump.json'));
        if (r.status === 'unavailable') log(`  ${backend} unavailable: ${r.message}`);
        else if (r.message) log(`  ${backend} ${c.id}: ${r.message}`);
        tfjs.push(r);
        params ??= r.params;
      }
      if (torchOk) for (const [ti, threads] of o.torchThreads.entries()) {
        const archFile = path.join(tmp, `${c.id}.json`);
        writeFileSync(archFile, JSON.stringify(arch));
        log(`torch ${c.id}: batch ${c.batch}, ${threads} thread${threads === 1 ? '' : 's'}`);
        const t = await runTorch(c, o, archFile, dumped && ti === 0 ? dumpDir : null, threads);
        torch.push(t);
        if (t.status !== 'ok') log(`  torch ${c.id}: ${t.message}`);
        if (t.check) {
          const k = t.check;
          log(`  ${c.id}: twin with tfjs weights: max |softmax diff| ${k.maxAbsDiff.toExponential(2)}, ${k.featureLayer} relative diff ${k.featureRelDiff.toExponential(2)}`);
          if (!(k.maxAbsDiff <= MAX_PREDICTION_DIFF) || !(k.featureRelDiff <= MAX_FEATURE_REL_DIFF) || !k.argmaxEqual) {
            t.status = 'error';
            t.message = `twin differs from tfjs with the same weights: softmax ${k.maxAbsDiff.toExponential(2)} (max ${MAX_PREDICTION_DIFF}), ${k.featureLayer} ${k.featureRelDiff.toExponential(2)} (max ${MAX_FEATURE_REL_DIFF})`;
            failed = true;
          }
        }
        // The twin must be the same network: equal parameter counts incl. BN statistics.
        if (t.status === 'ok' && params !== undefined && t.params !== params) {
          t.status = 'error';
          t.message = `parameter count mismatch: tfjs ${params}, torch ${t.params}`;
          log(`  ${c.id}: ${t.message}`);
          failed = true;
        }
      }
      withParams.push({ ...c, params: params ?? -1 });
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }

  const tfjsVersion = tfjs.find((r) => r.tfjsVersion)?.tfjsVersion ?? (coreRequire('@tensorflow/tfjs-core/package.json') as { version: string }).version;
  const cpus = os.cpus();
  const { json: _json, python: _python, ...options } = o;
  const rep: Report = {
    date: new Date().toISOString(),
    machine: {
      cpu: cpus[0]?.model ?? 'unknown',
      cores: cpus.length,
      cpuFlags: cpuFlags(),
      memoryGB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
      os: `${os.type()} ${os.release()} ${os.arch()}`,
      node: process.version,
      tfjs: tfjsVersion,
      torch: torchOk ? tv : null,
      loadAverage: [loadBefore, os.loadavg()[0]].map((x) => Math.round(x * 100) / 100) as [number, number],
    },
    options,
    configs: withParams,
    tfjs,
    torch,
    ...(torchOk ? {} : { torchUnavailable: tv.unavailable }),
    ratios: ratios(tfjs, torch, cpus.length),
  };
  writeFileAtomic(RESULTS, JSON.stringify(rep, null, 2) + '\n');
  log(`wrote ${path.relative(process.cwd(), RESULTS)}`);
  process.stdout.write((o.json ? JSON.stringify(rep, null, 2) : renderReport(rep)) + '\n');
  return failed ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    log(`bench:train: ${errorLine(err)}`);
    process.exit(2);
  },
);
