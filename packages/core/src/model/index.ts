export { buildModel, type BuildOptions } from './build.js';
export { BN_EPSILON, BN_MOMENTUM, OP_BUILDERS } from './ops.js';
export { convKernelInitializer, denseKernelInitializer } from './init.js';
