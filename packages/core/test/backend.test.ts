import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  currentBackendInfo, initBackend, parseBackendRequest, WASM_HEAP_LIMIT_BYTES, type ModuleLoader,
} from '../src/backend/index.js';

class FakeTensorflowBackend extends tf.KernelBackend {
  binding = { TF_Version: '2.9.1-fake' };
  override dispose(): void {}
}

/** A stand-in for a working tfjs-node(-gpu): registers a 'tensorflow' backend when loaded. */
function fakeTensorflowModule(): unknown {
  if (tf.findBackendFactory('tensorflow') != null) tf.removeBackend('tensorflow');
  tf.registerBackend('tensorflow', () => new FakeTensorflowBackend(), 3);
  return { version: { 'tfjs-node': '4.22.0' } };
}

const addonMissing = (name: string) => () => {
  throw new Error(
    `The Node.js native addon module (tfjs_binding.node) can not be found at path: /x/${name}/lib/napi-v8/tfjs_binding.node. \nPlease run command 'npm rebuild'`,
  );
};
const notInstalled = (name: string) => () => {
  throw Object.assign(new Error(`Cannot find module '${name}'\nRequire stack:\n- /x`), { code: 'MODULE_NOT_FOUND' });
};

function loader(map: Record<string, () => unknown>): ModuleLoader {
  return (name) => {
    const f = map[name];
    if (f === undefined) throw new Error(`unexpected module ${name}`);
    return f();
  };
}

const GPU = '@tensorflow/tfjs-node-gpu';
const NODE = '@tensorflow/tfjs-node';

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('parseBackendRequest', () => {
  it('accepts the four requests in any case, and empty/undefined as auto', () => {
    expect(parseBackendRequest('wasm')).toBe('wasm');
    expect(parseBackendRequest(' TensorFlow ')).toBe('tensorflow');
    expect(parseBackendRequest('cpu')).toBe('cpu');
    expect(parseBackendRequest(undefined)).toBe('auto');
    expect(parseBackendRequest('')).toBe('auto');
  });

  it('rejects an unknown name, naming it and the allowed ones', () => {
    expect(() => parseBackendRequest('gpu')).toThrow("unknown backend 'gpu' (allowed: auto, tensorflow, webgpu, wasm, cpu)");
  });
});

