/**
 * Honest Shopping roles shared by tests that need a plain negotiation.
 */
import { ShoppingC, type ShoppingWMachine } from "../../gen/shopping/shopping_secsession.js";
import type { SessionHandlers, SessionRuntime } from "../../interceptors/index.js";

/** The warehouse: offers a lower price each round until the customer accepts, then confirms. */
export const warehouseOffersUntilAccept: SessionHandlers<ShoppingWMachine> = {
  contract: async ({ next }) => {
    let s = next;
    for (let round = 0; ; round++) {
      const a = await (await s.offer({ offer: `${100 - round}` })).receive();
      if (a.kind === "accept") return void (await a.next.confirm({}));
      s = a.next;
    }
  },
};

/** The customer: starts a session, asks for `changes` changes, then accepts. */
export async function customerChangesThenAccepts(runtime: SessionRuntime, changes: number): Promise<void> {
  const s0 = await runtime.start(ShoppingC, { c: "customer", o: "office", w: "warehouse" });
  let waiting = await s0.request({ item: "bike" });
  for (let round = 0; ; round++) {
    const r = await waiting.receive();
    if (r.kind !== "offer") throw new Error("the warehouse rejected");
    if (round === changes) return void (await r.next.accept({}));
    waiting = await r.next.change({ change: "less" });
  }
}
