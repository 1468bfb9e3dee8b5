/**
 * `effscale search launch slurm|k8s`: the commands and manifests that start N workers on a study stored in PostgreSQL,
 * from the templates in deploy/, printed (default) or submitted (--submit). The storage URL is printed with its
 * password masked; a submitted job gets the real one through its environment, never on a command line.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ConfigError } from '@effscale/core';
import { checkStudyName, maskStorageUrl } from '@effscale/search';
import { UsageError } from '../errors.js';
import { parseInteger } from '../numbers.js';
import { STORAGE_FLAGS, storageFromFlags } from '../study-flags.js';

const DEPLOY = fileURLToPath(new URL('../../../../deploy/', import.meta.url));
const SBATCH = `${DEPLOY}slurm/effscale-workers.sbatch`;
const JOB = `${DEPLOY}k8s/workers-job.yaml`;

const shq = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

export async function searchLaunch(argv: string[]): Promise<number | void> {
  const { values: v, positionals } = parseArgs({
    args: argv, strict: true, allowPositionals: true,
    options: { ...STORAGE_FLAGS, study: { type: 'string' }, workers: { type: 'string' }, image: { type: 'string' }, submit: { type: 'boolean' }, 'sbatch-args': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (v.help) {
    console.log(`effscale search launch: start N workers on a study stored in PostgreSQL

  effscale search launch slurm --storage URL --study NAME --workers N [--trials-dir DIR] [--sbatch-args "..."] [--submit]
  effscale search launch k8s --study NAME --workers N [--image IMAGE] [--submit]
Prints the sbatch command (deploy/slurm/effscale-workers.sbatch) or the Indexed Job (deploy/k8s/workers-job.yaml);
--submit runs sbatch / kubectl apply. The URL is printed with its password masked.`);
    return;
  }
  const [engine] = positionals;
  if (engine !== 'slurm' && engine !== 'k8s') throw new UsageError('search launch needs slurm or k8s: effscale search launch slurm|k8s --storage URL --study NAME --workers N [--submit]');
  if (v.study === undefined) throw new UsageError('search launch needs --study NAME (create it with effscale search run NAME --storage URL --workers 0)');
  const study = checkStudyName(v.study);
  const workers = await parseInteger('workers', v.workers ?? '4', 1);
  const url = storageFromFlags(v);
  if (engine === 'slurm') {
    if (!url) throw new UsageError('search launch slurm needs --storage postgresql://... (or EFFSCALE_STORAGE)');
    const env: Record<string, string> = { EFFSCALE_STORAGE: url, EFFSCALE_STUDY: study, ...(v['trials-dir'] ? { EFFSCALE_TRIALS_DIR: v['trials-dir'] } : {}) };
    const args = ['--parsable', `--array=0-${workers - 1}`, ...(v['sbatch-args'] ? v['sbatch-args'].split(/\s+/).filter(Boolean) : []), SBATCH];
    const shown = Object.entries(env).map(([k, x]) => `${k}=${shq(k === 'EFFSCALE_STORAGE' ? maskStorageUrl(x) : x)}`).join(' ');
    if (!v.submit) {
      console.log(`${shown} sbatch ${args.map(shq).join(' ')}`);
      if (maskStorageUrl(url) !== url) console.log('# the URL holds a password: export PGPASSWORD (or use ~/.pgpass) and drop it from the URL, or run this with --submit');
      return;
    }
    const r = spawnSync('sbatch', args, { env: { ...process.env, ...env }, encoding: 'utf8' });
    if (r.error) throw new ConfigError(`cannot run sbatch (${(r.error as NodeJS.ErrnoException).code}); is this a Slurm login node? Print the command without --submit`);
    if (r.status !== 0) throw new ConfigError(`sbatch refused the job array: ${(r.stderr || r.stdout).trim().split('\n')[0]}`);
    console.log(`submitted job array ${r.stdout.trim()} (${workers} workers on study '${study}'); watch with: squeue -j ${r.stdout.trim().split(';')[0]}`);
    return;
  }
  if (!existsSync(JOB)) throw new ConfigError(`the Job template '${JOB}' is missing; reinstall effscale`);
  const yaml = readFileSync(JOB, 'utf8').replaceAll('STUDY', study.toLowerCase()).replace(/--study, [^,]+,/, `--study, ${JSON.stringify(study)},`)
    .replaceAll('WORKERS', String(workers)).replaceAll('IMAGE', v.image ?? 'effscale:latest');
  if (!v.submit) {
    process.stdout.write(yaml);
    return;
  }
  const r = spawnSync('kubectl', ['apply', '-f', '-'], { input: yaml, encoding: 'utf8' });
  if (r.error) throw new ConfigError(`cannot run kubectl (${(r.error as NodeJS.ErrnoException).code}); print the manifest without --submit and apply it yourself`);
  if (r.status !== 0) throw new ConfigError(`kubectl refused the Job: ${(r.stderr || r.stdout).trim().split('\n')[0]}`);
  console.log(r.stdout.trim());
}
