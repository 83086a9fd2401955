import test from "ava";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { ROOT } from "../support/plugin-run.js";

test("the demo negotiates over several rounds and refuses every attack", (t) => {
  const output = execFileSync(process.execPath, ["--import=tsx", join(ROOT, "examples", "shopping", "demo.ts")], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
  t.regex(output, /c → w {2}Change[\s\S]*c → w {2}Change[\s\S]*c → w {2}Accept[\s\S]*w → o {2}Confirm/);
  t.regex(output, /6\/6 attacks refused/);
  t.notRegex(output, /DELIVERED/);
});
