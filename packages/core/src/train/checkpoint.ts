import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { CheckpointError } from '../errors.js';
import type { RngState } from '../util/rng.js';
import { recoverDir, replaceDirAtomic, storageError } from './fsx.js';

/** Where a run is in its budget, plus everything random that must continue identically after a resume. */
export interface TrainState {
  /** Completed optimizer steps. */
  step: number;
  /** Epoch in progress (0-based) and the next batch within it. */
  epoch: number;
  batchInEpoch: number;
  /** Seeded stream behind dropout / stochastic-depth masks. */
  rng: RngState;
  /** Seconds of training so far, summed over sessions. */
  trainSeconds: number;
  imagesSeen: number;
  /** The epoch in progress so far (so an epoch interrupted and resumed reports its train loss over all of it). */
  epochLossSum: number;
  epochImages: number;
  epochSeconds: number;
  /** The last training losses, as many as the divergence rule looks at. */
  recentLosses: number[];
}

const STATE_FIELDS = ['step', 'epoch', 'batchInEpoch', 'rng', 'trainSeconds', 'imagesSeen', 'epochLossSum', 'epochImages', 'epochSeconds', 'recentLosses'] as const;

export { CheckpointError };

const toBytes = (d: tf.io.WeightData): Uint8Array => new Uint8Array(tf.io.CompositeArrayBuffer.join(d));
const toBuffer = (b: Buffer): ArrayBuffer => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;

/** model.json + weights.bin in the TensorFlow.js layers format (loadable by tf.loadLayersModel from a file:// or http:// URL). */
export async function saveModel(model: tfl.LayersModel, dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      writeFileSync(join(dir, 'weights.bin'), toBytes(a.weightData!));
      const json = {
        format: 'layers-model',
        generatedBy: `TensorFlow.js tfjs-layers v${tfl.version_layers}`,
        convertedBy: null,
        modelTopology: a.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }],
      };
      writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
}

const FIX = 'restore it, or start the run again in a new out directory';

function corrupt(file: string, detail?: string): CheckpointError {
  return new CheckpointError(`'${file}' is corrupt or truncated${detail ? ` (${detail})` : ''}; ${FIX}`);
}

/** A JSON file of a checkpoint or run directory, or one CheckpointError line naming it. */
export function readJson(file: string): any {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new CheckpointError(`cannot read '${file}' (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); ${FIX}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw corrupt(file);
  }
}

/** Float32 / int32 weights take 4 bytes a value; the file must hold exactly what its manifest lists. */
function checkWeightBytes(file: string, bytes: number, specs: tf.io.WeightsManifestEntry[]): void {
  const expected = specs.reduce((sum, w) => sum + 4 * w.shape.reduce((a, b) => a * b, 1), 0);
  if (bytes !== expected) throw corrupt(file, `${bytes} bytes, its manifest needs ${expected}`);
}

function readBinary(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch {
    throw new CheckpointError(`'${file}' is missing; ${FIX}`);
  }
}

export async function loadModel(dir: string): Promise<tfl.LayersModel> {
  const file = join(dir, 'model.json');
  if (!existsSync(file)) throw new CheckpointError(`no model at '${dir}' (expected ${file}; pass a run's out directory or its checkpoint/)`);
  const json = readJson(file);
  if (!Array.isArray(json?.weightsManifest) || typeof json.modelTopology !== 'object') throw corrupt(file);
  const weightSpecs: tf.io.WeightsManifestEntry[] = json.weightsManifest.flatMap((g: { weights: tf.io.WeightsManifestEntry[] }) => g.weights);
  const paths: string[] = json.weightsManifest.flatMap((g: { paths: string[] }) => g.paths);
  const bytes = Buffer.concat(paths.map((p) => readBinary(join(dir, p))));
  checkWeightBytes(join(dir, paths.join(', ')), bytes.byteLength, weightSpecs);
  try {
    return await tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs, weightData: toBuffer(bytes) }));
  } catch (e) {
    throw new CheckpointError(`'${file}' does not describe a model this version can load (${(e as Error).message.split('\n')[0]}); ${FIX}`);
  }
}

