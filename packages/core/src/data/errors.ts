/** A dataset that is missing, malformed or misused; the message names the file or value and what was expected. */
export class DataError extends Error {
  override name = 'DataError';
}
