/**
 * The runtime-level resume (needs SessionRuntime.resume, see
 * docs/save-restore.md): the customer's process is replaced mid-negotiation
 * by a new runtime and gRPC server that import its export, resume the
 * session with resumeSession, and finish it through the typed API.
 */
import type { ExecutionContext } from "ava";
import { randomBytes } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import { ShoppingC, ShoppingO, ShoppingW } from "../../gen/shopping/shopping_secsession.js";
import { createMemoryStore, createSessionRuntime, exportSession, importSession, publicKeysOf, resumeSession, staticResolver, withHighWater } from "../../interceptors/index.js";
import { cluster } from "../support/parties.js";
import { BINDINGS } from "./shop.js";

export async function resumeOverGrpc(t: ExecutionContext): Promise<void> {
  const c = cluster(["customer", "office", "warehouse"]);
  const { customer, office, warehouse } = c.peers;
  const resolver = staticResolver(Object.values(c.peers).map((p) => [p.id, publicKeysOf(p.identity)] as const));
  let end!: (kind: string) => void;
  const officeEnd = new Promise<string>((r) => (end = r));
  customer!.runtime.serve(customer!.server, ShoppingC, {});
  office!.runtime.serve(office!.server, ShoppingO, {
    request: async ({ next }) => end((await (await next.contract({ contract: "bike" })).receive()).kind),
  });
  const offers: string[] = [];
  warehouse!.runtime.serve(warehouse!.server, ShoppingW, {
    contract: async ({ next }) => {
      let s = next;
      for (let price = 120; ; price -= 10) {
        offers.push(`${price}`);
        const a = await (await s.offer({ offer: `${price}` })).receive();
        if (a.kind === "accept") return void (await a.next.confirm({}));
        s = a.next;
      }
    },
  });
  await c.listen();
  const key = new Uint8Array(randomBytes(32));
  let server2: grpc.Server | undefined;
  try {
    // The first customer process: two offers, one change; it must now answer the second offer.
    const s0 = await customer!.runtime.start(ShoppingC, BINDINGS);
    const r1 = await (await s0.request({ item: "bike" })).receive();
    if (r1.kind !== "offer") return t.fail("expected an offer");
    const r2 = await (await r1.next.change({ change: "cheaper" })).receive();
    t.is(r2.kind, "offer");
    const blob = await exportSession(customer!.runtime.party(ShoppingC), s0.sessionId, key);
    customer!.runtime.close();
    customer!.server.forceShutdown();

    // The second customer process: a fresh store, the export, and a new server address.
    const runtime2 = createSessionRuntime({ identity: customer!.identity, resolver, peers: c.addresses, store: withHighWater(createMemoryStore()) });
    server2 = new grpc.Server({ interceptors: [runtime2.serverInterceptor()] });
    runtime2.serve(server2, ShoppingC, {});
    const s2 = server2;
    const port = await new Promise<number>((resolve, reject) => s2.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
    c.addresses["customer"] = `127.0.0.1:${port}`;
    await importSession(runtime2.party(ShoppingC), blob, key);

    const resumed = await resumeSession(runtime2, ShoppingC, s0.sessionId);
    if (!("localState" in resumed) || resumed.localState !== 2) return t.fail(`resumed at ${JSON.stringify(resumed)}`);
    // One more change (a message sent), the next offer (a message received), then accept.
    const r3 = await (await resumed.change({ change: "cheaper still" })).receive();
    if (r3.kind !== "offer") return t.fail("expected an offer");
    t.is(r3.message.offer, "100");
    const done = await r3.next.accept({});
    t.true(done.final);
    t.is(await officeEnd, "confirm");
    t.deepEqual(offers, ["120", "110", "100"]);
  } finally {
    await c.close();
    server2?.forceShutdown();
  }
}
