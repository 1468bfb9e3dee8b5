import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '@effscale/core/backend';
import { loadDataset } from '@effscale/core/data';
import { evaluate, loadModel, readRunRecord, type RunRecord } from '@effscale/core/train';
import { UsageError } from '../errors.js';
import { checkBackendFlag } from '../data-flags.js';
import { parseInteger } from '../numbers.js';
import { DATA_OPTIONS, dataFromFlags } from '../data-flags.js';

export const EVAL_HELP = `effscale eval --checkpoint RUN_DIR [--split test|val] [--data NAME --data-dir DIR --test-limit N] [--batch-size 256] [--backend ...] [--json]
Top-1 and top-5 of a trained checkpoint on a held-out split of the data the run was trained with (default: test;
val: the run's validation split, carved again from the same seed), or on the test split of other data.`;

/** A run directory (with run.json and checkpoint/) or the checkpoint directory itself. */
export function openRun(path: string): { run: RunRecord; modelDir: string } {
  const candidates = [path, join(path, '..')];
  for (const dir of candidates) {
    const runFile = join(dir, 'run.json');
    if (existsSync(runFile)) {
      const run = readRunRecord(runFile);
      const modelDir = existsSync(join(path, 'model.json')) ? path : join(dir, 'checkpoint');
      if (!existsSync(join(modelDir, 'model.json'))) throw new UsageError(`--checkpoint '${path}': no model.json in ${modelDir}`);
      return { run, modelDir };
    }
  }
  throw new UsageError(`--checkpoint '${path}' is not a training run (no run.json there or in its parent); pass the --out directory of effscale train`);
}

export async function evalCommand(argv: string[]): Promise<void> {
  const { values: v } = parseArgs({
    args: argv,
    options: { checkpoint: { type: 'string' }, split: { type: 'string' }, ...DATA_OPTIONS, 'batch-size': { type: 'string' }, backend: { type: 'string' },
      json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  });
  if (v.help) {
    console.log(EVAL_HELP);
    return;
  }
  if (v.checkpoint === undefined) throw new UsageError('eval needs --checkpoint RUN_DIR');
  checkBackendFlag(v.backend);
  const { run, modelDir } = openRun(v.checkpoint);
  const split = v.split ?? 'test';
  if (split !== 'test' && split !== 'val') throw new UsageError(`--split '${split}' (allowed: test, val)`);
  const { limits } = run.data;
  const data = v.data !== undefined || v['data-dir'] !== undefined
    ? await dataFromFlags(v)
    : { name: run.data.name, trainLimit: limits.trainLimit,
        testLimit: v['test-limit'] !== undefined ? await parseInteger('test-limit', v['test-limit']) : limits.testLimit,
        testFraction: limits.testFraction, valFraction: limits.valFraction, valCount: limits.valCount,
        ...(run.data.dir !== undefined ? { dir: run.data.dir } : {}) };
  const backend = await initBackend(v.backend);
  const ds = await loadDataset({ ...data, seed: run.seed });
  if (ds.classes.length !== run.network.classes) {
    throw new UsageError(`the checkpoint predicts ${run.network.classes} classes but ${ds.name} has ${ds.classes.length}`);
  }
  const held = split === 'val' ? ds.val : ds.test;
  if (held === undefined) throw new UsageError(`--split val: the run at '${v.checkpoint}' has no validation split (train with --val-fraction or --val-count)`);
  const model = await loadModel(modelDir);
  const r = await evaluate(model, held, {
    batchSize: v['batch-size'] !== undefined ? await parseInteger('batch-size', v['batch-size']) : 256,
    resolution: run.network.resolution, channels: run.network.inputChannels as 1 | 3, normalize: run.data.normalize, seed: run.seed,
  });
  const result = { checkpoint: modelDir, network: run.network.name, data: ds.name, split, source: ds.source, backend: backend.name, ...r };
  if (v.json) console.log(JSON.stringify(result, null, 2));
  else console.log(`${run.network.name} on ${ds.name} ${split} (${r.count} images, ${backend.name}): top-1 ${(r.top1 * 100).toFixed(2)}%, top-5 ${(r.top5 * 100).toFixed(2)}%, loss ${r.loss.toFixed(4)}`);
}
