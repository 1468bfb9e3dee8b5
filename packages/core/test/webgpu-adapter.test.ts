import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { adapterLabel, describeAdapter, diagnoseNoAdapter, mesaVersionOf, type GpuAdapterLike } from '../src/backend/webgpu/dawn.js';
import { tempDir } from './fixtures/data/helpers.js';

// No adapter needed: how adapters are classified, and the one-line reasons when Dawn finds none.

const adapter = (info: GpuAdapterLike['info'], fallback?: boolean): GpuAdapterLike =>
  ({ info, isFallbackAdapter: fallback, features: { has: () => false }, limits: {}, requestDevice: async () => ({}) });

describe('webgpu adapters', () => {
  it('tells a hardware GPU from a software rasterizer', () => {
    const nvidia = describeAdapter(adapter({ vendor: 'nvidia', architecture: 'hopper', device: '', description: 'NVIDIA H100 80GB HBM3' }));
    expect(nvidia).toEqual({ vendor: 'nvidia', architecture: 'hopper', device: '', description: 'NVIDIA H100 80GB HBM3', software: false });
    expect(adapterLabel(nvidia)).toBe('NVIDIA H100 80GB HBM3 (nvidia, hopper)');
    const lvp = describeAdapter(adapter({ vendor: 'mesa', architecture: 'software', device: 'llvmpipe', description: 'llvmpipe: Mesa 25.0.7 (LLVM 15.0.6)' }));
    expect(lvp.software).toBe(true);
    expect(describeAdapter(adapter({ vendor: 'google', description: 'SwiftShader Device (Subzero)' })).software).toBe(true);
    expect(describeAdapter(adapter({ vendor: 'x', description: 'some GPU' }, true)).software).toBe(true);
    expect(describeAdapter(adapter({ vendor: 'x', description: 'some GPU', isFallbackAdapter: true })).software).toBe(true);
  });
});

describe('why there is no adapter', () => {
  const tmp = tempDir('webgpu-icd');
  afterAll(() => tmp.cleanup());
  const icd = (name: string, lib: string) => {
    const file = join(tmp.dir, name);
    writeFileSync(file, JSON.stringify({ file_format_version: '1.0.0', ICD: { library_path: lib, api_version: '1.3.230' } }));
    return file;
  };

  it("names Debian 12's Mesa 22.3 lavapipe as too old, with the fix", () => {
    mkdirSync(join(tmp.dir, 'old'), { recursive: true });
    const lib = join(tmp.dir, 'old', 'libvulkan_lvp.so');
    writeFileSync(lib, Buffer.concat([Buffer.alloc(64), Buffer.from('llvmpipe\0Mesa 22.3.6\0'), Buffer.alloc(64)]));
    expect(mesaVersionOf(lib)).toBe('22.3.6');
    const line = diagnoseNoAdapter({ VK_ICD_FILENAMES: icd('lvp_old.json', lib) });
    if (line.startsWith('the Vulkan loader') && process.env.EFFSCALE_REQUIRE_WEBGPU !== '1') return; // no libvulkan1 here: that comes first
    expect(line).toMatch(/^Mesa 22\.3\.6's lavapipe \(.+lvp_old\.json\) is too old for Dawn \(it needs Mesa >= 24\); .*bookworm-backports mesa-vulkan-drivers/);
    expect(line).not.toContain('\n');
  });

  it('names a missing ICD file', () => {
    const line = diagnoseNoAdapter({ VK_ICD_FILENAMES: join(tmp.dir, 'absent.json') });
    expect(line).toMatch(/^the Vulkan ICD file .+absent\.json named by VK_ICD_FILENAMES does not exist; /);
  });

  it('names the ICD files when the driver is recent but offers no device', () => {
    mkdirSync(join(tmp.dir, 'new'), { recursive: true });
    const lib = join(tmp.dir, 'new', 'libvulkan_lvp.so');
    writeFileSync(lib, Buffer.from('Mesa 25.0.7'));
    const file = icd('lvp_new.json', lib);
    const line = diagnoseNoAdapter({ VK_DRIVER_FILES: file });
    if (line.startsWith('the Vulkan loader')) return; // a machine without libvulkan1 says that first
    expect(line).toContain(`no Vulkan device accepted by Dawn among ${file}`);
    expect(line).toContain('NVIDIA_DRIVER_CAPABILITIES');
  });
});
