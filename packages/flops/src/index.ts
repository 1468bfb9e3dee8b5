export * from './count.js';
export * from './constraint.js';
