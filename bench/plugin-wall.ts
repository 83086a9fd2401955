/**
 * Plugin wall-time benchmark: protoc-gen-secsession beside protoc-gen-es on
 * the same file, both as the executables users install (run
 * `node scripts/build.mjs` first), interleaved, median of each:
 *   - `buf generate` of one file with only that plugin (what a user waits for);
 *   - the plugin alone: one CodeGeneratorRequest on stdin, node start to exit.
 *
 * With --with-tsx, also the plugin run from its TypeScript source through
 * tsx (how the repository ran it before it was compiled).
 *
 *   npx tsx bench/plugin-wall.ts [--file conf/conf.proto] [--runs 15] [--with-tsx] [--json out.json]
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { create, toBinary } from "@bufbuild/protobuf";
import { CodeGeneratorRequestSchema } from "@bufbuild/protobuf/wkt";
import { bufBuildRepo, ROOT } from "../test/support/plugin-run.js";

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const file = opt("file") ?? "conf/conf.proto";
const runs = Number(opt("runs") ?? "15");

const BUF = join(ROOT, "node_modules", ".bin", "buf");
const OURS = ["target=ts", "import_extension=js", "root=proto", "root=examples"];
const all = {
  "protoc-gen-es": { node: [join(ROOT, "node_modules", "@bufbuild", "protoc-gen-es", "bin", "protoc-gen-es")], opt: ["target=ts", "import_extension=js"] },
  "protoc-gen-secsession": { node: [join(ROOT, "plugin", "dist", "plugin", "protoc-gen-secsession.js")], opt: OURS },
  "protoc-gen-secsession (tsx)": { node: ["--import=tsx", join(ROOT, "plugin", "protoc-gen-secsession.ts")], opt: OURS },
};
type Name = keyof typeof all;
const plugins: Partial<Record<Name, (typeof all)[Name]>> = { "protoc-gen-es": all["protoc-gen-es"], "protoc-gen-secsession": all["protoc-gen-secsession"] };
if (args.includes("--with-tsx")) plugins["protoc-gen-secsession (tsx)"] = all["protoc-gen-secsession (tsx)"];
const names = Object.keys(plugins) as Name[];
for (const p of Object.values(plugins)) if (!existsSync(p.node.at(-1)!)) throw new Error(`no ${p.node.at(-1)}: run node scripts/build.mjs first`);

const work = mkdtempSync(join(tmpdir(), "secsession-plugin-wall-"));
const request = toBinary(
  CodeGeneratorRequestSchema,
  create(CodeGeneratorRequestSchema, { fileToGenerate: [file], parameter: all["protoc-gen-es"].opt.join(","), protoFile: bufBuildRepo() }),
);
const templates = Object.fromEntries(
  names.map((n, i) => {
    const path = join(work, `${i}.yaml`);
    writeFileSync(path, `version: v2\nplugins:\n  - local: ${JSON.stringify(["node", ...all[n].node])}\n    out: ${JSON.stringify(join(work, String(i)))}\n    opt: ${JSON.stringify(all[n].opt)}\n`);
    return [n, path];
  }),
) as Record<Name, string>;

const samples = Object.fromEntries(names.map((n) => [n, { generate: [] as number[], alone: [] as number[] }])) as Record<Name, { generate: number[]; alone: number[] }>;
const time = (f: () => void) => {
  const s = performance.now();
  f();
  return performance.now() - s;
};
for (let i = 0; i <= runs; i++) {
  for (const n of names) {
    const generate = time(() => execFileSync(BUF, ["generate", "--template", templates[n], "--path", join("examples", file)], { cwd: ROOT, stdio: "ignore" }));
    const alone = time(() => {
      const r = spawnSync(process.execPath, all[n].node, { cwd: ROOT, input: request, stdio: ["pipe", "pipe", "inherit"] });
      if (r.status !== 0) throw new Error(`${n} exited ${r.status}`);
    });
    if (i === 0) continue; // warm-up: file cache
    samples[n].generate.push(generate);
    samples[n].alone.push(alone);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const result = Object.fromEntries(names.map((n) => [n, { generate: median(samples[n].generate), alone: median(samples[n].alone) }])) as Record<Name, { generate: number; alone: number }>;
const es = result["protoc-gen-es"];
const rows = names.map((n) => {
  const r = result[n];
  return `| ${n} | ${r.generate.toFixed(0)} | ${r.alone.toFixed(0)} | ${(r.generate / es.generate).toFixed(2)}× | ${(r.alone / es.alone).toFixed(2)}× |`;
});
process.stdout.write(
  `| plugin | buf generate of ${file} (ms) | plugin alone, one request (ms) | generate vs protoc-gen-es | alone vs protoc-gen-es |\n| --- | --- | --- | --- | --- |\n${rows.join("\n")}\n\nmedian of ${runs} interleaved runs each, node ${process.version}\n`,
);
const json = opt("json");
if (json !== undefined) writeFileSync(json, `${JSON.stringify({ file, runs, node: process.version, medians: result, samples }, null, 2)}\n`);
