import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SIMD_KERNEL_ARITY } from '../src/index.js';
import { TRAINING_KERNELS_RELAXED_WASM_BASE64, TRAINING_KERNELS_WASM_BASE64 } from '../src/wasm-kernels/simd-binary.js';
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--experimental-wasm-relaxed-simd'); // Node 20 compiles relaxed SIMD behind this flag

// The SimdKernels interface is hand-written TypeScript over a compiled AssemblyScript module. SIMD_KERNEL_ARITY
// is checked against the interface by the compiler; here it is checked against the binary: the same function
// names, each taking as many parameters (an exported wasm function's length is its parameter count).

const BUILDS = { simd: TRAINING_KERNELS_WASM_BASE64, 'relaxed-simd': TRAINING_KERNELS_RELAXED_WASM_BASE64 };

function compiledExports(base64: string): { functions: Record<string, number>; others: string[] } {
  const module = new WebAssembly.Module(Buffer.from(base64, 'base64'));
  const instance = new WebAssembly.Instance(module, { env: { memory: new WebAssembly.Memory({ initial: 1 }) } });
  const functions: Record<string, number> = {};
  const others: string[] = [];
  for (const [name, value] of Object.entries(instance.exports)) {
    if (typeof value === 'function') functions[name] = value.length;
    else others.push(name);
  }
  return { functions, others };
}

describe.each(Object.entries(BUILDS))('the SIMD kernel module, %s build', (_, base64) => {
  it('exports exactly the functions of SimdKernels, with their parameter counts', () => {
    const { functions } = compiledExports(base64);
    expect(Object.keys(functions).sort()).toEqual(Object.keys(SIMD_KERNEL_ARITY).sort());
    expect(functions).toEqual({ ...SIMD_KERNEL_ARITY });
  });

  it('imports only the backend memory and exports nothing else but it', () => {
    const module = new WebAssembly.Module(Buffer.from(base64, 'base64'));
    expect(WebAssembly.Module.imports(module)).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }]);
    expect(compiledExports(base64).others).toEqual(['memory']);
  });
});

describe('maddIsFused', () => {
  const fused = (base64: string): number =>
    (compiledExports(base64), new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(base64, 'base64')), {
      env: { memory: new WebAssembly.Memory({ initial: 1 }) },
    }).exports.maddIsFused as () => number)();

  it('is 0 in the plain build: a multiply and an add round twice on every CPU', () => {
    expect(fused(TRAINING_KERNELS_WASM_BASE64)).toBe(0);
  });

  it("tells in the relaxed build whether this CPU fuses (x86 with FMA does)", () => {
    const hasFma = /\bfma\b/.test(readCpuFlags());
    expect(fused(TRAINING_KERNELS_RELAXED_WASM_BASE64)).toBe(hasFma ? 1 : 0);
  });
});

function readCpuFlags(): string {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('flags')) ?? '';
  } catch {
    return '';
  }
}
