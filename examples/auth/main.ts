/**
 * Runs the Auth session on loopback: c asks the gateway for a balance, the
 * gateway has d authenticate it and forwards it to w, w replies to c.
 *
 *   npx tsx examples/auth/main.ts
 */
import { demo, out } from "../support/scenario.js";
import { runC, serveA, serveC, serveD, serveW } from "./parties.js";

const balance = await demo(
  "Auth: c asks for the balance of FR76-0001 through gateway a",
  { principals: ["client", "gateway", "ledger", "idp"], roles: ["c", "a", "d", "w"] },
  (cluster, trace) => {
    serveC(cluster.peer("client").runtime, cluster.peer("client").server);
    serveA(cluster.peer("gateway").runtime, cluster.peer("gateway").server, { trace });
    serveD(cluster.peer("idp").runtime, cluster.peer("idp").server, { trace });
    serveW(cluster.peer("ledger").runtime, cluster.peer("ledger").server, { balances: { "FR76-0001": 125_000n }, trace });
  },
  (cluster, trace) => runC(cluster.peer("client").runtime, { c: "client", a: "gateway", w: "ledger", d: "idp" }, { account: "FR76-0001" }, trace),
);
out(`  → balance ${balance} cents`);
