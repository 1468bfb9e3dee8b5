/** A mistake in what the user typed: printed as one line, exit code 2, no stack trace. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Errors whose message is already a complete, user-facing sentence. */
const USER_ERRORS = new Set(['UsageError', 'SpecError', 'BlockStringError', 'DataError', 'MemoryGuardError', 'BackendError', 'ConfigError']);

export function isUserError(e: unknown): e is Error {
  return e instanceof Error && (USER_ERRORS.has(e.name) || (e as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ||
    (e as { code?: string }).code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' || (e as { code?: string }).code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL');
}
