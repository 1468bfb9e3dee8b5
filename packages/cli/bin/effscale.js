#!/usr/bin/env node
// Runs effscale straight from the TypeScript sources with no separate build step: when any workspace source is newer
// than the last transpile (or a source was added or removed), esbuild rewrites packages/*/dist, one JS file per
// source (~50 ms); then the CLI runs as plain JavaScript. This starts several times faster than a TypeScript loader,
// which matters for commands that answer in milliseconds.
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const PACKAGES = ['wasm-train', 'core', 'flops', 'search', 'report', 'cli'];
const stampFile = join(root, 'packages/cli/dist/.transpiled');

function sources(dir, out = []) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) sources(p, out);
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const mtime = (p) => statSync(p).mtimeMs;

/** The last transpile: when, and of which sources (a rename keeps the count but changes the list). */
function readStamp() {
  try {
    return { time: mtime(stampFile), list: readFileSync(stampFile, 'utf8') };
  } catch {
    return { time: -1, list: '' };
  }
}

function writeAtomic(path, contents) {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, contents);
  renameSync(tmp, path); // a concurrent effscale never imports a half-written file
}

async function transpileIfStale() {
  const perPackage = PACKAGES.map((p) => ({ pkg: join(root, 'packages', p), files: sources(join(root, 'packages', p, 'src')) }));
  const all = perPackage.flatMap((p) => p.files);
  const list = all.map((f) => f.slice(root.length)).sort().join('\n');
  const stamp = readStamp();
  if (stamp.list === list && all.every((f) => mtime(f) <= stamp.time)) return;
  const esbuild = await import('esbuild');
  for (const { pkg, files } of perPackage) {
    if (files.length === 0) continue;
    const result = await esbuild.build({
      entryPoints: files, outbase: join(pkg, 'src'), outdir: join(pkg, 'dist'), format: 'esm', platform: 'node',
      target: 'node20', sourcemap: 'inline', write: false, logLevel: 'silent',
    });
    for (const f of result.outputFiles) writeAtomic(f.path, f.contents);
  }
  writeAtomic(stampFile, list);
}

await transpileIfStale();
const { runCli } = await import(pathToFileURL(join(root, 'packages/cli/dist/main.js')).href);
await runCli(process.argv.slice(2));
