import test from "ava";
import { create, toBinary } from "@bufbuild/protobuf";
import { RejectRequestSchema, ConfirmRequestSchema } from "../../gen/shopping/shopping_pb.js";
import { ShoppingC, ShoppingO, ShoppingSession, ShoppingW } from "../../gen/shopping/shopping_secsession.js";
import { without } from "../../interceptors/monitor/defences.js";
import type { SecurityAlert } from "../../interceptors/index.js";
import { cluster, type Cluster } from "../support/parties.js";
import { decode, mitm, rawCall, rewrite, type Mitm, type Outcome } from "../support/mitm.js";
import { forge, pretend } from "../support/forge.js";

const edge = (rpc: string) => ShoppingSession.edges.find((e) => e.rpc.endsWith(rpc))!;
const OFFER = edge("/Offer");
const REJECT = edge("/Reject");
const ACCEPT = edge("/Accept");
const CONFIRM = edge("/Confirm");
const bindings = { c: "customer", o: "office", w: "warehouse" };

interface Shop {
  c: Cluster;
  alerts: Record<string, SecurityAlert[]>;
  handled: string[];
  /** w's offers; w rejects when they run out. */
  prices: number[];
  proxy: Mitm;
  realAddress: Record<string, string>;
}

/** Shopping with a man in the middle in front of `victim`. */
async function shop(victim: "customer" | "office" | "warehouse", paths: string[]): Promise<Shop> {
  const c = cluster(["customer", "office", "warehouse"]);
  const alerts: Record<string, SecurityAlert[]> = { customer: [], office: [], warehouse: [] };
  for (const p of Object.values(c.peers)) p.runtime.on("securityAlert", (a) => alerts[p.id]!.push(a));
  const handled: string[] = [];
  const prices = [120, 110, 100];
  const { customer, office, warehouse } = c.peers;
  customer!.runtime.serve(customer!.server, ShoppingC, {});
  office!.runtime.serve(office!.server, ShoppingO, {
    request: async ({ next }) => {
      handled.push("o:request");
      const end = await (await next.contract({ contract: "c1" })).receive();
      handled.push(`o:${end.kind}`);
    },
  });
  warehouse!.runtime.serve(warehouse!.server, ShoppingW, {
    contract: async ({ next }) => {
      handled.push("w:contract");
      let s = next;
      for (;;) {
        const price = prices.shift();
        if (price === undefined) return void (await s.reject({ reason: "no deal" }));
        const answer = await (await s.offer({ offer: `${price}` })).receive();
        handled.push(`w:${answer.kind}`);
        if (answer.kind === "accept") return void (await answer.next.confirm({}));
        s = answer.next;
      }
    },
  });
  await c.listen();
  const realAddress = { ...c.addresses };
  const proxy = await mitm(() => realAddress[victim]!, paths);
  c.addresses[victim] = proxy.address;
  return { c, alerts, handled, prices, proxy, realAddress };
}

async function stateVersion(s: Shop, peer: string, role: "c" | "o" | "w", sid: string): Promise<number | undefined> {
  const def = { c: ShoppingC, o: ShoppingO, w: ShoppingW }[role];
  return (await s.c.peers[peer]!.runtime.party(def).state(sid))?.version;
}

const until = async (f: () => boolean) => {
  for (let i = 0; i < 1000 && !f(); i++) await new Promise((r) => setTimeout(r, 5));
};

/** Attack 1 of the seed: the network rewrites w's Offer into a Reject. */
async function rewriteOfferIntoReject(t: import("ava").ExecutionContext) {
  const s = await shop("customer", ["/shopping.Customer/Offer", "/shopping.Customer/Reject"]);
  let attempt: Outcome | undefined;
  const versions: Array<number | undefined> = [];
  s.proxy.policy = async (path, bytes, forward) => {
    if (path.endsWith("/Offer") && attempt === undefined) {
      const forged = rewrite(bytes, (e) => {
        e.edge = REJECT.id;
        e.payload = toBinary(RejectRequestSchema, create(RejectRequestSchema, { reason: "sold out" }));
      });
      const key = Buffer.from(decode(bytes).sessionId).toString("hex");
      versions.push(await stateVersion(s, "customer", "c", key));
      attempt = await forward(REJECT.rpc, forged);
      versions.push(await stateVersion(s, "customer", "c", key));
    }
    return forward(path, bytes);
  };
  try {
    const s0 = await s.c.peers["customer"]!.runtime.start(ShoppingC, bindings);
    const first = await (await s0.request({ item: "bike" })).receive();
    await until(() => versions.length === 2);
    return { s, attempt, first, versions };
  } finally {
    await s.c.close();
    s.proxy.close();
  }
}

test.serial("seed attack 1: rewriting Offer into Reject is refused, and the honest session goes on", async (t) => {
  const { s, attempt, first, versions } = await rewriteOfferIntoReject(t);
  t.deepEqual(attempt && !attempt.ok && attempt.code, 16, "UNAUTHENTICATED");
  t.is(s.alerts["customer"]![0]?.kind, "bad-attestation");
  t.is(versions[0], versions[1], "the refused message changed no state");
  t.is(first.kind, "offer", "c received the genuine Offer, not the forged Reject");
});

test.serial("seed attack 1 succeeds without MAC checks (the test has teeth)", async (t) => {
  const { attempt, first } = await without("attestations", () => rewriteOfferIntoReject(t));
  t.true(attempt?.ok, "the forged Reject is accepted when MACs are not checked");
  t.is(first.kind, "reject");
});
