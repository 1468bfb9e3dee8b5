export {};
export { buildGrid, formatGrid, parseRange, pointId, architectureSignature, COEFFICIENTS, COST_VARIABLES, GRID_VARIABLES, DEFAULT_CONSTRAINT, DEFAULT_TARGET, DEFAULT_TOLERANCE, DEFAULT_PHI, type Grid, type GridOptions, type Coefficient } from './space.js';
export { trialsFor, trialId, signatureHash } from './dedup.js';
