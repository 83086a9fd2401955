import test from "ava";
import { ShoppingC, ShoppingO, ShoppingW } from "../../gen/shopping/shopping_secsession.js";
import { createNaclBackend, createNodeBackend } from "../../interceptors/keys/crypto/index.js";
import { cluster } from "../support/parties.js";

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
    warehouse!.runtime.serve(warehouse!.server, ShoppingW, {
      contract: async ({ next }) => {
        let s = next;
        for (;;) {
          const a = await (await s.offer({ offer: "x" })).receive();
          if (a.kind === "accept") return void (await a.next.confirm({}));
          s = a.next;
        }
      },
    });
    await c.listen();
    try {
      const s0 = await customer!.runtime.start(ShoppingC, { c: "customer", o: "office", w: "warehouse" });
      let waiting = await s0.request({ item: "bike" });
      for (let round = 0; ; round++) {
        const r = await waiting.receive();
        if (r.kind !== "offer") throw new Error("reject");
        if (round < 2) waiting = await r.next.change({ change: "less" });
        else {
          await r.next.accept({});
          break;
        }
      }
      for (let i = 0; i < 400 && end === ""; i++) await new Promise((r) => setTimeout(r, 5));
      t.is(end, "confirm");
      for (const p of Object.values(c.peers)) t.deepEqual(p.runtime.metrics.refused, {}, p.id);
    } finally {
      await c.close();
    }
  });
}