describe('initBackend', () => {
  it('chooses tfjs-node-gpu when it loads', async () => {
    const info = await initBackend('auto', { loadModule: loader({ [GPU]: fakeTensorflowModule }) });
    expect(info).toMatchObject({ name: 'tensorflow-gpu', requested: 'auto', fallbacks: [] });
    expect(info.version).toBe(`${tf.version_core} (libtensorflow 2.9.1-fake)`);
    expect(info.threads).toBeGreaterThanOrEqual(1);
    expect(tf.getBackend()).toBe('tensorflow');
    expect(currentBackendInfo()).toBe(info);
  });

  it('falls back to tfjs-node with a one-line reason when the gpu addon is missing', async () => {
    const info = await initBackend('tensorflow', {
      loadModule: loader({ [GPU]: addonMissing('tfjs-node-gpu'), [NODE]: fakeTensorflowModule }),
    });
    expect(info.name).toBe('tensorflow');
    expect(info.fallbacks).toEqual(['tfjs-node-gpu: native addon not built (libtensorflow could not be downloaded at install time)']);
  });

  it('drops kernels a half-loaded tfjs-node-gpu registered, so tfjs-node registers its own without warnings', async () => {
    const marker = (name: string) => () => ({ dataId: {}, shape: [], dtype: 'float32' as const, from: name });
    const halfLoadedGpu = () => {
      tf.registerKernel({ kernelName: 'EffscaleProbe', backendName: 'tensorflow', kernelFunc: marker('gpu') as never });
      return addonMissing('tfjs-node-gpu')();
    };
    const node = () => {
      tf.registerKernel({ kernelName: 'EffscaleProbe', backendName: 'tensorflow', kernelFunc: marker('node') as never });
      return fakeTensorflowModule();
    };
    await initBackend('cpu');
    const warn = vi.spyOn(console, 'warn');
    const info = await initBackend('tensorflow', { loadModule: loader({ [GPU]: halfLoadedGpu, [NODE]: node }), verbose: true, log: () => {} });
    expect(warn.mock.calls.flat().join(' ')).not.toMatch(/already registered/);
    warn.mockRestore();
    expect(info.name).toBe('tensorflow');
    const probe = tf.getKernel('EffscaleProbe', 'tensorflow');
    expect((probe?.kernelFunc as unknown as () => { from: string })().from).toBe('node');
  });

  it('falls back to wasm when neither node package loads, logging reasons only when verbose', async () => {
    const lines: string[] = [];
    const load = loader({ [GPU]: notInstalled(GPU), [NODE]: addonMissing('tfjs-node') });
    vi.stubEnv('EFFSCALE_WEBGPU_PROBE', '0'); // the same answer on hosts with and without a GPU
    await initBackend('cpu'); // 'auto' was answered before; another request makes the next 'auto' choose again
    const quiet = await initBackend('auto', { loadModule: load, log: (l) => lines.push(l) });
    expect(quiet.name).toBe('wasm');
    expect(quiet.fallbacks).toEqual([
      'tfjs-node-gpu: not installed',
      'webgpu: not probed under auto (EFFSCALE_WEBGPU_PROBE=0)',
      'tfjs-node: native addon not built (libtensorflow could not be downloaded at install time)',
    ]);
    expect(quiet.threads).toBeGreaterThanOrEqual(1);
    expect(lines).toEqual([]);
    expect(tf.getBackend()).toBe('wasm');

    await initBackend('cpu');
    const verbose = await initBackend('auto', { loadModule: load, verbose: true, log: (l) => lines.push(l) });
    expect(verbose.name).toBe('wasm');
    expect(lines).toEqual([
      'backend: tfjs-node-gpu: not installed',
      'backend: webgpu: not probed under auto (EFFSCALE_WEBGPU_PROBE=0)',
      'backend: tfjs-node: native addon not built (libtensorflow could not be downloaded at install time)',
      `backend: using wasm (tfjs-core ${tf.version_core}, ${verbose.threads} thread${verbose.threads === 1 ? '' : 's'})`,
    ]);
  });

  it("fails with one line when 'tensorflow' is requested and neither package loads", async () => {
    const load = loader({ [GPU]: addonMissing('tfjs-node-gpu'), [NODE]: notInstalled(NODE) });
    const err = await initBackend('tensorflow', { loadModule: load }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe(
      "backend 'tensorflow' is unavailable: tfjs-node-gpu: native addon not built (libtensorflow could not be downloaded at install time); tfjs-node: not installed",
    );
    expect((err as Error).message).not.toContain('\n');
  });

  it('rejects a bad request before touching any backend', async () => {
    await expect(initBackend('webgl')).rejects.toThrow("unknown backend 'webgl' (allowed: auto, tensorflow, webgpu, wasm, cpu)");
  });

  it('is idempotent for the same request and reads EFFSCALE_BACKEND by default', async () => {
    vi.stubEnv('EFFSCALE_BACKEND', 'cpu');
    const a = await initBackend();
    const b = await initBackend('cpu');
    expect(a).toBe(b);
    expect(a).toMatchObject({ name: 'cpu', requested: 'cpu', threads: 1, fallbacks: [] });
    const w1 = await initBackend('wasm');
    const w2 = await initBackend('wasm');
    expect(w1).toBe(w2);
    expect(w1.name).toBe('wasm');
  });

  it('silences the "install the node backend" banner of the cpu backend', async () => {
    const warn = vi.spyOn(console, 'warn');
    await initBackend('cpu');
    tf.tidy(() => tf.add(tf.tensor([1, 2]), tf.tensor([3, 4])).dataSync());
    expect(warn.mock.calls.flat().join(' ')).not.toMatch(/node backend/);
    warn.mockRestore();
  });

  it('explains the real optional packages in one line each when they cannot be used', async () => {
    const info = await initBackend('auto');
    expect(['tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm']).toContain(info.name);
    for (const line of info.fallbacks) expect(line).toMatch(/^(tfjs-node(-gpu)?|webgpu): [^\n]+$/);
    if (info.name === 'wasm') expect(info.fallbacks).toHaveLength(3);
  });

  it('declares the 4 GiB wasm heap cap', () => {
    expect(WASM_HEAP_LIMIT_BYTES).toBe(4 * 1024 ** 3);
  });
});
