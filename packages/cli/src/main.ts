#!/usr/bin/env node
import { isUserError, UsageError, userMessage } from './errors.js';

const HELP = `effscale: compound model scaling (EfficientNet) research toolkit

Commands:
  demo         the main job: exact costs, a smoke experiment and search on Fashion-MNIST, and their report
  flops        exact params, MACs, elementwise ops and activation memory of any scaled network
  constraint   check alpha * beta^2 * gamma^2, its realized cost, solve for a coefficient or a target MACs
  train        proxy-train a scaled network on a dataset
  eval         top-1 / top-5 of a checkpoint
  predict      top-k classes of images with a checkpoint
  scale        step 2: the family B0'..B7' of found coefficients, with exact costs, next to the paper's and the presets
  search       grid-search alpha, beta, gamma with durable, resumable studies (run, status, best, export)
  experiment   the paper's scaling experiments (single-dim, width-by-dr, compound-vs-single, family) as durable studies
  report       charts, findings and an offline HTML page of a study, experiment or training run; --costs without training

Run 'effscale <command> --help' for its options.`;

/** A command resolves to its exit code (0 when it returns nothing). */
type Command = (argv: string[]) => Promise<number | void>;
const COMMANDS: Record<string, () => Promise<Command>> = {
  demo: async () => (await import('./commands/demo.js')).demoCommand,
  flops: async () => (await import('./commands/flops.js')).flopsCommand,
  constraint: async () => (await import('./commands/constraint.js')).constraintCommand,
  train: async () => (await import('./commands/train.js')).trainCommand,
  eval: async () => (await import('./commands/evaluate.js')).evalCommand,
  predict: async () => (await import('./commands/predict.js')).predictCommand,
  scale: async () => (await import('./commands/scale.js')).scaleCommand,
  search: async () => (await import('./commands/search.js')).searchCommand,
  experiment: async () => (await import('./commands/experiment.js')).experimentCommand,
  report: async () => (await import('./commands/report.js')).reportCommand,
};

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  try {
    if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
      console.log(HELP);
      return 0;
    }
    const load = COMMANDS[name];
    if (!load) throw new UsageError(`unknown command '${name}' (allowed: ${Object.keys(COMMANDS).join(', ')})`);
    return (await (await load())(rest)) ?? 0;
  } catch (e) {
    if (isUserError(e)) {
      process.stderr.write(`effscale: ${userMessage(e)}\n`);
      return 2;
    }
    throw e;
  }
}

/**
 * The process entry: runs a command and sets the exit code. A user error is one line and 2 (in main); anything else
 * is a bug and prints its trace, saying so. Handled here, because an unhandled rejection would reach the handler the
 * tfjs wasm backend installs, which re-throws it with its own trace and exit code 7.
 */
export async function runCli(argv: string[]): Promise<void> {
  try {
    process.exitCode = await main(argv);
  } catch (e) {
    process.stderr.write(`effscale: internal error (a bug in effscale; please report it with this trace): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  }
}

const isEntry = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isEntry) await runCli(process.argv.slice(2));
