import { existsSync, readFileSync } from 'node:fs';
import { stringify } from 'csv-stringify/sync';
import { writeFileAtomic } from './fsx.js';

/**
 * One evaluation during training: at the end of each epoch and where the run stopped. Loss and accuracies are given
 * for the split that was evaluated (val when the run has a validation split, else test; test also at the end when
 * asked) and null for the others.
 */
export interface EvalRow {
  /** The epoch (0-based) the evaluation belongs to, and the optimizer steps done when it ran. */
  epoch: number;
  step: number;
  /** Mean training loss over the epoch so far (all of it, also across an interruption and resume). */
  trainLoss: number;
  valLoss: number | null;
  valTop1: number | null;
  valTop5: number | null;
  testLoss: number | null;
  testTop1: number | null;
  testTop5: number | null;
  lr: number;
  imagesPerSec: number;
  trainSeconds: number;
  wallSeconds: number;
  backend: string;
}

/** Evaluation rows as JSONL and CSV, rewritten atomically; rows past a resumed checkpoint are dropped. */
export class MetricsLog {
  private rows: EvalRow[] = [];
  constructor(private readonly jsonl: string, private readonly csv: string) {}

  /** Keep only the rows a checkpoint at `step` already accounts for. */
  load(step: number): void {
    this.rows = existsSync(this.jsonl)
      ? readFileSync(this.jsonl, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as EvalRow)
          .filter((r) => r.step <= step)
      : [];
  }

  /** Add a row, replacing one at the same step (an evaluation repeated after a resume, or extended by the test split). */
  append(row: EvalRow): void {
    this.rows = this.rows.filter((r) => r.step !== row.step).concat(row);
    this.flush();
  }

  all(): readonly EvalRow[] {
    return this.rows;
  }

  private flush(): void {
    writeFileAtomic(this.jsonl, this.rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    writeFileAtomic(this.csv, stringify(this.rows, { header: true }));
  }
}
