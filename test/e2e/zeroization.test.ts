import test from "ava";
import { ShoppingC, ShoppingO, ShoppingW } from "../../gen/shopping/shopping_secsession.js";
import { isAllZero } from "../../interceptors/keys/crypto/bytes.js";
import type { PairState } from "../../interceptors/keys/pair-channel.js";
import { cluster } from "../support/parties.js";

/** Every key buffer of a set of pair channels. */
const buffersOf = (pairs: Readonly<Record<string, PairState>>): Uint8Array[] =>
  Object.values(pairs).flatMap((p) => [p.root, ...(p.mine ? [p.mine.privateKey] : []), ...(p.send ? [p.send.mac, p.send.enc] : []), ...(p.recv ? [p.recv.mac, p.recv.enc] : [])]);

test("over a real session, every pair-channel key is zeroed when retired, and none is alive once the session is over", async (t) => {
  const c = cluster(["customer", "office", "warehouse"]);
  const { customer, office, warehouse } = c.peers;
  const seen = new Map<Uint8Array, string>();
  const snapshot = async (who: string, sid: string) => {
    const party = c.peers[who]!.runtime.party({ customer: ShoppingC, office: ShoppingO, warehouse: ShoppingW }[who as "customer"]);
    const st = await party.state(sid);
    for (const b of buffersOf(st?.pairs ?? {})) if (!isAllZero(b)) seen.set(b, `${who} v${Object.values(st!.pairs).map((p) => p.version).join(",")}`);
  };
  customer!.runtime.serve(customer!.server, ShoppingC, {});
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  office!.runtime.serve(office!.server, ShoppingO, {
    request: async ({ next }) => {
      await snapshot("office", next.sessionId);
      const end = await (await next.contract({ contract: "x" })).receive();
      if (end.kind === "confirm") done();
    },
  });
  warehouse!.runtime.serve(warehouse!.server, ShoppingW, {
    contract: async ({ next }) => {
      let s = next;
      for (;;) {
        await snapshot("warehouse", next.sessionId);
        const a = await (await s.offer({ offer: "x" })).receive();
        await snapshot("warehouse", next.sessionId);
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
      await snapshot("customer", s0.sessionId);
      if (r.kind !== "offer") throw new Error("reject");
      if (round < 3) waiting = await r.next.change({ change: "less" });
      else {
        await r.next.accept({});
        break;
      }
    }
    await finished;
    await new Promise((r) => setTimeout(r, 50));
    t.true(seen.size >= 12, `${seen.size} key buffers observed across ratchet versions`);
    const alive = [...seen].filter(([b]) => !isAllZero(b)).map(([, where]) => where);
    t.deepEqual(alive, [], "every key buffer ever seen now reads all zeros");
    for (const p of Object.values(c.peers)) {
      const vault = p.runtime.core.vault as unknown as { scopes: Map<string, { live: unknown[] }> };
      t.is([...vault.scopes.values()].reduce((n, s) => n + s.live.length, 0), 0, `${p.id}'s vault holds no key`);
    }
  } finally {
    await c.close();
  }
});
