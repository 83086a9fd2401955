/**
 * A session start is entered in the replay cache only once its state is
 * committed, and a failed entry undoes the commit: a start refused because
 * the cache was unreachable is accepted when retried, and a start the cache
 * already holds is refused without leaving a session behind.
 */
import test from "ava";
import { ShoppingC, ShoppingO, ShoppingW } from "../../gen/shopping/shopping_secsession.js";
import { createMemoryReplayCache, createMemoryStore, StoreUnavailableError, type ReplayCache, type SessionStore } from "../../interceptors/index.js";
import { mitm, rawCall } from "../../examples/support/adversary/mitm.js";
import { cluster } from "../support/parties.js";
import { officeSendsContract, untilAny } from "../support/shopping.js";

/**
 * Customer, office and a warehouse with the given store or replay cache, the
 * office's Contract passing through a recording man in the middle.
 */
async function shop(warehouseOptions: { store?: SessionStore; replayCache?: ReplayCache }) {
  const c = cluster(["customer", "office", "warehouse"], (id) => (id === "warehouse" ? warehouseOptions : {}));
  const { customer, office, warehouse } = c.peers as Record<string, (typeof c.peers)[string]>;
  const handled: string[] = [];
  const officeErrors: unknown[] = [];
  customer!.runtime.serve(customer!.server, ShoppingC, {});
  office!.runtime.serve(office!.server, ShoppingO, officeSendsContract(officeErrors));
  warehouse!.runtime.serve(warehouse!.server, ShoppingW, { contract: () => void handled.push("w got contract") });
  await c.listen();
  const direct = c.addresses["warehouse"]!;
  const proxy = await mitm(() => direct, ["/shopping.Warehouse/Contract"]);
  (c.addresses as Record<string, string>)["warehouse"] = proxy.address;
  return {
    customer: customer!,
    warehouse: warehouse!,
    handled,
    officeErrors,
    direct,
    proxy,
    close: async () => {
      proxy.close();
      await c.close();
    },
  };
}

test("the replay cache fails on a start: refused UNAVAILABLE, no session left, the same bytes accepted on retry; a cached start leaves no session", async (t) => {
  const inner = createMemoryReplayCache();
  const cache = { down: false } as { down: boolean } & ReplayCache;
  cache.add = (id, exp) => {
    if (cache.down) return Promise.reject(new StoreUnavailableError("replay cache unreachable"));
    return inner.add(id, exp);
  };
  const { customer, warehouse, handled, officeErrors, direct, proxy, close } = await shop({ replayCache: cache });
  try {
    cache.down = true;
    const s0 = await customer.runtime.start(ShoppingC, { c: "customer", o: "office", w: "warehouse" });
    await s0.request({ item: "bike" });
    await untilAny(officeErrors);
    t.regex(String(officeErrors[0] ?? ""), /store-unavailable/);
    t.deepEqual(handled, [], "no handler ran");
    const wParty = warehouse.runtime.party(ShoppingW);
    t.is(await wParty.state(s0.sessionId), undefined, "the warehouse holds no session for the refused start");

    // The cache is back: the very bytes are accepted.
    cache.down = false;
    const contract = proxy.seen[0]!;
    const retry = await rawCall(direct, contract.path, contract.bytes);
    t.true(retry.ok, JSON.stringify(retry));
    await untilAny(handled);
    t.deepEqual(handled, ["w got contract"]);
    const joined = await wParty.state(s0.sessionId);
    t.truthy(joined);

    // The state is gone (as after its replay window): the start is still in the cache, so a replay is
    // refused and leaves no session behind.
    await warehouse.runtime.core.store.delete(wParty.key(s0.sessionId));
    const replay = await rawCall(direct, contract.path, contract.bytes);
    t.false(replay.ok);
    t.is(!replay.ok && replay.kind, "replayed-start");
    t.is(await wParty.state(s0.sessionId), undefined);
    t.deepEqual(handled, ["w got contract"]);
  } finally {
    await close();
  }
});

test("the store fails on a start's commit: the start is not in the replay cache, so the same bytes are accepted on retry", async (t) => {
  const inner = createMemoryStore();
  const store = { down: false } as { down: boolean } & SessionStore;
  store.get = (k) => inner.get(k);
  store.delete = (k) => inner.delete(k);
  store.commit = (k, v, next) => (store.down ? Promise.reject(new StoreUnavailableError("store unreachable")) : inner.commit(k, v, next));
  const { customer, handled, officeErrors, direct, proxy, close } = await shop({ store });
  try {
    store.down = true;
    const s0 = await customer.runtime.start(ShoppingC, { c: "customer", o: "office", w: "warehouse" });
    await s0.request({ item: "bike" });
    await untilAny(officeErrors);
    t.regex(String(officeErrors[0] ?? ""), /store-unavailable/);
    store.down = false;
    const retry = await rawCall(direct, proxy.seen[0]!.path, proxy.seen[0]!.bytes);
    t.true(retry.ok, JSON.stringify(retry));
    await untilAny(handled);
    t.deepEqual(handled, ["w got contract"]);
  } finally {
    await close();
  }
});
