/**
 * Steps on a direction without authenticity and replay prevention (issue
 * break 7). The receiver counts steps itself and never takes one from such a
 * message: the network replaying an old unprotected answer into a later call
 * gets that answer accepted — nothing on that direction promises otherwise —
 * but cannot rewind the receiver. When the old answer says what the new one
 * did (the rates did not move), the session goes on; taking the envelope's
 * step, the receiver went back to the old step and the bank refused its next
 * honest message. When it says something else, the two ends' transcripts
 * differ and the next authenticated message between them is refused
 * (docs/protocol.md, "Directions without authenticity"). A step no session
 * can reach (2^64 − 1) is malformed, never an internal error, and the genuine
 * answer is still accepted after it.
 */
import test from "ava";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { EnvelopeSchema } from "../../../gen/secsession/v1/envelope_pb.js";
import { SecSessionError } from "../../../interceptors/index.js";
import { without } from "../../../interceptors/monitor/defences.js";
import { ALL_OFF, inlineSession, world } from "../../support/inline-session.js";

const RATES = `
syntax = "proto3";
package rates;
import "google/protobuf/empty.proto";
import "secsession/v1/options.proto";
option (secsession.v1.session) = {
  name: "Rates"
  roles: [ { name: "c" }, { name: "b" service: "Bank" } ]
  protocol: "rec L { choice at c { c => b.Rate; continue L; } or { c -> b.Bye; } }"
};
service Bank { rpc Rate(Msg) returns (Msg); rpc Bye(Msg) returns (google.protobuf.Empty); }
message Msg { string text = 1; }
`;

const session = inlineSession(RATES, { security: (e) => (e.rpc.endsWith("/Rate") && e.kind === "response" ? ALL_OFF : undefined) });

/** Two rate calls; the network answers the second with the first answer (`rewrite` changes its step); then c says Bye. */
async function replayOldAnswer(options: { secondRate?: string; rewrite?: (step: bigint) => bigint; thenGenuine?: boolean } = {}) {
  const { secondRate = "0.92", rewrite, thenGenuine = false } = options;
  const w = world(session, ["carol", "bank"]);
  const sid = (await w.party("carol", "c").start({ c: "carol", b: "bank" })).key;
  const [rate, answer, bye] = [w.edge("Rate", "request"), w.edge("Rate", "response"), w.edge("Bye", "oneway")];
  await w.unwrap("bank", rate, await w.wrap("carol", sid, rate, { text: "USD" }), "carol");
  const first = await w.wrap("bank", sid, answer, { text: "0.92" });
  await w.unwrap("carol", answer, first, "bank", sid);
  await w.unwrap("bank", rate, await w.wrap("carol", sid, rate, { text: "GBP" }), "carol");
  const genuine = await w.wrap("bank", sid, answer, { text: secondRate }); // the genuine answer, held by the network
  let replayed = first;
  if (rewrite !== undefined) {
    const env = fromBinary(EnvelopeSchema, first);
    env.step = rewrite(env.step);
    replayed = toBinary(EnvelopeSchema, env);
  }
  const accepted = await w.unwrap("carol", answer, replayed, "bank", sid).then(
    () => "accepted",
    (e: unknown) => (e instanceof SecSessionError ? e.kind : String(e)),
  );
  if (thenGenuine) await w.unwrap("carol", answer, genuine, "bank", sid);
  const step = (await w.party("carol", "c").state(sid))?.step;
  const after = await w
    .wrap("carol", sid, bye, { text: "bye" })
    .then((b) => w.unwrap("bank", bye, b, "carol"))
    .then(
      () => "accepted",
      (e: unknown) => (e instanceof SecSessionError ? e.kind : String(e)),
    );
  return { accepted, step, after };
}

test.serial("break 7: a replayed unprotected answer is taken at the receiver's own step; the session goes on", async (t) => {
  const r = await replayOldAnswer();
  t.is(r.accepted, "accepted", "nothing on this direction promises the answer is fresh");
  t.is(r.step, 4n, "c counted the answer as step 4, not the replay's step 2");
  t.is(r.after, "accepted", "c's Bye (step 5) is accepted by the bank");
});

test.serial("break 7: a replayed answer that says something else is accepted too, and the next authenticated message shows the ends disagree", async (t) => {
  const r = await replayOldAnswer({ secondRate: "1.17" });
  t.is(r.accepted, "accepted");
  t.is(r.step, 4n);
  t.is(r.after, "bad-attestation", "the bank's transcript has its own answer: c's envelope MAC does not verify");
});

test.serial("break 7, defence off: taking the step from the envelope rewinds c, and the bank refuses its next honest message", async (t) => {
  const r = await without("ownSteps", () => replayOldAnswer());
  t.is(r.accepted, "accepted");
  t.is(r.step, 2n, "c went back to step 2");
  t.not(r.after, "accepted");
});

test.serial("break 7: a step of 2^64 − 1 on such a direction is refused as malformed, not as an internal error; the genuine answer then goes through", async (t) => {
  const r = await replayOldAnswer({ rewrite: () => 2n ** 64n - 1n, thenGenuine: true });
  t.is(r.accepted, "malformed");
  t.is(r.step, 4n);
  t.is(r.after, "accepted");
});
