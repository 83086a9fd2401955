/**
 * Loads session descriptors from a generated `*_secsession.ts` module:
 * `MODULE` (every export that is a SessionDescriptor) or `MODULE#ExportName`.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { SessionDescriptor } from "../interceptors/descriptor/types.js";
import { UsageError } from "./command.js";

/** True for a value shaped like a SessionDescriptor. */
export function isSessionDescriptor(v: unknown): v is SessionDescriptor {
  if (v === null || typeof v !== "object") return false;
  const d = v as Partial<SessionDescriptor>;
  return d.format === "secsession.descriptor.v1" && typeof d.code === "string" && typeof d.name === "string" && Array.isArray(d.edges) && Array.isArray(d.roles);
}

/** The descriptors named by `spec` (`path/to/x_secsession.ts[#Export]`), relative to `cwd`. */
export async function loadDescriptors(spec: string, cwd: string): Promise<SessionDescriptor[]> {
  const hash = spec.lastIndexOf("#");
  const file = hash < 0 ? spec : spec.slice(0, hash);
  const name = hash < 0 ? undefined : spec.slice(hash + 1);
  if (file === "" || name === "") throw new UsageError(`--descriptor ${JSON.stringify(spec)}: expected MODULE or MODULE#ExportName`);
  const path = resolve(cwd, file);
  if (!existsSync(path)) throw new UsageError(`--descriptor: no file ${path}: give the path of a generated *_secsession.ts file`);
  let mod: Record<string, unknown>;
  try {
    mod = await importModule(path, cwd);
  } catch (e: unknown) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`--descriptor: cannot load ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const found = Object.entries(mod).filter(([, v]) => isSessionDescriptor(v)) as Array<[string, SessionDescriptor]>;
  if (name !== undefined) {
    const v = mod[name];
    if (v === undefined) throw new UsageError(`--descriptor: ${path} has no export ${name}; its descriptors are: ${found.map(([k]) => k).join(", ") || "none"}`);
    if (!isSessionDescriptor(v)) throw new UsageError(`--descriptor: export ${name} of ${path} is not a session descriptor; its descriptors are: ${found.map(([k]) => k).join(", ") || "none"}`);
    return [v];
  }
  if (found.length === 0) throw new UsageError(`--descriptor: ${path} exports no session descriptor: give a generated *_secsession.ts file`);
  return found.map(([, v]) => v);
}

/**
 * Imports a module. A TypeScript module (generated with target=ts) on a node
 * that cannot load one: through the project's tsx when it has one, else an
 * error saying what to pass instead.
 */
async function importModule(path: string, cwd: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(path).href;
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (e: unknown) {
    if ((e as { code?: unknown }).code !== "ERR_UNKNOWN_FILE_EXTENSION") throw e;
  }
  let api: string;
  try {
    api = createRequire(join(cwd, "package.json")).resolve("tsx/esm/api");
  } catch {
    throw new UsageError(`--descriptor: ${path} is TypeScript, which this node cannot load: pass the compiled .js file, or install tsx in this project`);
  }
  const tsx = (await import(pathToFileURL(api).href)) as { register(): unknown };
  tsx.register();
  return (await import(url)) as Record<string, unknown>;
}
