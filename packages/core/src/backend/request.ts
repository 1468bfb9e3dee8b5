import { BackendError } from '../errors.js';
export type BackendRequest = 'auto' | 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';

export const BACKEND_REQUESTS: readonly BackendRequest[] = Object.freeze(['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu']);

/** Parses a backend name as given on a command line or in EFFSCALE_BACKEND; undefined or '' means 'auto'. */
export function parseBackendRequest(s: string | undefined): BackendRequest {
  if (s === undefined) return 'auto';
  const v = s.trim().toLowerCase();
  if (v === '') return 'auto';
  if ((BACKEND_REQUESTS as readonly string[]).includes(v)) return v as BackendRequest;
  throw new BackendError(`unknown backend '${s}' (allowed: ${BACKEND_REQUESTS.join(', ')})`);
}
