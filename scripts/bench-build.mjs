// Compiles the run-time benchmark and everything it imports into build/ (tsc -p tsconfig.bench.json), so that
// `npm run bench` measures plain JavaScript with no TypeScript loader in the process. The generated stubs import the
// runtime as the package "secsession", which in this checkout resolves to the sources (interceptors/index.ts); in
// build/ that import is pointed at the compiled runtime beside them, so one copy of the runtime is loaded.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "build");
rmSync(out, { recursive: true, force: true });
process.stderr.write("bench: tsc -p tsconfig.bench.json -> build/\n");
execFileSync(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", join(root, "tsconfig.bench.json")], { stdio: "inherit", cwd: root });

const runtime = join(out, "interceptors", "index.js");
let rewritten = 0;
for (const entry of readdirSync(out, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith(".js")) continue;
  const file = join(entry.parentPath ?? entry.path, entry.name);
  const text = readFileSync(file, "utf8");
  const spec = relative(dirname(file), runtime).split("\\").join("/");
  const next = text.replace(/(from\s+|import\()(["'])secsession\2/g, (_m, lead, q) => `${lead}${q}${spec.startsWith(".") ? spec : `./${spec}`}${q}`);
  if (next !== text) {
    writeFileSync(file, next);
    rewritten++;
  }
}
process.stderr.write(`bench: ${rewritten} generated files import the compiled runtime\n`);
