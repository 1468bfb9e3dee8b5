/** node --conditions=source --import tsx benchmarks/profile/arch.ts RES DEPTH WIDTH > arch.json: a resolved bench architecture. */
import { resolveArchitecture } from '@effscale/core';

const [res, depth, width] = process.argv.slice(2).map(Number);
process.stdout.write(JSON.stringify(resolveArchitecture({ selector: { kind: 'multipliers', depth, width, resolution: res }, classes: 10, inputChannels: 1 })) + '\n');
