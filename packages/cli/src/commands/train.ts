import { totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { scaleSpec, type NetworkSpec } from '@effscale/core';
import { WASM_HEAP_LIMIT_BYTES } from '@effscale/core/backend';
import { RECIPE_NAMES, train, type Recipe, type RecipeName, type TrainEvent } from '@effscale/core/train';
import { checkTrainingMemory } from '@effscale/flops';
import { UsageError } from '../errors.js';
import { parseInteger, parseNumber } from '../numbers.js';
import { NETWORK_OPTIONS, networksFromFlags, type NetworkFlags } from '../networks.js';
import { createProgress } from '../progress.js';
import { onStopSignals, signalExit } from '../signals.js';
import { checkBackendFlag, DATA_OPTIONS, dataFromFlags, parseBytes } from '../data-flags.js';

export const TRAIN_HELP = `effscale train: proxy-train a scaled network

Network (one of; default --depth 0.5 --width 0.5 --resolution 32, the documented proxy):
  --model b0 | --phi P [--alpha --beta --gamma] | --depth D --width W --resolution PX
Data:    --data fashion-mnist|mnist|emnist|cifar10|cifar100|folder [--data-dir DIR] [--train-limit N] [--test-limit N]
         [--test-fraction 0.2 (folders without test/)] [--augment | --no-augment] [--normalize standardize|zero-one] [--channels 1|3]
Splits:  train / val / test. --val-fraction F | --val-count N carve a stratified, seeded validation split from the training
         images: evaluation during training then uses val, and test is evaluated only with --eval-test (at the end).
         Without a val split, evaluation uses test (fine for a single training, wrong for choosing between several).
Budget:  --epochs N (default 1) | --steps N; --horizon STEPS (the schedule's planned length, default the budget: stop
         early at --steps and resume later to the same weights as one run); --batch-size 32; --eval-batch-size N
Recipe:  --recipe proxy|seed|paper (default proxy); overrides: --optimizer rmsprop|sgd|adam --lr --lr-batch --momentum
         --weight-decay --schedule exponential|cosine|constant --warmup-epochs --lrf --label-smoothing --dropout --drop-connect
         --bn-momentum 0.99 (lower, e.g. 0.9, makes evaluation after a few hundred steps meaningful)
Run:     --out DIR (default runs/<network>-<time>) --resume --seed 0 --backend auto|tensorflow|webgpu|wasm|cpu
         --checkpoint-every N (steps; a checkpoint is always written at the end of each epoch)
         --max-memory 4GiB --no-divergence-check --verbose --json
Ctrl-C or SIGTERM checkpoints at the next step; run the same command with --resume to continue.
Exit codes: 0 done, 2 a setting or file to fix (one line), 3 diverged (final.json has status "diverged"),
            130 interrupted by Ctrl-C, 143 by SIGTERM (checkpointed; resume continues).`;

/** The network `train` uses when none is named: small enough for a one-epoch proxy on a 2-core CPU (README, "The default proxy"). */
export const DEFAULT_PROXY = Object.freeze({ depth: 0.5, width: 0.5, resolution: 32 });

/** Exit status of a training that diverged: a result, not an error (see TRAIN_HELP). */
export const EXIT_DIVERGED = 3;

export const RECIPE_FLAGS = {
  optimizer: { type: 'string' }, lr: { type: 'string' }, 'lr-batch': { type: 'string' }, momentum: { type: 'string' },
  'weight-decay': { type: 'string' }, schedule: { type: 'string' }, 'warmup-epochs': { type: 'string' }, lrf: { type: 'string' },
  'label-smoothing': { type: 'string' },
} as const;

export async function recipeOverrides(v: Partial<Record<keyof typeof RECIPE_FLAGS, string>>): Promise<Partial<Recipe>> {
  const o: Partial<Recipe> = {};
  if (v.optimizer !== undefined) {
    if (!['rmsprop', 'sgd', 'adam'].includes(v.optimizer)) throw new UsageError(`--optimizer '${v.optimizer}' (allowed: rmsprop, sgd, adam)`);
    o.optimizer = v.optimizer as Recipe['optimizer'];
  }
  if (v.schedule !== undefined) {
    if (!['exponential', 'cosine', 'constant'].includes(v.schedule)) {
      throw new UsageError(`--schedule '${v.schedule}' (allowed: exponential, cosine, constant)`);
    }
    o.schedule = v.schedule as Recipe['schedule'];
  }
  const nonNeg = async (flag: keyof typeof RECIPE_FLAGS, key: keyof Recipe, max = Infinity) => {
    if (v[flag] === undefined) return;
    const x = await parseNumber(flag, v[flag]!);
    if (!(x >= 0 && x <= max)) throw new UsageError(`--${flag} ${x} must be in [0, ${max}]`);
    (o as Record<string, number>)[key] = x;
  };
  await nonNeg('lr', 'lr');
  await nonNeg('lr-batch', 'lrBatch');
  await nonNeg('momentum', 'momentum', 1);
  await nonNeg('weight-decay', 'weightDecay', 1);
  await nonNeg('warmup-epochs', 'warmupEpochs');
  await nonNeg('lrf', 'lrf', 1);
  await nonNeg('label-smoothing', 'labelSmoothing', 1);
  if (o.warmupEpochs !== undefined) o.warmupMaxFraction = 1;
  if (o.lrBatch === 0) throw new UsageError('--lr-batch must be > 0');
  return o;
}

export async function trainCommand(argv: string[]): Promise<number | void> {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      ...NETWORK_OPTIONS, ...DATA_OPTIONS, ...RECIPE_FLAGS,
      epochs: { type: 'string' }, steps: { type: 'string' }, 'batch-size': { type: 'string' }, 'eval-batch-size': { type: 'string' },
      recipe: { type: 'string' }, out: { type: 'string' }, resume: { type: 'boolean' }, seed: { type: 'string' }, horizon: { type: 'string' },
      'eval-test': { type: 'boolean' }, 'no-divergence-check': { type: 'boolean' },
      backend: { type: 'string' }, 'max-memory': { type: 'string' }, 'checkpoint-every': { type: 'string' }, 'bn-momentum': { type: 'string' }, verbose: { type: 'boolean' }, json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (v.help) {
    console.log(TRAIN_HELP);
    return;
  }
  const recipe = (v.recipe ?? 'proxy') as RecipeName;
  if (!RECIPE_NAMES.includes(recipe)) throw new UsageError(`--recipe '${v.recipe}' is not a recipe (allowed: ${RECIPE_NAMES.join(', ')})`);
  if (v.epochs !== undefined && v.steps !== undefined) throw new UsageError('give a budget in --epochs or --steps, not both');
  const net: NetworkFlags = { ...v };
  const named = v.model !== undefined || v.phi !== undefined || v.depth !== undefined || v.width !== undefined;
  if (!named) Object.assign(net, { depth: String(DEFAULT_PROXY.depth), width: String(DEFAULT_PROXY.width), resolution: v.resolution ?? String(DEFAULT_PROXY.resolution) });
  const channels = v.channels !== undefined ? await parseInteger('channels', v.channels) : undefined;
  if (channels !== undefined && channels !== 1 && channels !== 3) throw new UsageError(`--channels ${channels} must be 1 or 3 for image data`);
  const specs = await networksFromFlags({ ...net, channels: undefined, classes: undefined });
  if (specs.length !== 1) throw new UsageError(`train takes one network; --phi/--model named ${specs.length}`);
  const { classes: _c, inputChannels: _i, ...rest } = specs[0];
  const spec: NetworkSpec = rest;
  if (channels !== undefined) spec.inputChannels = channels;
  if (v.classes !== undefined) spec.classes = await parseInteger('classes', v.classes);
  if (v['bn-momentum'] !== undefined) spec.bnMomentum = await parseNumber('bn-momentum', v['bn-momentum']);

  const data = await dataFromFlags(v);
  checkBackendFlag(v.backend);
  const batchSize = v['batch-size'] !== undefined ? await parseInteger('batch-size', v['batch-size']) : 32;
  const out = v.out ?? join('runs', `${scaleSpec(spec).name}-${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}`);
  const maxMemory = v['max-memory'] !== undefined ? parseBytes(v['max-memory']) : undefined;

  const progress = createProgress();
  const stop = onStopSignals((signal) =>
    progress.log(`${signal === 'SIGINT' ? 'interrupt' : signal}: finishing this step and checkpointing (${signal === 'SIGINT' ? 'Ctrl-C' : 'the signal'} again to quit at once)`));
  const log = (line: string) => progress.log(line);
  const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
  const onEvent = (e: TrainEvent) => {
    switch (e.type) {
      case 'start': {
        const r = e.run;
        log(`effscale train: ${r.network.name} (d ${r.network.depth}, w ${r.network.width}, ${r.network.resolution} px, ${r.network.inputChannels} ch, ${r.network.classes} classes)`);
        log(`data ${r.data.name}: ${r.data.trainCount} train / ${r.data.valCount} val / ${r.data.testCount} test from ${r.data.source}; ` +
          `evaluating on ${r.data.evalSplit}; augment ${r.data.augment}`);
        if (e.resumedFrom) log(`resuming at step ${e.resumedFrom.step} of ${e.totalSteps} (horizon ${r.budget.horizon})`);
        log(`backend ${r.backend.name} (tfjs ${r.backend.version}, ${r.backend.threads} thread${r.backend.threads === 1 ? '' : 's'}${r.backend.kernels ? `; kernels ${r.backend.kernels}` : ''}); recipe ${r.recipe.name} (${r.recipe.optimizer}); seed ${r.seed}; out ${out}`);
        if (v.verbose) for (const f of r.backend.fallbacks) log(`  backend fallback: ${f}`);
        progress.start(e.totalSteps, e.resumedFrom?.step ?? 0, 'train');
        break;
      }
      case 'step':
        progress.update(e.step, { epoch: String(e.epoch + 1), loss: e.loss.toFixed(4), lr: e.lr.toExponential(2), 'img/s': e.imagesPerSec.toFixed(1) });
        break;
      case 'eval-start':
        log(`epoch ${e.epoch + 1}: evaluating on ${e.split}...`);
        break;
      case 'epoch': {
        const m = e.metrics;
        const split = m.valTop1 !== null ? 'val' : 'test';
        const [loss, top1, top5] = split === 'val' ? [m.valLoss, m.valTop1, m.valTop5] : [m.testLoss, m.testTop1, m.testTop5];
        log(`epoch ${m.epoch + 1} (step ${m.step}): train loss ${m.trainLoss.toFixed(4)}, ${split} loss ${loss!.toFixed(4)}, ${split} top-1 ${pct(top1!)}, ` +
          `top-5 ${pct(top5!)}, ${m.imagesPerSec.toFixed(1)} img/s, ${m.trainSeconds.toFixed(1)} s training`);
        break;
      }
      case 'interrupted':
        progress.stop();
        log(`interrupted at step ${e.step}; continue with the same command plus --resume --out ${out}`);
        break;
      case 'diverged':
        progress.stop();
        log(`diverged at step ${e.step}: ${e.divergence.reason} (loss ${e.divergence.loss.toPrecision(4)}` +
          `${e.divergence.threshold !== undefined ? `, over ${e.divergence.threshold.toPrecision(3)}` : ''}); try a lower --lr; status in ${out}/final.json`);
        break;
      case 'done':
        progress.stop();
        break;
      default:
        break;
    }
  };
  try {
    const result = await train({
      network: spec, data, recipe, overrides: { ...(await recipeOverrides(v)), ...(v.dropout !== undefined ? { dropout: await parseNumber('dropout', v.dropout) } : {}) },
      epochs: v.epochs !== undefined ? await parseInteger('epochs', v.epochs) : v.steps === undefined ? 1 : undefined,
      steps: v.steps !== undefined ? await parseInteger('steps', v.steps) : undefined,
      horizon: v.horizon !== undefined ? await parseInteger('horizon', v.horizon) : undefined,
      evalTest: v['eval-test'] === true, ...(v['no-divergence-check'] ? { divergence: false as const } : {}),
      batchSize, evalBatchSize: v['eval-batch-size'] !== undefined ? await parseInteger('eval-batch-size', v['eval-batch-size']) : undefined,
      seed: v.seed !== undefined ? await parseInteger('seed', v.seed, 0) : 0,
      outDir: out, resume: v.resume === true, backend: v.backend, augment: data.augment, normalize: data.normalize,
      preflight: (arch, bs, backend) => {
        const limit = maxMemory ?? defaultMemoryLimit(backend.name);
        checkTrainingMemory(arch, bs, limit, backend.name === 'wasm' && maxMemory === undefined ? ' (wasm heap cap, or half the RAM)' : '');
      },
      onEvent, signal: stop.signal,
      checkpointEvery: v['checkpoint-every'] !== undefined ? await parseInteger('checkpoint-every', v['checkpoint-every']) : undefined,
    });
    if (result.completed) {
      const parts = (['val', 'test'] as const).flatMap((split) => {
        const r = result[split];
        return r ? [`${split} top-1 ${pct(r.top1)}, top-5 ${pct(r.top5)} on ${r.count} images`] : [];
      });
      log(`done: ${parts.join('; ')}; ${result.trainSeconds.toFixed(1)} s training at ${result.imagesPerSec.toFixed(1)} img/s; results in ${out}`);
    }
    if (v.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    if (result.status === 'diverged') return EXIT_DIVERGED;
    return result.completed ? 0 : signalExit(stop.received() ?? 'SIGINT');
  } finally {
    progress.stop();
    stop.dispose();
  }
}

function defaultMemoryLimit(backend: string): number {
  const half = Math.floor(totalmem() * 0.5);
  return backend === 'wasm' ? Math.min(WASM_HEAP_LIMIT_BYTES, half) : half;
}
