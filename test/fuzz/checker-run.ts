/**
 * The checker fuzzing properties (test/fuzz/checker.test.ts), runnable in the test's process or in a
 * worker thread (test/fuzz/checker-worker.ts): the plugin itself takes ~0.3 ms per generated
 * session, so 100,000 cases need both cores to finish well under a minute.
 */
import { Worker } from "node:worker_threads";
import { availableParallelism } from "node:os";
import fc from "fast-check";
import type { FileRegistry } from "@bufbuild/protobuf";
import type { CompileResult } from "../../plugin/compile.js";
import { formatDiagnostic } from "../../plugin/language/diagnostic.js";
import { checkerTree, fcParams, offsetOf, protocolTree, renderProtocol, type FuzzChunk } from "./arbitraries.js";
import { COMMON_FILE, COMMON_SOURCE, compileInMemory, descriptorProblems, FUZZ_FILE, fuzzFile, type FuzzFile } from "./harness.js";
import { projectionViolations } from "./checker-oracle.js";

export type CheckerMode = "sound" | "layout";

export interface CheckerStats {
  runs: number;
  compiled: number;
  /** Layout mode: runs refused without the source for a `//` comment it cannot delimit. */
  refused: number;
  /** Edges per compiled session, sorted. */
  sizes: number[];
  slowestMs: number;
  elapsedMs: number;
  seed: number;
  /** Sound mode: the .proto sources of a sample of the compiled sessions, for tsc (checker-typecheck.ts). */
  sample: string[];
  /** fast-check's report when the property failed. */
  error?: string;
}

/** Sound mode: one compiled session in this many goes to the tsc sample, at most SAMPLE_MAX per thread. */
const SAMPLE_EVERY = 97;
const SAMPLE_MAX = 40;

/**
 * A compile slower than this (best of three) is a hang: the generated protocols compile in well under
 * 10 ms each on an idle machine, but the machine may be busy.
 */
const SLOW_MS = 1_000;

/** Every problem with the diagnostics of a run. */
export function diagnosticProblems(res: CompileResult, f: FuzzFile): string[] {
  const out: string[] = [];
  for (const d of res.diagnostics) {
    const text = formatDiagnostic(d);
    if (/[\n\r]/.test(text)) out.push(`not one line: ${JSON.stringify(text)}`);
    if (!/^[^:\s]+:\d+:\d+: \S/.test(text)) out.push(`not file:line:col: message: ${JSON.stringify(text)}`);
    const { file, line, col } = d.position;
    const source = file === FUZZ_FILE ? f.source : file === COMMON_FILE ? COMMON_SOURCE : undefined;
    if (source === undefined) {
      out.push(`position in an unknown file: ${text}`);
      continue;
    }
    if (file === FUZZ_FILE && (line - 1 < f.span[0] || line - 1 > f.span[2])) out.push(`position outside the option statement: ${text}`);
    const at = offsetOf(source, line, col);
    if (at === undefined) out.push(`position outside the file: ${text}`);
    else if (/\s/.test(source[at] ?? " ")) out.push(`position at whitespace (not at a token): ${text}`);
  }
  if (res.diagnostics.length === 0 && res.descriptors.length !== 1) out.push(`no diagnostics and ${res.descriptors.length} descriptors`);
  if (res.diagnostics.length > 0 && res.descriptors.length > 0) out.push("diagnostics and a descriptor");
  return out;
}

const strip = (res: CompileResult) => res.diagnostics.map((d) => `${d.code} ${d.message.replace(/\d+:\d+/g, "L:C")}`).sort();
const codes = (res: CompileResult) => res.descriptors.map((d) => d.code).join(",");

