/**
 * Ws over real gRPC on loopback: both response branches (Reply, Fault).
 */
import test from "ava";
import { runC, serveW } from "../../examples/ws/parties.js";
import { runMain } from "../../examples/support/run-main.js";
import { honest, runSession } from "../../examples/support/scenario.js";

const options = { principals: ["client", "census"], roles: ["c", "w"] };
const populations = { Paris: 2_102_650n, Lyon: 522_250n };

const ask = (city: string) =>
  runSession(
    options,
    (cluster, trace) => serveW(cluster.peer("census").runtime, cluster.peer("census").server, { populations, trace }),
    (cluster, trace) => runC(cluster.peer("client").runtime, { c: "client", w: "census" }, { city }, trace),
  );

test("Ws: a known city gets a Reply", async (t) => {
  const o = await ask("Lyon");
  t.is(o.result, 522_250n);
  t.deepEqual(o.report, honest(options, ["c → w  Request(Lyon)", "w → c  Reply(522250)"]));
});

test("Ws: an unknown city gets a Fault", async (t) => {
  const o = await ask("Atlantis");
  t.is(o.result, "fault");
  t.deepEqual(o.report, honest(options, ["c → w  Request(Atlantis)", "w → c  Fault"]));
});

test("Ws: main.ts runs both branches and exits 0", (t) => {
  t.regex(runMain("ws"), /w → c {2}Reply\(2102650\)[\s\S]*w → c {2}Fault/);
});
