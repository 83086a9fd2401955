/**
 * Wsne over real gRPC on loopback: Fault at once; Reply then Exit; Reply,
 * three Extra/Reply rounds, then Exit; Reply then Fault to an Extra; Reply,
 * three Extra/Reply rounds, then Fault. An Extra about another query than the
 * Request's is refused (`where query == Request.query`).
 */
import test from "ava";
import { status } from "@grpc/grpc-js";
import { WsneC } from "../../gen/wsne/wsne_secsession.js";
import { SecSessionError } from "../../interceptors/index.js";
import { runC, serveW } from "../../examples/wsne/parties.js";
import { localCluster } from "../../examples/support/local-cluster.js";
import { runMain } from "../../examples/support/run-main.js";
import { honest, runSession } from "../../examples/support/scenario.js";
import { Trace } from "../../examples/support/trace.js";

const options = { principals: ["client", "fares"], roles: ["c", "w"] };
const bindings = { c: "client", w: "fares" };
const fares = { "CDG-JFK": [420n, 455n, 510n, 560n, 615n], "LYS-NCE": [89n], "ORY-BIA": [70n, 75n, 80n, 95n] };

const collect = (route: string, wanted: number) =>
  runSession(
    options,
    (cluster, trace) => serveW(cluster.peer("fares").runtime, cluster.peer("fares").server, { fares, trace }),
    (cluster, trace) => runC(cluster.peer("client").runtime, bindings, { route, wanted }, trace),
  );
const rounds = (route: string, fares: number[]) => fares.flatMap((f) => [`c → w  Extra(${route})`, `w → c  Reply(${f})`]);

test("Wsne: Fault to the Request ends the session at once", async (t) => {
  const o = await collect("CDG-XXX", 3);
  t.deepEqual(o.result, []);
  t.deepEqual(o.report, honest(options, ["c → w  Request(CDG-XXX)", "w → c  Fault"]));
});

test("Wsne: a Reply, then c exits", async (t) => {
  const o = await collect("CDG-JFK", 1);
  t.deepEqual(o.result, [420n]);
  t.deepEqual(o.report, honest(options, ["c → w  Request(CDG-JFK)", "w → c  Reply(420)", "c → w  Exit"]));
});

test("Wsne: a Reply, three Extra/Reply rounds, then c exits", async (t) => {
  const o = await collect("CDG-JFK", 4);
  t.deepEqual(o.result, [420n, 455n, 510n, 560n]);
  t.deepEqual(o.report, honest(options, ["c → w  Request(CDG-JFK)", "w → c  Reply(420)", ...rounds("CDG-JFK", [455, 510, 560]), "c → w  Exit"]));
});

test("Wsne: a Reply, then Fault to the first Extra", async (t) => {
  const o = await collect("LYS-NCE", 5);
  t.deepEqual(o.result, [89n]);
  t.deepEqual(o.report, honest(options, ["c → w  Request(LYS-NCE)", "w → c  Reply(89)", "c → w  Extra(LYS-NCE)", "w → c  Fault"]));
});

test("Wsne: a Reply, three Extra/Reply rounds, then Fault", async (t) => {
  const o = await collect("ORY-BIA", 10);
  t.deepEqual(o.result, [70n, 75n, 80n, 95n]);
  t.deepEqual(
    o.report,
    honest(options, ["c → w  Request(ORY-BIA)", "w → c  Reply(70)", ...rounds("ORY-BIA", [75, 80, 95]), "c → w  Extra(ORY-BIA)", "w → c  Fault"]),
  );
});

/** c asks about CDG-JFK, then sends an Extra about CDG-LHR. */
async function extraAboutAnotherQuery() {
  const cluster = localCluster(options.principals);
  const trace = new Trace();
  serveW(cluster.peer("fares").runtime, cluster.peer("fares").server, { fares, trace });
  return cluster.run(async () => {
    const s0 = await cluster.peer("client").runtime.start(WsneC, bindings);
    const first = await s0.request({ query: "CDG-JFK" });
    if (first.kind !== "requestReply") throw new Error("expected a Reply");
    const error = await first.next.extra({ query: "CDG-LHR" }).then(
      () => undefined,
      (e: unknown) => e as Error & { code?: number; kind?: string },
    );
    return { error, refused: cluster.refused(), alerts: cluster.alerts.map((a) => [a.at, a.kind]), saw: trace.saw() };
  });
}

test("Wsne: an Extra about another query is refused (value) and never reaches w's handler", async (t) => {
  const r = await extraAboutAnotherQuery();
  t.truthy(r.error, "the send rejects");
  t.is(r.error?.code, status.PERMISSION_DENIED);
  t.regex(r.error?.message ?? "", /secsession value: query must equal query of the earlier/);
  t.deepEqual(r.alerts, [["fares", "value"]]);
  t.deepEqual(r.refused, { client: {}, fares: { value: 1 } });
  t.deepEqual(r.saw, { w: ["c: Request(CDG-JFK)"] });
});

// Runtime gap (as in wsn.test.ts): the refused send rejects with grpc-js's ServiceError,
// not a SecSessionError; the alert kind is only in the message text.
test("Wsne: the refused Extra's send rejects with a SecSessionError of kind value", async (t) => {
  const { error } = await extraAboutAnotherQuery();
  t.true(error instanceof SecSessionError);
  t.is(error?.kind, "value");
});

test("Wsne: main.ts runs and exits 0", (t) => {
  t.regex(runMain("wsne"), /Reply\(510\)\n.*c → w {2}Exit[\s\S]*Reply\(120\)\n.*c → w {2}Extra\(LYS-NCE\)\n.*w → c {2}Fault/);
});
