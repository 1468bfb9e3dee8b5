export { buildModel, type BuildOptions } from './build.js';
export { OP_BUILDERS } from './ops.js';
export { convKernelInitializer, denseKernelInitializer } from './init.js';
