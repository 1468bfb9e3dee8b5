/**
 * Errors a user can cause and fix: the message is a complete sentence naming the value, setting or path and what to
 * do. Front ends print it as one line (the CLI: exit code 2); a search records such a trial as invalid instead of
 * retrying it. Anything else thrown is a bug or a crash.
 */
export class UserError extends Error {
  override name = 'UserError';
  /** The option the message is about (a key of the caller's options, e.g. 'batchSize'), so a front end can add its own spelling. */
  readonly setting?: string;
  constructor(message: string, opts: { setting?: string; cause?: unknown } = {}) {
    super(message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    if (opts.setting !== undefined) this.setting = opts.setting;
  }
}

/** A network description (multiplier, resolution, preset, block) out of range or inconsistent. */
export class SpecError extends UserError {
  override name = 'SpecError';
}

/** A dataset that is missing, malformed or misused; the message names the file or value and what was expected. */
export class DataError extends UserError {
  override name = 'DataError';
}

/** A checkpoint or run directory that is missing, corrupt, locked, or from different settings. */
export class CheckpointError extends UserError {
  override name = 'CheckpointError';
}

/** A configuration that would not fit in memory; names a batch size or resolution that would. */
export class MemoryGuardError extends UserError {
  override name = 'MemoryGuardError';
}

/** A backend that was asked for by name and cannot start here. */
export class BackendError extends UserError {
  override name = 'BackendError';
}

/** A path that cannot be read or written: a full disk, missing permissions, a file where a directory should be. */
export class StorageError extends UserError {
  override name = 'StorageError';
}

/** A training setting (budget, recipe, seed, split, output place) that cannot be used. */
export class ConfigError extends UserError {
  override name = 'ConfigError';
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}
