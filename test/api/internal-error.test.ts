/**
 * A failure of the receiving runtime itself (here, a key resolver that
 * throws) refuses the message as `internal` (INTERNAL), never blaming the
 * sender's message as `malformed`, and changes nothing.
 */
import test from "ava";
import { ShoppingC, ShoppingO, ShoppingW } from "../../gen/shopping/shopping_secsession.js";
import { publicKeysOf, SecSessionError, type PeerPublicKeys } from "../../interceptors/index.js";
import { cluster } from "../support/parties.js";
import { officeSendsContract, untilAny } from "../support/shopping.js";

test("a resolver that throws refuses the message as internal, with its reason, and no state is created", async (t) => {
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
  await c.listen();
  try {
    const s0 = await customer!.runtime.start(ShoppingC, { c: "customer", o: "office", w: "warehouse" });
    await s0.request({ item: "bike" });
    await untilAny(errors);
    const e = errors[0];
    t.true(e instanceof SecSessionError, String(e));
    t.is((e as SecSessionError).kind, "internal");
    t.is((e as SecSessionError).code, 13, "INTERNAL");
    t.regex((e as SecSessionError).message, /the key directory is unreachable/);
    t.false(handled);
    t.is(await warehouse!.runtime.party(ShoppingW).state(s0.sessionId), undefined);
  } finally {
    await c.close();
  }
});
