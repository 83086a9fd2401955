/**
 * Runs bench/overhead/memory-child.ts in a fresh process (with `--expose-gc`,
 * so that heap figures are after collection) and returns its measurement.
 */
import { execFile } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export interface MemoryResult {
  readonly kind: "started" | "established";
  /** The protection mode (bench/overhead/modes.ts). */
  readonly mode: string;
  readonly sessions: number;
  /** Heap and external bytes held by the sessions (both ends for `established`). */
  readonly bytes: number;
  /** Time to open them. */
  readonly ms: number;
}

// Compiled (npm run bench runs build/), the child is plain JavaScript too; from the sources it runs under tsx.
const COMPILED = import.meta.url.endsWith(".js");
const CHILD = join(dirname(fileURLToPath(import.meta.url)), COMPILED ? "memory-child.js" : "memory-child.ts");
const LOADER = COMPILED ? [] : [`--import=${import.meta.resolve("tsx")}`];

/** Opens `sessions` idle sessions of `kind` in `mode` in a child process and measures the memory they hold. */
export function measureMemory(kind: MemoryResult["kind"], sessions: number, mode = "full"): Promise<MemoryResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      ["--expose-gc", ...LOADER, CHILD, kind, String(sessions), mode],
      { encoding: "utf8", maxBuffer: 1 << 20 },
      (err, stdout, stderr) => {
        if (err !== null) return reject(new Error(`memory measurement (${kind}) failed: ${stderr.trim() || err.message}`));
        try {
          resolve(JSON.parse(stdout.trim().split("\n").pop()!) as MemoryResult);
        } catch (e: unknown) {
          reject(new Error(`memory measurement (${kind}) printed no result: ${stdout}`, { cause: e }));
        }
      },
    );
    child.stderr?.on("data", (d: string) => process.stderr.write(d));
  });
}
