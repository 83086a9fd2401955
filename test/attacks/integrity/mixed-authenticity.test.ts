/**
 * Directions without authenticity between authenticated ones (issue breaks
 * 2 and 3).
 *
 * Break 2: a sends an authenticated Order, later a Note on a direction with
 * authenticity off; a compromised relay r then lies to b about the Order.
 * With visibility, b checks the latest *authenticated* message of each
 * speaker — the Order — so a's attestation over the true transcript refuses
 * the lie. Picking the latest message whatever its direction (the Note, which
 * attests nothing) let the lie through, also with Ed25519 and non-repudiation
 * on the Order (the offline evidence verifier then rejected what the runtime
 * had accepted).
 *
 * Break 3: a response with every attribute off carries history about
 * authenticated messages its receiver did not see; the network edits it. The
 * receiver checks that history against its speakers' attestations (nothing
 * else vouches for it); taking it as it came, it committed — and logged as
 * evidence — what the network wrote.
 */
import test from "ava";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { EnvelopeSchema } from "../../../gen/secsession/v1/envelope_pb.js";
import { SecSessionError, type EvidenceEntry } from "../../../interceptors/index.js";
import { without } from "../../../interceptors/monitor/defences.js";
import { forge, lieAbout } from "../../../examples/support/adversary/forge.js";
import { ALL_OFF, inlineSession, world } from "../../support/inline-session.js";

const RELAY = `
syntax = "proto3";
package mixed;
import "google/protobuf/empty.proto";
import "secsession/v1/options.proto";
option (secsession.v1.session) = {
  name: "Relay"
  roles: [ { name: "a" service: "Buyer" }, { name: "r" service: "Relay" }, { name: "b" service: "Seller" } ]
  protocol: "a -> r.Order; r -> a.Ack; a -> r.Note; r -> b.Deliver;"
};
service Buyer { rpc Ack(Msg) returns (google.protobuf.Empty); }
service Relay { rpc Order(Msg) returns (google.protobuf.Empty); rpc Note(Msg) returns (google.protobuf.Empty); }
service Seller { rpc Deliver(Msg) returns (google.protobuf.Empty); }
message Msg { string text = 1; }
`;

const kindOf = (x: unknown) => (x instanceof SecSessionError ? x.kind : "accepted");

/** The relay lies to b about a's Order; returns b's verdict. */
async function relayLies(signed: boolean): Promise<unknown> {
  const session = inlineSession(RELAY, {
    security: (e) =>
      e.rpc.endsWith("/Note") ? ALL_OFF : e.rpc.endsWith("/Order") && signed ? { authenticity: "ed25519", nonRepudiation: true } : undefined,
  });
  const w = world(session, ["alice", "relay", "bob"]);
  const [order, ack, note, deliver] = [w.edge("Order", "oneway"), w.edge("Ack", "oneway"), w.edge("Note", "oneway"), w.edge("Deliver", "oneway")];
  const sid = (await w.party("alice", "a").start({ a: "alice", r: "relay", b: "bob" })).key;
  await w.unwrap("relay", order, await w.wrap("alice", sid, order, { text: "2 bikes" }), "alice");
  await w.unwrap("alice", ack, await w.wrap("relay", sid, ack, { text: "ok" }), "relay");
  await w.unwrap("relay", note, await w.wrap("alice", sid, note, { text: "thanks" }), "alice");
  const relay = w.party("relay", "r");
  const lie = lieAbout(relay, (await relay.state(sid))!, 1n, toBinary(relay.schema(order.messageType), create(relay.schema(order.messageType), { text: "20 bikes" })));
  const bytes = forge(relay, lie, deliver, toBinary(relay.schema(deliver.messageType), create(relay.schema(deliver.messageType), { text: "here" })));
  return w.unwrap("bob", deliver, bytes, "relay").then(
    (r) => r,
    (e: unknown) => e,
  );
}

