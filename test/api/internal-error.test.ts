/**
 * A failure of the receiving runtime itself (here, a key resolver that
 * throws) refuses the message as `internal` (INTERNAL), never blaming the
 * sender's message as `malformed`, and changes nothing. The exception's text
 * (a resolver's may hold a credential) goes to the receiver's own alert and
 * metrics, never to the caller.
 */
import test from "ava";
import { ShoppingC, ShoppingO, ShoppingW } from "../../gen/shopping/shopping_secsession.js";
import { publicKeysOf, SecSessionError, type PeerPublicKeys } from "../../interceptors/index.js";
import { cluster } from "../support/parties.js";
import { officeSendsContract, untilAny } from "../support/shopping.js";

test("a resolver that throws refuses the message as internal: the caller gets a generic reason, the receiver's alert the detail; no state is created", async (t) => {
  const keys = new Map<string, PeerPublicKeys>();
  const c = cluster(["customer", "office", "warehouse"], (id) => ({
    resolver: (p: string) => {
      if (id === "warehouse" && p === "office") throw new Error("the key directory is unreachable");
      return keys.get(p);
    },
  }));
  for (const p of Object.values(c.peers)) keys.set(p.id, publicKeysOf(p.identity));
  const { customer, office, warehouse } = c.peers as Record<string, (typeof c.peers)[string]>;
  const errors: unknown[] = [];
  customer!.runtime.serve(customer!.server, ShoppingC, {});
  office!.runtime.serve(office!.server, ShoppingO, officeSendsContract(errors));
  let handled = false;
  warehouse!.runtime.serve(warehouse!.server, ShoppingW, { contract: () => void (handled = true) });
  const alerts: Array<{ kind: string; reason: string }> = [];
  warehouse!.runtime.on("securityAlert", (a) => alerts.push({ kind: a.kind, reason: a.reason }));
  await c.listen();
  try {
    const s0 = await customer!.runtime.start(ShoppingC, { c: "customer", o: "office", w: "warehouse" });
    await s0.request({ item: "bike" });
    await untilAny(errors);
    const e = errors[0];
    t.true(e instanceof SecSessionError, String(e));
    t.is((e as SecSessionError).kind, "internal");
    t.is((e as SecSessionError).code, 13, "INTERNAL");
    t.notRegex((e as SecSessionError).message, /key directory/, "the resolver's text never reaches the caller");
    t.deepEqual(alerts, [{ kind: "internal", reason: "the key directory is unreachable" }], "the receiver's alert carries the detail");
    t.is(warehouse!.runtime.metrics.refused.internal, 1);
    t.false(handled);
    t.is(await warehouse!.runtime.party(ShoppingW).state(s0.sessionId), undefined);
  } finally {
    await c.close();
  }
});
