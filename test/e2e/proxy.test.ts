/**
 * Proxy over real gRPC on loopback: both branches of p's choice (Forward,
 * Audit) × both response branches of Details (Resume at once; Retry three
 * times, then Resume).
 */
import test from "ava";
import { runC, serveC, serveP, serveW } from "../../examples/proxy/parties.js";
import { runMain } from "../../examples/support/run-main.js";
import { honest, runSession } from "../../examples/support/scenario.js";

const options = { principals: ["client", "proxy", "worker"], roles: ["c", "p", "w"] };

for (const audit of [false, true]) {
  for (const retries of [0, 3]) {
    const how = audit ? "Audit" : "Forward";
    test(`Proxy: p chooses ${how}, w is told Retry ${retries} times, then Resume`, async (t) => {
      const o = await runSession(
        options,
        (cluster, trace) => {
          serveC(cluster.peer("client").runtime, cluster.peer("client").server);
          serveP(cluster.peer("proxy").runtime, cluster.peer("proxy").server, { audit, retries, trace });
          serveW(cluster.peer("worker").runtime, cluster.peer("worker").server, { trace });
        },
        (cluster, trace) => runC(cluster.peer("client").runtime, { c: "client", p: "proxy", w: "worker" }, trace),
      );
      const retry = Array.from({ length: retries }, () => ["w → p  Details", "p → w  Retry"]).flat();
      t.deepEqual(
        o.report,
        honest(options, ["c → p  Request", `p → w  ${how}`, ...retry, "w → p  Details", "p → w  Resume", "w → c  Reply"]),
      );
    });
  }
}

test("Proxy: main.ts runs and exits 0", (t) => {
  t.regex(runMain("proxy"), /p → w {2}Forward\n.*w → p {2}Details\n.*p → w {2}Resume[\s\S]*p → w {2}Audit\n(.*(Details|Retry)\n){5}.*p → w {2}Resume\n.*w → c {2}Reply/);
});
