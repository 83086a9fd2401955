/**
 * Commit over real gRPC on loopback: every combination of the two bits; an
 * honest Reveal opens the commitment (SHA-256 of the Reveal's protobuf
 * bytes); a Reveal of another bit is refused (value) and w never sees it.
 */
import test from "ava";
import { status } from "@grpc/grpc-js";
import { CommitC } from "../../gen/commit/commit_secsession.js";
import { SecSessionError } from "../../interceptors/index.js";
import { commitTo, runC, serveW, type Coin } from "../../examples/commit/parties.js";
import { localCluster } from "../../examples/support/local-cluster.js";
import { runMain } from "../../examples/support/run-main.js";
import { honest, runSession } from "../../examples/support/scenario.js";
import { Trace } from "../../examples/support/trace.js";

const options = { principals: ["caller", "worker"], roles: ["c", "w"] };
const bindings = { c: "caller", w: "worker" };

for (const [x, y, coin] of [[false, false, "tails"], [false, true, "heads"], [true, false, "heads"], [true, true, "tails"]] as const) {
  test(`Commit: c commits to ${x}, w flips ${y}, the honest Reveal opens the commitment (${coin})`, async (t) => {
    const coins: Coin[] = [];
    const o = await runSession(
      options,
      (cluster, trace) => serveW(cluster.peer("worker").runtime, cluster.peer("worker").server, { flip: () => y, trace, onCoin: (c) => coins.push(c) }),
      (cluster, trace) => runC(cluster.peer("caller").runtime, bindings, { value: x }, trace),
    );
    t.is(o.result, coin);
    t.deepEqual(coins, [coin], "w computes the same coin");
    t.deepEqual(o.report, honest(options, ["c → w  Commit(32 bytes)", `w → c  Flip(${y})`, `c → w  Reveal(${x})`]));
  });
}

/** c commits to true, sees w's bit, then reveals false (same salt). */
async function changeOfMind() {
  const cluster = localCluster(options.principals);
  const trace = new Trace();
  serveW(cluster.peer("worker").runtime, cluster.peer("worker").server, { flip: () => true, trace });
  return cluster.run(async () => {
    const { reveal, commitment } = commitTo(true);
    const s0 = await cluster.peer("caller").runtime.start(CommitC, bindings);
    const flip = await s0.commit({ commitment });
    const error = await flip.next.reveal({ ...reveal, value: false }).then(
      () => undefined,
      (e: unknown) => e as Error & { code?: number; kind?: string },
    );
    return { error, refused: cluster.refused(), alerts: cluster.alerts.map((a) => [a.at, a.kind]), saw: trace.saw() };
  });
}

test("Commit: a Reveal of another bit does not open the commitment: refused (value), w never sees it", async (t) => {
  const r = await changeOfMind();
  t.truthy(r.error, "the send rejects");
  t.is(r.error?.code, status.PERMISSION_DENIED);
  t.regex(r.error?.message ?? "", /secsession value: the payload does not open the earlier commitment/);
  t.deepEqual(r.alerts, [["worker", "value"]]);
  t.deepEqual(r.refused, { caller: {}, worker: { value: 1 } });
  t.deepEqual(r.saw, { w: ["c: Commit(32 bytes)"] });
});

// Runtime gap: a send refused by the receiver rejects with grpc-js's ServiceError
// (code PERMISSION_DENIED, details "secsession value: …"), not a SecSessionError:
// SessionRuntime.call passes the gRPC error through (`if (err !== null) return reject(err)`),
// so the alert kind is only in the message text.
test("Commit: the refused Reveal's send rejects with a SecSessionError of kind value", async (t) => {
  const { error } = await changeOfMind();
  t.true(error instanceof SecSessionError);
  t.is(error?.kind, "value");
});

test("Commit: main.ts runs and exits 0", (t) => {
  const output = runMain("commit");
  t.regex(output, /w → c {2}Flip\(false\)\n.*c → w {2}Reveal\(true\)\n.*→ heads/);
  t.regex(output, /refused by worker \(value\): the payload does not open the earlier commitment/);
});
