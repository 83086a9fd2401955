/**
 * The compiled descriptors of every example, from one buf build of the repository.
 */
import type { SessionDescriptor } from "../../interceptors/descriptor/types.js";
import { bufBuildRepo, ROOT, runPlugin } from "./plugin-run.js";
import { join } from "node:path";

let cache: Map<string, SessionDescriptor> | undefined;

/** Every example session by name, compiled by the plugin from examples/. */
export function exampleDescriptors(): Map<string, SessionDescriptor> {
  if (cache !== undefined) return cache;
  const files = bufBuildRepo();
  const examples = files.filter((f) => !(f.name ?? "").startsWith("secsession/") && !(f.name ?? "").startsWith("google/"));
  cache = new Map();
  for (const f of examples) {
    const out = runPlugin(files, [f.name!], [join(ROOT, "proto"), join(ROOT, "examples")]);
    if (out.error !== undefined) throw new Error(out.error);
    for (const [name, content] of out.files) {
      for (const m of content.matchAll(/export const (\w+)Session: SessionDescriptor = (\{[\s\S]*?\n\});/g)) {
        cache.set(m[1]!, JSON.parse(m[2]!) as SessionDescriptor);
      }
      void name;
    }
  }
  return cache;
}
