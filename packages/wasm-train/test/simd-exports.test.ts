import { describe, expect, it } from 'vitest';
import { SIMD_KERNEL_ARITY } from '../src/index.js';
import { TRAINING_KERNELS_WASM_BASE64 } from '../src/wasm-kernels/simd-binary.js';

// The SimdKernels interface is hand-written TypeScript over a compiled AssemblyScript module. SIMD_KERNEL_ARITY
// is checked against the interface by the compiler; here it is checked against the binary: the same function
// names, each taking as many parameters (an exported wasm function's length is its parameter count).

function compiledExports(): { functions: Record<string, number>; others: string[] } {
  const module = new WebAssembly.Module(Buffer.from(TRAINING_KERNELS_WASM_BASE64, 'base64'));
  const instance = new WebAssembly.Instance(module, { env: { memory: new WebAssembly.Memory({ initial: 1 }) } });
  const functions: Record<string, number> = {};
  const others: string[] = [];
  for (const [name, value] of Object.entries(instance.exports)) {
    if (typeof value === 'function') functions[name] = value.length;
    else others.push(name);
  }
  return { functions, others };
}

describe('the SIMD kernel module', () => {
  it('exports exactly the functions of SimdKernels, with their parameter counts', () => {
    const { functions } = compiledExports();
    expect(Object.keys(functions).sort()).toEqual(Object.keys(SIMD_KERNEL_ARITY).sort());
    expect(functions).toEqual({ ...SIMD_KERNEL_ARITY });
  });

  it('imports only the backend memory and exports nothing else but it', () => {
    const module = new WebAssembly.Module(Buffer.from(TRAINING_KERNELS_WASM_BASE64, 'base64'));
    expect(WebAssembly.Module.imports(module)).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }]);
    expect(compiledExports().others).toEqual(['memory']);
  });
});
