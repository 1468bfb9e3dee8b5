import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@effscale/core/backend';
import { loadImageFile } from '@effscale/core/data';
import { loadModel, topK } from '@effscale/core/train';
import { UsageError } from '../errors.js';
import { checkBackendFlag } from '../data-flags.js';
import { parseInteger } from '../numbers.js';
import { openRun } from './evaluate.js';

export const PREDICT_HELP = `effscale predict --checkpoint RUN_DIR image.jpg [more.png ...] [--top-k 5] [--backend ...] [--json]
The top-k classes of each image, with names and probabilities.`;

export async function predictCommand(argv: string[]): Promise<void> {
  const { values: v, positionals } = parseArgs({
    args: argv,
    options: { checkpoint: { type: 'string' }, 'top-k': { type: 'string' }, backend: { type: 'string' }, json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
    strict: true,
  });
  if (v.help) {
    console.log(PREDICT_HELP);
    return;
  }
  if (v.checkpoint === undefined) throw new UsageError('predict needs --checkpoint RUN_DIR');
  if (positionals.length === 0) throw new UsageError('predict needs at least one image path');
  const k = v['top-k'] !== undefined ? await parseInteger('top-k', v['top-k']) : 5;
  checkBackendFlag(v.backend);
  const { run, modelDir } = openRun(v.checkpoint);
  await initBackend(v.backend);
  const model = await loadModel(modelDir);
  const res = run.network.resolution;
  const ch = run.network.inputChannels as 1 | 3;
  const results = [];
  for (const path of positionals) {
    const x = await loadImageFile(path, res, ch, run.data.normalize);
    const out = tf.tidy(() => model.predict(tf.tensor4d(x, [1, res, res, ch])) as tf.Tensor);
    const probs = (await out.data()) as Float32Array; // async: webgpu has no synchronous read in Node
    out.dispose();
    results.push({ image: path, top: topK(probs, run.data.classes, k)[0] });
  }
  if (v.json) {
    console.log(JSON.stringify(results, null, 2));
    return;
  }
  for (const r of results) {
    console.log(r.image);
    for (const t of r.top) console.log(`  ${t.name.padEnd(20)} ${(t.probability * 100).toFixed(2).padStart(6)}%`);
  }
}
