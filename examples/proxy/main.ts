/**
 * Runs the Proxy session on loopback twice: a plain Forward resumed at once,
 * and an Audit where p has w retry twice before resuming.
 *
 *   npx tsx examples/proxy/main.ts
 */
import { demo } from "../support/scenario.js";
import { runC, serveC, serveP, serveW } from "./parties.js";

for (const { audit, retries } of [{ audit: false, retries: 0 }, { audit: true, retries: 2 }]) {
  await demo(
    `Proxy: p ${audit ? "audits" : "forwards"} the request, w retries ${retries} times`,
    { principals: ["client", "proxy", "worker"], roles: ["c", "p", "w"] },
    (cluster, trace) => {
      serveC(cluster.peer("client").runtime, cluster.peer("client").server);
      serveP(cluster.peer("proxy").runtime, cluster.peer("proxy").server, { audit, retries, trace });
      serveW(cluster.peer("worker").runtime, cluster.peer("worker").server, { trace });
    },
    (cluster, trace) => runC(cluster.peer("client").runtime, { c: "client", p: "proxy", w: "worker" }, trace),
  );
}