for (const signed of [false, true]) {
  const how = signed ? "Ed25519 with non-repudiation" : "HMAC";
  test.serial(`break 2 (${how}): a later unauthenticated Note does not hide a's Order; the relay's lie about it is refused`, async (t) => {
    const outcome = await relayLies(signed);
    t.is(kindOf(outcome), "bad-attestation");
    t.regex((outcome as SecSessionError).reason, /of a for step 1/);
  });
  test.serial(`break 2 (${how}), defence off: with the latest message whatever its direction, b accepts the lie`, async (t) => {
    t.is(kindOf(await without("latestAuthenticated", () => relayLies(signed))), "accepted");
  });
}

const SMUGGLE = `
syntax = "proto3";
package smuggle;
import "secsession/v1/options.proto";
option (secsession.v1.session) = {
  name: "Smuggle"
  roles: [ { name: "c" }, { name: "s" service: "Shop" }, { name: "x" service: "Checker" } ]
  protocol: "c => s.Ask { s => x.Check; }"
};
service Shop { rpc Ask(Msg) returns (Msg); }
service Checker { rpc Check(Msg) returns (Msg); }
message Msg { string text = 1; }
`;

/** The network edits the history of s's unprotected answer to c (x's Check answer); returns c's verdict and evidence. */
async function networkEditsHistory(): Promise<{ outcome: unknown; evidence: EvidenceEntry[] }> {
  const session = inlineSession(SMUGGLE, { security: (e) => (e.rpc.endsWith("/Ask") && e.kind === "response" ? ALL_OFF : undefined) });
  const evidence: EvidenceEntry[] = [];
  const w = world(session, ["carol", "shop", "checker"], (id) => (id === "carol" ? { evidence: { append: (e) => void evidence.push(e) } } : {}));
  const sid = (await w.party("carol", "c").start({ c: "carol", s: "shop", x: "checker" })).key;
  const [ask, askBack, check, checkBack] = [w.edge("Ask", "request"), w.edge("Ask", "response"), w.edge("Check", "request"), w.edge("Check", "response")];
  await w.unwrap("shop", ask, await w.wrap("carol", sid, ask, { text: "price?" }), "carol");
  await w.unwrap("checker", check, await w.wrap("shop", sid, check, { text: "is it in stock?" }), "shop");
  await w.unwrap("shop", checkBack, await w.wrap("checker", sid, checkBack, { text: "yes" }), "checker");
  const answer = await w.wrap("shop", sid, askBack, { text: "10 EUR" });
  // The network rewrites what the history says x answered (its payload hash): nothing on this envelope is MACed.
  const env = fromBinary(EnvelopeSchema, answer);
  env.history[env.history.length - 1]!.payloadHash = new Uint8Array(32).fill(0x66);
  const outcome = await w.unwrap("carol", askBack, toBinary(EnvelopeSchema, env), "shop", sid).then(
    (r) => r,
    (e: unknown) => e,
  );
  return { outcome, evidence };
}

test.serial("break 3: history smuggled in an unprotected answer is checked against its speakers' attestations: the edit is refused, nothing is logged", async (t) => {
  const { outcome, evidence } = await networkEditsHistory();
  t.is(kindOf(outcome), "bad-attestation");
  t.regex((outcome as SecSessionError).reason, /of x for step 3/);
  t.false(evidence.some((e) => e.direction === "received"), "no evidence of the edited history");
});

test.serial("break 3, defence off: taking the history of an unauthenticated message as it came, c commits and logs the edit", async (t) => {
  const { outcome, evidence } = await without("unvouchedHistory", networkEditsHistory);
  t.is(kindOf(outcome), "accepted");
  const logged = evidence.filter((e) => e.direction === "received").flatMap((e) => e.items);
  t.true(logged.some((x) => x.payloadHash.every((b) => b === 0x66)), "the network's payload hash is in c's evidence");
});
