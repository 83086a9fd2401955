/**
 * The attacks on Shopping: the seed's three, replays of messages and of whole
 * session starts, duplicates, messages from another session, out-of-order
 * messages, impersonation, unknown edges and garbage. Each attack is refused
 * (exact status and alert kind), changes no state, reaches no handler, and
 * the honest session then completes; and each has a counterpart showing the
 * attack succeeds once its defence is switched off.
 */
import test, { type ExecutionContext } from "ava";
import { create, toBinary } from "@bufbuild/protobuf";
import { status } from "@grpc/grpc-js";
import { ConfirmRequestSchema, OfferRequestSchema, RejectRequestSchema } from "../../gen/shopping/shopping_pb.js";
import { ShoppingC, ShoppingO, ShoppingSession, ShoppingW } from "../../gen/shopping/shopping_secsession.js";
import { without, type Defence } from "../../interceptors/monitor/defences.js";
import type { AlertKind, SecurityAlert } from "../../interceptors/index.js";
import { cluster, type Cluster } from "../support/parties.js";
import { decode, mitm, rawCall, rewrite, type Mitm, type Outcome, type Policy } from "../../examples/support/adversary/mitm.js";
import { forge, pretend } from "../../examples/support/adversary/forge.js";

const edge = (rpc: string) => ShoppingSession.edges.find((e) => e.rpc.endsWith(rpc))!;
const [REQUEST, OFFER, REJECT, ACCEPT, CONFIRM] = ["/Request", "/Offer", "/Reject", "/Accept", "/Confirm"].map(edge) as [
  ReturnType<typeof edge>, ReturnType<typeof edge>, ReturnType<typeof edge>, ReturnType<typeof edge>, ReturnType<typeof edge>,
];
const bindings = { c: "customer", o: "office", w: "warehouse" };
type Victim = "customer" | "office" | "warehouse";
const ROLE = { customer: ShoppingC, office: ShoppingO, warehouse: ShoppingW } as const;

interface Shop {
  readonly c: Cluster;
  readonly alerts: Record<string, SecurityAlert[]>;
  /** Messages handed to application code, per peer. */
  readonly handled: string[];
  readonly proxy: Mitm;
  readonly real: Record<string, string>;
  /** Run by w's handler just before / after its first offer (a compromised w acts here). */
  beforeFirstOffer?: (sid: string) => Promise<void>;
  afterFirstOffer?: (sid: string) => Promise<void>;
}

/** Shopping with a man in the middle in front of `victim`; w offers `prices` then rejects. */
async function shop(victim: Victim, policy: Policy, prices = [120, 110, 100], opts: { oClock?: () => number } = {}): Promise<Shop> {
  const c = cluster(["customer", "office", "warehouse"], (id) => (id === "office" && opts.oClock ? { now: opts.oClock } : {}));
  const alerts: Record<string, SecurityAlert[]> = { customer: [], office: [], warehouse: [] };
  for (const p of Object.values(c.peers)) p.runtime.on("securityAlert", (a) => alerts[p.id]!.push(a));
  const handled: string[] = [];
  const left = [...prices];
  const shopState: { beforeFirstOffer?: (sid: string) => Promise<void>; afterFirstOffer?: (sid: string) => Promise<void> } = {};
  const { customer, office, warehouse } = c.peers;
  customer!.runtime.serve(customer!.server, ShoppingC, {});
  office!.runtime.serve(office!.server, ShoppingO, {
    request: async ({ message, next }) => {
      handled.push(`o:request(${message.item})`);
      const end = await (await next.contract({ contract: message.item })).receive();
      handled.push(`o:${end.kind}`);
    },
  });
  warehouse!.runtime.serve(warehouse!.server, ShoppingW, {
    contract: async ({ next }) => {
      handled.push("w:contract");
      let s = next;
      let first = true;
      for (;;) {
        const price = left.shift();
        if (price === undefined) return void (await s.reject({ reason: "no deal" }));
        if (first && shopState.beforeFirstOffer) await shopState.beforeFirstOffer(next.sessionId);
        const waiting = await s.offer({ offer: `${price}` });
        if (first && shopState.afterFirstOffer) await shopState.afterFirstOffer(next.sessionId);
        first = false;
        const answer = await waiting.receive();
        handled.push(`w:${answer.kind}`);
        if (answer.kind === "accept") return void (await answer.next.confirm({}));
        s = answer.next;
      }
    },
  });
  await c.listen();
  const real = { ...c.addresses };
  const proxy = await mitm(() => real[victim]!, ShoppingSession.edges.filter((e) => e.receiver === roleOf(victim)).map((e) => e.rpc));
  proxy.policy = policy;
  c.addresses[victim] = proxy.address;
  const shop: Shop = { c, alerts, handled, proxy, real };
  Object.defineProperty(shop, "afterFirstOffer", { set: (f) => (shopState.afterFirstOffer = f) });
  Object.defineProperty(shop, "beforeFirstOffer", { set: (f) => (shopState.beforeFirstOffer = f) });
  return shop;
}

