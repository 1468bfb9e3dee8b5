export { parseBackendRequest, BACKEND_REQUESTS, type BackendRequest } from './request.js';
export {
  initBackend, currentBackendInfo, WASM_HEAP_LIMIT_BYTES,
  type BackendInfo, type InitBackendOptions,
} from './init.js';
export type { ModuleLoader } from './loader.js';
export { adapterLabel, diagnoseNoAdapter, type WebgpuAdapterInfo } from './webgpu/dawn.js';
// The wasm training engine lives in @effscale/wasm-train; re-exported so @effscale/core/backend users are unchanged.
export {
  registerWasmTrainingKernels, setSimdKernelsEnabled, batchNormTraining, type BatchNormTrainingResult,
  FusedBatchNormalization, fusedBatchNormalization, type FusedBatchNormalizationConfig, swish, FusedSwish, fusedSwish,
} from '@effscale/wasm-train';