/** Runs one chunk of a checker property in this thread. */
export function runChecker(corpus: FileRegistry, mode: CheckerMode, chunk: FuzzChunk): CheckerStats {
  const stats: CheckerStats = { runs: 0, compiled: 0, refused: 0, sizes: [], slowestMs: 0, elapsedMs: 0, seed: chunk.seed, sample: [] };
  const sound = fc.property(checkerTree, fc.nat(5), (tree, layout) => {
    const r = renderProtocol(tree, layout);
    const f = fuzzFile(r, layout);
    let start = performance.now();
    let res = compileInMemory(corpus, r, f);
    let ms = performance.now() - start;
    for (let again = 0; again < 2 && ms > SLOW_MS; again++) {
      start = performance.now(); // again: a GC pause or a busy machine may have hit the first run
      res = compileInMemory(corpus, r, f);
      ms = Math.min(ms, performance.now() - start);
    }
    stats.slowestMs = Math.max(stats.slowestMs, ms);
    stats.runs++;
    const problems = diagnosticProblems(res, f);
    if (ms > SLOW_MS) problems.push(`compiling took ${ms.toFixed(0)} ms`);
    for (const d of res.descriptors) {
      stats.compiled++;
      stats.sizes.push(d.edges.length);
      problems.push(...descriptorProblems(d, stats.runs % 4 === 0)); // the code of every fourth
      // Projection soundness: the typed API of every role offers exactly moves that can run, and can end.
      problems.push(...projectionViolations(d).map((v) => `${v.kind}: ${v.message}`));
      if (problems.length === 0 && stats.compiled % SAMPLE_EVERY === 0 && stats.sample.length < SAMPLE_MAX) stats.sample.push(f.source);
    }
    if (problems.length > 0) throw new Error(`${problems.join("\n")}\n--- source:\n${f.source}`);
  });
  // The same protocol laid out differently (line breaks, comments, where the literals go) must give
  // the same diagnostics (positions aside) and the same session code. And without the .proto source
  // (the plugin run without `root`), the same session code and diagnostics again, unless a `//`
  // comment that runs to the end of its literal is refused: where it ends is unknown then.
  const layout = fc.property(checkerTree, fc.integer({ min: 1, max: 5 }), (tree, k) => {
    const r0 = renderProtocol(tree, 0);
    const r1 = renderProtocol(tree, k);
    const f1 = fuzzFile(r1, k);
    const a = compileInMemory(corpus, r0, fuzzFile(r0, 0));
    const b = compileInMemory(corpus, r1, f1);
    // Without the source: layout 0 (no comments) every other run, so that most runs compile and compare.
    const [rc, fileC] = k % 2 === 0 ? [r0, fuzzFile(r0, 0)] : [r1, f1];
    const c = compileInMemory(corpus, rc, fileC, false);
    stats.runs++;
    if (a.descriptors.length > 0) stats.compiled++;
    if (JSON.stringify(strip(a)) !== JSON.stringify(strip(b)) || codes(a) !== codes(b)) {
      throw new Error(`layout 0:\n${fuzzFile(r0, 0).source}\n${strip(a).join("\n")} ${codes(a)}\nlayout ${k}:\n${f1.source}\n${strip(b).join("\n")} ${codes(b)}`);
    }
    const messages = (res: CompileResult) => [...new Set(strip(res))].sort();
    const refused = c.diagnostics.length === 1 && c.diagnostics[0]!.message.startsWith("a '//' comment in the protocol must end with '\\n'");
    if (refused) stats.refused++;
    const undelimited = rc.lines.some((l) => /\/\/[^\n]*$/.test(l)); // a literal with a comment to its end
    if (refused ? !undelimited : codes(b) !== codes(c) || JSON.stringify(messages(b)) !== JSON.stringify(messages(c))) {
      throw new Error(`with the source:\n${strip(b).join("\n")} ${codes(b)}\nwithout:\n${strip(c).join("\n")} ${codes(c)}\n--- source:\n${fileC.source}`);
    }
  });
  const start = performance.now();
  try {
    fc.assert(mode === "sound" ? sound : layout, fcParams(chunk));
  } catch (e: unknown) {
    stats.error = e instanceof Error ? e.message : String(e);
  }
  stats.elapsedMs = performance.now() - start;
  stats.sizes.sort((x, y) => x - y);
  return stats;
}

/** How many threads share a chunk (FUZZ_WORKERS, default: the cores, at most 4). */
export function workerCount(): number {
  const env = process.env["FUZZ_WORKERS"];
  return env !== undefined && env !== "" ? Math.max(1, Number.parseInt(env, 10)) : Math.min(4, availableParallelism());
}

/**
 * Runs a chunk split over worker threads: worker k runs its share with the chunk's seed + k * 1000003
 * (each worker prints its seed; FUZZ_SEED=<that seed> FUZZ_WORKERS=1 replays its run).
 */
export async function runCheckerParallel(image: Uint8Array, mode: CheckerMode, chunk: FuzzChunk, workers: number): Promise<CheckerStats[]> {
  const shares = Array.from({ length: workers }, (_, k) => Math.floor(chunk.numRuns / workers) + (k < chunk.numRuns % workers ? 1 : 0));
  return Promise.all(
    shares.map(
      (numRuns, k) =>
        new Promise<CheckerStats>((resolve, reject) => {
          // The worker is TypeScript: register tsx in it, then load the entry.
          const entry = new URL("./checker-worker.ts", import.meta.url).href;
          const boot = `import("tsx/esm/api").then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
          const w = new Worker(boot, {
            eval: true,
            resourceLimits: { maxOldGenerationSizeMb: 1536 }, // running out of memory fails the worker, not the process
            workerData: { image, mode, chunk: { ...chunk, seed: (chunk.seed + k * 1_000_003) | 0, numRuns } },
          });
          w.once("message", (s: CheckerStats) => resolve(s));
          w.once("error", reject);
          w.once("exit", (code) => (code !== 0 ? reject(new Error(`worker ${k} exited with ${code}`)) : undefined));
        }),
    ),
  );
}
