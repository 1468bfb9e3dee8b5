// Entry of the GPU check (what it does: packages/core/src/backend/webgpu/gpu-check.ts). In the repository:
//   pnpm --filter @effscale/core gpu-check [--steps N] [--configs r32,r64,r128] [--json]
// Bundled for a GPU host without Node.js by scripts/gpu-check/build.mjs (pnpm --filter @effscale/core gpu-check:bundle).
import { runGpuCheck } from '../../packages/core/src/backend/webgpu/gpu-check.js';

runGpuCheck(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
}, (e: unknown) => {
  process.stderr.write(`gpu-check: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
