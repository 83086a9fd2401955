/**
 * Runs the Single session on loopback: a client files one print job.
 *
 *   npx tsx examples/single/main.ts
 */
import { demo, out } from "../support/scenario.js";
import { runC, serveW } from "./parties.js";

const queue: string[] = [];
await demo(
  "Single: c files a print job with w",
  { principals: ["client", "printer"], roles: ["c", "w"] },
  (cluster, trace) => serveW(cluster.peer("printer").runtime, cluster.peer("printer").server, { queue, trace }),
  (cluster, trace) => runC(cluster.peer("client").runtime, { c: "client", w: "printer" }, { job: "quarterly-report.pdf, 2 copies" }, trace),
);
out(`  print queue: ${JSON.stringify(queue)}`);
