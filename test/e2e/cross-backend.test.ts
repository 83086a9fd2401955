import test from "ava";
import { ShoppingC, ShoppingO, ShoppingW } from "../../gen/shopping/shopping_secsession.js";
import { createNaclBackend, createNodeBackend } from "../../interceptors/keys/crypto/index.js";
import { cluster } from "../support/parties.js";
import { customerChangesThenAccepts, warehouseOffersUntilAccept } from "../support/shopping.js";

// Peers on different crypto backends run one session: every MAC, Noise message,
// ratchet step and receipt made by one backend is checked by the other.
for (const [name, pick] of [
  ["customer and warehouse on tweetnacl, office on node:crypto", (id: string) => (id === "office" ? createNodeBackend() : createNaclBackend())],
  ["customer on node:crypto, office and warehouse on tweetnacl", (id: string) => (id === "customer" ? createNodeBackend() : createNaclBackend())],
] as const) {
  test(`Shopping across backends: ${name}`, async (t) => {
    const c = cluster(["customer", "office", "warehouse"], (id) => ({ crypto: pick(id) }));
    const { customer, office, warehouse } = c.peers;
    customer!.runtime.serve(customer!.server, ShoppingC, {});
    let end = "";
    office!.runtime.serve(office!.server, ShoppingO, {
      request: async ({ next }) => void (end = (await (await next.contract({ contract: "x" })).receive()).kind),
    });
    warehouse!.runtime.serve(warehouse!.server, ShoppingW, warehouseOffersUntilAccept);
    await c.listen();
    try {
      await customerChangesThenAccepts(customer!.runtime, 2);
      for (let i = 0; i < 400 && end === ""; i++) await new Promise((r) => setTimeout(r, 5));
      t.is(end, "confirm");
      for (const p of Object.values(c.peers)) t.deepEqual(p.runtime.metrics.refused, {}, p.id);
    } finally {
      await c.close();
    }
  });
}
