import { existsSync, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { BackendError } from '../errors.js';
import { defaultModuleLoader, explainLoadFailure, type ModuleLoader } from './loader.js';
import { restoreTfjsWarnings, silenceCpuBanner, silenceTfjsNoise } from './quiet.js';
import { parseBackendRequest, type BackendRequest } from './request.js';
import { adapterLabel, type WebgpuAdapterInfo } from './webgpu/dawn.js';
import { registerWasmTrainingKernels, setSimdVariant, SIMD_VARIANT_REQUESTS, wasmTrainingKernelsInfo, type SimdVariantRequest } from '@effscale/wasm-train';

export interface BackendInfo {
  /** What actually runs. */
  name: 'tensorflow-gpu' | 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
  requested: BackendRequest;
  /** tfjs-core version (+ libtensorflow version for tensorflow). */
  version: string;
  /** Threads the backend computes with. */
  threads: number;
  /** One line per candidate that was tried and failed. */
  fallbacks: string[];
  /** webgpu only: the adapter Dawn opened (vendor, architecture, device, description, software or not). */
  adapter?: WebgpuAdapterInfo;
  /**
   * wasm only: which build of the training kernels runs ('relaxed-simd, fused multiply-add', 'simd'): results of the
   * two differ in the last bits. EFFSCALE_WASM_KERNELS=simd chooses the plain build (the same bits on every CPU).
   */
  kernels?: string;
}

export interface InitBackendOptions {
  /** Log each failed candidate and the final choice. */
  verbose?: boolean;
  /** Where verbose lines go (default: stderr). */
  log?: (line: string) => void;
  /** Loads the optional tfjs-node packages (replaceable to simulate their presence or absence). */
  loadModule?: ModuleLoader;
}

/** The wasm heap cap: memory grows up to 4 GiB and is never returned. */
export const WASM_HEAP_LIMIT_BYTES = 4 * 1024 * 1024 * 1024;

/** 'webgpu-gpu' accepts a hardware adapter only (auto); 'webgpu' any adapter, lavapipe included (asked for by name). */
type Candidate = 'tfjs-node-gpu' | 'webgpu-gpu' | 'webgpu' | 'tfjs-node' | 'wasm' | 'cpu';

const PLAN: Record<BackendRequest, Candidate[]> = {
  auto: ['tfjs-node-gpu', 'webgpu-gpu', 'tfjs-node', 'wasm', 'cpu'],
  tensorflow: ['tfjs-node-gpu', 'tfjs-node'],
  webgpu: ['webgpu'],
  wasm: ['wasm'],
  cpu: ['cpu'],
};

class CandidateFailed extends Error {}

let current: BackendInfo | undefined;
let pending: { request: BackendRequest; promise: Promise<BackendInfo> } | undefined;

/** The backend chosen by the last successful initBackend, if any. */
export function currentBackendInfo(): BackendInfo | undefined {
  return current;
}

const TF_BACKEND_NAME: Record<BackendInfo['name'], string> = {
  'tensorflow-gpu': 'tensorflow',
  tensorflow: 'tensorflow',
  webgpu: 'webgpu',
  wasm: 'wasm',
  cpu: 'cpu',
};

/**
 * Chooses and initializes the TensorFlow.js backend. `auto` tries tfjs-node-gpu, webgpu on a hardware adapter,
 * tfjs-node, wasm, then cpu; `tensorflow` only the two tfjs-node packages; `webgpu` any WebGPU adapter (a software
 * one such as lavapipe too). Calling again with the same request returns the same info.
 */
export async function initBackend(request?: BackendRequest | string, opts: InitBackendOptions = {}): Promise<BackendInfo> {
  const req = parseBackendRequest(request ?? process.env.EFFSCALE_BACKEND ?? 'auto');
  if (current?.requested === req && tf.getBackend() === TF_BACKEND_NAME[current.name]) return current;
  if (pending?.request === req) return pending.promise;
  const promise = select(req, opts);
  pending = { request: req, promise };
  try {
    current = await promise;
    return current;
  } finally {
    if (pending?.promise === promise) pending = undefined;
  }
}

async function select(req: BackendRequest, opts: InitBackendOptions): Promise<BackendInfo> {
  const verbose = opts.verbose === true;
  const log = opts.log ?? ((line: string) => process.stderr.write(line + '\n'));
  if (verbose) restoreTfjsWarnings();
  else silenceTfjsNoise();
  const load = opts.loadModule ?? defaultModuleLoader;
  const fallbacks: string[] = [];
  for (const candidate of PLAN[req]) {
    try {
      const info = await tryCandidate(candidate, load);
      const result: BackendInfo = { ...info, requested: req, fallbacks };
      if (verbose) log(`backend: using ${result.name} (tfjs-core ${result.version}, ${result.threads} thread${result.threads === 1 ? '' : 's'})${result.adapter ? ` on ${adapterLabel(result.adapter)}` : ''}`);
      return result;
    } catch (err) {
      if (!(err instanceof CandidateFailed)) throw err;
      fallbacks.push(err.message);
      if (verbose) log(`backend: ${err.message}`);
    }
  }
  throw new BackendError(`backend '${req}' is unavailable: ${fallbacks.join('; ')}`);
}

type Chosen = Omit<BackendInfo, 'requested' | 'fallbacks'>;

async function tryCandidate(candidate: Candidate, load: ModuleLoader): Promise<Chosen> {
  switch (candidate) {
    case 'tfjs-node-gpu':
    case 'tfjs-node':
      return tryTensorflow(candidate, load);
    case 'webgpu-gpu':
    case 'webgpu':
      return tryWebgpu(candidate === 'webgpu');
    case 'wasm':
      return tryWasm();
    case 'cpu':
      return tryCpu();
  }
}

async function tryTensorflow(candidate: 'tfjs-node-gpu' | 'tfjs-node', load: ModuleLoader): Promise<Chosen> {
  const pkg = `@tensorflow/${candidate}`;
  let mod: unknown;
  try {
    mod = load(pkg);
  } catch (err) {
    forgetTensorflowBackend();
    throw new CandidateFailed(explainLoadFailure(candidate, pkg, err));
  }
  if (tf.findBackendFactory('tensorflow') == null) {
    throw new CandidateFailed(`${candidate}: loaded but registered no 'tensorflow' backend on this @tensorflow/tfjs-core (version mismatch?)`);
  }
  if (!(await tf.setBackend('tensorflow'))) {
    throw new CandidateFailed(`${candidate}: the 'tensorflow' backend failed to initialize`);
  }
  const binding = (tf.backend() as { binding?: { TF_Version?: unknown } }).binding;
  const libVersion = typeof binding?.TF_Version === 'string' ? binding.TF_Version : undefined;
  const nodeVersion = (mod as { version?: Record<string, unknown> } | undefined)?.version?.['tfjs-node'];
  const extra = libVersion !== undefined ? `libtensorflow ${libVersion}` : typeof nodeVersion === 'string' ? `tfjs-node ${nodeVersion}` : undefined;
  return {
    name: candidate === 'tfjs-node-gpu' ? 'tensorflow-gpu' : 'tensorflow',
    version: extra === undefined ? tf.version_core : `${tf.version_core} (${extra})`,
    // libtensorflow's intra-op pool defaults to one thread per core.
    threads: availableParallelism(),
  };
}

/**
 * A tfjs-node package that fails to load its native addon has already registered its kernels for
 * 'tensorflow'; drop them so the next candidate registers its own without a warning per kernel.
 */
function forgetTensorflowBackend(): void {
  for (const k of tf.getKernelsForBackend('tensorflow')) tf.unregisterKernel(k.kernelName, 'tensorflow');
  if (tf.findBackendFactory('tensorflow') != null) tf.removeBackend('tensorflow');
}

/**
 * Dawn's Node binding and tfjs-backend-webgpu are loaded only here (dawn.node is ~21 MB). Under `auto` a machine
 * without GPU device nodes is not probed at all: the software adapter would be refused anyway, and Dawn prints its
 * limit warnings on stderr whenever it opens one.
 */
async function tryWebgpu(allowSoftware: boolean): Promise<Chosen> {
  if (!allowSoftware && process.env.EFFSCALE_WEBGPU_PROBE === '0') throw new CandidateFailed('webgpu: not probed under auto (EFFSCALE_WEBGPU_PROBE=0)');
  if (!allowSoftware && !hasGpuDeviceNodes()) throw new CandidateFailed('webgpu: no GPU device (/dev/dri/renderD*, /dev/nvidia*, /dev/dxg)');
  const { startWebgpu, DawnUnavailable } = await import('./webgpu/index.js');
  try {
    const { adapter, versions } = await startWebgpu(allowSoftware);
    return { name: 'webgpu', version: `${tf.version_core} (${versions})`, threads: 1, adapter };
  } catch (err) {
    if (err instanceof DawnUnavailable) throw new CandidateFailed(err.message);
    throw new CandidateFailed(`webgpu: failed to start (${String((err as Error)?.message ?? err).split('\n')[0]})`);
  }
}

/** EFFSCALE_WEBGPU_PROBE: '1' probes Dawn under auto even without device nodes, '0' never (tests, CPU-only hosts). */
function hasGpuDeviceNodes(): boolean {
  if (process.env.EFFSCALE_WEBGPU_PROBE === '1') return true;
  if (process.env.EFFSCALE_WEBGPU_PROBE === '0') return false;
  try {
    if (existsSync('/dev/dxg') || readdirSync('/dev').some((f) => /^nvidia\d+$/.test(f))) return true;
    return readdirSync('/dev/dri').some((f) => f.startsWith('renderD'));
  } catch {
    return false;
  }
}

async function tryWasm(): Promise<Chosen> {
  const build = (process.env.EFFSCALE_WASM_KERNELS ?? 'auto') as SimdVariantRequest;
  if (!SIMD_VARIANT_REQUESTS.includes(build)) {
    throw new BackendError(`EFFSCALE_WASM_KERNELS '${build}' is not a kernel build (allowed: ${SIMD_VARIANT_REQUESTS.join(', ')})`);
  }
  setSimdVariant(build);
  // Before the backend initializes, so the engine sees the training kernels from the start.
  registerWasmTrainingKernels();
  let ok: boolean;
  try {
    ok = await tf.setBackend('wasm');
  } catch (err) {
    throw new CandidateFailed(`wasm: failed to initialize (${String((err as Error)?.message ?? err).split('\n')[0]})`);
  }
  if (!ok) throw new CandidateFailed('wasm: the backend failed to initialize');
  const simd = wasmTrainingKernelsInfo();
  const kernels = simd === undefined ? 'stock' : simd.variant === 'simd' ? 'simd' : `relaxed-simd, ${simd.fusedMultiplyAdd ? 'fused' : 'unfused'} multiply-add`;
  return { name: 'wasm', version: tf.version_core, threads: getThreadsCount(), kernels };
}

async function tryCpu(): Promise<Chosen> {
  if (!(await tf.setBackend('cpu'))) throw new CandidateFailed('cpu: the backend failed to initialize');
  silenceCpuBanner(tf.backend());
  return { name: 'cpu', version: tf.version_core, threads: 1 };
}
