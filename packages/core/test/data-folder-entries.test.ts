import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataError } from '../src/data/index.js';
import { loadFolder } from '../src/data/folder.js';
import { tempDir } from './fixtures/data/helpers.js';

async function png(path: string, v = 100): Promise<void> {
  await sharp({ create: { width: 3, height: 3, channels: 3, background: { r: v, g: v, b: v } } }).png().toFile(path);
}

/** The load fails with one DataError line matching `message`. */
async function refuses(dir: string, message: RegExp): Promise<void> {
  const e = await loadFolder({ dir, imageSize: 3, valFraction: 0 }).then(() => null, (err: unknown) => err);
  expect(e).toBeInstanceOf(DataError);
  expect((e as Error).message).not.toMatch(/\n/);
  expect((e as Error).message).toMatch(message);
}

const rel = (root: string, paths: readonly string[]) => paths.map((p) => p.slice(root.length + 1));
const isRoot = process.getuid?.() === 0;

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => {
  tmp = tempDir('folder-entries');
});
afterAll(() => tmp.cleanup());

describe('image folders: nested folders and unreadable entries', () => {
  it('keeps the seeded split of a flat folder (file lists as before nested folders were read)', async () => {
    const root = join(tmp.dir, 'flat');
    const names: Record<string, string[]> = {
      cat: ['c10.png', 'c2.jpg', 'C3.PNG', 'c_1.jpeg', 'c-4.png', 'c4.png', 'z.png'],
      dog: ['d1.png', 'd2.png', 'd3.png', 'd4.png', 'd5.jpg'],
      'emu bird': ['e1.png', 'e2.png', 'e3.png'],
    };
    for (const [c, files] of Object.entries(names)) {
      mkdirSync(join(root, c), { recursive: true });
      for (const f of files) await png(join(root, c, f));
    }
    writeFileSync(join(root, 'cat', 'notes.txt'), 'not an image');
    // Recorded with the loader before this change (seeds 0 and 7, 30% validation).
    const golden: Record<number, [string[], string[]]> = {
      0: [['cat/c2.jpg', 'cat/z.png', 'dog/d1.png', 'dog/d2.png', 'emu bird/e2.png'],
        ['cat/C3.PNG', 'cat/c-4.png', 'cat/c10.png', 'cat/c4.png', 'cat/c_1.jpeg', 'dog/d3.png', 'dog/d4.png', 'dog/d5.jpg', 'emu bird/e1.png', 'emu bird/e3.png']],
      7: [['cat/c-4.png', 'cat/z.png', 'dog/d2.png', 'dog/d4.png', 'emu bird/e3.png'],
        ['cat/C3.PNG', 'cat/c10.png', 'cat/c2.jpg', 'cat/c4.png', 'cat/c_1.jpeg', 'dog/d1.png', 'dog/d3.png', 'dog/d5.jpg', 'emu bird/e1.png', 'emu bird/e2.png']],
    };
    for (const [seed, [test, train]] of Object.entries(golden)) {
      const ds = await loadFolder({ dir: root, imageSize: 2, seed: Number(seed), valFraction: 0.3 });
      expect(rel(root, ds.files.test)).toEqual(test);
      expect(rel(root, ds.files.train)).toEqual(train);
    }
  });

  it('includes images in nested folders (class/sub/x.png), symlinked folders too, in sorted path order', async () => {
    const root = join(tmp.dir, 'nested');
    mkdirSync(join(root, 'a', 'sub', 'deeper'), { recursive: true });
    mkdirSync(join(root, 'b', '.hidden'), { recursive: true });
    mkdirSync(join(tmp.dir, 'elsewhere'), { recursive: true });
    await png(join(root, 'a', 'top.png'), 10);
    await png(join(root, 'a', 'sub', 'x.png'), 20);
    await png(join(root, 'a', 'sub', 'deeper', 'y.jpg'), 30);
    await png(join(root, 'b', 'z.png'), 40);
    await png(join(root, 'b', '.hidden', 'skipped.png'), 50);
    await png(join(tmp.dir, 'elsewhere', 'linked.png'), 60);
    symlinkSync(join(tmp.dir, 'elsewhere'), join(root, 'b', 'more'));
    writeFileSync(join(root, 'b', 'labels.csv'), 'ignored');
    symlinkSync(join(tmp.dir, 'missing.txt'), join(root, 'b', 'dangling.txt')); // named like a non-image: ignored too
    const ds = await loadFolder({ dir: root, imageSize: 3, valFraction: 0 });
    expect(ds.classes).toEqual(['a', 'b']);
    expect(rel(root, ds.files.train)).toEqual(['a/sub/deeper/y.jpg', 'a/sub/x.png', 'a/top.png', 'b/more/linked.png', 'b/z.png']);
    expect([...ds.train.labels]).toEqual([0, 0, 0, 1, 1]);
    expect(Array.from({ length: 5 }, (_, n) => ds.train.images[n * 27])).toEqual([30, 20, 10, 60, 40]);
  });

  it('a class with images only in nested folders is not empty; one with none says so', async () => {
    const root = join(tmp.dir, 'only-nested');
    mkdirSync(join(root, 'a', 'sub'), { recursive: true });
    mkdirSync(join(root, 'b', 'sub'), { recursive: true });
    await png(join(root, 'a', 'sub', 'x.png'));
    const ds = await loadFolder({ dir: root, imageSize: 3, valFraction: 0 }).catch((e: Error) => e);
    expect((ds as Error).message).toMatch(/b: class folder has no \.jpg\/\.jpeg\/\.png images \(nested folders included\)/);
    await png(join(root, 'b', 'sub', 'y.png'));
    expect((await loadFolder({ dir: root, imageSize: 3, valFraction: 0 })).train.count).toBe(2);
  });

  it('a broken symbolic link is one line naming it and its target', async () => {
    const root = join(tmp.dir, 'broken-link');
    mkdirSync(join(root, 'a'), { recursive: true });
    mkdirSync(join(root, 'b'), { recursive: true });
    await png(join(root, 'a', 'ok.png'));
    await png(join(root, 'b', 'ok.png'));
    symlinkSync(join(tmp.dir, 'gone.png'), join(root, 'b', 'x.png'));
    await refuses(root, /b\/x\.png is a symbolic link to .*gone\.png, which cannot be opened \(it does not exist\): remove the link or restore its target\.$/);
  });

  it('a broken link where a class folder was is named too', async () => {
    const root = join(tmp.dir, 'broken-class');
    mkdirSync(join(root, 'a'), { recursive: true });
    await png(join(root, 'a', 'ok.png'));
    symlinkSync(join(tmp.dir, 'no-such-folder'), join(root, 'b'));
    await refuses(root, /broken-class\/b is a symbolic link to .*no-such-folder, which cannot be opened/);
  });

  it('a file that is not an image is one line naming it and what to do', async () => {
    const root = join(tmp.dir, 'not-image');
    mkdirSync(join(root, 'a'), { recursive: true });
    mkdirSync(join(root, 'b', 'sub'), { recursive: true });
    await png(join(root, 'a', 'ok.png'));
    writeFileSync(join(root, 'b', 'sub', 'fake.png'), 'hello, not a PNG');
    await refuses(root, /^Cannot decode image .*b\/sub\/fake\.png: .+; replace it with a readable JPEG or PNG, or remove it\.$/);
    const good = readFileSync(join(root, 'a', 'ok.png'));
    writeFileSync(join(root, 'b', 'sub', 'fake.png'), good.subarray(0, 40));
    await refuses(root, /^Cannot decode image .*fake\.png: .+; replace it/);
  });

  it('a folder loop through a symbolic link is refused, not followed forever', async () => {
    const root = join(tmp.dir, 'loop');
    mkdirSync(join(root, 'a'), { recursive: true });
    mkdirSync(join(root, 'b'), { recursive: true });
    await png(join(root, 'a', 'ok.png'));
    await png(join(root, 'b', 'ok.png'));
    symlinkSync(join(root, 'b'), join(root, 'b', 'again'));
    await refuses(root, /b\/again leads back to .*loop\/b, a folder that contains it \(a symbolic link loop\): remove the link\.$/);
  });

  it('an entry named like an image that is not a regular file (a FIFO) is refused instead of blocking', async () => {
    const root = join(tmp.dir, 'fifo');
    mkdirSync(join(root, 'a'), { recursive: true });
    mkdirSync(join(root, 'b'), { recursive: true });
    await png(join(root, 'a', 'ok.png'));
    await png(join(root, 'b', 'ok.png'));
    execFileSync('mkfifo', [join(root, 'b', 'pipe.png')]);
    await refuses(root, /b\/pipe\.png is not a regular file: an image folder needs JPEG\/PNG files; remove it\.$/);
  });

  // root reads any file whatever its mode; the check is only meaningful as another user.
  it.skipIf(isRoot)('an image or folder without read permission is one line naming it', async () => {
    const root = join(tmp.dir, 'unreadable');
    mkdirSync(join(root, 'a'), { recursive: true });
    mkdirSync(join(root, 'b', 'locked'), { recursive: true });
    await png(join(root, 'a', 'ok.png'));
    await png(join(root, 'b', 'secret.png'));
    chmodSync(join(root, 'b', 'secret.png'), 0o000);
    await refuses(root, /^Cannot read image .*b\/secret\.png \(permission denied\): make it readable \(chmod a\+r\) or remove it\.$/);
    chmodSync(join(root, 'b', 'secret.png'), 0o644);
    chmodSync(join(root, 'b', 'locked'), 0o000);
    await refuses(root, /^Cannot list the image folder .*b\/locked \(permission denied\): make it readable \(chmod a\+rx\) or remove it\.$/);
    chmodSync(join(root, 'b', 'locked'), 0o755);
  });
});
