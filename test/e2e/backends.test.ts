/**
 * Sessions across crypto backends: peers on node:crypto (`createNodeBackend`)
 * and on tweetnacl with @noble (`createNaclBackend`) run whole sessions
 * together over gRPC, so every MAC, Noise first contact, ratchet step,
 * receipt, payload AEAD and signature made by one backend is checked by the
 * other. (That both backends produce the same bytes for the same inputs is
 * tested primitive by primitive in test/interceptors/keys.)
 *
 * Each peer's backend is wrapped in a counter, to show that the runtime really
 * used it for the operations that cross the pair.
 */
import test from "ava";
import { ShoppingC, ShoppingO, ShoppingW } from "../../gen/shopping/shopping_secsession.js";
import { runClient, serveAuditor, serveBank } from "../../examples/attributes/parties.js";
import { createNaclBackend, createNodeBackend, type CryptoBackend } from "../../interceptors/keys/crypto/index.js";
import { cluster } from "../support/parties.js";

type Name = "node" | "tweetnacl";

/** A backend that records `method` (or `method:alg` for AEADs) of every call. */
function counted(name: Name, calls: string[]): CryptoBackend {
  const inner = name === "node" ? createNodeBackend() : createNaclBackend();
  return new Proxy(inner, {
    get(target, prop, receiver) {
      const v: unknown = Reflect.get(target, prop, receiver);
      if (typeof v !== "function") return v;
      return (...args: unknown[]) => {
        calls.push(prop === "aeadSeal" || prop === "aeadOpen" ? `${prop}:${String(args[0])}` : String(prop));
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

/** Every assignment of two backends to three peers in which both appear. */
const MIXES: ReadonlyArray<readonly [Name, Name, Name]> = (["node", "tweetnacl"] as const)
  .flatMap((x) => (["node", "tweetnacl"] as const).flatMap((y) => (["node", "tweetnacl"] as const).map((z) => [x, y, z] as const)))
  .filter(([x, y, z]) => !(x === y && y === z));

const label = (ids: readonly string[], mix: readonly Name[]) => ids.map((id, i) => `${id} on ${mix[i]}`).join(", ");

/** A cluster whose peer `ids[i]` runs on `mix[i]`, with the calls each backend saw. */
function mixed(ids: readonly [string, string, string], mix: readonly [Name, Name, Name]) {
  const calls: Record<string, string[]> = Object.fromEntries(ids.map((id) => [id, []]));
  const c = cluster(ids, (id) => ({ crypto: counted(mix[ids.indexOf(id)]!, calls[id]!) }));
  for (const [i, id] of ids.entries()) {
    const backend = (c.peers[id]!.runtime.core as unknown as { crypto: CryptoBackend }).crypto;
    if (backend.name !== (mix[i] === "node" ? "node" : "tweetnacl")) throw new Error(`${id} is not on ${mix[i]}`);
  }
  return { c, calls };
}

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 5));
  }
}

for (const mix of MIXES) {
  const ids = ["customer", "office", "warehouse"] as const;
  test(`Shopping across backends: ${label(ids, mix)}`, async (t) => {
    const { c, calls } = mixed(ids, mix);
    const { customer, office, warehouse } = c.peers;
    customer!.runtime.serve(customer!.server, ShoppingC, {});
    let end = "";
    office!.runtime.serve(office!.server, ShoppingO, {
      request: async ({ message, next }) => void (end = (await (await next.contract({ contract: `deliver ${message.item}` })).receive()).kind),
    });
    warehouse!.runtime.serve(warehouse!.server, ShoppingW, {
      contract: async ({ next }) => {
        let s = next;
        for (const price of [120, 110]) {
          const answer = await (await s.offer({ offer: `${price} EUR` })).receive();
          if (answer.kind === "accept") return void (await answer.next.confirm({}));
          s = answer.next;
        }
        await s.reject({ reason: "no deal" });
      },
    });
    await c.listen();
    try {
      const s0 = await customer!.runtime.start(ShoppingC, { c: "customer", o: "office", w: "warehouse" });
      // Offer, Change (a ratchet step each way between c and w), Offer, Accept, Confirm.
      const first = await (await s0.request({ item: "bike" })).receive();
      if (first.kind !== "offer") throw new Error("expected an offer");
      const second = await (await first.next.change({ change: "cheaper please" })).receive();
      if (second.kind !== "offer") throw new Error("expected a second offer");
      t.is(second.message.offer, "110 EUR");
      t.true((await second.next.accept({})).final);
      await waitFor(() => end !== "");
      t.is(end, "confirm");
      for (const p of Object.values(c.peers)) t.deepEqual(p.runtime.metrics.refused, {}, `${p.id} refused nothing`);
      // Every peer used its own backend for MACs and key agreement.
      for (const id of ids) {
        t.true(calls[id]!.includes("hmacSha256"), `${id} MACs on its backend`);
        t.true(calls[id]!.includes("x25519"), `${id} agrees keys on its backend`);
      }
    } finally {
      await c.close();
    }
  });
}

for (const mix of MIXES) {
  const ids = ["client", "bank", "auditor"] as const;
  test(`Attributes across backends: ${label(ids, mix)}`, async (t) => {
    const { c, calls } = mixed(ids, mix);
    const { client, bank, auditor } = c.peers;
    let report = "";
    serveBank(bank!.runtime, bank!.server);
    serveAuditor(auditor!.runtime, auditor!.server, { onReport: (account, transfers, balance) => void (report = `${account} ${transfers} ${balance}`) });
    await c.listen();
    try {
      const transfer = { payee: "FR76-3000-4000", amountCents: 12_500n, memo: "rent" };
      const result = await runClient(client!.runtime, { c: "client", b: "bank", a: "auditor" }, {
        owner: "alice",
        moves: [{ rates: "USD" }, { transfer }, { transfer }],
        reason: "moving abroad",
      });
      t.true(result.final);
      t.deepEqual(result.rates, [["USD", 920_000n]]);
      t.deepEqual(result.receipts, ["FR76-3000-4000 12500 rent", "FR76-3000-4000 12500 rent"]);
      t.is(result.finalBalanceCents, 75_000n);
      t.is(result.auditReference, "audit-1-alice-1");
      t.is(report, "alice-1 2 75000");
      for (const p of Object.values(c.peers)) t.deepEqual(p.runtime.metrics.refused, {}, `${p.id} refused nothing`);

      // Each protected direction was sealed on the sender's backend and opened on the receiver's.
      const did = (id: string, op: string) => t.true(calls[id]!.includes(op), `${id} (${mix[ids.indexOf(id as (typeof ids)[number])]}) ${op}`);
      did("client", "aeadSeal:chacha20-poly1305");
      did("bank", "aeadOpen:chacha20-poly1305");
      did("bank", "aeadSeal:aes-256-gcm");
      did("client", "aeadOpen:aes-256-gcm");
      did("bank", "aeadSeal:xsalsa20-poly1305");
      did("auditor", "aeadOpen:xsalsa20-poly1305");
      // The Close order: one signature by the client, checked by the bank and, through the bank, by the auditor.
      t.is(calls["client"]!.filter((x) => x === "ed25519Sign").length, 1);
      did("bank", "ed25519Verify");
      did("auditor", "ed25519Verify");
    } finally {
      await c.close();
    }
  });
}
