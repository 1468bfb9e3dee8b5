import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute, join } from 'node:path';

/** What effscale records about a WebGPU adapter (GPUAdapterInfo, plus whether it is a software rasterizer). */
export interface WebgpuAdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A CPU implementation (lavapipe/llvmpipe, SwiftShader): only used when webgpu is asked for by name. */
  software: boolean;
}

/** The little of the WebGPU API that selection needs (no dependency on @webgpu/types). */
export interface GpuAdapterLike {
  info?: Partial<Record<'vendor' | 'architecture' | 'device' | 'description', string>> & { isFallbackAdapter?: boolean };
  isFallbackAdapter?: boolean;
  features: { has(name: string): boolean };
  limits: Record<string, number>;
  requestDevice(descriptor?: unknown): Promise<unknown>;
}
export interface GpuLike {
  requestAdapter(options?: unknown): Promise<GpuAdapterLike | null>;
}
interface DawnModule {
  create(flags: string[]): GpuLike;
  globals: Record<string, unknown>;
}

/** Thrown with a one-line reason when Dawn cannot be loaded or offers no usable adapter. */
export class DawnUnavailable extends Error {}

let dawn: DawnModule | undefined;
let gpu: GpuLike | undefined;

/**
 * Loads Dawn's Node binding: EFFSCALE_DAWN_NODE (a path to dawn.node, as in the gpu-check bundle) or the `webgpu`
 * package. Its globals (GPUBufferUsage, GPUMapMode, ...) are installed on globalThis, which the tfjs webgpu backend reads.
 */
async function loadDawn(): Promise<DawnModule> {
  if (dawn !== undefined) return dawn;
  const file = process.env.EFFSCALE_DAWN_NODE;
  try {
    if (file !== undefined && file !== '') {
      if (!existsSync(file)) throw new DawnUnavailable(`webgpu: EFFSCALE_DAWN_NODE '${file}' does not exist (point it at a dawn.node, or unset it to use the webgpu package)`);
      dawn = createRequire(import.meta.url)(file) as DawnModule;
    } else {
      dawn = (await import('webgpu')) as unknown as DawnModule;
    }
  } catch (err) {
    if (err instanceof DawnUnavailable) throw err;
    const e = err as { code?: string; message?: string };
    const msg = String(e?.message ?? err);
    if ((e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND') && msg.includes("'webgpu'")) {
      throw new DawnUnavailable("webgpu: the 'webgpu' package (Dawn's Node binding) is not installed: run pnpm install");
    }
    if (/GLIBC_|GLIBCXX_/.test(msg)) {
      throw new DawnUnavailable(`webgpu: dawn.node needs a newer C library than this system has (glibc >= 2.34): ${firstLine(msg)}`);
    }
    throw new DawnUnavailable(`webgpu: dawn.node failed to load (${firstLine(msg)})`);
  }
  Object.assign(globalThis, dawn.globals);
  return dawn;
}

/** Dawn flags: EFFSCALE_WEBGPU_FLAGS (comma-separated Dawn node options), EFFSCALE_WEBGPU_ADAPTER (adapter name). */
export function dawnFlags(env: NodeJS.ProcessEnv = process.env): string[] {
  const flags = (env.EFFSCALE_WEBGPU_FLAGS ?? '').split(/\s+/).map((s) => s.trim()).filter(Boolean);
  const adapter = env.EFFSCALE_WEBGPU_ADAPTER?.trim();
  if (adapter) flags.push(`adapter=${adapter}`);
  return flags;
}

/**
 * Dawn's GPU object, created once per process and installed as navigator.gpu (the tfjs webgpu backend checks for it).
 * Node 21+ has a navigator of its own: gpu is added to it.
 */
export async function dawnGpu(): Promise<GpuLike> {
  if (gpu !== undefined) return gpu;
  const d = await loadDawn();
  try {
    gpu = d.create(dawnFlags());
  } catch (err) {
    throw new DawnUnavailable(`webgpu: Dawn refused its options (${firstLine(String((err as Error)?.message ?? err))}; check EFFSCALE_WEBGPU_FLAGS / EFFSCALE_WEBGPU_ADAPTER)`);
  }
  const g = globalThis as { navigator?: { gpu?: unknown } };
  if (g.navigator !== undefined && g.navigator !== null) {
    try {
      Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true, writable: true });
    } catch {
      Object.defineProperty(globalThis, 'navigator', { value: { ...g.navigator, gpu }, configurable: true, writable: true });
    }
  } else {
    Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  }
  return gpu;
}

const SOFTWARE = /llvmpipe|lavapipe|swiftshader|software|warp|microsoft basic render/i;

/** The adapter's identity as recorded in BackendInfo and run records. */
export function describeAdapter(adapter: GpuAdapterLike): WebgpuAdapterInfo {
  const i = adapter.info ?? {};
  const info = {
    vendor: i.vendor ?? '', architecture: i.architecture ?? '', device: i.device ?? '', description: i.description ?? '',
  };
  const fallback = adapter.isFallbackAdapter === true || i.isFallbackAdapter === true;
  const software = fallback || info.architecture === 'software' || SOFTWARE.test(`${info.description} ${info.device}`);
  return { ...info, software };
}

