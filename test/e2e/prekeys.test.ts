/**
 * Signed prekeys over gRPC: a peer rotates its prekey while running; peers
 * with the previous keyring still reach it, peers whose keyring names a
 * prekey it dropped are refused (`bad-key-update`, naming the prekey), and
 * the session works again once their keyring is current.
 */
import test from "ava";
import { ShoppingC, ShoppingO, ShoppingW } from "../../gen/shopping/shopping_secsession.js";
import { publicKeysOf, type PeerPublicKeys, type SecurityAlert } from "../../interceptors/index.js";
import { cluster } from "../support/parties.js";
import { customerChangesThenAccepts, officeSendsContract, untilAny, warehouseOffersUntilAccept } from "../support/shopping.js";

test("prekey rotation: the previous keyring still works, a dropped prekey is refused with its id, a current keyring works again", async (t) => {
  // One keyring per reader, so the office's view of the warehouse can go stale.
  const published = new Map<string, PeerPublicKeys>();
  const officeView = new Map<string, PeerPublicKeys>();
  const c = cluster(["customer", "office", "warehouse"], (id) => ({ resolver: (p) => (id === "office" ? officeView : published).get(p) }));
  for (const p of Object.values(c.peers)) {
    published.set(p.id, publicKeysOf(p.identity));
    officeView.set(p.id, publicKeysOf(p.identity));
  }
  const { customer, office, warehouse } = c.peers as Record<string, (typeof c.peers)[string]>;
  const alerts: SecurityAlert[] = [];
  warehouse!.runtime.on("securityAlert", (a) => alerts.push(a));
  const officeErrors: unknown[] = [];
  customer!.runtime.serve(customer!.server, ShoppingC, {});
  office!.runtime.serve(office!.server, ShoppingO, officeSendsContract(officeErrors, { awaitEnd: true }));
  warehouse!.runtime.serve(warehouse!.server, ShoppingW, warehouseOffersUntilAccept);
  await c.listen();
  try {
    await customerChangesThenAccepts(customer!.runtime, 1);
    t.is(alerts.length, 0);

    // Rotation 1: the warehouse publishes prekey 2 and keeps 1; the office still reads prekey 1.
    published.set("warehouse", warehouse!.runtime.rotatePrekey());
    t.is(published.get("warehouse")!.prekey!.id, 2);
    t.is(officeView.get("warehouse")!.prekey!.id, 1);
    await customerChangesThenAccepts(customer!.runtime, 0);
    t.is(alerts.length, 0, "a first contact under the previous prekey is accepted");

    // Rotation 2: prekey 1 is dropped and zeroed; the office's first contact under it is refused.
    published.set("warehouse", warehouse!.runtime.rotatePrekey());
    const stuck = customerChangesThenAccepts(customer!.runtime, 0);
    stuck.catch(() => undefined);
    await untilAny(alerts);
    t.is(alerts.length, 1);
    t.is(alerts[0]!.kind, "bad-key-update");
    t.regex(alerts[0]!.reason, /uses prekey 1, which this peer no longer holds/);
    await untilAny(officeErrors);
    t.regex(String(officeErrors[0]), /bad-key-update|prekey 1/);

    // The office gets the current keyring: sessions work again.
    officeView.set("warehouse", published.get("warehouse")!);
    await customerChangesThenAccepts(customer!.runtime, 2);
    t.is(alerts.length, 1);
  } finally {
    await c.close();
  }
});
