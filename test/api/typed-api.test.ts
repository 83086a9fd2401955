/**
 * The typed role API: illegal call sequences do not compile (checked by
 * `tsc --noEmit`, part of the test command: each `@ts-expect-error` fails the
 * build if the line below it compiles), legal ones do, and a state object
 * cannot be used twice.
 */
import test from "ava";
import { ShoppingC, ShoppingW, type ShoppingCMachine } from "../../gen/shopping/shopping_secsession.js";
import { ConfPc } from "../../gen/conf/conf_secsession.js";
import type { RoleState } from "../../interceptors/index.js";
import { cluster } from "../support/parties.js";

/** Compile-time only: never called. */
export async function compileChecks(c0: RoleState<ShoppingCMachine, 0>): Promise<void> {
  // @ts-expect-error c cannot accept before it has an offer
  await c0.accept({});
  // @ts-expect-error c's first state has nothing to receive
  await c0.receive();
  // @ts-expect-error the Request message has no field `price`
  await c0.request({ price: 3 });
  // @ts-expect-error c does not serve the office's messages
  await c0.contract({ contract: "x" });

  const waiting = await c0.request({ item: "bike" }); // legal
  // @ts-expect-error while waiting, c cannot send
  await waiting.change({ change: "x" });
  const r = await waiting.receive(); // legal
  if (r.kind === "offer") {
    const offer: string = r.message.offer; // the offer's payload is typed
    void offer;
    // @ts-expect-error after an offer, abort is not a move (only change or accept)
    await r.next.abort({});
    const done = await r.next.accept({}); // legal
    const final: true = done.final;
    void final;
    // @ts-expect-error a finished session has no moves
    await done.change({ change: "x" });
  } else {
    // @ts-expect-error the discriminated union narrows: a reject has no `offer`
    void r.message.offer;
    await r.next.abort({}); // legal
  }
}

/** Calls with responses: the request's send resolves with the response cases. */
export async function compileChecksConf(rt: import("../../interceptors/index.js").SessionRuntime): Promise<void> {
  const pc = await rt.start(ConfPc, { pc: "chair", author: "a", confman: "m" });
  const paper = await (await pc.cfp({ call: "CSF" })).receive();
  if (paper.kind === "paper") {
    const closed = await paper.next.close({}); // a request: resolves with the response
    const kind: "closeResponse" = closed.kind;
    void kind;
    // @ts-expect-error after Close, pc chooses accept, reject or shepherd: not close again
    await closed.next.close({});
    await closed.next.reject({});
  }
}

test("a state object cannot be used twice", async (t) => {
  const c = cluster(["customer", "office", "warehouse"]);
  c.peers["customer"]!.runtime.serve(c.peers["customer"]!.server, ShoppingC, {});
  c.peers["warehouse"]!.runtime.serve(c.peers["warehouse"]!.server, ShoppingW, { contract: () => undefined });
  await c.listen();
  try {
    const s0 = await c.peers["customer"]!.runtime.start(ShoppingC, { c: "customer", o: "office", w: "warehouse" });
    const first = s0.request({ item: "bike" });
    t.throws(() => s0.request({ item: "car" }), { message: /already used/ });
    await first.catch(() => undefined); // the office does not serve here: the call fails, which is fine
  } finally {
    await c.close();
  }
});
