/**
 * Auth over real gRPC on loopback: c → a, a ⇒ d (Ok), a → w, w → c.
 */
import test from "ava";
import { runC, serveA, serveC, serveD, serveW } from "../../examples/auth/parties.js";
import { runMain } from "../../examples/support/run-main.js";
import { honest, runSession } from "../../examples/support/scenario.js";

const options = { principals: ["client", "gateway", "ledger", "idp"], roles: ["c", "a", "d", "w"] };

test("Auth: a has d authenticate the request before forwarding it; w replies to c", async (t) => {
  const o = await runSession(
    options,
    (cluster, trace) => {
      serveC(cluster.peer("client").runtime, cluster.peer("client").server);
      serveA(cluster.peer("gateway").runtime, cluster.peer("gateway").server, { trace });
      serveD(cluster.peer("idp").runtime, cluster.peer("idp").server, { trace });
      serveW(cluster.peer("ledger").runtime, cluster.peer("ledger").server, { balances: { "acct-1": 990n }, trace });
    },
    (cluster, trace) => runC(cluster.peer("client").runtime, { c: "client", a: "gateway", w: "ledger", d: "idp" }, { account: "acct-1" }, trace),
  );
  t.is(o.result, 990n);
  t.deepEqual(
    o.report,
    honest(options, ["c → a  Request(acct-1)", "a → d  Auth", "d → a  Ok", "a → w  Forward(acct-1)", "w → c  Reply(990)"]),
  );
});

test("Auth: main.ts runs and exits 0", (t) => {
  t.regex(runMain("auth"), /a → d {2}Auth\n.*d → a {2}Ok\n.*a → w {2}Forward\(FR76-0001\)/);
});
