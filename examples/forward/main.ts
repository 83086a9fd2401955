/**
 * Runs the Forward session on loopback: c asks p for a product's stock, p
 * forwards to w, w replies to c.
 *
 *   npx tsx examples/forward/main.ts
 */
import { demo, out } from "../support/scenario.js";
import { runC, serveC, serveP, serveW } from "./parties.js";

const stock = await demo(
  "Forward: c asks for the stock of sku-1234 through p",
  { principals: ["client", "proxy", "warehouse"], roles: ["c", "p", "w"] },
  (cluster, trace) => {
    serveC(cluster.peer("client").runtime, cluster.peer("client").server);
    serveP(cluster.peer("proxy").runtime, cluster.peer("proxy").server, { trace });
    serveW(cluster.peer("warehouse").runtime, cluster.peer("warehouse").server, { stock: { "SKU-1234": 17n }, trace });
  },
  (cluster, trace) => runC(cluster.peer("client").runtime, { c: "client", p: "proxy", w: "warehouse" }, { sku: "sku-1234" }, trace),
);
out(`  → ${stock} in stock`);
