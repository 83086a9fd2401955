/**
 * Forward over real gRPC on loopback: c → p → w → c.
 */
import test from "ava";
import { runC, serveC, serveP, serveW } from "../../examples/forward/parties.js";
import { runMain } from "../../examples/support/run-main.js";
import { honest, runSession } from "../../examples/support/scenario.js";

const options = { principals: ["client", "proxy", "warehouse"], roles: ["c", "p", "w"] };

test("Forward: p forwards c's request, w replies to c directly", async (t) => {
  const o = await runSession(
    options,
    (cluster, trace) => {
      serveC(cluster.peer("client").runtime, cluster.peer("client").server);
      serveP(cluster.peer("proxy").runtime, cluster.peer("proxy").server, { trace });
      serveW(cluster.peer("warehouse").runtime, cluster.peer("warehouse").server, { stock: { "SKU-9": 4n }, trace });
    },
    (cluster, trace) => runC(cluster.peer("client").runtime, { c: "client", p: "proxy", w: "warehouse" }, { sku: "sku-9" }, trace),
  );
  t.is(o.result, 4n);
  t.deepEqual(o.report, honest(options, ["c → p  Request(sku-9)", "p → w  Forward(SKU-9)", "w → c  Reply(4)"]));
});

test("Forward: main.ts runs and exits 0", (t) => {
  t.regex(runMain("forward"), /c → p {2}Request\(sku-1234\)\n.*p → w {2}Forward\(SKU-1234\)\n.*w → c {2}Reply\(17\)/);
});
