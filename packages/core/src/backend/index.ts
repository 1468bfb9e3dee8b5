export { parseBackendRequest, BACKEND_REQUESTS, type BackendRequest } from './request.js';
export {
  initBackend, currentBackendInfo, WASM_HEAP_LIMIT_BYTES,
  type BackendInfo, type InitBackendOptions,
} from './init.js';
export type { ModuleLoader } from './loader.js';
export { registerWasmTrainingKernels } from './wasm-kernels/register.js';
export { setSimdKernelsEnabled } from './wasm-kernels/simd.js';
export { batchNormTraining, type BatchNormTrainingResult } from './batch-norm-training.js';
export { FusedBatchNormalization, fusedBatchNormalization, type FusedBatchNormalizationConfig } from './batch-norm-layer.js';
export { swish, FusedSwish, fusedSwish } from './swish.js';