/** "NVIDIA H100 (nvidia, hopper)", "llvmpipe: Mesa 25.0.7 (mesa, software)". */
export function adapterLabel(a: WebgpuAdapterInfo): string {
  const name = a.description || a.device || 'unnamed adapter';
  const tags = [a.vendor, a.architecture].filter(Boolean).join(', ');
  return tags ? `${name} (${tags})` : name;
}

/** The high-performance adapter, or a one-line reason why there is none. */
export async function requestAdapter(): Promise<GpuAdapterLike> {
  const g = await dawnGpu();
  let adapter: GpuAdapterLike | null;
  try {
    adapter = await g.requestAdapter({ powerPreference: 'high-performance' });
  } catch (err) {
    throw new DawnUnavailable(`webgpu: no adapter (${firstLine(String((err as Error)?.message ?? err))}); ${diagnoseNoAdapter()}`);
  }
  if (adapter === null || adapter === undefined) throw new DawnUnavailable(`webgpu: Dawn found no adapter; ${diagnoseNoAdapter()}`);
  return adapter;
}

// ---- Why there is no adapter --------------------------------------------------------------------------------------

const ICD_DIRS = ['/usr/share/vulkan/icd.d', '/usr/local/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/nvidia/share/vulkan/icd.d'];
const LIB_DIRS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib64', '/usr/lib', '/usr/local/lib', '/lib/x86_64-linux-gnu'];
/** Dawn needs shaderUniformBufferArrayDynamicIndexing & co. from lavapipe, which Mesa 22.x does not report. */
export const MIN_MESA_MAJOR = 24;
const FIX_SOFTWARE = 'for the software device install Mesa >= 24 lavapipe (Debian 12: apt-get install -t bookworm-backports mesa-vulkan-drivers libvulkan1, or .ci/install-vulkan) and set VK_ICD_FILENAMES to its lvp_icd json';
const FIX_GPU = "on a GPU host point VK_ICD_FILENAMES at the driver's ICD (NVIDIA: /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json; containers need NVIDIA_DRIVER_CAPABILITIES to include graphics)";

function icdFiles(env: NodeJS.ProcessEnv): string[] {
  const listed = env.VK_DRIVER_FILES ?? env.VK_ICD_FILENAMES;
  if (listed) return listed.split(':').filter(Boolean);
  const out: string[] = [];
  for (const dir of ICD_DIRS) {
    try {
      for (const f of readdirSync(dir)) if (f.endsWith('.json')) out.push(join(dir, f));
    } catch {
      // absent directory
    }
  }
  return out;
}

function icdLibrary(file: string): string | undefined {
  try {
    const lib = (JSON.parse(readFileSync(file, 'utf8')) as { ICD?: { library_path?: string } }).ICD?.library_path;
    if (lib === undefined) return undefined;
    if (isAbsolute(lib)) return lib;
    if (lib.includes('/')) return join(file, '..', lib);
    return LIB_DIRS.map((d) => join(d, lib)).find((p) => existsSync(p)) ?? lib;
  } catch {
    return undefined;
  }
}

/** The Mesa version compiled into a Mesa Vulkan driver ("22.3.6"), read from the library's strings. */
export function mesaVersionOf(library: string): string | undefined {
  try {
    const m = /Mesa (\d+\.\d+(?:\.\d+)?)/.exec(readFileSync(library).toString('latin1'));
    return m?.[1];
  } catch {
    return undefined;
  }
}

/** One clause saying what is wrong with the Vulkan setup and what to do. */
export function diagnoseNoAdapter(env: NodeJS.ProcessEnv = process.env): string {
  const files = icdFiles(env);
  const missing = files.filter((f) => !existsSync(f));
  if (missing.length > 0 && missing.length === files.length) {
    return `the Vulkan ICD file ${missing.join(', ')} named by ${env.VK_DRIVER_FILES ? 'VK_DRIVER_FILES' : 'VK_ICD_FILENAMES'} does not exist; ${FIX_SOFTWARE}; ${FIX_GPU}`;
  }
  if (!LIB_DIRS.some((d) => existsSync(join(d, 'libvulkan.so.1')))) {
    return `the Vulkan loader (libvulkan.so.1) is not installed: apt-get install libvulkan1; ${FIX_GPU}`;
  }
  if (files.length === 0) return `no Vulkan driver is installed (no ICD file in ${ICD_DIRS.join(', ')}); ${FIX_GPU}; ${FIX_SOFTWARE}`;
  for (const f of files) {
    const lib = icdLibrary(f);
    if (lib === undefined || !/lvp/.test(lib)) continue;
    const version = mesaVersionOf(lib);
    const major = version === undefined ? undefined : Number(version.split('.')[0]);
    if (major !== undefined && major < MIN_MESA_MAJOR) {
      return `Mesa ${version}'s lavapipe (${f}) is too old for Dawn (it needs Mesa >= ${MIN_MESA_MAJOR}); ${FIX_SOFTWARE}`;
    }
  }
  return `no Vulkan device accepted by Dawn among ${files.join(', ')}; ${FIX_GPU}; ${FIX_SOFTWARE}`;
}

function firstLine(s: string): string {
  const line = s.split('\n')[0]?.trim() ?? '';
  return line.length > 200 ? line.slice(0, 197) + '...' : line;
}
