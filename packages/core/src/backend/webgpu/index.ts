import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { adapterLabel, describeAdapter, DawnUnavailable, requestAdapter, type GpuAdapterLike, type WebgpuAdapterInfo } from './dawn.js';

export { adapterLabel, DawnUnavailable, diagnoseNoAdapter, type WebgpuAdapterInfo } from './dawn.js';

export interface WebgpuChoice {
  adapter: WebgpuAdapterInfo;
  /** tfjs-backend-webgpu and the webgpu (dawn.node) package versions. */
  versions: string;
}

const SOFTWARE_HINT = 'it is used only when asked for: --backend webgpu or EFFSCALE_BACKEND=webgpu';

let active: WebgpuChoice | undefined;

/**
 * Starts tfjs' webgpu backend on Dawn's high-performance adapter. A software adapter (lavapipe) is refused unless
 * `allowSoftware` (webgpu asked for by name). Throws DawnUnavailable with a one-line reason.
 *
 * The tfjs package's own backend factory asks navigator.gpu for an adapter and cannot be told which kinds to accept,
 * so it is replaced by one that uses the adapter checked here. setBackend's result is checked: tf.getBackend() still
 * names webgpu after a failed initialization.
 */
export async function startWebgpu(allowSoftware: boolean): Promise<WebgpuChoice> {
  if (active !== undefined && tf.findBackend('webgpu') != null) {
    if (active.adapter.software && !allowSoftware) throw new DawnUnavailable(`webgpu: only a software adapter, ${adapterLabel(active.adapter)}; ${SOFTWARE_HINT}`);
    if (!(await tf.setBackend('webgpu'))) throw new DawnUnavailable('webgpu: the backend failed to initialize');
    return active;
  }
  const adapter = await requestAdapter();
  const info = describeAdapter(adapter);
  if (info.software && !allowSoftware) throw new DawnUnavailable(`webgpu: only a software adapter, ${adapterLabel(info)}; ${SOFTWARE_HINT}`);
  // navigator.gpu is set (by requestAdapter), so importing the package registers its factory; ours replaces it.
  const mod = (await import('@tensorflow/tfjs-backend-webgpu')) as unknown as {
    WebGPUBackend: new (device: unknown, adapterInfo?: unknown) => tf.KernelBackend;
  };
  let failure: unknown;
  if (tf.findBackendFactory('webgpu') != null) tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', async () => {
    try {
      const device = await adapter.requestDevice(deviceDescriptor(adapter));
      return new mod.WebGPUBackend(device, adapter.info);
    } catch (err) {
      failure = err;
      throw err;
    }
  }, 0);
  let ok: boolean;
  try {
    ok = await tf.setBackend('webgpu');
  } catch (err) {
    failure ??= err;
    ok = false;
  }
  if (!ok) {
    tf.removeBackend('webgpu');
    const why = failure === undefined ? 'the backend failed to initialize' : `could not open ${adapterLabel(info)} (${String((failure as Error)?.message ?? failure).split('\n')[0]})`;
    throw new DawnUnavailable(`webgpu: ${why}`);
  }
  active = { adapter: info, versions: `tfjs-backend-webgpu ${packageVersion('@tensorflow/tfjs-backend-webgpu')}, ${dawnPackageVersion()}` };
  return active;
}

/** The limits and features tfjs-backend-webgpu 4.22's own factory asks for. */
function deviceDescriptor(adapter: GpuAdapterLike): Record<string, unknown> {
  const requiredFeatures: string[] = [];
  if (adapter.features.has('timestamp-query')) requiredFeatures.push('timestamp-query');
  if (adapter.features.has('bgra8unorm-storage')) requiredFeatures.push('bgra8unorm-storage');
  const l = adapter.limits;
  return {
    requiredFeatures,
    requiredLimits: {
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
    },
  };
}

function dawnPackageVersion(): string {
  if (process.env.EFFSCALE_DAWN_NODE) return `dawn.node from ${process.env.EFFSCALE_DAWN_NODE}`;
  return `webgpu ${packageVersion('webgpu')}`;
}

/** An installed package's version ('?' inside a bundle, where there is no package.json to read). */
function packageVersion(name: string): string {
  try {
    const req = createRequire(import.meta.url);
    const dir = dirname(req.resolve(name));
    for (const d of [dir, dirname(dir)]) {
      const file = join(d, 'package.json');
      if (!existsSync(file)) continue;
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === name && pkg.version) return pkg.version;
    }
  } catch {
    // not resolvable (bundle)
  }
  return '?';
}
