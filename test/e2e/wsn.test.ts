/**
 * Wsn over real gRPC on loopback: Fault at once; Reply then Fault; Reply and
 * three Extra/Reply rounds then Fault. An Extra about another query than the
 * Request's is refused (`where query == Request.query`).
 */
import test from "ava";
import { status } from "@grpc/grpc-js";
import { WsnC } from "../../gen/wsn/wsn_secsession.js";
import { SecSessionError } from "../../interceptors/index.js";
import { runC, serveW } from "../../examples/wsn/parties.js";
import { localCluster } from "../../examples/support/local-cluster.js";
import { runMain } from "../../examples/support/run-main.js";
import { honest, runSession } from "../../examples/support/scenario.js";
import { Trace } from "../../examples/support/trace.js";

const options = { principals: ["client", "fares"], roles: ["c", "w"] };
const bindings = { c: "client", w: "fares" };
const fares = { "CDG-JFK": [420n, 455n, 510n, 560n], "LYS-NCE": [89n] };

const collect = (route: string) =>
  runSession(
    options,
    (cluster, trace) => serveW(cluster.peer("fares").runtime, cluster.peer("fares").server, { fares, trace }),
    (cluster, trace) => runC(cluster.peer("client").runtime, bindings, { route }, trace),
  );

test("Wsn: Fault to the Request ends the session at once", async (t) => {
  const o = await collect("CDG-XXX");
  t.deepEqual(o.result, []);
  t.deepEqual(o.report, honest(options, ["c → w  Request(CDG-XXX)", "w → c  Fault"]));
});

test("Wsn: a Reply, then Fault to the first Extra", async (t) => {
  const o = await collect("LYS-NCE");
  t.deepEqual(o.result, [89n]);
  t.deepEqual(o.report, honest(options, ["c → w  Request(LYS-NCE)", "w → c  Reply(89)", "c → w  Extra(LYS-NCE)", "w → c  Fault"]));
});

test("Wsn: a Reply, three Extra/Reply rounds, then Fault", async (t) => {
  const o = await collect("CDG-JFK");
  t.deepEqual(o.result, [420n, 455n, 510n, 560n]);
  t.deepEqual(
    o.report,
    honest(options, [
      "c → w  Request(CDG-JFK)",
      "w → c  Reply(420)",
      ...[455, 510, 560].flatMap((f) => ["c → w  Extra(CDG-JFK)", `w → c  Reply(${f})`]),
      "c → w  Extra(CDG-JFK)",
      "w → c  Fault",
    ]),
  );
});

/** c asks about CDG-JFK, then sends an Extra about CDG-LHR. */
async function extraAboutAnotherQuery() {
  const cluster = localCluster(options.principals);
  const trace = new Trace();
  serveW(cluster.peer("fares").runtime, cluster.peer("fares").server, { fares, trace });
  return cluster.run(async () => {
    const s0 = await cluster.peer("client").runtime.start(WsnC, bindings);
    const first = await s0.request({ query: "CDG-JFK" });
    if (first.kind !== "requestReply") throw new Error("expected a Reply");
    const error = await first.next.extra({ query: "CDG-LHR" }).then(
      () => undefined,
      (e: unknown) => e as Error & { code?: number; kind?: string },
    );
    return { error, refused: cluster.refused(), alerts: cluster.alerts.map((a) => [a.at, a.kind]), saw: trace.saw() };
  });
}

test("Wsn: an Extra about another query is refused (value) and never reaches w's handler", async (t) => {
  const r = await extraAboutAnotherQuery();
  t.truthy(r.error, "the send rejects");
  t.is(r.error?.code, status.PERMISSION_DENIED);
  t.regex(r.error?.message ?? "", /secsession value: query must equal query of the earlier/);
  t.deepEqual(r.alerts, [["fares", "value"]]);
  t.deepEqual(r.refused, { client: {}, fares: { value: 1 } });
  t.deepEqual(r.saw, { w: ["c: Request(CDG-JFK)"] });
});

// Runtime gap: a send refused by the receiver rejects with grpc-js's ServiceError
// (code PERMISSION_DENIED, details "secsession value: …"), not a SecSessionError:
// SessionRuntime.call passes the gRPC error through (`if (err !== null) return reject(err)`),
// so the alert kind is only in the message text.
test("Wsn: the refused Extra's send rejects with a SecSessionError of kind value", async (t) => {
  const { error } = await extraAboutAnotherQuery();
  t.true(error instanceof SecSessionError);
  t.is(error?.kind, "value");
});

test("Wsn: main.ts runs and exits 0", (t) => {
  t.regex(runMain("wsn"), /Reply\(510\)\n.*c → w {2}Extra\(CDG-JFK\)\n.*w → c {2}Fault/);
});
