/**
 * Fuzzing the whole checker pipeline (plugin/compile.ts) on grammar-generated protocols over the
 * services of test/plugin/corpus/common.proto, as the plugin runs it (test/fuzz/harness.ts):
 * - it never throws and never hangs; it either reports well-formed diagnostics that point at a token
 *   of the .proto source, or emits a descriptor whose invariants hold (harness.ts: descriptorProblems);
 * - reformatting the .proto changes neither the diagnostics (positions aside) nor the session code,
 *   nor does compiling without the .proto source, unless it refuses a `//` comment that cannot be
 *   delimited without the source.
 * The runs of a chunk are shared by worker threads (FUZZ_WORKERS, default: the cores); see checker-run.ts.
 */
import test from "ava";
import { allowTime, fuzzChunks } from "./arbitraries.js";
import { runChecker, runCheckerParallel, workerCount, type CheckerMode, type CheckerStats } from "./checker-run.js";
import { typecheckGenerated } from "./checker-typecheck.js";
import { corpusImage, registryOfImage } from "./harness.js";

const SEED = 0x5e55_0003;
const image = corpusImage();
const workers = workerCount();

async function run(mode: CheckerMode, chunk: Parameters<typeof runChecker>[2]): Promise<{ parts: CheckerStats[]; wallMs: number }> {
  const start = performance.now();
  const parts = workers === 1 ? [runChecker(registryOfImage(image), mode, chunk)] : await runCheckerParallel(image, mode, chunk, workers);
  return { parts, wallMs: performance.now() - start };
}

const summary = (parts: CheckerStats[], wallMs: number) => {
  const runs = parts.reduce((n, p) => n + p.runs, 0);
  const seeds = parts.map((p) => `${p.seed} (${p.runs} runs, ${(p.elapsedMs / 1000).toFixed(1)} s)`).join(", ");
  return `${runs} runs in ${(wallMs / 1000).toFixed(2)} s wall on ${parts.length} thread(s) (${Math.round((runs / wallMs) * 1000)} cases/s); seeds ${seeds}`;
};

for (const chunk of fuzzChunks(SEED, 10_000, 600_000)) {
  test.serial(`the checker never throws and its output is sound${chunk.label}`, async (t) => {
    await allowTime(t, chunk.budgetMs + 30_000);
    const { parts, wallMs } = await run("sound", chunk);
    t.log(summary(parts, wallMs));
    const runs = parts.reduce((n, p) => n + p.runs, 0);
    const compiled = parts.reduce((n, p) => n + p.compiled, 0);
    const sizes = parts.flatMap((p) => p.sizes).sort((a, b) => a - b);
    const share = ((100 * compiled) / Math.max(1, runs)).toFixed(1);
    const slowest = Math.max(...parts.map((p) => p.slowestMs));
    t.log(`${share}% of generated protocols compile (${compiled}/${runs}); edges per compiled session: median ${sizes[sizes.length >> 1] ?? 0}, max ${sizes[sizes.length - 1] ?? 0}; slowest compile ${slowest.toFixed(1)} ms`);
    for (const p of parts) if (p.error !== undefined) t.fail(p.error);
    t.true(compiled / runs > 0.2, `only ${share}% compile: the generator lost its bias to well-formed protocols`);
    // A sample of the accepted protocols, through buf, protoc-es and the plugin, type-checked by tsc.
    const sample = parts.flatMap((p) => p.sample);
    const tc = typecheckGenerated(sample);
    t.log(`tsc: the code generated for ${tc.files} sampled sessions type-checks (${(tc.ms / 1000).toFixed(1)} s)`);
    t.is(tc.errors, "", "the generated code of a sampled session does not type-check");
    t.true(sample.length >= Math.min(10, compiled / 200), `only ${sample.length} sessions sampled for tsc`);
  });
}

for (const chunk of fuzzChunks(SEED + 1_000, 20_000, 600_000)) {
  test.serial(`neither reformatting the .proto nor compiling without it changes the diagnostics or the session code${chunk.label}`, async (t) => {
    await allowTime(t, chunk.budgetMs + 30_000);
    const { parts, wallMs } = await run("layout", chunk);
    t.log(summary(parts, wallMs));
    for (const p of parts) if (p.error !== undefined) t.fail(p.error);
    const runs = parts.reduce((n, p) => n + p.runs, 0);
    const compiled = parts.reduce((n, p) => n + p.compiled, 0);
    const refused = parts.reduce((n, p) => n + p.refused, 0);
    t.log(`${compiled} compiled (the same session code in every layout, with and without the source); without the source, ${refused} refused for a comment`);
    t.true(compiled - refused > 0.2 * runs, "too few protocols compile without the source: the property checks little");
  });
}
