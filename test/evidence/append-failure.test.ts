/**
 * No message without its evidence: when a role's evidence log cannot be
 * appended, the message is refused `store-unavailable` (UNAVAILABLE), the
 * role's session state is put back, no handler runs, and the sender can
 * retry the same bytes once the log works again.
 */
import test from "ava";
import { ShoppingC, ShoppingO, ShoppingW } from "../../gen/shopping/shopping_secsession.js";
import { SecSessionError, type EvidenceEntry, type EvidenceSink } from "../../interceptors/index.js";
import { mitm, rawCall } from "../../examples/support/adversary/mitm.js";
import { cluster } from "../support/parties.js";

test("a failed evidence append refuses the message, puts the state back, and the same bytes are accepted once the log works", async (t) => {
  const entries: EvidenceEntry[] = [];
  const sink = { failing: false } as { failing: boolean } & EvidenceSink;
  sink.append = (e) => {
    if (sink.failing) throw new Error("disk full");
    entries.push(e);
  };
  const c = cluster(["customer", "office", "warehouse"], (id) => (id === "warehouse" ? { evidence: sink } : {}));
  const { customer, office, warehouse } = c.peers as Record<string, (typeof c.peers)[string]>;
  const handled: string[] = [];
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  customer!.runtime.serve(customer!.server, ShoppingC, {});
  office!.runtime.serve(office!.server, ShoppingO, {
    request: async ({ next }) => {
      const end = await (await next.contract({ contract: "deliver" })).receive();
      handled.push(`o got ${end.kind}`);
      done();
    },
  });
  warehouse!.runtime.serve(warehouse!.server, ShoppingW, {
    contract: async ({ next }) => {
      const answer = await (await next.offer({ offer: "100" })).receive();
      handled.push(`w got ${answer.kind}`);
      if (answer.kind === "accept") await answer.next.confirm({});
    },
  });
  await c.listen();
  const direct = c.addresses["warehouse"]!;
  const proxy = await mitm(() => direct, ["/shopping.Warehouse/Contract", "/shopping.Warehouse/Accept", "/shopping.Warehouse/Change"]);
  const book = c.addresses as Record<string, string>;
  try {
    book["warehouse"] = proxy.address;
    const s0 = await customer!.runtime.start(ShoppingC, { c: "customer", o: "office", w: "warehouse" });
    const offer = await (await s0.request({ item: "bike" })).receive();
    t.is(offer.kind, "offer");
    if (offer.kind !== "offer") return;

    const wParty = warehouse!.runtime.party(ShoppingW);
    const before = await wParty.state(offer.next.sessionId);
    const logged = entries.length;
    sink.failing = true;
    const err = await t.throwsAsync(offer.next.accept({}));
    t.true(err instanceof SecSessionError && err.kind === "store-unavailable", String(err));
    t.is((err as SecSessionError).code, 14, "UNAVAILABLE");
    const after = await wParty.state(offer.next.sessionId);
    t.is(after!.version, before!.version, "the warehouse's state is put back");
    t.is(after!.step, before!.step);
    t.deepEqual(handled, [], "no handler ran");
    t.is(entries.length, logged, "nothing was logged");

    // The log works again: the very bytes the customer sent are accepted, and the session completes.
    sink.failing = false;
    const sent = proxy.seen.filter((x) => x.path.endsWith("/Accept"));
    t.is(sent.length, 1);
    const retry = await rawCall(direct, sent[0]!.path, sent[0]!.bytes);
    t.true(retry.ok, JSON.stringify(retry));
    await finished;
    t.deepEqual(handled, ["w got accept", "o got confirm"]);
    t.is(entries.length, logged + 2, "the Accept received and the Confirm sent are logged once each");
  } finally {
    proxy.close();
    await c.close();
  }
});
