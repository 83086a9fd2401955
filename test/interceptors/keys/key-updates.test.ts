/**
 * Key updates in a running session (buffer API, one Wsne session between two
 * runtimes, the default ratchet policy): a symmetric step carries no key, but
 * its tag is what makes it P's. An envelope whose symmetric step is forged —
 * its tag changed — is refused
 * `bad-key-update` before anything else of it is used, the receiver's state
 * does not move, and the genuine envelope is still accepted afterwards. With
 * the tag check removed, the forged step would be applied (it is computable
 * from the root alone) and the message refused later, for another reason.
 */
import test from "ava";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { EnvelopeSchema } from "../../../gen/secsession/v1/envelope_pb.js";
import { ExtraRequestSchema, ExtraResponseSchema, RequestRequestSchema, RequestResponseSchema } from "../../../gen/wsne/wsne_pb.js";
import type { EdgeDescriptor } from "../../../interceptors/index.js";
import type { Party } from "../../../interceptors/runtime/party.js";
import { SecSessionError } from "../../../interceptors/errors.js";
import { cluster } from "../../support/parties.js";
import { WSNE_PRINCIPALS, wsneRoles } from "../../../bench/overhead/wsne.js";

function edgeOf(p: Party, rpc: string, kind: EdgeDescriptor["kind"], oneofCase?: string): EdgeDescriptor {
  return p.plan.edges.find((x) => x.rpc === rpc && x.kind === kind && (oneofCase === undefined || x.case?.field.name === oneofCase))!;
}

async function session() {
  const roles = wsneRoles();
  const c = cluster(Object.values(WSNE_PRINCIPALS));
  const cp = c.peers[WSNE_PRINCIPALS.c]!.runtime.party(roles.c);
  const wp = c.peers[WSNE_PRINCIPALS.w]!.runtime.party(roles.w);
  const sid = (await cp.start(WSNE_PRINCIPALS)).key;
  const first = await cp.wrap(sid, edgeOf(cp, "/wsne.Worker/Request", "request"), create(RequestRequestSchema, { query: "q" }));
  await wp.unwrap(first.bytes, "/wsne.Worker/Request", ["request"], WSNE_PRINCIPALS.c);
  const answer = await wp.wrap(sid, edgeOf(wp, "/wsne.Worker/Request", "response", "reply"), create(RequestResponseSchema, { outcome: { case: "reply", value: { result: 1n } } }));
  await cp.unwrap(answer.bytes, "/wsne.Worker/Request", ["response"], WSNE_PRINCIPALS.w);
  const extra = edgeOf(cp, "/wsne.Worker/Extra", "request");
  const reply = edgeOf(cp, "/wsne.Worker/Extra", "response", "reply");
  return {
    c,
    /** c's next Extra (a new turn: a key step), not yet delivered. */
    ask: async () => (await cp.wrap(sid, extra, create(ExtraRequestSchema, { query: "q" }))).bytes,
    deliver: (bytes: Uint8Array) => wp.unwrap(bytes, extra.rpc, ["request"], WSNE_PRINCIPALS.c),
    answer: async () => {
      const r = await wp.wrap(sid, reply, create(ExtraResponseSchema, { outcome: { case: "reply", value: { result: 2n } } }));
      await cp.unwrap(r.bytes, reply.rpc, ["response"], WSNE_PRINCIPALS.w);
    },
    wState: () => wp.core.store.get(wp.key(sid)),
  };
}

const refusal = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
  } catch (e: unknown) {
    if (e instanceof SecSessionError) return e.kind;
    throw e;
  }
  return "accepted";
};

test("a forged symmetric step is refused bad-key-update; the receiver keeps its state and accepts the genuine one", async (t) => {
  const s = await session();
  try {
    const bytes = await s.ask(); // c's turn after w's DH step: a symmetric step (default policy)
    const env = fromBinary(EnvelopeSchema, bytes);
    const u = env.keyUpdates.find((k) => k.from === WSNE_PRINCIPALS.c);
    t.is(u?.body.case, "symmetric", "c's step is symmetric");
    const before = await s.wState();

    const flipped = fromBinary(EnvelopeSchema, bytes.slice()); // a copy: decoded byte fields are views of their input
    flipped.keyUpdates.find((k) => k.from === WSNE_PRINCIPALS.c)!.tag[5]! ^= 0x40;
    t.is(await refusal(s.deliver(toBinary(EnvelopeSchema, flipped))), "bad-key-update", "a changed tag");

    const after = await s.wState();
    t.is(after!.version, before!.version, "w's state did not move");
    t.deepEqual(after!.pairs[WSNE_PRINCIPALS.c]!.root, before!.pairs[WSNE_PRINCIPALS.c]!.root);
    t.is(await refusal(s.deliver(bytes)), "accepted", "the genuine envelope still opens");
    await s.answer();
    t.is((await s.wState())!.pairs[WSNE_PRINCIPALS.c]!.version, before!.pairs[WSNE_PRINCIPALS.c]!.version + 2, "c's step, then w's");
  } finally {
    await s.c.close();
  }
});
