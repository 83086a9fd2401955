/**
 * Runs the Ws session on loopback twice: a city the worker knows (Reply)
 * and one it does not (Fault).
 *
 *   npx tsx examples/ws/main.ts
 */
import { demo, out } from "../support/scenario.js";
import { runC, serveW } from "./parties.js";

const populations = { Paris: 2_102_650n, Lyon: 522_250n };
for (const city of ["Paris", "Atlantis"]) {
  const answer = await demo(
    `Ws: c asks w for the population of ${city}`,
    { principals: ["client", "census"], roles: ["c", "w"] },
    (cluster, trace) => serveW(cluster.peer("census").runtime, cluster.peer("census").server, { populations, trace }),
    (cluster, trace) => runC(cluster.peer("client").runtime, { c: "client", w: "census" }, { city }, trace),
  );
  out(`  → ${answer}`);
}
