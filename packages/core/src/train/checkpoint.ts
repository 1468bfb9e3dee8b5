import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { CheckpointError } from '../errors.js';
import type { RngState } from '../util/rng.js';
import { recoverDir, replaceDirAtomic } from './fsx.js';

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
}

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

export async function loadModel(dir: string): Promise<tfl.LayersModel> {
  const file = join(dir, 'model.json');
  if (!existsSync(file)) throw new CheckpointError(`no model at '${dir}' (expected ${file}; pass a run's --out directory or its checkpoint/)`);
  const json = JSON.parse(readFileSync(file, 'utf8'));
  const weightSpecs = json.weightsManifest.flatMap((g: { weights: tf.io.WeightsManifestEntry[] }) => g.weights);
  const weightData = toBuffer(Buffer.concat(json.weightsManifest.flatMap((g: { paths: string[] }) => g.paths.map((p) => readFileSync(join(dir, p))))));
  return tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs, weightData }));
}

async function saveOptimizer(opt: tf.Optimizer, dir: string): Promise<void> {
  const weights = await opt.getWeights();
  const { data, specs } = await tf.io.encodeWeights(weights);
  writeFileSync(join(dir, 'optimizer.bin'), toBytes(data));
  writeFileSync(join(dir, 'optimizer.json'), JSON.stringify({ className: opt.getClassName(), config: opt.getConfig(), specs }));
}

async function loadOptimizer(opt: tf.Optimizer, dir: string): Promise<void> {
  const meta = JSON.parse(readFileSync(join(dir, 'optimizer.json'), 'utf8'));
  if (meta.className !== opt.getClassName()) {
    throw new CheckpointError(`checkpoint optimizer is ${meta.className} but this run uses ${opt.getClassName()}; resume with the same --recipe/--optimizer`);
  }
  const map = tf.io.decodeWeights(toBuffer(readFileSync(join(dir, 'optimizer.bin'))), meta.specs);
  // tfjs optimizers restore their slots by position, in the order getWeights() wrote them.
  await opt.setWeights(meta.specs.map((s: { name: string }) => ({ name: s.name, tensor: map[s.name] })));
}

/** Save model, optimizer and state as one unit: a crash mid-save leaves the previous checkpoint intact. */
export async function saveCheckpoint(dir: string, model: tfl.LayersModel, opt: tf.Optimizer, state: TrainState): Promise<void> {
  const staged = `${dir}.tmp-${process.pid}`;
  rmSync(staged, { recursive: true, force: true });
  await saveModel(model, staged);
  await saveOptimizer(opt, staged);
  writeFileSync(join(staged, 'state.json'), JSON.stringify(state, null, 2));
  replaceDirAtomic(staged, dir);
}

export function hasCheckpoint(dir: string): boolean {
  recoverDir(dir);
  return existsSync(join(dir, 'state.json'));
}

export async function loadCheckpoint(dir: string, opt: tf.Optimizer): Promise<{ model: tfl.LayersModel; state: TrainState }> {
  recoverDir(dir);
  if (!existsSync(join(dir, 'state.json'))) throw new CheckpointError(`no checkpoint to resume in '${dir}'`);
  const model = await loadModel(dir);
  await loadOptimizer(opt, dir);
  const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as TrainState;
  return { model, state };
}
