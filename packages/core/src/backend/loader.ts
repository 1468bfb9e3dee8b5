import { createRequire } from 'node:module';

/** Loads an optional module by name; throws when it is absent or its native part fails to load. */
export type ModuleLoader = (name: string) => unknown;

const require = createRequire(import.meta.url);

// tfjs-node is CommonJS and registers its backend on the (shared, CommonJS) tfjs-core when required.
export const defaultModuleLoader: ModuleLoader = (name) => require(name);

/** One line explaining why an optional module could not be used. */
export function explainLoadFailure(name: string, pkg: string, err: unknown): string {
  const e = err as { code?: string; message?: string } | undefined;
  const message = String(e?.message ?? err);
  if (e?.code === 'MODULE_NOT_FOUND' && message.includes(`'${pkg}'`)) return `${name}: not installed`;
  if (message.includes('tfjs_binding.node')) {
    return `${name}: native addon not built (libtensorflow could not be downloaded at install time)`;
  }
  const first = message.split('\n')[0]?.trim() ?? '';
  return `${name}: failed to load (${first.length > 160 ? first.slice(0, 157) + '...' : first})`;
}