/**
 * tfjs' Adam recomputes its bias-correction products as pow(beta, t + 1) on setWeights, while a live run multiplies
 * them step by step in float32: the two differ in the last bits, and the resumed run drifts. They are saved exactly.
 */
interface BiasCorrected {
  accBeta1?: tf.Variable;
  accBeta2?: tf.Variable;
}

async function saveOptimizer(opt: tf.Optimizer, dir: string): Promise<void> {
  const weights = await opt.getWeights();
  const { data, specs } = await tf.io.encodeWeights(weights);
  writeFileSync(join(dir, 'optimizer.bin'), toBytes(data));
  const o = opt as unknown as BiasCorrected;
  const exact = o.accBeta1 && o.accBeta2 ? { accBeta1: (await o.accBeta1.data())[0], accBeta2: (await o.accBeta2.data())[0] } : undefined;
  writeFileSync(join(dir, 'optimizer.json'), JSON.stringify({ className: opt.getClassName(), config: opt.getConfig(), specs, exact }));
}

async function loadOptimizer(opt: tf.Optimizer, dir: string): Promise<void> {
  const metaFile = join(dir, 'optimizer.json');
  const meta = readJson(metaFile);
  if (!Array.isArray(meta?.specs)) throw corrupt(metaFile);
  if (meta.className !== opt.getClassName()) {
    throw new CheckpointError(`checkpoint optimizer is ${meta.className} but this run uses ${opt.getClassName()}; resume with the same recipe and optimizer`, { setting: 'recipe' });
  }
  const binFile = join(dir, 'optimizer.bin');
  const bin = readBinary(binFile);
  checkWeightBytes(binFile, bin.byteLength, meta.specs);
  const map = tf.io.decodeWeights(toBuffer(bin), meta.specs);
  // tfjs optimizers restore their slots by position, in the order getWeights() wrote them.
  await opt.setWeights(meta.specs.map((s: { name: string }) => ({ name: s.name, tensor: map[s.name] })));
  const o = opt as unknown as BiasCorrected;
  if (meta.exact && o.accBeta1 && o.accBeta2) {
    o.accBeta1.assign(tf.scalar(meta.exact.accBeta1));
    o.accBeta2.assign(tf.scalar(meta.exact.accBeta2));
  }
}

/** Fields added after the first checkpoints were written, and what a checkpoint without them meant. */
const STATE_DEFAULTS: Partial<TrainState> = { epochLossSum: 0, epochImages: 0, epochSeconds: 0, recentLosses: [] };

function readState(file: string): TrainState {
  const read = readJson(file);
  const state = read !== null && typeof read === 'object' && typeof read.step === 'number' && Array.isArray(read.rng) ? { ...STATE_DEFAULTS, ...read } : read;
  const missing = STATE_FIELDS.filter((k) => state?.[k] === undefined);
  if (missing.length > 0) throw corrupt(file, `missing ${missing.join(', ')}`);
  return state as TrainState;
}

/** Save model, optimizer and state as one unit: a crash mid-save leaves the previous checkpoint intact. */
export async function saveCheckpoint(dir: string, model: tfl.LayersModel, opt: tf.Optimizer, state: TrainState): Promise<void> {
  const staged = `${dir}.tmp-${process.pid}`;
  try {
    rmSync(staged, { recursive: true, force: true });
    await saveModel(model, staged);
    await saveOptimizer(opt, staged);
    writeFileSync(join(staged, 'state.json'), JSON.stringify(state, null, 2));
    replaceDirAtomic(staged, dir);
  } catch (e) {
    rmSync(staged, { recursive: true, force: true });
    throw storageError(e, 'write the checkpoint', dir, 'then resume the run');
  }
}

export function hasCheckpoint(dir: string): boolean {
  recoverDir(dir);
  return existsSync(join(dir, 'state.json'));
}

export async function loadCheckpoint(dir: string, opt: tf.Optimizer): Promise<{ model: tfl.LayersModel; state: TrainState }> {
  recoverDir(dir);
  if (!existsSync(join(dir, 'state.json'))) throw new CheckpointError(`no checkpoint to resume in '${dir}'`);
  const state = readState(join(dir, 'state.json'));
  const model = await loadModel(dir);
  await loadOptimizer(opt, dir);
  return { model, state };
}
