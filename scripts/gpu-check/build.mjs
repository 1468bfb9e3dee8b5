#!/usr/bin/env node
/**
 * Builds the self-contained GPU check for a host with no Node.js and no registry (see shared/GPU.md):
 *
 *   scripts/gpu-check/dist/effscale-gpu-check/
 *     gpu-check.cjs                 scripts/gpu-check/check.ts (packages/core/src/backend/webgpu/gpu-check.ts) and all it imports
 *     dawn.node                     Dawn's linux-x64 Node binding from the webgpu package (~21 MB)
 *     tfjs-backend-wasm*.wasm       the wasm backend's binaries (the correctness reference)
 *     node.xz                       (--with-node) this machine's node binary, xz -9 (~24 MB; needs glibc and libstdc++)
 *     run.sh                        runs the check with the host's node or the bundled one
 *   scripts/gpu-check/dist/effscale-gpu-check.tar.gz
 *
 * Usage: node scripts/gpu-check/build.mjs [--with-node] [--out DIR]
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../..');
const { values } = parseArgs({ options: { 'with-node': { type: 'boolean' }, out: { type: 'string' } } });
const outRoot = resolve(values.out ?? join(HERE, 'dist'));
const out = join(outRoot, 'effscale-gpu-check');

const fail = (msg) => {
  process.stderr.write(`gpu-check:bundle: ${msg}\n`);
  process.exit(1);
};

// esbuild comes with tsx (a root dev dependency); the webgpu and tfjs packages from @effscale/core.
const coreRequire = createRequire(join(ROOT, 'packages/core/package.json'));
const rootRequire = createRequire(join(ROOT, 'package.json'));
let esbuild;
try {
  esbuild = createRequire(rootRequire.resolve('tsx/package.json'))('esbuild');
} catch (e) {
  fail(`esbuild not found next to tsx (${e.message.split('\n')[0]}); run pnpm install`);
}
const dawnNode = join(dirname(coreRequire.resolve('webgpu')), 'dist', 'linux-x64', 'dawn.node');
if (!existsSync(dawnNode)) fail(`${dawnNode} missing: run pnpm install (the webgpu package ships it)`);
const wasmDir = dirname(coreRequire.resolve('@tensorflow/tfjs-backend-wasm'));

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

// CommonJS output: the tfjs node builds find their files through __dirname (the bundle's directory). import.meta.url,
// which the effscale sources use with createRequire, is defined from __filename.
await esbuild.build({
  entryPoints: [join(HERE, 'check.ts')],
  outfile: join(out, 'gpu-check.cjs'),
  bundle: true,
  platform: 'node',
  target: 'node18',
  format: 'cjs',
  conditions: ['source'],
  // tfjs-backend-cpu declares sideEffects: false, but importing it is what registers the backend.
  ignoreAnnotations: true,
  external: ['webgpu', 'sharp', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', 'worker_threads'],
  define: { 'import.meta.url': '__effscale_import_meta_url' },
  banner: { js: "var __effscale_import_meta_url = require('url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
  legalComments: 'none',
});

copyFileSync(dawnNode, join(out, 'dawn.node'));
for (const f of readdirSync(wasmDir)) if (f.endsWith('.wasm')) copyFileSync(join(wasmDir, f), join(out, f));

if (values['with-node']) {
  execFileSync('sh', ['-c', `xz -9 -T0 -c "${process.execPath}" > "${join(out, 'node.xz')}"`], { stdio: 'inherit' });
}

writeFileSync(join(out, 'run.sh'), `#!/bin/sh
# effscale gpu-check: adapter, correctness against wasm, training throughput. Needs a Vulkan driver (see README).
# NVIDIA containers: NVIDIA_DRIVER_CAPABILITIES must include graphics; if Dawn finds no adapter, try
#   VK_ICD_FILENAMES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ./run.sh
set -e
HERE="$(cd "$(dirname "$0")" && pwd)"
export EFFSCALE_DAWN_NODE="$HERE/dawn.node"
NODE="\${NODE:-}"
if [ -z "$NODE" ]; then
  if [ -f "$HERE/node.xz" ]; then
    [ -x "$HERE/node" ] || { xz -dc "$HERE/node.xz" > "$HERE/node" && chmod +x "$HERE/node"; }
    NODE="$HERE/node"
  elif command -v node >/dev/null 2>&1; then
    NODE=node
  else
    echo "gpu-check: no node on PATH and no bundled node.xz (rebuild with --with-node, or set NODE=/path/to/node >= 18)" >&2
    exit 2
  fi
fi
exec "$NODE" "$HERE/gpu-check.cjs" "$@"
`);
chmodSync(join(out, 'run.sh'), 0o755);

execFileSync('tar', ['-C', outRoot, '-czf', join(outRoot, 'effscale-gpu-check.tar.gz'), 'effscale-gpu-check']);
const mb = (f) => (statSync(f).size / 2 ** 20).toFixed(1);
for (const f of readdirSync(out)) process.stderr.write(`  ${f.padEnd(36)} ${mb(join(out, f)).padStart(6)} MB\n`);
process.stderr.write(`gpu-check:bundle: ${relative(process.cwd(), join(outRoot, 'effscale-gpu-check.tar.gz'))} (${mb(join(outRoot, 'effscale-gpu-check.tar.gz'))} MB); on the GPU host: tar xzf it, then effscale-gpu-check/run.sh\n`);
