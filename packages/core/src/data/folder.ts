import { DataError } from './errors.js';
import { accessSync, constants, existsSync, readdirSync, readlinkSync, realpathSync, statSync, type Dirent, type Stats } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { Rng } from '../util/rng.js';
import { decodeImage } from './decode.js';
import { stratifiedIndices } from './subset.js';
import type { RawSplit } from './types.js';

export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png'];
/** Default stored side length for folder images (batches() then resizes to the network resolution). */
export const DEFAULT_FOLDER_IMAGE_SIZE = 64;

export interface FolderOptions {
  dir: string;
  valFraction?: number;
  seed?: number;
  trainLimit?: number;
  valLimit?: number;
  /** Images are decoded and resized to imageSize x imageSize (aspect ratio not kept, like Keras' default). */
  imageSize?: number;
  /** Parallel decodes (default 4). */
  concurrency?: number;
}

interface FileList {
  paths: string[];
  labels: Int32Array;
}

const fsReason = (e: unknown): string => {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'ENOENT' ? 'it does not exist' : ((e as Error).message ?? String(e));
};

function listDir(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    throw new DataError(`Cannot list the image folder ${dir} (${fsReason(e)}): make it readable (chmod a+rx) or remove it.`);
  }
}

/** What an entry is, following symbolic links; a broken link is a DataError naming it. */
function statEntry(path: string, d: Dirent): Pick<Stats, 'isDirectory' | 'isFile'> {
  if (!d.isSymbolicLink()) return d;
  try {
    return statSync(path);
  } catch (e) {
    let target = '?';
    try {
      target = readlinkSync(path);
    } catch {
      // keep '?'
    }
    throw new DataError(`${path} is a symbolic link to ${target}, which cannot be opened (${fsReason(e)}): remove the link or restore its target.`);
  }
}

function subdirs(dir: string): string[] {
  return listDir(dir)
    .filter((d) => !d.name.startsWith('.') && statEntry(join(dir, d.name), d).isDirectory())
    .map((d) => d.name)
    .sort();
}

const isImageName = (name: string): boolean => IMAGE_EXTENSIONS.includes(extname(name).toLowerCase());

/**
 * The images of one class folder, nested folders included (class/sub/x.png belongs to the class), sorted by their
 * path relative to the class folder: for a flat folder, the sorted file names. Hidden entries are skipped and files
 * that are not JPEG/PNG by name (README, labels.csv) are ignored, as Keras and torchvision do; an image that cannot
 * be read (permission, broken link, not a regular file) or a folder loop is a DataError naming its path.
 */
function imagesIn(classDir: string): string[] {
  const found: { rel: string; path: string }[] = [];
  const walk = (dir: string, rel: string, ancestors: readonly string[]): void => {
    for (const d of listDir(dir)) {
      if (d.name.startsWith('.')) continue;
      const path = join(dir, d.name);
      const relPath = rel === '' ? d.name : `${rel}/${d.name}`;
      const isImage = isImageName(d.name);
      // A broken link is an error when it is named like an image or has no extension (it may have been a folder);
      // one named like another file (notes.txt) is ignored like that file would be.
      if (d.isSymbolicLink() && !isImage && extname(d.name) !== '' && !existsSync(path)) continue;
      const st = statEntry(path, d);
      if (st.isDirectory()) {
        const real = realpathSync(path);
        if (ancestors.includes(real)) {
          throw new DataError(`${path} leads back to ${real}, a folder that contains it (a symbolic link loop): remove the link.`);
        }
        walk(path, relPath, [...ancestors, real]);
      } else if (isImage) {
        if (!st.isFile()) throw new DataError(`${path} is not a regular file: an image folder needs JPEG/PNG files; remove it.`);
        try {
          accessSync(path, constants.R_OK);
        } catch (e) {
          throw new DataError(`Cannot read image ${path} (${fsReason(e)}): make it readable (chmod a+r) or remove it.`);
        }
        found.push({ rel: relPath, path });
      }
    }
  };
  walk(classDir, '', [realpathSync(classDir)]);
  return found.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0)).map((f) => f.path);
}

function listFiles(root: string, classes: string[], requireAll: boolean): FileList {
  const paths: string[] = [];
  const labels: number[] = [];
  classes.forEach((c, i) => {
    const d = join(root, c);
    if (!existsSync(d)) {
      if (requireAll) throw new DataError(`${d}: class folder missing`);
      return;
    }
    const files = imagesIn(d);
    if (files.length === 0 && requireAll) {
      throw new DataError(`${d}: class folder has no ${IMAGE_EXTENSIONS.join('/')} images (nested folders included)`);
    }
    for (const f of files) {
      paths.push(f);
      labels.push(i);
    }
  });
  return { paths, labels: Int32Array.from(labels) };
}

function pick(list: FileList, idx: Int32Array): FileList {
  return { paths: Array.from(idx, (i) => list.paths[i]), labels: Int32Array.from(idx, (i) => list.labels[i]) };
}