function roleOf(v: Victim): "c" | "o" | "w" {
  return v === "customer" ? "c" : v === "office" ? "o" : "w";
}

/**
 * c's side: changes `changes` times, then accepts (or aborts on a reject).
 * Returns the kinds c received. With a defence switched off, a successful
 * attack may leave the honest flow stuck or failing: it then ends after 3 s
 * with what c saw so far (and `!stuck` marking the end).
 */
async function customer(s: Shop, changes: number): Promise<string[]> {
  const seen: string[] = [];
  const timeout = new Promise<string[]>((resolve) => setTimeout(() => resolve([...seen, "!stuck"]), 3000).unref());
  return Promise.race([honest(s, changes, seen).catch(() => [...seen, "!failed"]), timeout]);
}

async function honest(s: Shop, changes: number, seen: string[]): Promise<string[]> {
  const s0 = await s.c.peers["customer"]!.runtime.start(ShoppingC, bindings);
  let waiting = await s0.request({ item: "bike" });
  for (let round = 0; ; round++) {
    const r = await waiting.receive();
    seen.push(r.kind === "offer" ? `offer(${r.message.offer})` : r.kind);
    if (r.kind === "reject") return (await r.next.abort({}), seen);
    if (round < changes) waiting = await r.next.change({ change: "cheaper" });
    else return (await r.next.accept({}), seen);
  }
}

async function version(s: Shop, peer: Victim, sid: Uint8Array | string): Promise<number | undefined> {
  const key = typeof sid === "string" ? sid : Buffer.from(sid).toString("hex");
  return (await s.c.peers[peer]!.runtime.party(ROLE[peer]).state(key))?.version;
}

const settle = async (f: () => boolean) => {
  for (let i = 0; i < 1000 && !f(); i++) await new Promise((r) => setTimeout(r, 5));
};

/** One injected attack: its outcome, the victim's state version before and after. */
interface Injection {
  outcome?: Outcome;
  before?: number | undefined;
  after?: number | undefined;
}

async function inject(s: Shop, victim: Victim, path: string, bytes: Uint8Array, into: Injection, sid = decode(bytes).sessionId): Promise<void> {
  into.before = await version(s, victim, sid);
  into.outcome = await rawCall(s.real[victim]!, path, bytes);
  into.after = await version(s, victim, sid);
}

function refused(t: ExecutionContext, s: Shop, victim: Victim, i: Injection, code: status, kind: AlertKind): void {
  t.false(i.outcome?.ok ?? true, "the attack is refused");
  if (i.outcome !== undefined && !i.outcome.ok) t.is(i.outcome.code, code, `status ${status[code]}: ${i.outcome.details}`);
  t.is(s.alerts[victim]!.at(-1)?.kind, kind);
  t.is(i.before, i.after, "the refused message changed no state");
}

async function done(s: Shop): Promise<void> {
  await s.c.close();
  s.proxy.close();
}

// ---- seed attack 1: the network rewrites Offer into Reject ----
async function rewriteOfferIntoReject() {
  const i: Injection = {};
  const s = await shop("customer", async (path, bytes, forward) => {
    if (path === OFFER.rpc && i.outcome === undefined) {
      const forged = rewrite(bytes, (e) => {
        e.edge = REJECT.id;
        e.payload = toBinary(RejectRequestSchema, create(RejectRequestSchema, { reason: "sold out" }));
      });
      await inject(s, "customer", REJECT.rpc, forged, i);
    }
    return forward(path, bytes);
  });
  try {
    const seen = await customer(s, 1);
    await settle(() => s.handled.includes("o:confirm"));
    return { s, i, seen };
  } finally {
    await done(s);
  }
}

