import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

/** Which code made a result: package version, git commit (and whether the tree was dirty), runtime. */
export function codeVersion(): { effscale: string; commit: string | null; dirty: boolean | null; node: string; tfjs: string } {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  let commit: string | null = null;
  let dirty: boolean | null = null;
  try {
    commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString().trim().length > 0;
  } catch {
    // not a git checkout (installed package): the version alone identifies the code
  }
  return { effscale: pkg.version, commit, dirty, node: process.version, tfjs: tf.version_core };
}

export function machine(): { cpu: string; cores: number; memoryGiB: number; platform: string } {
  return { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), platform: `${process.platform}-${process.arch}` };
}
