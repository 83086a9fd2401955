/**
 * `secsession … | head`: a reader that closes the pipe early ends the
 * command quietly, with no stack trace.
 */
import test from "ava";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { ROOT } from "../support/plugin-run.js";
import { TSX } from "../support/cli.js";

test("a closed stdout pipe ends the command quietly", async (t) => {
  const child = spawn(process.execPath, [`--import=${TSX}`, join(ROOT, "cli", "secsession.ts"), "graph", "--format", "dot", join(ROOT, "examples", "loi", "loi.proto")], { cwd: ROOT });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  // Closed before the command writes anything (node takes far longer to start): its first write meets EPIPE.
  child.stdout.destroy();
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  t.is(stderr, "");
  t.is(code, 0);
});
