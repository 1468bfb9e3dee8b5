// Training on @tensorflow/tfjs-backend-wasm (tfjs 4.22): the gradient kernels the backend lacks, faster
// replacements for some of its stock kernels, and fused batchnorm / swish layers and Adam. Depends on tfjs only.
export { registerWasmTrainingKernels } from './wasm-kernels/register.js';
export {
  setSimdKernelsEnabled, setSimdVariant, SIMD_KERNEL_ARITY, SIMD_VARIANT_REQUESTS, type SimdKernels, type SimdKernelsInfo, type SimdVariantRequest,
} from './wasm-kernels/simd.js';
export { wasmTrainingKernelsInfo } from './wasm-kernels/info.js';
export { batchNormSwishTraining, batchNormTraining, type BatchNormTrainingResult } from './batch-norm-training.js';
export { trainingForward } from './training-forward.js';
export { leanGradientSaves } from './lean-saves.js';
export { excite } from './excite.js';
export { FusedBatchNormalization, fusedBatchNormalization, type FusedBatchNormalizationConfig } from './batch-norm-layer.js';
export { swish, FusedSwish, fusedSwish } from './swish.js';
export { FusedAdamOptimizer } from './fused-adam.js';