test.serial("seed attack 1: rewriting Offer into Reject is refused; the honest session completes", async (t) => {
  const { s, i, seen } = await rewriteOfferIntoReject();
  refused(t, s, "customer", i, status.UNAUTHENTICATED, "bad-attestation");
  t.deepEqual(seen, ["offer(120)", "offer(110)"], "c saw only genuine offers: " + JSON.stringify(s.alerts));
  t.true(s.handled.includes("o:confirm"));
});

test.serial("seed attack 1 succeeds without MAC checks", async (t) => {
  const { i, seen } = await without("attestations", rewriteOfferIntoReject);
  t.true(i.outcome?.ok);
  t.deepEqual(seen, ["reject"]);
});

// ---- seed attack 2: an old Offer replayed into a new iteration ----
async function replayOldOffer() {
  const i: Injection = {};
  let first: Uint8Array | undefined;
  const s = await shop("customer", async (path, bytes, forward) => {
    if (path === OFFER.rpc && first === undefined) first = bytes;
    else if (path === OFFER.rpc && i.outcome === undefined) await inject(s, "customer", OFFER.rpc, first!, i);
    return forward(path, bytes);
  });
  try {
    const seen = await customer(s, 1);
    return { s, i, seen };
  } finally {
    await done(s);
  }
}

test.serial("seed attack 2: replaying an old Offer into a new iteration is refused", async (t) => {
  const { s, i, seen } = await replayOldOffer();
  refused(t, s, "customer", i, status.ABORTED, "replay");
  t.deepEqual(seen, ["offer(120)", "offer(110)"]);
});

test.serial("seed attack 2 is still refused without the step counter (its stale history breaks the path), and succeeds without step, path and MAC checks", async (t) => {
  const a = await without("step", replayOldOffer);
  refused(t, a.s, "customer", a.i, status.PERMISSION_DENIED, "out-of-order");
  const b = await without("step", () => without("path", () => without("attestations", () => without("keyUpdates", replayOldOffer))));
  t.true(b.i.outcome?.ok, "the old Offer is accepted as a new one");
});

// ---- seed attack 3: a compromised w sends Confirm to o without an Accept from c ----
async function confirmWithoutAccept() {
  const i: Injection = {};
  const s = await shop("office", (path, bytes, forward) => forward(path, bytes));
  s.beforeFirstOffer = async (sid) => {
    const w = s.c.peers["warehouse"]!.runtime.party(ShoppingW);
    const st = (await w.state(sid))!;
    const lie = pretend(w, st, [OFFER, ACCEPT]); // w claims it offered and c accepted
    const forged = forge(w, lie, CONFIRM, toBinary(ConfirmRequestSchema, create(ConfirmRequestSchema)));
    await inject(s, "office", CONFIRM.rpc, forged, i);
  };
  try {
    const seen = await customer(s, 0);
    await settle(() => s.handled.includes("o:confirm"));
    return { s, i, seen };
  } finally {
    await done(s);
  }
}

test.serial("seed attack 3: a compromised w cannot confirm to o without c's Accept", async (t) => {
  const { s, i } = await confirmWithoutAccept();
  refused(t, s, "office", i, status.UNAUTHENTICATED, "bad-attestation");
  t.true(s.alerts["office"]!.at(-1)!.reason.includes("missing attestation of c"), s.alerts["office"]!.at(-1)!.reason);
  t.deepEqual(s.handled.filter((h) => h.startsWith("o:")), ["o:request(bike)", "o:confirm"], "o saw only the honest Confirm");
});

test.serial("seed attack 3 succeeds without signed history", async (t) => {
  const { i } = await without("attestations", confirmWithoutAccept);
  t.true(i.outcome?.ok);
});

// ---- a compromised w skips the negotiation: Confirm right after Contract (out of order) ----
async function confirmOutOfOrder() {
  const i: Injection = {};
  const s = await shop("office", (path, bytes, forward) => forward(path, bytes));
  s.beforeFirstOffer = async (sid) => {
    const w = s.c.peers["warehouse"]!.runtime.party(ShoppingW);
    // w knows the true transcript up to Contract; it claims Confirm follows Contract directly.
    const st = (await w.state(sid))!;
    const forged = forge(w, st, CONFIRM, toBinary(ConfirmRequestSchema, create(ConfirmRequestSchema)));
    await inject(s, "office", CONFIRM.rpc, forged, i);
  };
  try {
    await customer(s, 0);
    await settle(() => s.handled.includes("o:confirm"));
    return { s, i };
  } finally {
    await done(s);
  }
}

