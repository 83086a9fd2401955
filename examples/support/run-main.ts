/**
 * Runs `examples/<name>/main.ts` in a child process, as `npx tsx` would, and
 * returns its output (throws if it exits non-zero). For tests.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export function runMain(name: string): string {
  return execFileSync(process.execPath, ["--import=tsx", `examples/${name}/main.ts`], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
}
