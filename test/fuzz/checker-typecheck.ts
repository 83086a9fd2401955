/**
 * Type-checks the code generated for a sample of the protocols the checker accepted: buf compiles them
 * with corpus/common.proto and runs protoc-es and protoc-gen-secsession (as `buf generate` does for a
 * user), then tsc checks the generated files with the repository's compiler options. The files live
 * under the repository's tmp/ (ignored by git) so that `secsession` resolves to this package.
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../support/plugin-run.js";
import { COMMON_FILE, COMMON_SOURCE } from "./harness.js";

export interface TypecheckResult {
  /** tsc's and buf's complaints, empty when every file type-checks. */
  readonly errors: string;
  readonly files: number;
  readonly ms: number;
}

/** Generates and type-checks the code of each .proto source (each a file importing corpus/common.proto). */
export function typecheckGenerated(sources: readonly string[]): TypecheckResult {
  const start = performance.now();
  mkdirSync(join(ROOT, "tmp"), { recursive: true });
  const dir = mkdtempSync(join(ROOT, "tmp", "typecheck-"));
  try {
    const src = join(dir, "src");
    cpSync(join(ROOT, "proto"), src, { recursive: true });
    mkdirSync(join(src, "corpus"), { recursive: true });
    mkdirSync(join(src, "fuzz"), { recursive: true });
    writeFileSync(join(src, COMMON_FILE), COMMON_SOURCE);
    sources.forEach((s, i) => writeFileSync(join(src, "fuzz", `f${i}.proto`), s));
    writeFileSync(join(dir, "buf.yaml"), "version: v2\nmodules:\n  - path: src\n");
    const tsx = join(ROOT, "node_modules", "tsx", "dist", "esm", "index.mjs");
    writeFileSync(
      join(dir, "buf.gen.yaml"),
      [
        "version: v2",
        "plugins:",
        `  - local: ${join(ROOT, "node_modules", ".bin", "protoc-gen-es")}`,
        "    out: gen",
        "    opt: [target=ts, import_extension=js]",
        `  - local: ["node", "--import=${tsx}", "${join(ROOT, "plugin", "protoc-gen-secsession.ts")}"]`,
        "    out: gen",
        "    opt: [target=ts, import_extension=js, root=src]",
        "",
      ].join("\n"),
    );
    writeFileSync(
      join(dir, "tsconfig.json"),
      JSON.stringify({ extends: join(ROOT, "tsconfig.json"), compilerOptions: { noEmit: true, types: ["node"], typeRoots: [join(ROOT, "node_modules", "@types")] }, include: ["gen/**/*.ts"] }),
    );
    let errors = "";
    try {
      execFileSync(join(ROOT, "node_modules", ".bin", "buf"), ["generate"], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
      execFileSync(process.execPath, [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", join(dir, "tsconfig.json")], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    } catch (e: unknown) {
      const x = e as { stdout?: Buffer; stderr?: Buffer; message?: string };
      errors = `${String(x.stdout ?? "")}${String(x.stderr ?? "")}`.trim() || String(x.message);
    }
    return { errors, files: sources.length, ms: performance.now() - start };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
