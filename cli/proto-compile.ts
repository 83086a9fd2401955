/**
 * Compiles .proto files for the CLI as `buf generate` would for the plugin:
 * buf builds them (with secsession's own options.proto on the path), then
 * the plugin's checker compiles each declared session in this process.
 *
 * The files' import roots: `-I DIR` options, else the modules of the nearest
 * buf.yaml above the first file, else the first file's directory.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { create, createFileRegistry, fromBinary, type DescService, type FileRegistry } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import type { SessionDescriptor } from "../interceptors/descriptor/types.js";
import { compileFile } from "../plugin/compile.js";
import type { Diagnostic } from "../plugin/language/diagnostic.js";
import { UsageError, type Io } from "./command.js";

/** Our own .proto files (secsession/v1/options.proto), added to the import path when the roots lack them. */
const OWN_PROTO = join(dirname(fileURLToPath(import.meta.url)), "..", "proto");

export interface Compiled {
  /** The descriptors of the sessions of every file, in file order. */
  readonly descriptors: SessionDescriptor[];
  /** Checker diagnostics, with file names as the user gave them (relative to the current directory). */
  readonly diagnostics: Diagnostic[];
  /** A descriptor's file (`d.file`, relative to its import root) as the user reads it. */
  displayName(protoName: string): string;
  /** The compiled files (the sessions' message types and services). */
  readonly registry: FileRegistry;
}

/** Thrown when buf cannot compile the files (syntax, unknown imports): its messages, one per line, paths as the user gave them. */
export class ProtoBuildError extends Error {}

/** Compiles `files` (paths relative to `cwd`) with the import roots `includes` (or found as described above). */
export function compileProtos(files: readonly string[], includes: readonly string[], cwd: string): Compiled {
  const abs = files.map((f) => resolve(cwd, f));
  for (const f of abs) {
    if (!existsSync(f)) throw new UsageError(`no file ${f}`);
    if (!f.endsWith(".proto")) throw new UsageError(`${f} is not a .proto file`);
  }
  const roots = includes.length > 0 ? includes.map((i) => resolve(cwd, i)) : defaultRoots(abs[0]!);
  const names = abs.map((f) => {
    const root = roots.find((r) => f.startsWith(r + sep));
    if (root === undefined) throw new UsageError(`${f} is not under any import root (${roots.join(", ")}): pass its root with -I DIR`);
    return { root, name: relative(root, f).split(sep).join("/") };
  });
  if (!roots.some((r) => existsSync(join(r, "secsession", "v1", "options.proto")))) roots.push(OWN_PROTO);

  const work = mkdtempSync(join(tmpdir(), "secsession-cli-"));
  try {
    roots.forEach((r, i) => symlinkSync(r, join(work, `m${i}`), "dir"));
    writeFileSync(join(work, "buf.yaml"), `version: v2\nmodules:\n${roots.map((_, i) => `  - path: m${i}\n`).join("")}`);
    const image = join(work, "image.binpb");
    const paths = names.flatMap(({ root, name }) => ["--path", `m${roots.indexOf(root)}/${name}`]);
    try {
      execFileSync(bufBinary(cwd), ["build", "-o", image, ...paths], { cwd: work, stdio: ["ignore", "pipe", "pipe"] });
    } catch (e: unknown) {
      const out = String((e as { stderr?: unknown }).stderr ?? "") + String((e as { stdout?: unknown }).stdout ?? "");
      const text = out.replace(/\bm(\d+)\/(\S+?):(\d+)/g, (_, i: string, p: string, l: string) => `${display(join(roots[Number(i)]!, p), cwd)}:${l}`).trim();
      if ((e as { code?: unknown }).code === "ENOENT") throw new UsageError("cannot run buf: install it (npm install --save-dev @bufbuild/buf) or set BUF to its path");
      throw new ProtoBuildError(text === "" ? `buf build failed: ${e instanceof Error ? e.message : String(e)}` : text);
    }
    const set = fromBinary(FileDescriptorSetSchema, readFileSync(image));
    const registry = createFileRegistry(create(FileDescriptorSetSchema, { file: set.file }));
    const services = new Map<string, DescService>();
    for (const f of registry.files) for (const s of f.services) services.set(s.typeName, s);
    const byName = new Map(names.map(({ root, name }) => [name, join(root, name)]));
    const readSource = (name: string) => {
      const p = byName.get(name) ?? roots.map((r) => join(r, name)).find((x) => existsSync(x));
      return p === undefined ? undefined : readFileSync(p, "utf8");
    };
    const descriptors: SessionDescriptor[] = [];
    const diagnostics: Diagnostic[] = [];
    for (const { name } of names) {
      const file = registry.getFile(name);
      if (file === undefined) throw new ProtoBuildError(`buf did not compile ${name}`);
      const r = compileFile(file, (n) => services.get(n), readSource);
      descriptors.push(...r.descriptors);
      for (const d of r.diagnostics) diagnostics.push({ ...d, position: { ...d.position, file: display(byName.get(d.position.file) ?? d.position.file, cwd) } });
    }
    return { descriptors, diagnostics, displayName: (n) => display(byName.get(n) ?? n, cwd), registry };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** A path as the user reads it: relative to `cwd` when inside it. */
function display(path: string, cwd: string): string {
  if (!isAbsolute(path)) return path;
  const r = relative(cwd, path);
  return r.startsWith("..") || isAbsolute(r) ? path : r;
}

/** The modules of the nearest buf.yaml above `file`, else the file's directory. */
function defaultRoots(file: string): string[] {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const yaml = join(dir, "buf.yaml");
    if (existsSync(yaml)) {
      const paths = [...readFileSync(yaml, "utf8").matchAll(/^\s*-\s*path:\s*["']?([^"'\s]+)["']?\s*$/gm)].map((m) => resolve(dir, m[1]!));
      return paths.length > 0 ? paths : [dir];
    }
    if (dirname(dir) === dir) return [dirname(file)];
  }
}

/** buf: $BUF, else the @bufbuild/buf package of the project in `cwd` or of secsession, else `buf` on the PATH. */
function bufBinary(cwd: string): string {
  const env = process.env["BUF"];
  if (env !== undefined && env !== "") return env;
  for (const from of [join(cwd, "package.json"), fileURLToPath(import.meta.url)]) {
    try {
      return join(dirname(createRequire(from).resolve("@bufbuild/buf/package.json")), "bin", "buf");
    } catch {
      // not installed there
    }
  }
  return "buf";
}

/** `compileProtos`, with a failed buf build printed on stderr: undefined then (exit code 1 for the command). */
export function compileProtosOrReport(files: readonly string[], includes: readonly string[], io: Io): Compiled | undefined {
  try {
    return compileProtos(files, includes, io.cwd);
  } catch (e: unknown) {
    if (!(e instanceof ProtoBuildError)) throw e;
    io.err(`${e.message}\n`);
    return undefined;
  }
}

/** The session `name` of the file `file` compiled (the only one when no name is given); a UsageError otherwise. */
export function chooseSession(all: readonly SessionDescriptor[], name: string | undefined, file: string): SessionDescriptor {
  if (all.length === 0) throw new UsageError(`${file} declares no session (option (secsession.v1.session): docs/language.md)`);
  const names = all.map((d) => d.name).join(", ");
  if (name !== undefined) {
    const found = all.find((x) => x.name === name);
    if (found === undefined) throw new UsageError(`${file} declares no session ${JSON.stringify(name)}; it declares ${names}`);
    return found;
  }
  if (all.length > 1) throw new UsageError(`${file} declares ${all.length} sessions (${names}): choose one with --session NAME`);
  return all[0]!;
}
