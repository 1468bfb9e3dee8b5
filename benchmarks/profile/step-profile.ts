/**
 * node --conditions=source --import tsx benchmarks/profile/step-profile.ts [--res 32|64|128] [--depth D] [--width W] [--steps N]
 *   [--mode layers|apply|trainer]
 *
 * Where a wasm training step's time goes: self time per kernel (nested kernel calls are charged to the inner one),
 * and the time outside every kernel (tfjs engine, tape, tf.layers, JS). Wraps each kernel registered for wasm.
 */
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { resolveArchitecture } from '@effscale/core';

const { values: v } = parseArgs({ options: { res: { type: 'string', default: '64' }, steps: { type: 'string', default: '6' }, mode: { type: 'string', default: 'trainer' }, depth: { type: 'string', default: '1' }, width: { type: 'string' } } });
const CONFIGS: Record<string, { width: number; batch: number }> = { '32': { width: 0.5, batch: 32 }, '64': { width: 1, batch: 32 }, '128': { width: 1, batch: 16 } };
const res = Number(v.res);
const { batch } = CONFIGS[v.res!];
const width = v.width !== undefined ? Number(v.width) : CONFIGS[v.res!].width;
const coreRequire = createRequire(fileURLToPath(import.meta.resolve('@effscale/core')));
const tf = (await import(pathToFileURL(coreRequire.resolve('@tensorflow/tfjs-core')).href)) as typeof import('@tensorflow/tfjs-core');
const { initBackend } = await import('@effscale/core/backend');
await initBackend('wasm');
const { buildModel } = await import('@effscale/core/model');
const { FusedAdamOptimizer, leanGradientSaves, trainingForward } = await import('@effscale/wasm-train');

const self = new Map<string, { ms: number; calls: number }>();
const stacks = new Map<string, number>();
let adamMs = 0;
let stack: number[] = [];
let inKernels = 0;
for (const k of tf.getKernelsForBackend('wasm')) {
  const inner = k.kernelFunc;
  tf.unregisterKernel(k.kernelName, 'wasm');
  tf.registerKernel({
    ...k,
    kernelFunc: ((args: unknown) => {
      const t0 = performance.now();
      stack.push(0);
      try {
        return (inner as (a: unknown) => unknown)(args);
      } finally {
        const dt = performance.now() - t0;
        const nested = stack.pop()!;
        if (stack.length) stack[stack.length - 1] += dt;
        else inKernels += dt;
        let key = k.kernelName;
        if (process.env.PROFILE_STACKS === key) {
          const frames = (new Error().stack ?? '').split('\n').slice(2).filter((l) => !l.includes('step-profile') && !l.includes('engine.ts') && !l.includes('tfjs-core/dist/engine'));
          const site = frames.slice(0, 4).map((l) => l.trim().replace(/^at /, '').replace(/\(.*node_modules\/\.pnpm\/[^/]+\/node_modules\//, '(').replace(/file:\/\/\/work\/main\//, '')).join(' < ');
          stacks.set(site, (stacks.get(site) ?? 0) + 1);
        }
        if (process.env.PROFILE_SHAPES?.split(',').includes(key)) {
          const inputs = (args as { inputs: Record<string, { shape: number[] }> }).inputs;
          if (process.env.PROFILE_RAW) key += ' ' + Object.values(inputs).filter(Boolean).map((t) => t.shape.join('x')).join(' ');
          else key += ' ' + Object.values(inputs).map((t) => (t.shape.length === 4 && t.shape.slice(1, 3).every((d) => d === 1) ? 'vec' : t.shape.length === 0 || t.shape.every((d) => d === 1) ? 'scalar' : t.shape.length === 4 && t.shape[1] === 1 ? 'mask' : 'full')).join('x');
        }
        const e = self.get(key) ?? { ms: 0, calls: 0 };
        e.ms += dt - nested;
        e.calls++;
        self.set(key, e);
      }
    }) as typeof inner,
  });
}

const arch = resolveArchitecture({ selector: { kind: 'multipliers', depth: Number(v.depth), width, resolution: res }, classes: 10, inputChannels: 1 });
const model = buildModel(arch, { seed: 0 });
const opt = new FusedAdamOptimizer(1e-3);
const vars = model.trainableWeights.map((w) => w.read() as import('@tensorflow/tfjs-core').Variable);
model.compile({ optimizer: opt, loss: 'categoricalCrossentropy' });
const step = async (): Promise<void> => {
  const x = tf.randomNormal([batch, res, res, 1]);
  const y = tf.oneHot(tf.randomUniform([batch], 0, 10, 'int32') as import('@tensorflow/tfjs-core').Tensor1D, 10);
  if (v.mode === 'layers') {
    await model.trainOnBatch(x, y);
  } else {
    const loss = tf.tidy(() => {
      const compute = (f: () => import('@tensorflow/tfjs-core').Scalar) => (v.mode === 'apply' ? opt.computeGradients(f, vars) : leanGradientSaves(() => opt.computeGradients(f, vars)));
      const { value, grads } = compute(() => {
        const p = v.mode === 'apply' ? model.apply(x, { training: true }) as import('@tensorflow/tfjs-core').Tensor : trainingForward(model, x);
        return tf.neg(tf.mean(tf.sum(tf.mul(y, tf.log(tf.clipByValue(p, 1e-7, 1 - 1e-7))), -1))) as import('@tensorflow/tfjs-core').Scalar;
      });
      const ta = performance.now();
      opt.applyGradients(grads);
      adamMs += performance.now() - ta;
      return value;
    });
    await loss.data();
    loss.dispose();
  }
  tf.dispose([x, y]);
};
const warm = performance.now();
while (performance.now() - warm < 6000) await step();
self.clear();
stacks.clear();
adamMs = 0;
inKernels = 0;
stack = [];
const n = Number(v.steps);
const t0 = performance.now();
for (let i = 0; i < n; i++) await step();
const total = (performance.now() - t0) / n;
const rows = [...self.entries()].map(([k, e]) => ({ k, ms: e.ms / n, calls: e.calls / n })).sort((a, b) => b.ms - a.ms);
console.log(`res ${res} width ${width} batch ${batch} mode ${v.mode}: ${total.toFixed(1)} ms/step (${(batch / total * 1000).toFixed(1)} img/s), kernels ${(inKernels / n).toFixed(1)} ms, outside ${(total - inKernels / n).toFixed(1)} ms (applyGradients ${(adamMs / n).toFixed(1)} ms, its kernels included)`);
for (const r of rows.slice(0, 30)) console.log(`${r.k.padEnd(36)} ${r.ms.toFixed(1).padStart(8)} ms ${r.calls.toFixed(0).padStart(6)} calls`);
for (const [site, c] of [...stacks.entries()].sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log(`${(c / n).toFixed(0).padStart(5)} ${site}`);
console.log(`tensors alive: ${tf.memory().numTensors}`);
