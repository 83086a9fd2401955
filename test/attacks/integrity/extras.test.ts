/**
 * Unauthenticated extras (issue break 9): attestations and key updates a
 * receiver cannot check and nobody needs. The network can no longer add any
 * (the envelope MAC covers every byte); a compromised sender can, and the
 * receiver keeps only what belongs to a message it knows of and is addressed
 * to a role or principal that may still need it — so nothing injected rides
 * on. Kept whatever it was, 1 MiB injected once travelled with every later
 * message.
 */
import test from "ava";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { AttestationSchema, EnvelopeSchema } from "../../../gen/secsession/v1/envelope_pb.js";
import { SecSessionError } from "../../../interceptors/index.js";
import { without } from "../../../interceptors/monitor/defences.js";
import { forge } from "../../../examples/support/adversary/forge.js";
import { inlineSession, world } from "../../support/inline-session.js";

const CHAIN = `
syntax = "proto3";
package chain;
import "google/protobuf/empty.proto";
import "secsession/v1/options.proto";
option (secsession.v1.session) = {
  name: "Chain"
  roles: [ { name: "a" service: "A" }, { name: "b" service: "B" }, { name: "c" service: "C" } ]
  protocol: "rec L { choice at a { a -> b.Pass; b -> c.Pass; c -> a.Pass; continue L; } or { a -> b.Stop; b -> c.Stop; } }"
};
service A { rpc Pass(Msg) returns (google.protobuf.Empty); }
service B { rpc Pass(Msg) returns (google.protobuf.Empty); rpc Stop(Msg) returns (google.protobuf.Empty); }
service C { rpc Pass(Msg) returns (google.protobuf.Empty); rpc Stop(Msg) returns (google.protobuf.Empty); }
message Msg { string text = 1; }
`;

const session = inlineSession(CHAIN);
const JUNK = 4_000;

/** b, compromised, adds junk to its message to c (MACed with its own keys); returns what c then sends on to a. */
async function junkFromB() {
  const w = world(session, ["ann", "bea", "cid"]);
  const edge = (rpc: string) => session.descriptor.edges.find((e) => e.rpc === rpc)!;
  const [ab, bc, ca] = [edge("/chain.B/Pass"), edge("/chain.C/Pass"), edge("/chain.A/Pass")];
  const sid = (await w.party("ann", "a").start({ a: "ann", b: "bea", c: "cid" })).key;
  await w.unwrap("bea", ab, await w.wrap("ann", sid, ab, { text: "1" }), "ann");
  const b = w.party("bea", "b");
  const st = (await b.state(sid))!;
  const junk = Object.fromEntries(
    Array.from({ length: JUNK }, (_, i) => [`junk${i}`, { role: "a", target: `x${i}`, step: 1000n + BigInt(i), tag: new Uint8Array(32).fill(7), keyVersion: 1 }]),
  );
  const updates = Object.fromEntries(
    // Not made by the sender of the message at their step (ann did not send step 2; nobody called mallory did).
    Array.from({ length: 100 }, (_, i) => [`u${i}`, { from: i % 2 === 0 ? "ann" : "mallory", to: "ann", version: 9 + i, step: i % 2 === 0 ? 2n : 1n, body: { case: "ratchet" as const, value: new Uint8Array(32).fill(1) }, tag: new Uint8Array(32) }]),
  );
  const payload = toBinary(b.schema(bc.messageType), create(b.schema(bc.messageType), { text: "2" }));
  const bytes = forge(b, { ...st, carried: { ...st.carried, ...junk }, carriedUpdates: { ...st.carriedUpdates, ...updates } }, bc, payload);
  await w.unwrap("cid", bc, bytes, "bea");
  const next = await w.wrap("cid", sid, ca, { text: "3" });
  return { injected: bytes.length, next: fromBinary(EnvelopeSchema, next), w, sid };
}

test.serial("break 9: junk a compromised sender adds is accepted with its message but not kept: c's next message carries none of it", async (t) => {
  const r = await junkFromB();
  t.true(r.injected > 100_000, `b's envelope carried ${r.injected} bytes of junk`);
  t.false(r.next.attestations.some((a) => a.step >= 1000n), "no junk attestation rides on");
  t.false(r.next.keyUpdates.some((u) => u.version >= 9), "no junk key update rides on");
  t.true(toBinary(EnvelopeSchema, r.next).length < 2_000, "c's next envelope is small");
});

test.serial("break 9, defence off: kept whatever it is, the junk rides on with c's next message", async (t) => {
  const r = await without("extras", junkFromB);
  t.is(r.next.attestations.filter((a) => a.step >= 1000n).length, JUNK);
});

test.serial("break 9: the network cannot add extras at all: the envelope MAC refuses the message", async (t) => {
  const w = world(session, ["ann", "bea", "cid"]);
  const ab = session.descriptor.edges.find((e) => e.rpc === "/chain.B/Pass")!;
  const sid = (await w.party("ann", "a").start({ a: "ann", b: "bea", c: "cid" })).key;
  const env = fromBinary(EnvelopeSchema, await w.wrap("ann", sid, ab, { text: "1" }));
  env.attestations.push(...Array.from({ length: 1000 }, (_, i) => create(AttestationSchema, { role: "c", target: "b", step: BigInt(i + 5), tag: new Uint8Array(32) })));
  const e = await t.throwsAsync(w.unwrap("bea", ab, toBinary(EnvelopeSchema, env), "ann"), { instanceOf: SecSessionError });
  t.is(e?.kind, "bad-attestation");
  t.regex(e?.reason ?? "", /envelope MAC/);
});
