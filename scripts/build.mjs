// Builds the two packages from the sources, as CI does before packing them:
//   interceptors/dist  package secsession: the runtime (ESM + .d.ts), the
//                      secsession CLI, and secsession/v1/options.proto for buf
//   plugin/dist        package protoc-gen-secsession: the plugin executable
// Each is a tsc build of one entry point's import closure with the repo root
// as rootDir, so the sources' relative imports hold in dist as they are.
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
const step = (what) => process.stderr.write(`build: ${what}\n`);

for (const [pkg, config, bin] of [
  ["interceptors", "tsconfig.runtime.json", "cli/secsession.js"],
  ["plugin", "tsconfig.plugin.json", "plugin/protoc-gen-secsession.js"],
]) {
  const dist = join(root, pkg, "dist");
  rmSync(dist, { recursive: true, force: true });
  step(`tsc -p ${config} -> ${pkg}/dist`);
  execFileSync(process.execPath, [tsc, "-p", join(root, config)], { stdio: "inherit", cwd: root });
  chmodSync(join(dist, bin), 0o755);
}

// The annotations users import, as a buf module root inside the runtime package
// (buf.yaml: `- path: node_modules/secsession/dist/proto`); the CLI's check and
// graph use the same copy.
const proto = join(root, "interceptors", "dist", "proto", "secsession", "v1");
mkdirSync(proto, { recursive: true });
copyFileSync(join(root, "proto", "secsession", "v1", "options.proto"), join(proto, "options.proto"));
step("copied proto/secsession/v1/options.proto -> interceptors/dist/proto");
