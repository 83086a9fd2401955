import test from "ava";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { status } from "@grpc/grpc-js";
import { STATUS_OF } from "../../interceptors/index.js";
import { ROOT } from "../support/plugin-run.js";

test("docs/protocol.md states the status of every alert kind, as the code maps it", (t) => {
  const doc = readFileSync(join(ROOT, "docs", "protocol.md"), "utf8");
  const table = Object.fromEntries([...doc.matchAll(/^\| `([a-z-]+)` \| `([A-Z_]+)` \|$/gm)].map((m) => [m[1]!, m[2]!]));
  const code = Object.fromEntries(Object.entries(STATUS_OF).map(([k, v]) => [k, status[v]]));
  t.deepEqual(table, code);
});