test.serial("a message out of order (Confirm right after Contract) is refused", async (t) => {
  const { s, i } = await confirmOutOfOrder();
  refused(t, s, "office", i, status.PERMISSION_DENIED, "out-of-order");
  t.true(s.handled.includes("o:confirm"), "the honest session completes");
});

test.serial("the out-of-order Confirm succeeds without the path check", async (t) => {
  const { i } = await without("path", confirmOutOfOrder);
  t.true(i.outcome?.ok);
});

// ---- role impersonation: a compromised o sends an Offer to c as if it were w ----
async function impersonate() {
  const i: Injection = {};
  const s = await shop("customer", async (path, bytes, forward) => {
    if (path === OFFER.rpc && i.outcome === undefined) {
      const sid = Buffer.from(decode(bytes).sessionId).toString("hex");
      const o = s.c.peers["office"]!.runtime.party(ShoppingO);
      const st = (await o.state(sid))!; // o's knowledge ends at Contract, where w offers next
      const forged = forge(o, st, OFFER, toBinary(OfferRequestSchema, create(OfferRequestSchema, { offer: "1 EUR" })));
      await inject(s, "customer", OFFER.rpc, forged, i);
    }
    return forward(path, bytes);
  });
  try {
    const seen = await customer(s, 0);
    return { s, i, seen };
  } finally {
    await done(s);
  }
}

test.serial("a role claiming to be another (o as w) is refused", async (t) => {
  const { s, i, seen } = await impersonate();
  refused(t, s, "customer", i, status.UNAUTHENTICATED, "bad-attestation");
  t.deepEqual(seen, ["offer(120)"]);
});

test.serial("impersonation succeeds without MAC checks", async (t) => {
  const { i, seen } = await without("attestations", impersonate);
  t.true(i.outcome?.ok);
  t.is(seen[0], "offer(1 EUR)", "c took o's offer for w's");
});

// ---- a message from another session ----
async function crossSession() {
  const i: Injection = {};
  const offers: Uint8Array[] = [];
  const s = await shop("customer", async (path, bytes, forward) => {
    if (path === OFFER.rpc) {
      offers.push(bytes);
      if (offers.length === 2) {
        // Session 1's Offer, presented as session 2's.
        const sid2 = decode(bytes).sessionId;
        await inject(s, "customer", OFFER.rpc, rewrite(offers[0]!, (e) => (e.sessionId = sid2)), i);
      }
    }
    return forward(path, bytes);
  }, [120, 90]);
  try {
    const first = await customer(s, 0); // session 1: accepts 120
    const second = await customer(s, 0); // session 2: accepts 90
    return { s, i, first, second };
  } finally {
    await done(s);
  }
}

test.serial("a message from another session is refused", async (t) => {
  const { s, i, second } = await crossSession();
  // Its key update is bound to session 1 (the ratchet tag is under session 1's root).
  refused(t, s, "customer", i, status.UNAUTHENTICATED, "bad-key-update");
  t.deepEqual(second, ["offer(90)"]);
});

test.serial("the cross-session message succeeds without key-update and MAC checks", async (t) => {
  const { i, second } = await without("keyUpdates", () => without("attestations", crossSession));
  t.true(i.outcome?.ok);
  t.is(second[0], "offer(120)", "c took session 1's offer for session 2's");
});

// ---- replays of a whole session start ----
async function replayStart(forget: boolean, skewMs: number, off: Defence[] = []) {
  const i: Injection = {};
  let skew = 0;
  let start: Uint8Array | undefined;
  const s = await shop("office", (path, bytes, forward) => {
    if (path === REQUEST.rpc) start ??= bytes;
    return forward(path, bytes);
  }, [100], { oClock: () => Date.now() + skew });
  try {
    await customer(s, 0);
    await settle(() => s.handled.includes("o:confirm"));
    const key = Buffer.from(decode(start!).sessionId).toString("hex");
    if (forget) await s.c.peers["office"]!.runtime.core.store.delete(`${ShoppingSession.code}:o:${key}`);
    skew = skewMs;
    const run = () => inject(s, "office", REQUEST.rpc, start!, i);
    await off.reduce<() => Promise<void>>((f, d) => () => without(d, f), run)();
    await settle(() => s.handled.filter((h) => h.startsWith("o:request")).length > 1 || i.outcome !== undefined);
    return { s, i };
  } finally {
    await done(s);
  }
}

