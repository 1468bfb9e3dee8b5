/** Vega-Lite spec -> Vega spec -> SVG, in Node, with text measured in the chart font. */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { registerFonts } from './fonts.js';

/** The Vega spec a Vega-Lite spec compiles to; a spec vega-lite rejects throws an Error naming the chart. */
export function compileSpec(spec: TopLevelSpec): vega.Spec {
  try {
    return compile(spec).spec;
  } catch (e) {
    throw new Error(`invalid Vega-Lite spec${specLabel(spec)}: ${(e as Error).message}`, { cause: e });
  }
}

export async function toSvg(spec: TopLevelSpec): Promise<string> {
  registerFonts();
  // vega tags every inline data object it ingests (a Symbol key): render a copy, not the caller's rows.
  const compiled = compileSpec(structuredClone(spec));
  let runtime: vega.Runtime;
  try {
    runtime = vega.parse(compiled);
  } catch (e) {
    throw new Error(`invalid Vega spec compiled from${specLabel(spec)}: ${(e as Error).message}`, { cause: e });
  }
  const view = new vega.View(runtime, { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

function specLabel(spec: TopLevelSpec): string {
  const title = (spec as { title?: unknown }).title;
  const text = typeof title === 'string' ? title : typeof (title as { text?: unknown } | undefined)?.text === 'string' ? (title as { text: string }).text : null;
  return text !== null ? ` '${text}'` : '';
}
