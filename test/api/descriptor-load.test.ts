import test from "ava";
import { file_shopping_shopping } from "../../gen/shopping/shopping_pb.js";
import { ShoppingSession } from "../../gen/shopping/shopping_secsession.js";
import { defineRole, sessionCode, type SessionDescriptor } from "../../interceptors/index.js";
import { cluster } from "../support/parties.js";

const variant = (change: (d: { -readonly [K in keyof SessionDescriptor]: SessionDescriptor[K] }) => void, restamp = true): SessionDescriptor => {
  const d = structuredClone(ShoppingSession) as { -readonly [K in keyof SessionDescriptor]: SessionDescriptor[K] };
  change(d);
  if (restamp) d.code = sessionCode(d);
  return d;
};

test("a runtime refuses a descriptor whose session code does not match its content", (t) => {
  const c = cluster(["customer"]);
  const d = variant((x) => void (x.replayWindowMs = 1), false);
  t.throws(() => c.peers["customer"]!.runtime.party(defineRole(d, "c", file_shopping_shopping)), { message: /does not match its session code/ });
});

test("a runtime re-checks the configuration constraints of every edge", (t) => {
  const c = cluster(["customer"]);
  const d = variant((x) => {
    x.edges = x.edges.map((e, i) => (i === 2 ? { ...e, security: { ...e.security, nonRepudiation: true } } : e));
  });
  t.throws(() => c.peers["customer"]!.runtime.party(defineRole(d, "c", file_shopping_shopping)), { message: /non-repudiation needs signatures/ });
  const noKeys = variant((x) => void (x.security = { ...x.security, keyEstablishment: "none" }));
  t.throws(() => c.peers["customer"]!.runtime.party(defineRole(noKeys, "c", file_shopping_shopping)), { message: /HMAC authenticity needs pairwise keys/ });
});