test.serial("replaying a session start while o remembers the session is refused as a replay", async (t) => {
  const { s, i } = await replayStart(false, 0);
  refused(t, s, "office", i, status.ABORTED, "replay");
  t.is(s.handled.filter((h) => h === "o:request(bike)").length, 1, "no handler ran again");
});

test.serial("replaying a session start after o forgot the session is refused by the replay cache", async (t) => {
  const { s, i } = await replayStart(true, 0);
  refused(t, s, "office", i, status.ABORTED, "replayed-start");
});

test.serial("the forgotten session's start is accepted again without the replay cache", async (t) => {
  const { s, i } = await replayStart(true, 0, ["startCache"]);
  t.true(i.outcome?.ok, JSON.stringify(i.outcome));
  t.is(s.handled.filter((h) => h === "o:request(bike)").length, 2, "o's handler ran a second time");
});

test.serial("a session start outside the time window is refused", async (t) => {
  const { s, i } = await replayStart(true, 10 * 60_000);
  refused(t, s, "office", i, status.ABORTED, "stale-start");
});

test.serial("outside the window and forgotten by the cache, the start is accepted only without the window check", async (t) => {
  const { i } = await replayStart(true, 10 * 60_000, ["startWindow", "startCache"]);
  t.true(i.outcome?.ok);
});

// ---- an immediate duplicate of the last message ----
async function duplicateLast() {
  const i: Injection = {};
  const s = await shop("office", async (path, bytes, forward) => {
    const r = await forward(path, bytes);
    if (path === CONFIRM.rpc) await inject(s, "office", CONFIRM.rpc, bytes, i);
    return r;
  }, [100]);
  try {
    await customer(s, 0);
    await settle(() => i.outcome !== undefined);
    return { s, i };
  } finally {
    await done(s);
  }
}

test.serial("an immediate duplicate of the last message is refused", async (t) => {
  const { s, i } = await duplicateLast();
  refused(t, s, "office", i, status.ABORTED, "replay");
  t.is(s.handled.filter((h) => h === "o:confirm").length, 1);
});

test.serial("the duplicate is refused by the transcript MAC without the step counter, and accepted without both", async (t) => {
  const a = await without("step", duplicateLast);
  t.false(a.i.outcome?.ok ?? true);
  const b = await without("step", () => without("path", () => without("attestations", () => without("keyUpdates", duplicateLast))));
  t.not(b.i.after, b.i.before, "the duplicate is accepted as a new message");
});

// ---- malformed input ----
async function garbage(make: (genuine: Uint8Array) => Uint8Array) {
  const i: Injection = {};
  const s = await shop("customer", async (path, bytes, forward) => {
    if (path === OFFER.rpc && i.outcome === undefined) await inject(s, "customer", OFFER.rpc, make(bytes), i, decode(bytes).sessionId);
    return forward(path, bytes);
  }, [100]);
  try {
    const seen = await customer(s, 0);
    return { s, i, seen };
  } finally {
    await done(s);
  }
}

test.serial("a message for an edge that does not exist is refused", async (t) => {
  const { s, i, seen } = await garbage((b) => rewrite(b, (e) => (e.edge = 999)));
  refused(t, s, "customer", i, status.PERMISSION_DENIED, "unknown-edge");
  t.deepEqual(seen, ["offer(100)"]);
});

test.serial("a truncated envelope is refused as malformed", async (t) => {
  const { s, i, seen } = await garbage((b) => b.slice(0, b.length - 7));
  refused(t, s, "customer", i, status.INVALID_ARGUMENT, "malformed");
  t.deepEqual(seen, ["offer(100)"]);
});

test.serial("garbage bytes are refused as malformed", async (t) => {
  const { s, i, seen } = await garbage(() => new Uint8Array(300).map((_, k) => (k * 7919 + 13) & 0xff));
  refused(t, s, "customer", i, status.INVALID_ARGUMENT, "malformed");
  t.deepEqual(seen, ["offer(100)"]);
});
