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
