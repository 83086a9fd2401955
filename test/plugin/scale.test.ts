/**
 * The checker scales: in-process `compileFile` of a 1,600-message chain and of a 2,400-message
 * protocol with an observer (a role whose first local state stands for the whole protocol) each
 * take under a second of CPU time (best of three, so that one GC pause does not decide; CPU rather than wall
 * time, so that other work on a shared machine does not either), and
 * a protocol of 600 choices that a third role never learns stays under two. bench/checker-scale.ts
 * prints the table of time against size.
 */
import test from "ava";
import { familyCompiler, type Family } from "../../bench/checker-scale.js";

const cases: ReadonlyArray<[Family, number, number]> = [
  ["chain", 1600, 1000],
  ["observer", 2400, 1000],
  ["choices", 2400, 2000],
];

for (const [family, n, budget] of cases) {
  test.serial(`checking and compiling the ${family} protocol of ${n} messages takes under ${budget} ms`, (t) => {
    t.timeout(120_000);
    const compile = familyCompiler(family, n);
    const times: number[] = [];
    const walls: number[] = [];
    let edges = 0;
    for (let i = 0; i < 3; i++) {
      const r = compile();
      times.push(r.cpuMs);
      walls.push(r.ms);
      edges = r.descriptor.edges.length;
    }
    const best = Math.min(...times);
    t.log(`${edges} edges: CPU ${times.map((x) => x.toFixed(0)).join(", ")} ms (wall ${walls.map((x) => x.toFixed(0)).join(", ")} ms)`);
    t.true(edges >= n, `${edges} edges`);
    t.true(best < budget, `best of three: ${best.toFixed(0)} ms of CPU`);
  });
}
