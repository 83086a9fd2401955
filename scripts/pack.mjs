// Packs the two packages as they are published: `node scripts/pack.mjs [--out DIR]`
// (default tmp/pack) after `node scripts/build.mjs`. Prints the tarballs' paths.
//
// Each package is staged in a temporary folder: its package.json, its dist/
// and the README. In the source tree, package secsession's `exports` point at
// the TypeScript sources (interceptors/index.ts), so that the repo's own tests,
// examples and tsc run without a build; the published manifest takes its
// `publishExports` instead (compiled JS + .d.ts), and the field is dropped.
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({ options: { out: { type: "string", default: join(root, "tmp", "pack") } } });
const out = resolve(values.out);
mkdirSync(out, { recursive: true });

for (const pkg of ["interceptors", "plugin"]) {
  const dir = join(root, pkg);
  if (!existsSync(join(dir, "dist"))) throw new Error(`${pkg}/dist is missing: run node scripts/build.mjs first`);
  const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  if (manifest.publishExports !== undefined) {
    manifest.exports = manifest.publishExports;
    manifest.types = manifest.publishExports["."].types;
    delete manifest.publishExports;
  }
  const stage = mkdtempSync(join(tmpdir(), `secsession-pack-${pkg}-`));
  try {
    writeFileSync(join(stage, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
    cpSync(join(dir, "dist"), join(stage, "dist"), { recursive: true });
    cpSync(join(root, "README.md"), join(stage, "README.md"));
    const [info] = JSON.parse(execFileSync("npm", ["pack", stage, "--json", "--pack-destination", out], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }));
    process.stdout.write(`${join(out, info.filename)}\t${info.entryCount} files, ${(info.size / 1024).toFixed(0)} kB packed, ${(info.unpackedSize / 1024).toFixed(0)} kB unpacked\n`);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}