/** Seeded stratified train/val split: round(n * valFraction) of each class goes to val, at least one of each side when n >= 2. */
export function splitTrainVal(list: FileList, numClasses: number, valFraction: number, rng: Rng): { train: FileList; val: FileList } {
  const train: number[] = [];
  const val: number[] = [];
  const byClass: number[][] = Array.from({ length: numClasses }, () => []);
  list.labels.forEach((l, i) => byClass[l].push(i));
  byClass.forEach((members, c) => {
    const shuffled = rng.fork(`val-split:${c}`).shuffle(members.slice());
    let nVal = Math.round(shuffled.length * valFraction);
    if (valFraction > 0 && shuffled.length >= 2) nVal = Math.min(Math.max(nVal, 1), shuffled.length - 1);
    val.push(...shuffled.slice(0, nVal));
    train.push(...shuffled.slice(nVal));
  });
  const sorted = (a: number[]): Int32Array => Int32Array.from(a.sort((x, y) => x - y));
  return { train: pick(list, sorted(train)), val: pick(list, sorted(val)) };
}

async function decodeAll(list: FileList, size: number, concurrency: number): Promise<RawSplit> {
  const plane = size * size * 3;
  const images = new Uint8Array(list.paths.length * plane);
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (next < list.paths.length && !failed) {
      const i = next++;
      let data: Uint8Array;
      try {
        ({ data } = await decodeImage(list.paths[i], { width: size, height: size }));
      } catch (e) {
        failed = true; // the first bad image ends the load; the other workers stop at their next file
        throw e;
      }
      images.set(data, i * plane);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  return { images, labels: list.labels, count: list.paths.length, height: size, width: size, channels: 3 };
}

/**
 * ImageFolder layout: one sub-folder per class (sorted names are the classes), JPEG/PNG inside.
 * If `dir` holds exactly `train/` and `val/` (or `test/`) sub-folders, those are used as the splits;
 * otherwise a seeded, per-class stratified validation split is drawn (default 20%).
 */
export async function loadFolder(opts: FolderOptions): Promise<{
  classes: string[];
  train: RawSplit;
  test: RawSplit;
  source: string;
  files: { train: string[]; test: string[] };
}> {
  const { dir } = opts;
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new DataError(`Image folder ${dir} does not exist: expected one sub-folder of JPEG/PNG images per class`);
  }
  const valFraction = opts.valFraction ?? 0.2;
  if (!(valFraction >= 0 && valFraction < 1)) throw new DataError(`valFraction must be in [0, 1), got ${valFraction}`);
  const size = opts.imageSize ?? DEFAULT_FOLDER_IMAGE_SIZE;
  if (!Number.isInteger(size) || size < 1 || size > 4096) throw new DataError(`imageSize must be an integer in 1..4096, got ${size}`);
  const rng = new Rng(opts.seed ?? 0);

  const top = subdirs(dir);
  const heldOut = top.includes('val') ? 'val' : top.includes('test') ? 'test' : undefined;
  let classes: string[];
  let train: FileList;
  let val: FileList;
  if (top.length === 2 && top.includes('train') && heldOut) {
    classes = subdirs(join(dir, 'train'));
    const extra = subdirs(join(dir, heldOut)).filter((c) => !classes.includes(c));
    if (extra.length > 0) throw new DataError(`${join(dir, heldOut)}: classes ${extra.join(', ')} are not in ${join(dir, 'train')}`);
    train = listFiles(join(dir, 'train'), classes, true);
    val = listFiles(join(dir, heldOut), classes, false);
  } else {
    classes = top;
    if (classes.length < 2) {
      throw new DataError(`${dir}: found ${classes.length} class sub-folder(s); an image folder needs at least 2 (one per class)`);
    }
    ({ train, val } = splitTrainVal(listFiles(dir, classes, true), classes.length, valFraction, rng));
  }
  // Subsample file lists before decoding: decoding is the expensive part.
  if (opts.trainLimit !== undefined && opts.trainLimit < train.paths.length) {
    train = pick(train, stratifiedIndices(train.labels, classes.length, opts.trainLimit, rng.fork('train-limit')));
  }
  if (opts.valLimit !== undefined && opts.valLimit < val.paths.length) {
    val = pick(val, stratifiedIndices(val.labels, classes.length, opts.valLimit, rng.fork('val-limit')));
  }
  const concurrency = opts.concurrency ?? 4;
  const trainSplit = await decodeAll(train, size, concurrency);
  const testSplit = await decodeAll(val, size, concurrency);
  return { classes, train: trainSplit, test: testSplit, source: dir, files: { train: train.paths, test: val.paths } };
}

/** Write class_indices.json ({"0": "daisy", ...}) atomically: temp file in the same folder, then rename. */
export async function writeClassIndices(dir: string, classes: readonly string[]): Promise<string> {
  const path = join(dir, 'class_indices.json');
  const obj: Record<string, string> = {};
  classes.forEach((c, i) => (obj[String(i)] = c));
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(tmp, JSON.stringify(obj, null, 2) + '\n');
  await rename(tmp, path);
  return path;
}

/** Read class_indices.json back into an array (index -> class name). */
export async function readClassIndices(path: string): Promise<string[]> {
  let obj: unknown;
  try {
    obj = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new DataError(`${path}: cannot read class indices (${(e as Error).message})`);
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    throw new DataError(`${path}: expected an object like {"0": "daisy", ...}`);
  }
  const entries = Object.entries(obj as Record<string, unknown>);
  const classes: string[] = new Array(entries.length);
  for (const [k, v] of entries) {
    const i = Number(k);
    if (!Number.isInteger(i) || i < 0 || i >= entries.length || typeof v !== 'string') {
      throw new DataError(`${path}: bad entry "${k}": ${JSON.stringify(v)} (keys must be 0..${entries.length - 1}, values class names)`);
    }
    if (classes[i] !== undefined) throw new DataError(`${path}: index ${i} appears twice`);
    classes[i] = v;
  }
  return classes;
}
