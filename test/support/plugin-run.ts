/**
 * Runs protoc-gen-secsession in memory on .proto sources: buf compiles them
 * (the same compiler users run), then the plugin runs in this process on a
 * CodeGeneratorRequest built from buf's image.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, cpSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { create, fromBinary, createFileRegistry, type DescFile } from "@bufbuild/protobuf";
import { CodeGeneratorRequestSchema, FileDescriptorSetSchema, type FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import { secsessionPlugin } from "../../plugin/plugin.js";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const BUF = join(ROOT, "node_modules", ".bin", "buf");

/** Compiles a module of .proto sources (relative path -> text) with buf; returns the image's files. */
export function bufBuild(sources: Record<string, string>): { dir: string; files: FileDescriptorProto[] } {
  const dir = mkdtempSync(join(tmpdir(), "secsession-"));
  const src = join(dir, "src");
  cpSync(join(ROOT, "proto"), src, { recursive: true });
  for (const [name, text] of Object.entries(sources)) {
    mkdirSync(dirname(join(src, name)), { recursive: true });
    writeFileSync(join(src, name), text);
  }
  writeFileSync(join(dir, "buf.yaml"), "version: v2\nmodules:\n  - path: src\n");
  const image = join(dir, "image.binpb");
  execFileSync(BUF, ["build", "-o", image], { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  return { dir: src, files: fromBinary(FileDescriptorSetSchema, readFileSync(image)).file };
}

/** Compiles the repository's own modules (proto/ and examples/) with buf. */
export function bufBuildRepo(): FileDescriptorProto[] {
  const image = join(mkdtempSync(join(tmpdir(), "secsession-")), "image.binpb");
  execFileSync(BUF, ["build", "-o", image], { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] });
  return fromBinary(FileDescriptorSetSchema, readFileSync(image)).file;
}

export interface PluginOutput {
  readonly error: string | undefined;
  readonly files: ReadonlyMap<string, string>;
}

/** Runs the plugin on `generate` (file names) of an image. */
export function runPlugin(files: FileDescriptorProto[], generate: string[], roots: string[]): PluginOutput {
  const req = create(CodeGeneratorRequestSchema, {
    fileToGenerate: generate,
    parameter: ["target=ts", "import_extension=js", ...roots.map((r) => `root=${r}`)].join(","),
    protoFile: files,
  });
  const res = secsessionPlugin.run(req);
  return {
    error: res.error === undefined || res.error === "" ? undefined : res.error,
    files: new Map(res.file.map((f) => [f.name ?? "", f.content ?? ""])),
  };
}

/** The descriptors of an image, for tests that inspect them directly. */
export function registryOf(files: FileDescriptorProto[]): { file(name: string): DescFile } {
  const reg = createFileRegistry(create(FileDescriptorSetSchema, { file: files }));
  return {
    file(name: string): DescFile {
      const f = reg.getFile(name);
      if (f === undefined) throw new Error(`no file ${name} in the image`);
      return f;
    },
  };
}
