/**
 * Runs the Wsn session on loopback: c pages through the fares of a route
 * (a Reply, two Extra/Reply rounds, then Fault), then asks about a route w
 * does not serve (Fault at once).
 *
 *   npx tsx examples/wsn/main.ts
 */
import { demo, out } from "../support/scenario.js";
import { runC, serveW } from "./parties.js";

const fares = { "CDG-JFK": [420n, 455n, 510n] };
for (const route of ["CDG-JFK", "CDG-XXX"]) {
  const got = await demo(
    `Wsn: c asks w for every fare of ${route}`,
    { principals: ["client", "fares"], roles: ["c", "w"] },
    (cluster, trace) => serveW(cluster.peer("fares").runtime, cluster.peer("fares").server, { fares, trace }),
    (cluster, trace) => runC(cluster.peer("client").runtime, { c: "client", w: "fares" }, { route }, trace),
  );
  out(`  → fares: ${got.join(", ") || "none"}`);
}
