import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// @effscale/wasm-train stands alone: tfjs is all it needs, so it can serve any tfjs-backend-wasm user.

const pkgDir = fileURLToPath(new URL('..', import.meta.url));
const srcDir = join(pkgDir, 'src');
const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as {
  dependencies?: Record<string, string>; peerDependencies?: Record<string, string>;
};

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []);
}

const files = sources(srcDir).map((path) => ({ path, name: relative(pkgDir, path), text: readFileSync(path, 'utf8') }));
const specifiers = files.flatMap((f) =>
  [...f.text.matchAll(/(?:^|\s)(?:import|export)\b[^'"]*?\sfrom\s+'([^']+)'|(?:^|\s)import\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/gm)]
    .map((m) => ({ file: f, spec: (m[1] ?? m[2] ?? m[3]) as string })));

describe('@effscale/wasm-train', () => {
  it('has sources to check', () => {
    expect(files.length).toBeGreaterThan(20);
    expect(specifiers.some((s) => s.spec === '@tensorflow/tfjs-core')).toBe(true);
  });

  it("never mentions '@effscale/' or '../../core' in its sources", () => {
    const offenders = files.filter((f) => f.text.includes('@effscale/') || f.text.includes('../../core')).map((f) => f.name);
    expect(offenders).toEqual([]);
  });

  it('imports only its peer dependencies, node builtins and its own files', () => {
    const allowed = new Set([...Object.keys(pkg.peerDependencies ?? {}), ...Object.keys(pkg.dependencies ?? {})]);
    const outside = specifiers.filter(({ file, spec }) => {
      if (spec.startsWith('.')) return relative(srcDir, resolve(dirname(file.path), spec)).startsWith('..');
      return !spec.startsWith('node:') && !allowed.has(spec);
    }).map(({ file, spec }) => `${file.name}: ${spec}`);
    expect(outside).toEqual([]);
  });
});
