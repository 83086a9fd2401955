/**
 * Runs the Wsne session on loopback: c wants three fares of a route w has
 * five of (Reply, two Extra/Reply rounds, Exit), then wants every fare of a
 * route w has two of (Reply, Extra/Reply, Extra/Fault).
 *
 *   npx tsx examples/wsne/main.ts
 */
import { demo, out } from "../support/scenario.js";
import { runC, serveW } from "./parties.js";

const fares = { "CDG-JFK": [420n, 455n, 510n, 560n, 615n], "LYS-NCE": [89n, 120n] };
for (const [route, wanted] of [["CDG-JFK", 3], ["LYS-NCE", 10]] as const) {
  const got = await demo(
    `Wsne: c wants up to ${wanted} fares of ${route}`,
    { principals: ["client", "fares"], roles: ["c", "w"] },
    (cluster, trace) => serveW(cluster.peer("fares").runtime, cluster.peer("fares").server, { fares, trace }),
    (cluster, trace) => runC(cluster.peer("client").runtime, { c: "client", w: "fares" }, { route, wanted }, trace),
  );
  out(`  → fares: ${got.join(", ")}`);
}
