import { UserError } from '@effscale/core';

/** A mistake in what the user typed: printed as one line, exit code 2, no stack trace. */
export class UsageError extends UserError {
  override name = 'UsageError';
}

const PARSE_ARGS_CODES = new Set(['ERR_PARSE_ARGS_UNKNOWN_OPTION', 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE', 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL']);

/** Errors whose message is already a complete, user-facing sentence: effscale's own, and node's argument parser's. */
export function isUserError(e: unknown): e is Error {
  return e instanceof UserError || (e instanceof Error && PARSE_ARGS_CODES.has((e as { code?: string }).code ?? ''));
}

/** The CLI spelling of the core settings that user errors name (TrainOptions and LoadOptions keys). */
const FLAGS: Record<string, string> = {
  batchSize: '--batch-size', epochs: '--epochs', steps: '--steps', horizon: '--horizon', checkpointEvery: '--checkpoint-every',
  recipe: '--recipe', seed: '--seed', outDir: '--out', resume: '--resume', classes: '--classes', inputChannels: '--channels',
  trainLimit: '--train-limit', testLimit: '--test-limit', testFraction: '--test-fraction', valFraction: '--val-fraction', valCount: '--val-count',
};

/** The message, with the flag that sets the named setting added where the two are spelled differently. */
export function userMessage(e: Error): string {
  const setting = (e as UserError).setting;
  const flag = setting !== undefined ? FLAGS[setting] : undefined;
  const message = e.message.replace(/\s*\n\s*/g, ' '); // node's argument parser writes some messages over several lines
  return flag !== undefined && !message.includes(flag) ? `${message} (${flag})` : message;
}
