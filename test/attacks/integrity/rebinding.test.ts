/**
 * A re-bound dynamic role (issue break 1). In
 *   c -> p.Query; rec L { choice at p { p -> w.Task bind w; w -> p.Done; continue L; }
 *                         or { p -> w.Stop bind w; w -> c.Result; } }
 * a compromised proxy and an outsider tell c a history in which the honest
 * worker-1 sent Done, although worker-1 never took part: the proxy "bound" w
 * to worker-1, then to the outsider, who sends the Result. Two defences stop
 * it, each on its own: a role is bound once per session (re-binding to
 * another principal is refused), and the speakers whose attestations the
 * receiver checks are (role, principal) pairs, so worker-1 would have to
 * attest its own Done. Switched off together, the attack succeeds, as it did
 * when attestations were checked per role against the principal bound last.
 */
import test from "ava";
import { create } from "@bufbuild/protobuf";
import { SecSessionError, type EvidenceEntry } from "../../../interceptors/index.js";
import { without } from "../../../interceptors/monitor/defences.js";
import { sealMessage } from "../../../interceptors/monitor/seal.js";
import { forge, pretend } from "../../../examples/support/adversary/forge.js";
import { inlineSession, world } from "../../support/inline-session.js";

const PROTO = `
syntax = "proto3";
package rebind;
import "google/protobuf/empty.proto";
import "secsession/v1/options.proto";
option (secsession.v1.session) = {
  name: "Rebind"
  roles: [ { name: "c" service: "Client" }, { name: "p" service: "Proxy" }, { name: "w" service: "Worker" dynamic: true } ]
  protocol: "c -> p.Query; rec L { choice at p { p -> w.Task bind w; w -> p.Done; continue L; } or { p -> w.Stop bind w; w -> c.Result; } }"
};
service Client { rpc Result(Msg) returns (google.protobuf.Empty); }
service Proxy { rpc Query(Msg) returns (google.protobuf.Empty); rpc Done(Msg) returns (google.protobuf.Empty); }
service Worker { rpc Task(Msg) returns (google.protobuf.Empty); rpc Stop(Msg) returns (google.protobuf.Empty); }
message Msg { string text = 1; }
`;

// Whatever the checker says of re-binding, the runtime must be sound: compiled past the checker.
const session = inlineSession(PROTO, { unchecked: true });

async function attack(): Promise<{ outcome: unknown; w: ReturnType<typeof world>; sid: string; before: number; evidence: EvidenceEntry[] }> {
  const evidence: EvidenceEntry[] = [];
  const w = world(session, ["client", "proxy", "worker-1", "outsider"], (id) => (id === "client" ? { evidence: { append: (e) => void evidence.push(e) } } : {}));
  const sid = (await w.party("client", "c").start({ c: "client", p: "proxy" })).key;
  const query = w.edge("Query", "oneway");
  await w.unwrap("proxy", query, await w.wrap("client", sid, query, { text: "balance?" }), "client");

  // The proxy makes up Task (binding w to worker-1) and worker-1's Done, then sends Stop binding w to the outsider.
  const proxy = w.party("proxy", "p");
  const [task, done, stop, result] = [w.edge("Task", "oneway"), w.edge("Done", "oneway"), w.edge("Stop", "oneway"), w.edge("Result", "oneway")];
  const lie = pretend(proxy, (await proxy.state(sid))!, [task, done], { w: "worker-1" });
  const unbound = Object.fromEntries(Object.entries(lie.principals).filter(([r]) => r !== "w")); // past the sender's own misuse check
  const stopped = sealMessage(proxy.ctx, { ...lie, principals: unbound }, stop, new Uint8Array(), [{ role: "w", principal: "outsider" }]);
  // The outsider, as w, sends c the Result with that history, carrying the proxy's attestation and key update for c.
  const forC = stopped.envelope.attestations.find((a) => a.role === "p" && a.target === "c")!;
  const updates = Object.fromEntries(
    stopped.envelope.keyUpdates
      .filter((u) => u.to === "client" && u.body.case !== undefined)
      .map((u) => [`${u.from}>${u.to}@${u.version}`, { from: u.from, to: u.to, version: u.version, step: u.step, body: { case: u.body.case!, value: u.body.value! }, tag: u.tag }]),
  );
  const st = {
    ...stopped.state,
    role: "w",
    pairs: {},
    carried: { "p>c": { role: forC.role, target: forC.target, step: forC.step, tag: forC.tag, keyVersion: forC.keyVersion } },
    carriedUpdates: updates,
  };
  const payload = create(w.party("outsider", "w").schema(result.messageType), { text: "0" });
  const bytes = forge(w.party("outsider", "w"), st, result, w.party("outsider", "w").core.encode(w.party("outsider", "w").schema(result.messageType), payload));
  const before = (await w.party("client", "c").state(sid))!.version;
  const outcome = await w.unwrap("client", result, bytes, "outsider").then(
    (r) => r,
    (e: unknown) => e,
  );
  return { outcome, w, sid, before, evidence };
}

const kindOf = (x: unknown) => (x instanceof SecSessionError ? x.kind : "accepted");

test.serial("a role bound once per session: re-binding w to another principal is refused, and c keeps no trace", async (t) => {
  const { outcome, w, sid, before } = await attack();
  t.is(kindOf(outcome), "value");
  t.regex((outcome as SecSessionError).reason, /binds role w to "outsider", but it is bound to "worker-1"/);
  t.is((await w.party("client", "c").state(sid))!.version, before, "c's state is as it was");
  t.is(w.runtimes["client"]!.metrics.refused.value, 1);
});

test.serial("without the re-binding check, the speakers' rule still refuses it: worker-1 never attested its Done", async (t) => {
  const { outcome } = await without("rebinding", attack);
  t.is(kindOf(outcome), "bad-attestation");
  t.regex((outcome as SecSessionError).reason, /missing attestation of w for step 3/);
});

test.serial("without both (attestations checked per role, against the principal bound last), c accepts worker-1's made-up Done", async (t) => {
  const { outcome, evidence } = await without("rebinding", () => without("speakers", attack));
  t.is(kindOf(outcome), "accepted");
  const items = evidence.flatMap((e) => (e.direction === "received" ? e.items : []));
  t.true(items.some((x) => x.bindings.some((b) => b.role === "w" && b.principal === "worker-1")), "c's evidence says w was bound to worker-1");
  t.true(items.some((x) => x.edge === session.descriptor.edges.find((e) => e.rpc.endsWith("/Done"))!.id), "and that w sent Done");
});
