import test from "ava";
import { ShoppingC, ShoppingO, ShoppingW } from "../../gen/shopping/shopping_secsession.js";
import { cluster } from "../support/parties.js";

const ids = ["customer", "office", "warehouse"] as const;
const bindings = { c: "customer", o: "office", w: "warehouse" };

/** Serves o and w; w offers `prices` in turn, then rejects if c never accepts. */
function serveShop(c: ReturnType<typeof cluster>, prices: number[], log: string[]) {
  const { customer, office, warehouse } = c.peers as Record<(typeof ids)[number], (typeof c.peers)[string]>;
  customer!.runtime.serve(customer!.server, ShoppingC, {});
  office!.runtime.serve(office!.server, ShoppingO, {
    request: async ({ message, next }) => {
      log.push(`o got Request(${message.item})`);
      const waiting = await next.contract({ contract: `deliver ${message.item}` });
      const end = await waiting.receive();
      log.push(`o got ${end.kind}`);
    },
  });
  warehouse!.runtime.serve(warehouse!.server, ShoppingW, {
    contract: async ({ message, next }) => {
      log.push(`w got Contract(${message.contract})`);
      let s = next;
      for (const price of prices) {
        const waiting = await s.offer({ offer: `${price} EUR` });
        const answer = await waiting.receive();
        log.push(`w got ${answer.kind}`);
        if (answer.kind === "accept") {
          await answer.next.confirm({});
          return;
        }
        s = answer.next;
      }
      await s.reject({ reason: "no deal" });
    },
  });
}

test("Shopping: several Offer/Change rounds, then Accept and Confirm, over gRPC", async (t) => {
  const c = cluster(ids);
  const log: string[] = [];
  serveShop(c, [120, 110, 100], log);
  await c.listen();
  try {
    const s0 = await c.peers["customer"]!.runtime.start(ShoppingC, bindings);
    let waiting = await s0.request({ item: "bike" });
    for (let round = 0; ; round++) {
      const r = await waiting.receive();
      if (r.kind === "reject") throw new Error("unexpected reject");
      log.push(`c got Offer(${r.message.offer})`);
      if (round < 2) waiting = await r.next.change({ change: "cheaper please" });
      else {
        const done = await r.next.accept({});
        t.true(done.final);
        break;
      }
    }
    await waitFor(() => log.includes("o got confirm"));
    t.deepEqual(log, [
      "o got Request(bike)",
      "w got Contract(deliver bike)",
      "c got Offer(120 EUR)",
      "w got change",
      "c got Offer(110 EUR)",
      "w got change",
      "c got Offer(100 EUR)",
      "w got accept",
      "o got confirm",
    ]);
    for (const p of Object.values(c.peers)) t.deepEqual(p.runtime.metrics.refused, {}, `${p.id} refused nothing`);
  } finally {
    await c.close();
  }
});

test("Shopping: Reject then Abort", async (t) => {
  const c = cluster(ids);
  const log: string[] = [];
  serveShop(c, [], log);
  await c.listen();
  try {
    const s0 = await c.peers["customer"]!.runtime.start(ShoppingC, bindings);
    const waiting = await s0.request({ item: "car" });
    const r = await waiting.receive();
    t.is(r.kind, "reject");
    if (r.kind !== "reject") return;
    t.is(r.message.reason, "no deal");
    const done = await r.next.abort({});
    t.true(done.final);
    await waitFor(() => log.includes("o got abort"));
  } finally {
    await c.close();
  }
});

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 5));
  }
}
