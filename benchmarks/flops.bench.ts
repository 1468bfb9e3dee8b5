/**
 * `pnpm bench:flops`: wall time of the analytic counter, in process and as a user runs it (`pnpm effscale ...`).
 * Target (issue 2): `pnpm effscale flops --model all --json` and a 30-point phi sweep each under 1 s of wall time.
 */
import { execFileSync, execSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { PRESET_NAMES } from '@effscale/core';
import { writeFileAtomic } from '@effscale/core/train';
import { count } from '@effscale/flops';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const REPEATS = Number(process.env.BENCH_REPEATS ?? 7);

function inProcess(label: string, fn: () => unknown) {
  fn();
  const times = Array.from({ length: REPEATS }, () => {
    const t = performance.now();
    fn();
    return performance.now() - t;
  });
  return { label, medianMs: median(times) };
}

function wall(label: string, cmd: string, args: string[]) {
  execFileSync(cmd, args, { stdio: 'ignore' }); // warm: transpile cache, disk cache
  const times = Array.from({ length: REPEATS }, () => {
    const t = performance.now();
    execFileSync(cmd, args, { stdio: 'ignore' });
    return performance.now() - t;
  });
  return { label, medianMs: median(times), minMs: Math.min(...times) };
}

const phis = Array.from({ length: 30 }, (_, i) => i * 0.25);
const results = {
  inProcess: [
    inProcess('count all 8 presets', () => PRESET_NAMES.map((preset) => count({ selector: { kind: 'preset', preset } }))),
    inProcess('count 30-point phi sweep', () => phis.map((phi) => count({ selector: { kind: 'compound', phi } }))),
  ],
  wall: [
    wall('node bin/effscale.js flops --model all --json', process.execPath, ['packages/cli/bin/effscale.js', 'flops', '--model', 'all', '--json']),
    wall('node bin/effscale.js flops --phi 0:7.25:0.25 --json (30 nets)', process.execPath, ['packages/cli/bin/effscale.js', 'flops', '--phi', '0:7.25:0.25', '--json']),
    wall('pnpm effscale flops --model all --json', 'pnpm', ['-s', 'effscale', 'flops', '--model', 'all', '--json']),
    wall('pnpm effscale flops --phi 0:7.25:0.25 --json (30 nets)', 'pnpm', ['-s', 'effscale', 'flops', '--phi', '0:7.25:0.25', '--json']),
    wall('node -e 0 (baseline)', process.execPath, ['-e', '0']),
    wall('pnpm -s exec true (baseline)', 'pnpm', ['-s', 'exec', 'true']),
  ],
  machine: {
    cpu: cpus()[0]?.model, cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version,
    loadavg: execSync('cat /proc/loadavg').toString().trim(), date: new Date().toISOString(),
  },
};

for (const r of results.inProcess) console.log(`${r.label.padEnd(60)} ${r.medianMs.toFixed(1).padStart(8)} ms (median of ${REPEATS})`);
for (const r of results.wall) console.log(`${r.label.padEnd(60)} ${r.medianMs.toFixed(0).padStart(8)} ms wall (median; min ${r.minMs.toFixed(0)})`);
console.log(`machine: ${results.machine.cpu}, ${results.machine.cores} cores, load ${results.machine.loadavg}`);
writeFileAtomic('benchmarks/results/flops-latest.json', JSON.stringify(results, null, 2) + '\n');
