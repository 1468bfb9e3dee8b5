/**
 * The trials of the README's search study (NNI's grid plus the paper's point, the default proxy base, seeds 0 and 1),
 * every grid point and seed with the resolved architecture effscale trains, as JSON for benchmarks/search_torch.py.
 * Usage: node --conditions=source --import tsx benchmarks/search-torch-trials.ts > trials.json
 */
import { resolveArchitecture } from '@effscale/core';
import { buildGrid, DEFAULT_RANGES } from '@effscale/search';

const grid = await buildGrid({
  ...DEFAULT_RANGES, include: ['1.2,1.1,1.15'],
  base: { selector: { kind: 'multipliers', depth: 0.5, width: 0.5, resolution: 32 }, inputChannels: 1, classes: 10 },
});
const trials = grid.points.flatMap((p) => [0, 1].map((seed) => ({ id: p.id, seed, arch: resolveArchitecture(p.network) })));
process.stdout.write(JSON.stringify(trials) + '\n');
