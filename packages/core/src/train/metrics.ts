import { existsSync, readFileSync } from 'node:fs';
import { stringify } from 'csv-stringify/sync';
import { writeFileAtomic } from './fsx.js';

export interface EpochMetrics {
  epoch: number;
  step: number;
  trainLoss: number;
  valLoss: number;
  top1: number;
  top5: number;
  lr: number;
  imagesPerSec: number;
  trainSeconds: number;
  wallSeconds: number;
  backend: string;
}

/** Per-epoch metrics as JSONL and CSV, rewritten atomically; rows past a resumed checkpoint are dropped. */
export class MetricsLog {
  private rows: EpochMetrics[] = [];
  constructor(private readonly jsonl: string, private readonly csv: string) {}

  /** Keep only the rows a checkpoint at `epochsDone` completed epochs already accounts for. */
  load(epochsDone: number): void {
    this.rows = existsSync(this.jsonl)
      ? readFileSync(this.jsonl, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as EpochMetrics)
          .filter((r) => r.epoch < epochsDone)
      : [];
  }

  append(row: EpochMetrics): void {
    this.rows = this.rows.filter((r) => r.epoch !== row.epoch).concat(row);
    this.flush();
  }

  all(): readonly EpochMetrics[] {
    return this.rows;
  }

  private flush(): void {
    writeFileAtomic(this.jsonl, this.rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    writeFileAtomic(this.csv, stringify(this.rows, { header: true }));
  }
}
