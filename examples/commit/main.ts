/**
 * Runs the Commit session on loopback: two honest coin flips, then a caller
 * that tries to change its bit after seeing the worker's — its Reveal does
 * not open its commitment, and the worker's runtime refuses it.
 *
 *   npx tsx examples/commit/main.ts
 */
import { CommitC } from "../../gen/commit/commit_secsession.js";
import { localCluster } from "../support/local-cluster.js";
import { demo, out } from "../support/scenario.js";
import { commitTo, runC, serveW } from "./parties.js";

const bindings = { c: "caller", w: "worker" };
for (const [mine, theirs] of [[true, false], [true, true]] as const) {
  const coin = await demo(
    `Commit: c commits to ${mine}, w flips ${theirs}`,
    { principals: ["caller", "worker"], roles: ["c", "w"] },
    (cluster, trace) => serveW(cluster.peer("worker").runtime, cluster.peer("worker").server, { flip: () => theirs, trace }),
    (cluster, trace) => runC(cluster.peer("caller").runtime, bindings, { value: mine }, trace),
  );
  out(`  → ${coin}`);
}

out("\nCommit: c commits to true, sees w's flip, then reveals false instead");
const cluster = localCluster(["caller", "worker"]);
serveW(cluster.peer("worker").runtime, cluster.peer("worker").server, { flip: () => true });
await cluster.run(async () => {
  const { reveal, commitment } = commitTo(true);
  const s0 = await cluster.peer("caller").runtime.start(CommitC, bindings);
  const flip = await s0.commit({ commitment });
  try {
    await flip.next.reveal({ ...reveal, value: false });
    out("  → the changed Reveal was DELIVERED");
    process.exitCode = 1;
  } catch (e: unknown) {
    const alert = cluster.alerts[0];
    out(`  → refused by ${alert?.at} (${alert?.kind}): ${alert?.reason}`);
    if (alert?.kind !== "value") process.exitCode = 1;
  }
});
