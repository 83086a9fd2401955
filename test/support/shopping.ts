/**
 * Honest Shopping roles shared by tests that need a plain negotiation.
 */
import { ShoppingC, type ShoppingOMachine, type ShoppingWMachine } from "../../gen/shopping/shopping_secsession.js";
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

/** Waits until `list` has an entry (checking every 25 ms, for at most 5 s). */
export async function untilAny(list: readonly unknown[]): Promise<void> {
  for (let i = 0; i < 200 && list.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
}

/** The office: sends the Contract, then (with `awaitEnd`) waits for the session's end; what fails lands in `errors`. */
export function officeSendsContract(errors: unknown[], options: { awaitEnd?: boolean } = {}): SessionHandlers<ShoppingOMachine> {
  return {
    request: async ({ next }) => {
      try {
        const waiting = await next.contract({ contract: "deliver" });
        if (options.awaitEnd === true) await waiting.receive();
      } catch (e: unknown) {
        errors.push(e);
      }
    },
  };
}
