export * from './count.js';
export * from './constraint.js';
export * from './memory.js';
