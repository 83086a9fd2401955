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

test("with --telemetry the demo prints OpenTelemetry counters that agree with each runtime's own metrics", (t) => {
  const output = execFileSync(process.execPath, ["--import=tsx", join(ROOT, "examples", "shopping", "demo.ts"), "--telemetry"], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
  t.regex(output, /6\/6 attacks refused/);
  const role = { customer: "c", office: "o", warehouse: "w" } as const;
  for (const [principal, r] of Object.entries(role)) {
    const own = output.match(new RegExp(`^  ${principal} +accepted (\\d+) messages`, "m"));
    const otel = output.match(new RegExp(`^  secsession\\.messages\\.accepted +\\{session=Shopping, role=${r}\\} (\\d+)$`, "m"));
    t.truthy(own, principal);
    t.is(otel?.[1], own?.[1], `${principal}: accepted`);
  }
  t.regex(output, /secsession\.messages\.refused +\{session=Shopping, role=o, alert\.kind=replay\} \d+/);
});
