/**
 * effscale gpu-check: what a person with a GPU runs to see whether the webgpu backend works there.
 *
 *   1. the adapter Dawn opens (vendor, architecture, description; a software one is reported as such);
 *   2. correctness: a few training steps of a small scaled B0 on webgpu against the same steps on wasm (losses and a
 *      forward pass, which must agree to float noise);
 *   3. training throughput (images/s, median of the measured steps after warm-up) of the three benchmark configurations
 *      of `pnpm bench:train` (res 32 width 0.5 batch 32, res 64 width 1 batch 32, res 128 width 1 batch 16).
 *
 * Usage: gpu-check [--steps N] [--warmup N] [--configs r32,r64,r128] [--json]
 * In the repository: pnpm --filter @effscale/core gpu-check (scripts/gpu-check/check.ts); on a GPU host: ./run.sh from the bundle that
 * `pnpm --filter @effscale/core gpu-check:bundle` builds (scripts/gpu-check/build.mjs).
 * Exit status: 0 all good, 1 the results disagree with wasm, 2 no usable WebGPU adapter (one line says why).
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { resolveArchitecture, type Architecture } from '../../arch/architecture.js';
import { buildModel } from '../../model/index.js';
import { initBackend, type BackendInfo } from '../init.js';
import { adapterLabel } from './dawn.js';
import { FusedAdamOptimizer } from '@effscale/wasm-train';

const CONFIGS = [
  { id: 'r32', label: 'res 32, width 0.5, batch 32', resolution: 32, width: 0.5, batch: 32 },
  { id: 'r64', label: 'res 64, width 1.0, batch 32', resolution: 64, width: 1.0, batch: 32 },
  { id: 'r128', label: 'res 128, width 1.0, batch 16', resolution: 128, width: 1.0, batch: 16 },
] as const;
const CLASSES = 10;

const log = (s: string) => process.stderr.write(s + '\n');

function archOf(resolution: number, width: number, depth = 1): Architecture {
  return resolveArchitecture({ selector: { kind: 'multipliers', depth, width, resolution }, classes: CLASSES, inputChannels: 1, dropout: 0, dropConnectRate: 0 });
}

function noise(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    out[i] = (s / 2 ** 32) * 2 - 1;
  }
  return out;
}

interface Stepper {
  step(x: Float32Array, labels: number[]): Promise<number>;
  predict(x: Float32Array, n: number): Promise<Float32Array>;
  dispose(): void;
}

function stepper(arch: Architecture, batch: number, lr: number): Stepper {
  const model = buildModel(arch, { seed: 1 });
  const opt: tf.Optimizer = new FusedAdamOptimizer(lr);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const r = arch.resolution;
  return {
    async step(xs, labels) {
      const loss = tf.tidy(() => {
        const x = tf.tensor4d(xs, [batch, r, r, 1]);
        const y = tf.oneHot(tf.tensor1d(labels, 'int32'), CLASSES);
        const { value, grads } = opt.computeGradients(() => {
          const p = model.apply(x, { training: true }) as tf.Tensor;
          return tf.neg(tf.mean(tf.sum(tf.mul(y, tf.log(tf.clipByValue(p, 1e-7, 1 - 1e-7))), -1))) as tf.Scalar;
        }, vars);
        opt.applyGradients(grads);
        return value;
      });
      const v = (await loss.data())[0];
      loss.dispose();
      return v;
    },
    async predict(xs, n) {
      const p = tf.tidy(() => model.predict(tf.tensor4d(xs, [n, r, r, 1])) as tf.Tensor);
      const out = (await p.data()) as Float32Array;
      p.dispose();
      return out;
    },
    dispose() {
      model.dispose();
      opt.dispose();
    },
  };
}

/** The same 4 training steps and a forward pass on one backend. */
async function correctnessRun(backend: 'wasm' | 'webgpu'): Promise<{ losses: number[]; probs: Float32Array }> {
  await initBackend(backend);
  const arch = archOf(32, 0.25, 0.5);
  const batch = 8;
  const s = stepper(arch, batch, 1e-3);
  const labels = Array.from({ length: batch }, (_, i) => i % CLASSES);
  const losses: number[] = [];
  for (let i = 0; i < 4; i++) losses.push(await s.step(noise(batch * 32 * 32, 100 + i), labels));
  const probs = await s.predict(noise(4 * 32 * 32, 7), 4);
  s.dispose();
  return { losses, probs };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function throughput(c: (typeof CONFIGS)[number], steps: number, warmup: number) {
  const arch = archOf(c.resolution, c.width);
  const s = stepper(arch, c.batch, 1e-3);
  const labels = Array.from({ length: c.batch }, (_, i) => i % CLASSES);
  const x = noise(c.batch * c.resolution * c.resolution, 3);
  const times: number[] = [];
  for (let i = 0; i < warmup + steps; i++) {
    const t0 = performance.now();
    await s.step(x, labels);
    const dt = (performance.now() - t0) / 1000;
    if (i >= warmup) times.push(dt);
    log(`  ${c.id} ${i < warmup ? 'warm-up' : 'step'} ${i < warmup ? i + 1 : i - warmup + 1}: ${dt.toFixed(3)} s`);
  }
  s.dispose();
  return { config: c.id, label: c.label, imagesPerSec: c.batch / median(times), medianStepSeconds: median(times) };
}

/** Runs the check; resolves to the exit status (0 good, 1 disagrees with wasm, 2 no usable adapter). */
export async function runGpuCheck(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { steps: { type: 'string' }, warmup: { type: 'string' }, configs: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    console.log('usage: gpu-check [--steps 10] [--warmup 3] [--configs r32,r64,r128] [--json]');
    return 0;
  }
  const steps = Number(values.steps ?? 10);
  const warmup = Number(values.warmup ?? 3);
  const wanted = (values.configs ?? 'r32,r64,r128').split(',').map((s) => s.trim());
  const configs = CONFIGS.filter((c) => wanted.includes(c.id));

  let info: BackendInfo;
  try {
    info = await initBackend('webgpu');
  } catch (e) {
    process.stderr.write(`gpu-check: ${(e as Error).message}\n`);
    return 2;
  }
  const a = info.adapter!;
  log(`adapter: ${adapterLabel(a)}${a.software ? ' -- a SOFTWARE adapter: numbers below say nothing about a GPU' : ''}`);
  log(`backend: ${info.version}; node ${process.version}`);

  log('correctness: 4 training steps and a forward pass, webgpu against wasm');
  const gpu = await correctnessRun('webgpu');
  const ref = await correctnessRun('wasm');
  const lossDiff = Math.max(...gpu.losses.map((l, i) => Math.abs(l - ref.losses[i])));
  const probDiff = Math.max(...Array.from(gpu.probs, (p, i) => Math.abs(p - ref.probs[i])));
  const correct = lossDiff < 1e-3 && probDiff < 1e-3;
  log(`  losses webgpu ${gpu.losses.map((l) => l.toFixed(6)).join(' ')}`);
  log(`  losses wasm   ${ref.losses.map((l) => l.toFixed(6)).join(' ')}`);
  log(`  max |loss diff| ${lossDiff.toExponential(2)}, max |probability diff| ${probDiff.toExponential(2)}: ${correct ? 'OK' : 'MISMATCH'}`);

  await initBackend('webgpu');
  log(`throughput: ${warmup} warm-up + ${steps} measured training steps per configuration (Adam, depth 1, 1 channel, 10 classes)`);
  const results = [];
  for (const c of configs) {
    try {
      results.push(await throughput(c, steps, warmup));
    } catch (e) {
      results.push({ config: c.id, label: c.label, error: String((e as Error).message).split('\n')[0] });
    }
  }
  const report = { adapter: a, backend: info.version, node: process.version, correctness: { ok: correct, lossDiff, probDiff, webgpu: gpu.losses, wasm: ref.losses }, throughput: results };
  if (values.json) console.log(JSON.stringify(report, null, 2));
  else {
    console.log(`adapter     ${adapterLabel(a)}${a.software ? ' (software)' : ''}`);
    console.log(`correctness ${correct ? 'OK' : 'MISMATCH'} (max loss diff ${lossDiff.toExponential(2)} vs wasm)`);
    for (const r of results) console.log(`train       ${r.label.padEnd(30)} ${'error' in r ? `error: ${r.error}` : `${r.imagesPerSec.toFixed(1)} images/s`}`);
  }
  return correct ? 0 : 1;
}
