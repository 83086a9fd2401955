/**
 * The `secsession` CLI as a user runs it, in a child process: its exit
 * status and what it printed.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { ROOT } from "./plugin-run.js";

export interface CliResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node <argv…>` in `cwd`. */
export function spawnNode(argv: readonly string[], cwd: string): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [...argv], { cwd, encoding: "utf8" }, (err, stdout, stderr) => {
      const status = err === null ? 0 : typeof err.code === "number" ? err.code : -1;
      resolve({ status, stdout, stderr });
    });
  });
}

/** tsx, resolved here so that any cwd works. */
export const TSX = import.meta.resolve("tsx");

/** `node --import=tsx cli/secsession.ts <args…>` in `cwd`. */
export const cli = (args: readonly string[], cwd = ROOT): Promise<CliResult> => spawnNode([`--import=${TSX}`, join(ROOT, "cli", "secsession.ts"), ...args], cwd);
