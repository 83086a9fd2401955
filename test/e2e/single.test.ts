/**
 * Single over real gRPC on loopback: the one message, and several sessions
 * in a row between the same peers.
 */
import test from "ava";
import { runC, serveW } from "../../examples/single/parties.js";
import { runMain } from "../../examples/support/run-main.js";
import { honest, runSession } from "../../examples/support/scenario.js";

const options = { principals: ["client", "printer"], roles: ["c", "w"] };

test("Single: c's request reaches w, and both parts end", async (t) => {
  const queue: string[] = [];
  const o = await runSession(
    options,
    (cluster, trace) => serveW(cluster.peer("printer").runtime, cluster.peer("printer").server, { queue, trace }),
    (cluster, trace) => runC(cluster.peer("client").runtime, { c: "client", w: "printer" }, { job: "invoice-17.pdf" }, trace),
  );
  t.deepEqual(queue, ["invoice-17.pdf"]);
  t.deepEqual(o.report, honest(options, ["c → w  Request(invoice-17.pdf)"]));
});

test("Single: three sessions in a row are three independent sessions", async (t) => {
  const queue: string[] = [];
  const jobs = ["a.pdf", "b.pdf", "c.pdf"];
  const o = await runSession(
    options,
    (cluster, trace) => serveW(cluster.peer("printer").runtime, cluster.peer("printer").server, { queue, trace }),
    async (cluster, trace) => {
      for (const job of jobs) await runC(cluster.peer("client").runtime, { c: "client", w: "printer" }, { job }, trace);
    },
  );
  t.deepEqual(queue, jobs);
  t.deepEqual(o.report, honest(options, jobs.map((j) => `c → w  Request(${j})`)));
  t.is(o.accepted["printer"], 3);
});

test("Single: main.ts runs and exits 0", (t) => {
  t.regex(runMain("single"), /c → w {2}Request\(quarterly-report\.pdf, 2 copies\)/);
});
