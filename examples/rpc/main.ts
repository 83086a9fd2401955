/**
 * Runs the Rpc session on loopback: a client has a worker count words.
 *
 *   npx tsx examples/rpc/main.ts
 */
import { demo, out } from "../support/scenario.js";
import { runC, serveW } from "./parties.js";

const words = await demo(
  "Rpc: c asks w to count words",
  { principals: ["client", "worker"], roles: ["c", "w"] },
  (cluster, trace) => serveW(cluster.peer("worker").runtime, cluster.peer("worker").server, { trace }),
  (cluster, trace) => runC(cluster.peer("client").runtime, { c: "client", w: "worker" }, { text: "the quick brown fox jumps over the lazy dog" }, trace),
);
out(`  → ${words} words`);
