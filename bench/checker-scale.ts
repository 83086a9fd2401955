/**
 * Checker scaling benchmark: the time `compileFile` (check, global graph, binding and knowledge of
 * choice, projection and minimisation, descriptor) takes in process, against the size of the
 * protocol, for three families of generated sessions over test/plugin/corpus/common.proto:
 * - chain: n one-way messages between a and b, alternating;
 * - observer: n - 1 messages between a and b, then one to c (c's first local state stands for
 *   the whole protocol);
 * - choices: n / 4 choices in a row, each `choice at a { a -> b.Ping; b -> a.Ping; } or { a -> b.Pong;
 *   b -> a.Pong; }`, then one message to c, which never learns the branches (its future is the same).
 *
 *   npm run bench:checker [-- --runs 3] [--sizes 200,400,800,1600]
 */
import { performance } from "node:perf_hooks";
import type { SessionDescriptor } from "../interceptors/descriptor/types.js";
import { formatDiagnostic } from "../plugin/language/diagnostic.js";
import { bufRegistry, compileBuilt, COMMON_FILE } from "../test/fuzz/harness.js";

export type Family = "chain" | "observer" | "choices";
export const FAMILIES: readonly Family[] = ["chain", "observer", "choices"];

/** The protocol lines of a family's session of about `n` messages. */
export function familyProtocol(family: Family, n: number): string[] {
  const alternate = (k: number) => Array.from({ length: k }, (_, i) => (i % 2 === 0 ? "a -> b.Ping;" : "b -> a.Ping;"));
  switch (family) {
    case "chain":
      return alternate(n);
    case "observer": {
      const lines = alternate(n - 1);
      return [...lines, `${(n - 1) % 2 === 0 ? "a" : "b"} -> c.Ping;`];
    }
    case "choices": {
      const lines: string[] = [];
      for (let i = 0; i < Math.floor(n / 4); i++) lines.push("choice at a { a -> b.Ping; b -> a.Ping; } or { a -> b.Pong; b -> a.Pong; }");
      return [...lines, "a -> c.Ping;"];
    }
  }
}

/** The .proto source of a family's session. */
export function familySource(family: Family, n: number): string {
  const roles = family === "chain" ? '[{ name: "a" service: "corpus.A" }, { name: "b" service: "corpus.B" }]' : '[{ name: "a" service: "corpus.A" }, { name: "b" service: "corpus.B" }, { name: "c" service: "corpus.C" }]';
  return [
    'syntax = "proto3";',
    "package scale;",
    `import "${COMMON_FILE}";`,
    'import "secsession/v1/options.proto";',
    "option (secsession.v1.session) = {",
    '  name: "Scale"',
    `  roles: ${roles}`,
    "  protocol:",
    ...familyProtocol(family, n).map((l) => `    ${JSON.stringify(l)}`),
    "};",
    "",
  ].join("\n");
}

/** A compiler of one family's session, built by buf once: each call checks and compiles it in process. */
export function familyCompiler(family: Family, n: number): () => { descriptor: SessionDescriptor; ms: number; cpuMs: number } {
  const built = bufRegistry({ "scale/scale.proto": familySource(family, n) });
  return () => {
    const start = performance.now();
    const cpu = process.cpuUsage();
    const res = compileBuilt(built, "scale/scale.proto");
    const ms = performance.now() - start;
    const used = process.cpuUsage(cpu);
    if (res.descriptors.length !== 1) throw new Error(`${family} ${n}: ${res.diagnostics.map(formatDiagnostic).join("; ")}`);
    // CPU time of the process (the compile is synchronous): what other work on the machine adds to wall time, it leaves out.
    return { descriptor: res.descriptors[0]!, ms, cpuMs: (used.user + used.system) / 1000 };
  };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const opt = (name: string): string | undefined => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const runs = Number(opt("runs") ?? "3");
  const sizes = (opt("sizes") ?? "300,600,1200,2400").split(",").map(Number);
  // Warm-up, so that the smallest sizes do not measure the JIT compiling the checker.
  for (const family of FAMILIES) {
    const warm = familyCompiler(family, 200);
    for (let i = 0; i < 5; i++) warm();
  }
  console.log(`checker scaling: best of ${runs} in-process compiles (check, graph, knowledge of choice, projection, descriptor), after a warm-up\n`);
  console.log("| family | messages | global states | edges | local states (all roles) | compile ms | µs per message |");
  console.log("| --- | --- | --- | --- | --- | --- | --- |");
  for (const family of FAMILIES) {
    for (const n of sizes) {
      const compile = familyCompiler(family, n);
      let best = Infinity;
      let d: SessionDescriptor | undefined;
      for (let r = 0; r < runs; r++) {
        const x = compile();
        best = Math.min(best, x.ms);
        d = x.descriptor;
      }
      const local = Object.values(d!.projections).reduce((k, p) => k + p.states.length, 0);
      console.log(`| ${family} | ${d!.edges.length} | ${d!.states.length} | ${d!.edges.length} | ${local} | ${best.toFixed(1)} | ${((1000 * best) / d!.edges.length).toFixed(0)} |`);
    }
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
