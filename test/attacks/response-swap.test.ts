/**
 * A response belongs to the session of its call. A client running two
 * sessions at once waits for two responses on the same rpc; the network
 * hands each call the other session's response. Both responses are genuine
 * and valid in their own session, so only the session of the call can tell:
 * without that check each call accepts the other's response, advances the
 * other session's state, and the application reads the other session's data.
 */
import test from "ava";
import { status } from "@grpc/grpc-js";
import { RpcC, RpcSession } from "../../gen/rpc/rpc_secsession.js";
import { runC, serveW } from "../../examples/rpc/parties.js";
import { decode, mitm } from "../../examples/support/adversary/mitm.js";
import { without } from "../../interceptors/monitor/defences.js";
import { SecSessionError, type SecurityAlert } from "../../interceptors/index.js";
import { cluster } from "../support/parties.js";

const bindings = { c: "client", w: "worker" };
const texts = ["one two three", "four five"];

async function swapped() {
  const c = cluster(["client", "worker"]);
  const alerts: SecurityAlert[] = [];
  c.peers["client"]!.runtime.on("securityAlert", (a) => alerts.push(a));
  serveW(c.peers["worker"]!.runtime, c.peers["worker"]!.server);
  await c.listen();
  const real = c.addresses["worker"]!;
  const proxy = await mitm(() => real, [RpcSession.edges[0]!.rpc]);
  const held: Array<{ bytes: Uint8Array; give: (b: Uint8Array) => void }> = [];
  const versions: Record<string, number | undefined> = {};
  const party = c.peers["client"]!.runtime.party(RpcC);
  proxy.policy = async (path, bytes, forward) => {
    const o = await forward(path, bytes);
    if (!o.ok) return o;
    const sid = Buffer.from(decode(o.bytes).sessionId).toString("hex");
    versions[sid] = (await party.state(sid))?.version;
    const other = await new Promise<Uint8Array>((give) => {
      held.push({ bytes: o.bytes, give });
      if (held.length === 2) {
        held[0]!.give(held[1]!.bytes);
        held[1]!.give(held[0]!.bytes);
      }
    });
    return { ok: true, bytes: other };
  };
  c.addresses["worker"] = proxy.address;
  try {
    const results = await Promise.allSettled(texts.map((text) => runC(c.peers["client"]!.runtime, bindings, { text })));
    const after: Record<string, number | undefined> = {};
    for (const sid of Object.keys(versions)) after[sid] = (await party.state(sid))?.version;
    return { results, alerts, before: versions, after };
  } finally {
    await c.close();
    proxy.close();
  }
}

test.serial("a response from another concurrent session is refused, and changes no session", async (t) => {
  const { results, alerts, before, after } = await swapped();
  for (const r of results) {
    t.is(r.status, "rejected");
    if (r.status === "rejected") {
      t.true(r.reason instanceof SecSessionError, String(r.reason));
      t.is((r.reason as SecSessionError).kind, "not-addressed");
      t.is((r.reason as SecSessionError).code, status.PERMISSION_DENIED);
    }
  }
  t.deepEqual(alerts.map((a) => a.kind), ["not-addressed", "not-addressed"]);
  t.deepEqual(after, before, "neither session's state moved");
});

test.serial("without the check, each call takes the other session's response as its own", async (t) => {
  const { results, after, before } = await without("responseSession", swapped);
  t.deepEqual(
    results.map((r) => (r.status === "fulfilled" ? r.value : "failed")),
    [2n, 3n],
    "the caller who asked about three words was told two, and the other way round",
  );
  t.notDeepEqual(after, before);
});
