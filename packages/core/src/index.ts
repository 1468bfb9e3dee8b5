export * from './errors.js';
export { processAlive, processStart } from './util/process.js';
export * from './arch/blocks.js';
export * from './arch/scaling.js';
export * from './arch/presets.js';
export * from './arch/spec.js';
export * from './arch/architecture.js';
