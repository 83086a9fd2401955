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

test("the replay cache fails on a start: refused UNAVAILABLE, no session left, the same bytes accepted on retry; a cached start leaves no session", async (t) => {
  const inner = createMemoryReplayCache();
  const cache = { down: false, adds: 0 } as { down: boolean; adds: number } & ReplayCache;
  cache.add = (id, exp) => {
    cache.adds++;
    if (cache.down) return Promise.reject(new StoreUnavailableError("replay cache unreachable"));
    return inner.add(id, exp);
  };
  const c = cluster(["customer", "office", "warehouse"], (id) => (id === "warehouse" ? { replayCache: cache } : {}));
  const { customer, office, warehouse } = c.peers as Record<string, (typeof c.peers)[string]>;
  const handled: string[] = [];
  const officeErrors: string[] = [];
  customer!.runtime.serve(customer!.server, ShoppingC, {});
  office!.runtime.serve(office!.server, ShoppingO, {
    request: async ({ next }) => {
      try {
        await next.contract({ contract: "deliver" });
      } catch (e: unknown) {
        officeErrors.push(String(e));
      }
    },
  });
  warehouse!.runtime.serve(warehouse!.server, ShoppingW, {
    contract: async () => {
      handled.push("w got contract");
    },
  });
  await c.listen();
  const direct = c.addresses["warehouse"]!;
  const proxy = await mitm(() => direct, ["/shopping.Warehouse/Contract"]);
  (c.addresses as Record<string, string>)["warehouse"] = proxy.address;
  try {
    cache.down = true;
    const s0 = await customer!.runtime.start(ShoppingC, { c: "customer", o: "office", w: "warehouse" });
    await s0.request({ item: "bike" });
    for (let i = 0; i < 200 && officeErrors.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
    t.regex(officeErrors[0] ?? "", /store-unavailable/);
    t.deepEqual(handled, [], "no handler ran");
    const wParty = warehouse!.runtime.party(ShoppingW);
    t.is(await wParty.state(s0.sessionId), undefined, "the warehouse holds no session for the refused start");

    // The cache is back: the very bytes are accepted.
    cache.down = false;
    const contract = proxy.seen[0]!;
    const retry = await rawCall(direct, contract.path, contract.bytes);
    t.true(retry.ok, JSON.stringify(retry));
    for (let i = 0; i < 200 && handled.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
    t.deepEqual(handled, ["w got contract"]);
    const joined = await wParty.state(s0.sessionId);
    t.truthy(joined);

    // The state is gone (as after its replay window): the start is still in the cache, so a replay is
    // refused and leaves no session behind.
    await warehouse!.runtime.core.store.delete(wParty.key(s0.sessionId));
    const replay = await rawCall(direct, contract.path, contract.bytes);
    t.false(replay.ok);
    t.is(!replay.ok && replay.kind, "replayed-start");
    t.is(await wParty.state(s0.sessionId), undefined);
    t.deepEqual(handled, ["w got contract"]);
  } finally {
    proxy.close();
    await c.close();
  }
});

test("the store fails on a start's commit: the start is not in the replay cache, so the same bytes are accepted on retry", async (t) => {
  const inner = createMemoryStore();
  const store = { down: false } as { down: boolean } & SessionStore;
  store.get = (k) => inner.get(k);
  store.delete = (k) => inner.delete(k);
  store.commit = (k, v, next) => (store.down ? Promise.reject(new StoreUnavailableError("store unreachable")) : inner.commit(k, v, next));
  const c = cluster(["customer", "office", "warehouse"], (id) => (id === "warehouse" ? { store } : {}));
  const { customer, office, warehouse } = c.peers as Record<string, (typeof c.peers)[string]>;
  const handled: string[] = [];
  const officeErrors: string[] = [];
  customer!.runtime.serve(customer!.server, ShoppingC, {});
  office!.runtime.serve(office!.server, ShoppingO, {
    request: async ({ next }) => {
      try {
        await next.contract({ contract: "deliver" });
      } catch (e: unknown) {
        officeErrors.push(String(e));
      }
    },
  });
  warehouse!.runtime.serve(warehouse!.server, ShoppingW, { contract: () => void handled.push("w got contract") });
  await c.listen();
  const direct = c.addresses["warehouse"]!;
  const proxy = await mitm(() => direct, ["/shopping.Warehouse/Contract"]);
  (c.addresses as Record<string, string>)["warehouse"] = proxy.address;
  try {
    store.down = true;
    const s0 = await customer!.runtime.start(ShoppingC, { c: "customer", o: "office", w: "warehouse" });
    await s0.request({ item: "bike" });
    for (let i = 0; i < 200 && officeErrors.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
    t.regex(officeErrors[0] ?? "", /store-unavailable/);
    store.down = false;
    const retry = await rawCall(direct, proxy.seen[0]!.path, proxy.seen[0]!.bytes);
    t.true(retry.ok, JSON.stringify(retry));
    for (let i = 0; i < 200 && handled.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
    t.deepEqual(handled, ["w got contract"]);
  } finally {
    proxy.close();
    await c.close();
  }
});
