/**
 * Rpc over real gRPC on loopback: the request and its response.
 */
import test from "ava";
import { runC, serveW } from "../../examples/rpc/parties.js";
import { runMain } from "../../examples/support/run-main.js";
import { honest, runSession } from "../../examples/support/scenario.js";

const options = { principals: ["client", "worker"], roles: ["c", "w"] };

test("Rpc: w answers c's request", async (t) => {
  const o = await runSession(
    options,
    (cluster, trace) => serveW(cluster.peer("worker").runtime, cluster.peer("worker").server, { trace }),
    (cluster, trace) => runC(cluster.peer("client").runtime, { c: "client", w: "worker" }, { text: "to be or not to be" }, trace),
  );
  t.is(o.result, 6n);
  t.deepEqual(o.report, honest(options, ["c → w  Request(to be or not to be)", "w → c  Reply(6)"]));
});

test("Rpc: main.ts runs and exits 0", (t) => {
  t.regex(runMain("rpc"), /w → c {2}Reply\(9\)/);
});
